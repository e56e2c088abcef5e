"""A small, safe evaluator for the Go-template subset Prometheus rule annotations use.

Supported: `{{ $labels.x }}`, `{{ $value }}`, `{{ $externalLabels.x }}`, `.Labels`/`.Value`, pipes into
functions (humanize, humanize1024, humanizePercentage, humanizeDuration, humanizeTimestamp, printf, title,
toUpper, toLower, query, first, value, label, sortByLabel, eq ne lt le gt ge and or not, len), `if`/`else
if`/`else`/`end`, `range PIPELINE`/`end` (`.` is the element) and `{{-`/`-}}` trimming. Anything else is
refused when the template is compiled, with the construct named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nightowl.core.regex import compile_regex, replace_all

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)'
    r"|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(?P<field>(?:\.[A-Za-z0-9_]+)+|\.)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()|]))"
)
_UNSUPPORTED_KEYWORDS = {"define", "template", "block", "with", "break", "continue", "nil"}


@dataclass(frozen=True)
class Sample:
    """A query result element as templates see it: `.Labels` and `.Value`."""

    labels: dict[str, str]
    value: float


@dataclass
class Context:
    labels: dict[str, str]
    value: float
    external_labels: dict[str, str] = field(default_factory=dict)
    query: Callable[[str], list[Sample]] | None = None


# ---- values formatting -------------------------------------------------------------------------------------


def _num(v: Any) -> float:
    if isinstance(v, Sample):
        return v.value
    if isinstance(v, str):
        return float(v)
    return float(v)


def humanize(v: Any) -> str:
    x = _num(v)
    if x == 0 or math.isnan(x) or math.isinf(x):
        return f"{x:.4g}"
    if abs(x) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(x) < 1000:
                break
            prefix, x = p, x / 1000
        return f"{x:.4g}{prefix}"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(x) >= 1:
            break
        prefix, x = p, x * 1000
    return f"{x:.4g}{prefix}"


def humanize1024(v: Any) -> str:
    x = _num(v)
    if abs(x) <= 1 or math.isnan(x) or math.isinf(x):
        return f"{x:.4g}"
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(x) < 1024:
            break
        prefix, x = p, x / 1024
    return f"{x:.4g}{prefix}"


def humanize_percentage(v: Any) -> str:
    return f"{_num(v) * 100:.4g}%"


def humanize_duration(v: Any) -> str:
    x = _num(v)
    if math.isnan(x) or math.isinf(x):
        return f"{x:.4g}"
    if x == 0:
        return "0s"
    if abs(x) >= 1:
        sign = "-" if x < 0 else ""
        total = int(abs(x))
        days, hours, minutes, seconds = total // 86400, total // 3600 % 24, total // 60 % 60, total % 60
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{abs(x):.4g}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(x) >= 1:
            break
        prefix, x = p, x * 1000
    return f"{x:.4g}{prefix}s"


def humanize_timestamp(v: Any) -> str:
    x = _num(v)
    if math.isnan(x) or math.isinf(x):
        return f"{x:.4g}"
    moment = datetime.fromtimestamp(x, UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + " +0000 UTC"


def _printf(fmt: str, *args: Any) -> str:
    py = re.sub(r"%v", "%s", fmt)
    values = tuple(a.value if isinstance(a, Sample) else a for a in args)
    try:
        return py % values
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"printf {fmt!r}: {exc}") from None


def _first(items: Any) -> Sample:
    if not items:
        raise TemplateError("first of an empty query result")
    first: Sample = items[0]
    return first


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def run(a: Any, b: Any) -> bool:
        if isinstance(a, int | float) or isinstance(b, int | float):
            return op(_num(a), _num(b))
        return op(a, b)

    return run


def _truthy(v: Any) -> bool:
    if isinstance(v, float) and math.isnan(v):
        return True
    return bool(v)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
    "humanizeTimestamp": humanize_timestamp,
    "printf": _printf,
    "title": lambda s: str(s).title(),
    "toUpper": lambda s: str(s).upper(),
    "toLower": lambda s: str(s).lower(),
    "first": _first,
    "value": lambda s: s.value,
    "label": lambda name, s: s.labels.get(name, ""),
    "sortByLabel": lambda name, items: sorted(items, key=lambda s: s.labels.get(name, "")),
    "len": lambda items: len(items),
    "eq": _cmp(lambda a, b: a == b),
    "ne": _cmp(lambda a, b: a != b),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "not": lambda a: not _truthy(a),
    "and": lambda *a: next((x for x in a if not _truthy(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truthy(x)), a[-1]),
    "match": lambda pattern, text: compile_regex(str(pattern)).search(str(text)),
    "reReplaceAll": lambda pattern, repl, text: replace_all(str(pattern), str(repl), str(text)),
}


class TemplateError(Exception):
    """Raised while rendering (e.g. `first` of an empty result); the annotation shows the error text."""


# ---- parsing -----------------------------------------------------------------------------------------------

Term = tuple[str, Any]  # ("lit", value) | ("var", path) | ("field", path) | ("pipe", Pipeline)
Command = list[Term]  # a function name ("fn", name) first, or a single term
Pipeline = list[Command]


@dataclass
class Node:
    kind: str  # text | print | if | range
    text: str = ""
    pipe: Pipeline = field(default_factory=list)
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


@dataclass
class Template:
    source: str
    nodes: list[Node]

    def render(self, ctx: Context) -> str:
        out: list[str] = []
        _run(self.nodes, ctx, None, out)
        return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, found = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot parse {text[pos:].strip()!r} in template action")
        kind = m.lastgroup or ""
        found.append((kind, m.group(kind)))
        pos = m.end()
    return found


def _parse_pipeline(tokens: list[tuple[str, str]], pos: int, closing: bool) -> tuple[Pipeline, int]:
    pipeline: Pipeline = []
    command: Command = []
    while pos < len(tokens):
        kind, text = tokens[pos]
        if kind == "punct" and text == ")":
            if not closing:
                raise ValueError("unbalanced ')' in template")
            break
        pos += 1
        if kind == "punct" and text == "|":
            if not command:
                raise ValueError("empty command before '|' in template")
            pipeline.append(command)
            command = []
        elif kind == "punct" and text == "(":
            inner, pos = _parse_pipeline(tokens, pos, True)
            if pos >= len(tokens):
                raise ValueError("unclosed '(' in template")
            pos += 1
            command.append(("pipe", inner))
        elif kind == "str":
            command.append(("lit", bytes(text[1:-1], "utf-8").decode("unicode_escape")))
        elif kind == "raw":
            command.append(("lit", text[1:-1]))
        elif kind == "num":
            command.append(("lit", float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "var":
            command.append(("var", text))
        elif kind == "field":
            command.append(("field", text))
        elif text in ("true", "false"):
            command.append(("lit", text == "true"))
        elif text in FUNCTIONS or text == "query":
            command.append(("fn", text))
        else:
            raise ValueError(f"unsupported template function or keyword {text!r}")
    if command:
        pipeline.append(command)
    if not pipeline:
        raise ValueError("empty template action")
    return pipeline, pos


def _pipeline_of(text: str) -> Pipeline:
    if ":=" in text or re.search(r"(?<![!<>=])=(?!=)", re.sub(r'"(?:[^"\\]|\\.)*"', "", text)):
        raise ValueError(f"unsupported template construct: variable assignment in {{{{ {text} }}}}")
    pipe, _ = _parse_pipeline(_tokens(text), 0, False)
    return pipe


def compile_template(source: str) -> Template:
    """Parse `source`; ValueError naming the unsupported construct or the syntax error."""
    root: list[Node] = []
    stack: list[tuple[Node, list[Node]]] = []  # (open if/range node, the list currently appended to)
    current = root
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(source):
        literal = source[pos : m.start()]
        if trim_next:
            literal = literal.lstrip()
        if m.group(1):
            literal = literal.rstrip()
        if literal:
            current.append(Node("text", text=literal))
        pos, trim_next = m.end(), bool(m.group(3))
        action = m.group(2).strip()
        if action.startswith("/*"):
            continue
        word = action.split(None, 1)[0] if action else ""
        rest = action[len(word) :].strip()
        if word in _UNSUPPORTED_KEYWORDS:
            raise ValueError(f"unsupported template construct {{{{ {word} }}}}")
        if word in ("if", "range"):
            node = Node(word, pipe=_pipeline_of(rest))
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif word == "else":
            if not stack or stack[-1][0].kind != "if" or current is stack[-1][0].orelse:
                raise ValueError("{{ else }} outside an {{ if }}")
            node = stack[-1][0]
            current = node.orelse
            if rest.startswith("if "):
                inner = Node("if", pipe=_pipeline_of(rest[3:]))
                current.append(inner)
                current = inner.body
                stack.append((inner, node.orelse))
                inner.text = "chained"
        elif word == "end":
            if not stack:
                raise ValueError("{{ end }} without an open {{ if }} or {{ range }}")
            node, parent = stack.pop()
            while node.text == "chained" and stack:
                node, parent = stack.pop()
            current = parent
        else:
            current.append(Node("print", pipe=_pipeline_of(action)))
    tail = source[pos:]
    if trim_next:
        tail = tail.lstrip()
    if tail:
        current.append(Node("text", text=tail))
    if stack:
        raise ValueError(f"unclosed {{{{ {stack[-1][0].kind} }}}}: missing {{{{ end }}}}")
    if "{{" in re.sub(_ACTION, "", source):
        raise ValueError("unclosed '{{' in template")
    return Template(source, root)


# ---- evaluation --------------------------------------------------------------------------------------------


def _lookup(ctx: Context, dot: Any, kind: str, path: str) -> Any:
    if kind == "var":
        parts = path.split(".")
        head, rest = parts[0], parts[1:]
        roots: dict[str, Any] = {
            "$labels": ctx.labels,
            "$value": ctx.value,
            "$externalLabels": ctx.external_labels,
            "$": None,
        }
        if head not in roots:
            raise TemplateError(f"undefined variable {head}")
        value: Any = roots[head] if head != "$" else Sample(ctx.labels, ctx.value)
    else:
        rest = [p for p in path.split(".") if p]
        value = dot if dot is not None else Sample(ctx.labels, ctx.value)
    for part in rest:
        if isinstance(value, Sample):
            value = {"Labels": value.labels, "Value": value.value}.get(part, "")
        elif isinstance(value, dict):
            value = value.get(part, "")
        else:
            raise TemplateError(f"cannot read .{part} of {value!r}")
    return value


def _eval_pipe(pipe: Pipeline, ctx: Context, dot: Any) -> Any:
    result: Any = None
    for i, command in enumerate(pipe):
        head = command[0]
        args = [_eval_term(t, ctx, dot) for t in command[1:]]
        if i > 0:
            args.append(result)
        if head[0] == "fn":
            name = head[1]
            if name == "query":
                if ctx.query is None:
                    raise TemplateError("query is not available here")
                result = ctx.query(str(args[0]))
            else:
                try:
                    result = FUNCTIONS[name](*args)
                except TemplateError:
                    raise
                except Exception as exc:
                    raise TemplateError(f"{name}: {exc}") from None
        else:
            if args:
                raise TemplateError("only a function takes arguments")
            result = _eval_term(head, ctx, dot)
    return result


def _eval_term(term: Term, ctx: Context, dot: Any) -> Any:
    kind, value = term
    if kind == "lit":
        return value
    if kind == "pipe":
        return _eval_pipe(value, ctx, dot)
    if kind == "fn":
        return _eval_pipe([[term]], ctx, dot)
    return _lookup(ctx, dot, kind, value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e21 else str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, Sample):
        return f"{{{value.labels} {value.value}}}"
    return str(value)


def _run(nodes: list[Node], ctx: Context, dot: Any, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "print":
            out.append(_show(_eval_pipe(node.pipe, ctx, dot)))
        elif node.kind == "if":
            branch = node.body if _truthy(_eval_pipe(node.pipe, ctx, dot)) else node.orelse
            _run(branch, ctx, dot, out)
        else:
            items = _eval_pipe(node.pipe, ctx, dot)
            if isinstance(items, dict):
                items = [items[k] for k in sorted(items)]
            for item in items or []:
                _run(node.body, ctx, item, out)


def render(template: Template, ctx: Context) -> str:
    """Render, putting the error text in place of the result on failure (as Prometheus does)."""
    try:
        return template.render(ctx)
    except TemplateError as exc:
        return f"<error expanding template: {exc}>"
