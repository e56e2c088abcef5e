// The PromQL editor (CodeMirror 6 + codemirror-promql): highlighting, linting, and completion of metric
// names, labels and values from Nightowl's own /prometheus API. Loaded on demand (its own chunk).
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintKeymap } from "@codemirror/lint";
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { PromQLExtension } from "@prometheus-io/codemirror-promql";

const dark = HighlightStyle.define([
  { tag: tags.keyword, color: "#c792ea" },
  { tag: tags.function(tags.variableName), color: "#82aaff" },
  { tag: tags.labelName, color: "#ffcb6b" },
  { tag: tags.string, color: "#c3e88d" },
  { tag: tags.number, color: "#f78c6c" },
  { tag: tags.operator, color: "#89ddff" },
  { tag: tags.comment, color: "#7f8c98", fontStyle: "italic" },
]);

export interface EditorHandle {
  setValue(value: string): void;
  focus(): void;
  destroy(): void;
}

export function createEditor(parent: HTMLElement, value: string, label: string, onChange: (v: string) => void, onRun: () => void): EditorHandle {
  const promql = new PromQLExtension().setComplete({
    remote: { url: `${location.origin}/prometheus`, httpMethod: "GET", cache: { initialMetricList: [] } },
  });
  const darkMode = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: value,
      extensions: [
        history(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        syntaxHighlighting(darkMode ? dark : defaultHighlightStyle),
        placeholder("Expression (press Shift+Enter for newlines)"),
        promql.asExtension(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": label }),
        Prec.highest(
          keymap.of([
            {
              key: "Enter",
              run: () => {
                onRun();
                return true;
              },
            },
          ]),
        ),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setValue(v: string) {
      if (v !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: v } });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
