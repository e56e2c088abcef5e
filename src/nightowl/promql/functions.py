"""Functions over instant vectors: math, clamping, time parts, labels, sorting, absent and classic
`histogram_quantile`."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from nightowl.core.regex import RegexMatch
from nightowl.metrics.model import METRIC_NAME, Labels, Matcher
from nightowl.promql.errors import QueryExecutionError, QueryParseError
from nightowl.promql.regex import compile_anchored
from nightowl.promql.values import Floats, Vector

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


MATH: dict[str, Callable[[Floats], Floats]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "sgn": np.sign,
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "cos": np.cos,
    "cosh": np.cosh,
    "sin": np.sin,
    "sinh": np.sinh,
    "tan": np.tan,
    "tanh": np.tanh,
    "deg": np.degrees,
    "rad": np.radians,
}


def with_values(vector: Vector, values: Floats, keep_name: bool = False) -> Vector:
    drop = vector.drop_name.copy() if keep_name else np.ones(len(vector.labels), bool)
    return Vector(list(vector.labels), values, vector.present.copy(), drop)


def math_function(name: str, vector: Vector) -> Vector:
    with np.errstate(all="ignore"):
        return with_values(vector, MATH[name](vector.values))


def round_to(vector: Vector, to_nearest: Floats) -> Vector:
    with np.errstate(all="ignore"):
        inverse = 1.0 / to_nearest[None, :]
        return with_values(vector, np.floor(vector.values * inverse + 0.5) / inverse)


def clamp(vector: Vector, low: Floats, high: Floats) -> Vector:
    lo, hi = low[None, :], high[None, :]
    values = np.maximum(lo, np.minimum(hi, vector.values))
    values = np.where(np.isnan(vector.values), np.nan, values)
    out = with_values(vector, values)
    out.present &= ~np.broadcast_to(lo > hi, out.present.shape)
    return out.compact()


def time_part(name: str, seconds: Floats) -> Floats:
    """day_of_month, hour, ... of Unix seconds (UTC), NaN where the input is not finite."""
    finite = np.isfinite(seconds)
    moments = np.where(finite, seconds, 0).astype("int64").astype("datetime64[s]")
    days = moments.astype("datetime64[D]")
    months = moments.astype("datetime64[M]")
    years = moments.astype("datetime64[Y]")
    if name == "minute":
        result = (moments - moments.astype("datetime64[h]")).astype(np.int64) // 60
    elif name == "hour":
        result = (moments - days).astype(np.int64) // 3600
    elif name == "day_of_month":
        result = (days - months).astype(np.int64) + 1
    elif name == "day_of_week":
        result = (days.astype(np.int64) + 4) % 7
    elif name == "day_of_year":
        result = (days - years).astype(np.int64) + 1
    elif name == "days_in_month":
        result = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
    elif name == "month":
        result = months.astype(np.int64) % 12 + 1
    elif name == "year":
        result = years.astype(np.int64) + 1970
    else:
        raise QueryExecutionError(f"unknown function {name}")
    out: Floats = np.where(finite, result.astype(np.float64), np.nan)
    return out


def label_replace(vector: Vector, dst: str, replacement: str, src: str, regex: str) -> Vector:
    try:
        pattern = compile_anchored(regex)
    except QueryParseError:
        raise QueryExecutionError(f'invalid regular expression in label_replace(): "{regex}"') from None
    if not _LABEL_NAME.match(dst) and dst != METRIC_NAME:
        raise QueryExecutionError(f'invalid destination label name in label_replace(): "{dst}"')
    labels: list[Labels] = []
    drop = vector.drop_name.copy()
    for i, series in enumerate(vector.labels):
        current = dict(series)
        match = pattern.match(current.get(src, ""))  # RE2: linear in the value, whatever the pattern
        if match is not None:
            value = _expand(match, replacement)
            if value:
                current[dst] = value
            else:
                current.pop(dst, None)
            if dst == METRIC_NAME:
                drop[i] = False
        labels.append(tuple(sorted(current.items())))
    return Vector(labels, vector.values, vector.present, drop)


def _expand(match: RegexMatch, template: str) -> str:
    """Go's Regexp.ExpandString: $1, ${1}, $name, ${name}; unknown groups expand to ""."""

    def group(token: str) -> str:
        try:
            value = match.group(int(token) if token.isdigit() else token)
        except IndexError:
            return ""
        return value or ""

    out: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "$" or i + 1 >= len(template):
            out.append(ch)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = template.find("}", i)
            if end < 0:
                out.append(ch)
                i += 1
                continue
            out.append(group(template[i + 2 : end]))
            i = end + 1
        else:
            m = re.match(r"[A-Za-z0-9_]+", template[i + 1 :])
            if not m:
                out.append(ch)
                i += 1
                continue
            out.append(group(m.group(0)))
            i += 1 + len(m.group(0))
    return "".join(out)


def label_join(vector: Vector, dst: str, separator: str, sources: list[str]) -> Vector:
    if not _LABEL_NAME.match(dst) and dst != METRIC_NAME:
        raise QueryExecutionError(f'invalid destination label name in label_join(): "{dst}"')
    labels: list[Labels] = []
    drop = vector.drop_name.copy()
    for i, series in enumerate(vector.labels):
        current = dict(series)
        value = separator.join(current.get(s, "") for s in sources)
        if value:
            current[dst] = value
        else:
            current.pop(dst, None)
        if dst == METRIC_NAME:
            drop[i] = False
        labels.append(tuple(sorted(current.items())))
    return Vector(labels, vector.values, vector.present, drop)


def absent_labels(matcher_sets: list[list[Matcher]]) -> Labels:
    """absent() output labels: the equality matchers of a lone selector, unless a name repeats."""
    if len(matcher_sets) != 1:
        return ()
    seen: dict[str, str] = {}
    repeated: set[str] = set()
    named: set[str] = set()
    for m in matcher_sets[0]:
        if m.name in named:
            repeated.add(m.name)
        named.add(m.name)
        if m.op == "=" and m.name != METRIC_NAME:
            seen[m.name] = m.value
    return tuple(sorted((k, v) for k, v in seen.items() if k not in repeated))


def bucket_groups(vector: Vector) -> tuple[dict[Labels, list[tuple[float, int]]], list[str]]:
    """Classic buckets grouped by their series without `le`: (upper bound, row) per bucket, plus a
    warning for each bucket whose `le` is missing or malformed (Prometheus's wording).

    The metric name stays in the key, as in Prometheus 3: buckets of two metrics selected together
    (`{__name__=~"a_bucket|b_bucket"}`) are two histograms, whose results then collide once the name
    is dropped ("vector cannot contain metrics with the same labelset") instead of being merged."""
    notes: list[str] = []
    groups: dict[Labels, list[tuple[float, int]]] = {}
    for i, labels in enumerate(vector.labels):
        le_text = dict(labels).get("le")
        try:
            bound = float(le_text if le_text is not None else "")
        except ValueError:
            name = dict(labels).get(METRIC_NAME, "")
            notes.append(
                f'PromQL warning: bucket label "le" is missing or has a malformed value of "{le_text or ""}" '
                f'for metric name "{name}"'
            )
            continue
        key = tuple(p for p in labels if p[0] != "le")
        groups.setdefault(key, []).append((bound, i))
    return groups, notes


def histogram_quantile(q: Floats, vector: Vector) -> tuple[Vector, list[str]]:
    """Classic-bucket quantile, as Prometheus's bucketQuantile (monotonicity fix, +Inf bucket required).
    Returns the result and the annotations Prometheus would attach."""
    steps = vector.values.shape[1]
    groups, notes = bucket_groups(vector)
    out_labels: list[Labels] = []
    out_values: list[Floats] = []
    out_present: list[np.ndarray] = []
    qs = q
    for key, members in groups.items():
        members.sort()
        bounds = np.array([b for b, _ in members])
        rows = np.array([i for _, i in members])
        counts = np.where(vector.present[rows], vector.values[rows], np.nan)  # [buckets x steps]
        present = vector.present[rows].any(axis=0)
        uniq, inverse = np.unique(bounds, return_inverse=True)
        merged = np.zeros((len(uniq), steps))
        valid = np.zeros((len(uniq), steps), bool)
        np.add.at(merged, inverse, np.nan_to_num(counts, nan=0.0))
        np.logical_or.at(valid, inverse, vector.present[rows])
        values, fixed = _bucket_quantile(qs, uniq, merged, valid)
        if fixed:
            name = dict(vector.labels[rows[0]]).get(METRIC_NAME, "")
            notes.append(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
                "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) "
                f'for metric name "{name}"'
            )
        out_labels.append(key)
        out_values.append(values)
        out_present.append(present)
    return _named_later(out_labels, out_values, out_present, steps), notes


def histogram_fraction(lower: Floats, upper: Floats, vector: Vector) -> tuple[Vector, list[str]]:
    """Share of observations in [lower, upper] from classic buckets, interpolating linearly inside
    finite buckets (an infinite bucket only counts when wholly inside the range)."""
    steps = vector.values.shape[1]
    groups, notes = bucket_groups(vector)
    out_labels: list[Labels] = []
    out_values: list[Floats] = []
    out_present: list[np.ndarray] = []
    lo_q, hi_q = lower[None, :], upper[None, :]
    for key, members in groups.items():
        members.sort()
        bounds = np.array([b for b, _ in members])
        rows = np.array([i for _, i in members])
        cumulative = np.maximum.accumulate(np.where(vector.present[rows], vector.values[rows], 0.0), axis=0)
        counts = np.diff(cumulative, axis=0, prepend=0.0)
        lows = np.concatenate([[0.0 if bounds[0] > 0 else -np.inf], bounds[:-1]])[:, None]
        highs = bounds[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            inside = (lows >= lo_q) & (highs <= hi_q)
            overlap = np.minimum(highs, hi_q) - np.maximum(lows, lo_q)
            finite = np.isfinite(lows) & np.isfinite(highs)
            partial = np.where(finite & (overlap > 0), counts * overlap / (highs - lows), 0.0)
            open_end = ((highs == np.inf) & (hi_q == np.inf)) | ((lows == -np.inf) & (lo_q == -np.inf))
            partial = np.where(open_end & (overlap > 0), counts, partial)
            taken = np.where(inside, counts, partial).sum(axis=0)
            total = cumulative[-1]
            result = np.where(total > 0, taken / total, np.nan)
            result = np.where(lower >= upper, 0.0, result)
            result = np.where(np.isnan(lower) | np.isnan(upper) | ~np.isinf(bounds[-1]), np.nan, result)
        out_labels.append(key)
        out_values.append(result)
        out_present.append(vector.present[rows].any(axis=0))
    return _named_later(out_labels, out_values, out_present, steps), notes


def _named_later(labels: list[Labels], values: list[Floats], present: list[np.ndarray], steps: int) -> Vector:
    """One series per histogram, each still carrying its metric name, marked to lose it at the end."""
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(values), np.array(present), np.ones(len(labels), bool))


def _bucket_quantile(q: Floats, bounds: Floats, counts: Floats, valid: np.ndarray) -> tuple[Floats, bool]:
    """All steps whose buckets are all present at once; the others one by one."""
    steps = counts.shape[1]
    result = np.full(steps, np.nan)
    with np.errstate(invalid="ignore"):
        fixed = bool((np.diff(counts, axis=0) < 0)[valid[1:] & valid[:-1]].any())
    full = valid.all(axis=0) & ~np.isnan(counts).any(axis=0)
    if full.any():
        result[full] = _vector_quantile(q[full], bounds, counts[:, full])
    for s in np.flatnonzero(~full):
        have = valid[:, s]
        result[s] = _one_quantile(float(q[s]), bounds[have], counts[have, s])
    return result, fixed


def _vector_quantile(q: Floats, bounds: Floats, counts: Floats) -> Floats:
    """`_one_quantile` for many steps sharing one set of buckets ([buckets x steps] counts)."""
    n = len(bounds)
    values = np.full(counts.shape[1], np.nan)
    if n >= 2 and np.isinf(bounds[-1]) and bounds[-1] > 0:
        cum = np.maximum.accumulate(counts, axis=0)
        observations = cum[-1]
        rank = q * observations
        with np.errstate(invalid="ignore", divide="ignore"):
            reached = cum[:-1] >= rank[None, :]
            b = np.where(reached.any(axis=0), np.argmax(reached, axis=0), n - 1)
            cols = np.arange(cum.shape[1])
            upper = cum[np.minimum(b, n - 1), cols]
            lower = np.where(b > 0, cum[np.maximum(b - 1, 0), cols], 0.0)
            start = np.where(b > 0, bounds[np.maximum(b - 1, 0)], 0.0)
            end = bounds[b]
            values = start + (end - start) * ((rank - lower) / (upper - lower))
        values = np.where(b == n - 1, bounds[-2], values)
        values = np.where((b == 0) & (bounds[0] <= 0), bounds[0], values)
        values = np.where((observations == 0) | np.isnan(observations), np.nan, values)
    values = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, values))
    out: Floats = np.where(np.isnan(q), np.nan, values)
    return out


def _one_quantile(q: float, bounds: Floats, counts: Floats) -> float:
    if np.isnan(q):
        return float("nan")
    if q < 0:
        return float("-inf")
    if q > 1:
        return float("inf")
    if len(bounds) == 0 or not np.isinf(bounds[-1]) or bounds[-1] < 0:
        return float("nan")
    counts = np.maximum.accumulate(counts)
    if len(bounds) < 2:
        return float("nan")
    observations = counts[-1]
    if observations == 0 or np.isnan(observations):
        return float("nan")
    rank = q * observations
    b = int(np.searchsorted(counts[:-1], rank, side="left"))
    if b == len(bounds) - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start, end, count = 0.0, float(bounds[b]), float(counts[b])
    if b > 0:
        start = float(bounds[b - 1])
        count -= float(counts[b - 1])
        rank -= float(counts[b - 1])
    return float(start + (end - start) * (rank / count))


def sort_rows(vector: Vector, step: int, descending: bool) -> list[int]:
    """Row order by value at `step` (instant queries only), NaN last as in Prometheus."""
    values = vector.values[:, step]
    key = np.where(np.isnan(values), np.inf if not descending else -np.inf, values)
    order = np.argsort(-key if descending else key, kind="stable")
    return [int(i) for i in order]


def sort_by_label_rows(vector: Vector, names: list[str], descending: bool) -> list[int]:
    def key(i: int) -> tuple[list[list[tuple[int, int | str]]], Labels]:
        labels = dict(vector.labels[i])
        return [_natural(labels.get(n, "")) for n in names], vector.labels[i]

    return sorted(range(len(vector.labels)), key=key, reverse=descending)


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Natural order ("2" before "10"), as Prometheus's sort_by_label."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", text)]
