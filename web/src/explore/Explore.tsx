// Explore: several PromQL queries over one time range, as a graph or a table; the URL is the whole state.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import { Empty, ErrorBox, PageHeader } from "../app/ui";
import { alignMatrix, type MatrixSeries } from "../chart/align";
import { Chart } from "../chart/Chart";
import { distinctLabels, formatLabels, formatValue } from "../lib/format";
import { navigate, useLocation } from "../lib/router";
import { localTime, parseDuration, toLocalInput, utcTime } from "../lib/time";
import type { EditorHandle } from "./editor";
import { parseState, RANGES, resolveRange, toSearch, UNITS, type ExploreState } from "./state";

declare global {
  interface Window {
    __nightowlPerf?: { drawMs: number[] };
  }
}

function update(state: ExploreState, change: Partial<ExploreState>, replace = false): void {
  navigate(location.pathname + toSearch({ ...state, ...change }), { replace });
}

export function Explore() {
  const url = useLocation();
  const state = useMemo(() => parseState(url.searchParams), [url.search]);
  const [drafts, setDrafts] = useState<string[]>(state.queries);
  const [runId, setRunId] = useState(0);
  useEffect(() => setDrafts(state.queries), [state.queries.join("\u0000")]);

  const run = (queries = drafts) => {
    update(state, { queries });
    setRunId((n) => n + 1);
  };
  const absolute = state.from !== null && state.to !== null;
  return (
    <div class="page explore">
      <PageHeader title="Explore">
        <a href="/explore/metrics">Metrics browser</a>
      </PageHeader>
      <div class="toolbar" role="group" aria-label="Time range and display">
        <div class="segmented" role="tablist" aria-label="Result view">
          {(["graph", "table"] as const).map((t) => (
            <button key={t} role="tab" aria-selected={state.tab === t} class={state.tab === t ? "on" : ""} onClick={() => update(state, { tab: t })}>
              {t === "graph" ? "Graph (range)" : "Table (instant)"}
            </button>
          ))}
        </div>
        <label>
          Range
          <select
            value={absolute ? "abs" : state.range}
            onChange={(e) => {
              const v = e.currentTarget.value;
              if (v === "abs") {
                const r = resolveRange(state, Date.now() / 1000);
                update(state, { from: r.start, to: r.end });
              } else update(state, { range: v, from: null, to: null });
            }}
          >
            {RANGES.map((r) => (
              <option key={r} value={r}>
                last {r}
              </option>
            ))}
            <option value="abs">absolute…</option>
          </select>
        </label>
        {absolute && (
          <>
            <label>
              From
              <input type="datetime-local" value={toLocalInput(new Date(state.from! * 1000))} onChange={(e) => update(state, { from: new Date(e.currentTarget.value).getTime() / 1000 })} />
            </label>
            <label>
              To
              <input type="datetime-local" value={toLocalInput(new Date(state.to! * 1000))} onChange={(e) => update(state, { to: new Date(e.currentTarget.value).getTime() / 1000 })} />
            </label>
            <button onClick={() => update(state, { from: null, to: null })}>Back to now</button>
          </>
        )}
        <label>
          Step
          <input
            class="narrow"
            placeholder="auto"
            value={state.step}
            aria-invalid={state.step !== "" && parseDuration(state.step) === null}
            onChange={(e) => update(state, { step: e.currentTarget.value.trim() })}
          />
        </label>
        <label>
          Unit
          <select value={state.unit} onChange={(e) => update(state, { unit: e.currentTarget.value })}>
            {UNITS.map((u) => (
              <option key={u} value={u}>
                {u || "none"}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={state.stacked} onChange={(e) => update(state, { stacked: e.currentTarget.checked })} /> Stacked
        </label>
      </div>
      {drafts.map((q, i) => (
        <QueryPanel
          key={i}
          index={i}
          draft={q}
          query={state.queries[i] ?? ""}
          state={state}
          runId={runId}
          onDraft={(v) => setDrafts(drafts.map((d, j) => (j === i ? v : d)))}
          onRun={(v) => run(drafts.map((d, j) => (j === i ? v : d)))}
          onRemove={drafts.length > 1 ? () => run(drafts.filter((_, j) => j !== i)) : undefined}
        />
      ))}
      <div class="row">
        <button onClick={() => setDrafts([...drafts, ""])}>+ Add query</button>
        <button class="primary" onClick={() => run()}>
          Run all
        </button>
      </div>
    </div>
  );
}

interface PanelProps {
  index: number;
  draft: string;
  query: string;
  state: ExploreState;
  runId: number;
  onDraft: (v: string) => void;
  onRun: (v: string) => void;
  onRemove?: () => void;
}

interface Result {
  resultType: string;
  result: any[];
  warnings: string[];
  ms: number;
  start: number;
  end: number;
  step: number;
}

function QueryPanel({ index, draft, query, state, runId, onDraft, onRun, onRemove }: PanelProps) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<EditorHandle | null>(null);
  const latest = useRef(draft);
  latest.current = draft;
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [editorReady, setEditorReady] = useState(false);
  const label = `PromQL expression ${index + 1}`;

  useEffect(() => {
    let cancelled = false;
    import("./editor").then(({ createEditor }) => {
      if (cancelled || !host.current) return;
      editor.current = createEditor(host.current, latest.current, label, onDraftRef.current, () => onRunRef.current(latest.current));
      setEditorReady(true);
    });
    return () => {
      cancelled = true;
      editor.current?.destroy();
    };
  }, []);
  const onDraftRef = useRef(onDraft);
  onDraftRef.current = onDraft;
  const onRunRef = useRef(onRun);
  onRunRef.current = onRun;
  useEffect(() => editor.current?.setValue(draft), [draft]);

  const key = `${query}|${state.tab}|${state.range}|${state.from}|${state.to}|${state.step}|${runId}`;
  useEffect(() => {
    if (!query.trim()) {
      setResult(null);
      setError(null);
      return;
    }
    const controller = new AbortController();
    const t0 = performance.now();
    const r = resolveRange(state, Date.now() / 1000);
    setBusy(true);
    const req =
      state.tab === "graph"
        ? api.get("/prometheus/api/v1/query_range", { query: { query, start: r.start, end: r.end, step: r.step }, signal: controller.signal })
        : api.get("/prometheus/api/v1/query", { query: { query, time: state.to ?? undefined }, signal: controller.signal });
    req
      .then((body: any) => {
        setResult({ ...body.data, warnings: [...(body.warnings ?? []), ...(body.infos ?? [])], ms: performance.now() - t0, ...r });
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException)) {
          setError(e);
          setResult(null);
        }
      })
      .finally(() => setBusy(false));
    return () => controller.abort();
  }, [key]);

  const graph = useMemo(() => {
    if (!result || result.resultType !== "matrix") return null;
    const series = result.result as MatrixSeries[];
    const keys = distinctLabels(series.map((s) => s.metric));
    const labels = series.map((s) => (keys.length ? `{${keys.map((k) => `${k}="${s.metric[k] ?? ""}"`).join(", ")}}` : formatLabels(s.metric)));
    return { data: alignMatrix(series, result.start, result.end, result.step), labels, points: series.reduce((n, s) => n + s.values.length, 0) };
  }, [result]);

  const link = `${location.origin}/explore${toSearch({ ...state, queries: [query] })}`;
  return (
    <section class="card query-panel" aria-label={`Query ${index + 1}`}>
      <div class="query-row">
        <div class="editor">
          {/* CodeMirror owns this node's children; Preact never renders into it */}
          <div ref={host} />
          {!editorReady && (
            <textarea
              aria-label={label}
              rows={1}
              value={draft}
              onInput={(e) => onDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey) {
                  e.preventDefault();
                  onRun(e.currentTarget.value);
                }
              }}
            />
          )}
        </div>
        <button class="primary" onClick={() => onRun(latest.current)} disabled={busy}>
          {busy ? "Running…" : "Run"}
        </button>
        {onRemove && (
          <button onClick={onRemove} aria-label={`Remove query ${index + 1}`}>
            ✕
          </button>
        )}
      </div>
      {error instanceof ApiError ? <ErrorBox error={error} /> : error ? <ErrorBox error={error} /> : null}
      {result && (
        <div class="stats muted small" aria-live="polite">
          {result.result.length} series{graph ? ` · ${graph.points} points` : ""} · {Math.round(result.ms)} ms · step {state.tab === "graph" ? `${result.step}s` : "—"} ·{" "}
          <a href={link} target="_blank" rel="noopener" class="permalink">
            link to this query
          </a>
          {result.warnings.map((w) => (
            <div class="warning" key={w}>
              ⚠ {w}
            </div>
          ))}
        </div>
      )}
      {!query.trim() && <Empty title="Type a PromQL expression and press Enter">For example <code>up</code> or <code>sum by (job) (rate(http_requests_total[5m]))</code>; names complete as you type.</Empty>}
      {result && result.result.length === 0 && <Empty title="No data">The expression matched no series in this range. Check the metric name in the <a href="/explore/metrics">metrics browser</a>.</Empty>}
      {graph && graph.labels.length > 0 && (
        <Chart
          data={graph.data}
          labels={graph.labels}
          stacked={state.stacked}
          unit={state.unit}
          onZoom={(from, to) => update(state, { from, to })}
          onDrawn={(ms) => ((window.__nightowlPerf ??= { drawMs: [] }).drawMs.push(ms))}
        />
      )}
      {result && result.resultType !== "matrix" && <ValueTable result={result} unit={state.unit} />}
      {result && result.resultType === "matrix" && result.result.length > 0 && (
        <details>
          <summary>Series ({result.result.length})</summary>
          <ul class="series-names">
            {result.result.slice(0, 200).map((s: MatrixSeries, i: number) => (
              <li key={i}>
                <code>{formatLabels(s.metric)}</code>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function ValueTable({ result, unit }: { result: Result; unit: string }) {
  if (result.resultType === "scalar" || result.resultType === "string") {
    const [t, v] = result.result as unknown as [number, string];
    return (
      <p>
        <strong>{formatValue(v, unit)}</strong> <span class="muted" title={utcTime(new Date(t * 1000))}>at {localTime(new Date(t * 1000))}</span>
      </p>
    );
  }
  return (
    <table class="table">
      <thead>
        <tr>
          <th>Series</th>
          <th class="num">Value</th>
        </tr>
      </thead>
      <tbody>
        {result.result.slice(0, 1000).map((s: { metric: Record<string, string>; value: [number, string] }, i: number) => (
          <tr key={i}>
            <td>
              <code>{formatLabels(s.metric)}</code>
            </td>
            <td class="num" title={s.value[1]}>
              {formatValue(s.value[1], unit)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
