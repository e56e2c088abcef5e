"""Binary operators: arithmetic, comparisons and set operators with Prometheus's vector matching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nightowl.metrics.model import METRIC_NAME, Labels
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.values import Bools, Floats, Scalar, Vector

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}


def _go_pow(a: Floats, b: Floats) -> Floats:
    result: Floats = np.power(a, b)
    return result


ARITHMETIC: dict[str, Callable[[Floats, Floats], Floats]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": _go_pow,
    "atan2": np.arctan2,
    "==": lambda a, b: (a == b).astype(np.float64),
    "!=": lambda a, b: (a != b).astype(np.float64),
    ">": lambda a, b: (a > b).astype(np.float64),
    "<": lambda a, b: (a < b).astype(np.float64),
    ">=": lambda a, b: (a >= b).astype(np.float64),
    "<=": lambda a, b: (a <= b).astype(np.float64),
}


@dataclass
class Matching:
    card: str = "one-to-one"  # one-to-one, many-to-one, one-to-many, many-to-many
    on: bool = False
    labels: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    return_bool: bool = False
    fill_many: float | None = None  # fill_left: stands in for a missing left ("many") side
    fill_one: float | None = None  # fill_right: stands in for a missing right ("one") side


def apply(op: str, a: Floats, b: Floats) -> Floats:
    with np.errstate(all="ignore"):
        return ARITHMETIC[op](a, b)


def scalar_scalar(op: str, lhs: Scalar, rhs: Scalar) -> Scalar:
    return Scalar(apply(op, lhs.values, rhs.values))


def vector_scalar(op: str, vector: Vector, scalar: Scalar, scalar_left: bool, return_bool: bool) -> Vector:
    s = scalar.values[None, :]
    result = apply(op, s, vector.values) if scalar_left else apply(op, vector.values, s)
    if op in COMPARISONS and not return_bool:
        present = vector.present & (result == 1.0)
        return Vector(list(vector.labels), vector.values, present, vector.drop_name.copy()).compact()
    drop = np.ones(len(vector.labels), bool)
    return Vector(list(vector.labels), result, vector.present.copy(), drop)


def _signature(labels: Labels, matching: Matching) -> Labels:
    names = set(matching.labels)
    if matching.on:
        return tuple(p for p in labels if p[0] in names)
    return tuple(p for p in labels if p[0] not in names and p[0] != METRIC_NAME)


def _index(vector: Vector, matching: Matching) -> dict[Labels, list[int]]:
    found: dict[Labels, list[int]] = {}
    for i, labels in enumerate(vector.labels):
        found.setdefault(_signature(labels, matching), []).append(i)
    return found


def _merged(vector: Vector, rows: list[int], side: str, sig: Labels, many: bool) -> tuple[Floats, Bools]:
    """One row for a match group; two series present at one step is Prometheus's matching error."""
    if len(rows) == 1:
        return vector.values[rows[0]], vector.present[rows[0]]
    present: Bools = vector.present[rows]
    if (present.sum(axis=0) > 1).any():
        if many:
            raise QueryExecutionError(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
            )
        group = "{" + ", ".join(f'{k}="{v}"' for k, v in sig) + "}"
        raise QueryExecutionError(
            f"found duplicate series for the match group {group} on the {side} hand-side of the operation: "
            f"[{', '.join(_fmt(vector.labels[r]) for r in rows[:2])}];"
            "many-to-many matching not allowed: matching labels must be unique on one side"
        )
    values = np.zeros(present.shape[1])
    for row in rows:
        mask = vector.present[row]
        values[mask] = vector.values[row, mask]
    merged_present: Bools = np.asarray(present.any(axis=0), dtype=bool)
    return values, merged_present


def _fmt(labels: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


def _result_labels(lhs: Labels, rhs: Labels, matching: Matching) -> Labels:
    out = dict(lhs)
    if matching.card == "one-to-one":
        names = set(matching.labels)
        if matching.on:
            out = {k: v for k, v in out.items() if k in names}
        else:
            out = {k: v for k, v in out.items() if k not in names}
    if matching.include:
        one = dict(rhs)
        for name in matching.include:
            if one.get(name):
                out[name] = one[name]
            else:
                out.pop(name, None)
    return tuple(sorted(out.items()))


def vector_vector(op: str, lhs: Vector, rhs: Vector, matching: Matching) -> Vector:
    if op in SET_OPS:
        return _set_op(op, lhs, rhs, matching)
    if matching.card == "one-to-many":
        swapped = Matching(
            "many-to-one",
            matching.on,
            matching.labels,
            matching.include,
            matching.return_bool,
            matching.fill_many,
            matching.fill_one,
        )
        return _match(op, rhs, lhs, swapped, swapped_sides=True)
    return _match(op, lhs, rhs, matching, swapped_sides=False)


def _match(op: str, many: Vector, one: Vector, matching: Matching, swapped_sides: bool) -> Vector:
    """Join `many` (each row kept) against unique rows of `one`; sides swapped for group_right."""
    one_index = _index(one, matching)
    one_side = "left" if swapped_sides else "right"
    one_rows = {sig: _merged(one, rows, one_side, sig, False) for sig, rows in one_index.items()}
    if matching.card == "one-to-one":
        for sig, rows in _index(many, matching).items():
            if sig in one_rows and len(rows) > 1:
                _merged(many, rows, "left", sig, True)
    labels: list[Labels] = []
    values: list[Floats] = []
    present: list[Bools] = []
    drop: list[bool] = []
    comparison = op in COMPARISONS
    steps = many.values.shape[1]
    fill_one, fill_many = matching.fill_one, matching.fill_many

    def emit(
        many_labels: Labels,
        many_values: Floats,
        one_labels: Labels,
        one_values: Floats,
        both: Bools,
        lhs_drop: bool = False,
    ) -> None:
        a, b = (one_values, many_values) if swapped_sides else (many_values, one_values)
        result = apply(op, a, b)
        out_labels = _result_labels(many_labels, one_labels, matching)
        dropped = True
        if comparison and not matching.return_bool:
            both = both & (result == 1.0)
            result = a
            dropped = lhs_drop
        if matching.card == "one-to-one" and matching.on and all(k != METRIC_NAME for k, _ in out_labels):
            dropped = False
        labels.append(out_labels)
        values.append(result)
        present.append(both)
        drop.append(dropped)

    many_seen: dict[Labels, Bools] = {}
    for i, row_labels in enumerate(many.labels):
        sig = _signature(row_labels, matching)
        if fill_many is not None:
            seen = many_seen.get(sig)
            many_seen[sig] = many.present[i].copy() if seen is None else seen | many.present[i]
        match = one_rows.get(sig)
        if match is None and fill_one is None:
            continue
        if match is None:
            other_values, other_present = np.full(steps, fill_one), np.zeros(steps, bool)
            one_labels = sig
        else:
            other_values, other_present = match
            one_labels = one.labels[one_index[sig][0]]
        if fill_one is not None:
            other_values = np.where(other_present, other_values, fill_one)
            both = many.present[i].copy()
        else:
            both = many.present[i] & other_present
        if both.any():
            lhs_drop = bool(one.drop_name[one_index[sig][0]]) if swapped_sides and match else bool(many.drop_name[i])
            emit(row_labels, many.values[i], one_labels, other_values, both, lhs_drop)
    if fill_many is not None:
        for sig, (one_values, one_present) in one_rows.items():
            missing = one_present & ~many_seen.get(sig, np.zeros(steps, bool))
            if missing.any():
                emit(sig, np.full(steps, fill_many), one.labels[one_index[sig][0]], one_values, missing)
    if not labels:
        return Vector.empty(steps)
    out = Vector(labels, np.array(values), np.array(present), np.array(drop))
    if matching.card != "one-to-one":
        _check_unique(out)
    return out.compact()


def _check_unique(vector: Vector) -> None:
    seen: dict[Labels, int] = {}
    for i, labels in enumerate(vector.labels):
        j = seen.setdefault(labels, i)
        if j != i and (vector.present[i] & vector.present[j]).any():
            raise QueryExecutionError("multiple matches for labels: grouping labels must ensure unique matches")


def _presence_by_signature(vector: Vector, matching: Matching) -> dict[Labels, Bools]:
    out: dict[Labels, Bools] = {}
    for i, labels in enumerate(vector.labels):
        sig = _signature(labels, matching)
        prev = out.get(sig)
        out[sig] = vector.present[i].copy() if prev is None else prev | vector.present[i]
    return out


def _set_op(op: str, lhs: Vector, rhs: Vector, matching: Matching) -> Vector:
    steps = lhs.values.shape[1]
    none = np.zeros(steps, bool)
    if op in ("and", "unless"):
        other = _presence_by_signature(rhs, matching)
        present = lhs.present.copy()
        for i, labels in enumerate(lhs.labels):
            seen = other.get(_signature(labels, matching), none)
            present[i] &= seen if op == "and" else ~seen
        return Vector(list(lhs.labels), lhs.values, present, lhs.drop_name.copy()).compact()
    mine = _presence_by_signature(lhs, matching)
    rhs_present = rhs.present.copy()
    for i, labels in enumerate(rhs.labels):
        rhs_present[i] &= ~mine.get(_signature(labels, matching), none)
    right = Vector(list(rhs.labels), rhs.values, rhs_present, rhs.drop_name.copy()).compact()
    if not len(right):
        return lhs
    return Vector(
        lhs.labels + right.labels,
        np.concatenate([lhs.values, right.values]),
        np.concatenate([lhs.present, right.present]),
        np.concatenate([lhs.drop_name, right.drop_name]),
    )
