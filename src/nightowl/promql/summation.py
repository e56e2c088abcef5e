"""Sums and variances as exact as Prometheus's Kahan/Welford loops, at numpy speed.

numpy's pairwise sum is accurate unless the terms cancel; only those (ill-conditioned) cells are
re-summed with Neumaier's compensated loop, which is what Prometheus runs everywhere.
"""

from __future__ import annotations

import numpy as np

from nightowl.promql.values import Bools, Floats

_CONDITION = 1e6


def _neumaier(values: Floats) -> Floats:
    """Compensated sum along the last axis, as Prometheus's kahanSumInc (Inf resets the compensation)."""
    acc = np.zeros(values.shape[:-1])
    comp = np.zeros(values.shape[:-1])
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(values.shape[-1]):
            inc = values[..., i]
            t = acc + inc
            delta = np.where(np.abs(acc) >= np.abs(inc), (acc - t) + inc, (inc - t) + acc)
            comp = np.where(np.isinf(t), 0.0, comp + delta)
            acc = t
        result: Floats = np.where(np.isinf(acc), acc, acc + comp)
    return result


def accurate_sum(values: Floats, axis: int = -1) -> Floats:
    """Sum along `axis` (absent terms must already be 0)."""
    moved = np.moveaxis(values, axis, -1)
    with np.errstate(invalid="ignore", over="ignore"):
        total: Floats = np.sum(moved, axis=-1)
        magnitude = np.sum(np.abs(moved), axis=-1)
        suspect = np.isfinite(magnitude) & (magnitude > _CONDITION * np.abs(total))
        suspect |= np.isinf(magnitude) & np.isfinite(np.where(np.isnan(total), 0.0, total))
    if suspect.any():
        total = total.copy()
        total[suspect] = _neumaier(moved[suspect])
    return total


def welford_variance(values: Floats, present: Bools, axis: int = -1) -> Floats:
    """Population variance by Welford's online update, as Prometheus's stdvar (exactly 0 for constants)."""
    vals = np.moveaxis(values, axis, -1)
    mask = np.moveaxis(present, axis, -1)
    count = np.zeros(vals.shape[:-1])
    mean = np.zeros(vals.shape[:-1])
    m2 = np.zeros(vals.shape[:-1])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for i in range(vals.shape[-1]):
            active = mask[..., i]
            x = vals[..., i]
            count = count + active
            delta = np.where(active, x - mean, 0.0)
            mean = np.where(active, mean + delta / np.maximum(count, 1), mean)
            m2 = np.where(active, m2 + delta * (x - mean), m2)
        result: Floats = m2 / count
    return result
