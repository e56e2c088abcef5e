"""The series index: label set <-> series id, and an inverted index (label pair -> sorted series ids).

Series ids are dense ints assigned in order of first sight, so postings lists stay sorted by
construction and intersect/union as numpy arrays. Regex matchers test each distinct value of a
label once, never each series. Per-series first/last sample times answer time-bounded listings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import Labels, Matcher

IDs = npt.NDArray[np.int64]
RESOLVED_KEPT_IDS = 2_000_000
"""Series ids kept across remembered matcher sets (16 MB); past it the memory starts over."""
_NO_MIN = np.iinfo(np.int64).max
_NO_MAX = np.iinfo(np.int64).min


class SeriesIndex:
    def __init__(self) -> None:
        self.ids: dict[Labels, int] = {}
        self.labels: list[Labels] = []
        self._postings: dict[str, dict[str, list[int]]] = {}
        self._arrays: dict[tuple[str, str], IDs] = {}  # postings lists as arrays, for the ones queried
        self._rank: IDs = np.empty(0, np.int64)  # position of each series id in label order
        # Answers of `resolve` per matcher set, until a series comes or goes: dashboards and rules ask
        # the same selectors again and again, and a regex or != over many series costs ~0.1-0.5 ms.
        self._resolved: dict[tuple[Matcher, ...], IDs] = {}
        self._resolved_ids = 0
        self._capacity = 1024
        self.live = np.zeros(self._capacity, bool)
        self.min_ts = np.full(self._capacity, _NO_MIN, np.int64)
        self.max_ts = np.full(self._capacity, _NO_MAX, np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def active_count(self) -> int:
        return int(self.live[: len(self.labels)].sum())

    def _grow(self, needed: int) -> None:
        size = self._capacity
        while size < needed:
            size *= 2
        if size == self._capacity:
            return
        self.live = np.concatenate([self.live, np.zeros(size - self._capacity, bool)])
        self.min_ts = np.concatenate([self.min_ts, np.full(size - self._capacity, _NO_MIN, np.int64)])
        self.max_ts = np.concatenate([self.max_ts, np.full(size - self._capacity, _NO_MAX, np.int64)])
        self._capacity = size

    def add(self, labels: Labels) -> int:
        """The id of `labels`, creating the series (and its postings) when new."""
        sid = self.ids.get(labels)
        if sid is not None:
            return sid
        # The caller's tuple itself becomes the key: a decoder that hands the same Labels object for a
        # series it has seen makes every later look-up an identity hit (no string comparisons).
        sid = len(self.labels)
        self._forget_resolved()
        self._grow(sid + 1)
        self.ids[labels] = sid
        self.labels.append(labels)
        self.live[sid] = True
        for name, value in labels:
            self._postings.setdefault(name, {}).setdefault(value, []).append(sid)
            self._arrays.pop((name, value), None)
        return sid

    def remove(self, sids: Iterable[int]) -> None:
        """Forget series (deleted or past retention); a later sample with the same labels gets a new id."""
        for sid in sids:
            if not self.live[sid]:
                continue
            self.live[sid] = False
            self._forget_resolved()
            labels = self.labels[sid]
            del self.ids[labels]
            for name, value in labels:
                self._arrays.pop((name, value), None)
                values = self._postings[name]
                values[value].remove(sid)
                if not values[value]:
                    del values[value]
                    if not values:
                        del self._postings[name]
            self.min_ts[sid] = _NO_MIN
            self.max_ts[sid] = _NO_MAX

    def observe(self, sids: npt.NDArray[np.integer], timestamps: npt.NDArray[np.int64]) -> None:
        """Widen each series' [first, last] sample time."""
        np.minimum.at(self.min_ts, sids, timestamps)
        np.maximum.at(self.max_ts, sids, timestamps)

    def all_ids(self) -> IDs:
        ids: IDs = np.flatnonzero(self.live[: len(self.labels)]).astype(np.int64)
        return ids

    def _array(self, name: str, value: str) -> IDs:
        """One postings list as a sorted array, kept until a series with that pair comes or goes."""
        found = self._arrays.get((name, value))
        if found is None:
            ids = self._postings.get(name, {}).get(value)
            if ids is None:
                return np.empty(0, np.int64)
            found = self._arrays[(name, value)] = np.array(ids, np.int64)
            found.flags.writeable = False
        return found

    def _postings_for(self, name: str, accept: Matcher, want_match: bool) -> IDs:
        values = self._postings.get(name, {})
        lists = [self._array(name, value) for value in values if accept.matches(value) == want_match]
        if not lists:
            return np.empty(0, np.int64)
        if len(lists) == 1:
            return lists[0]
        merged: IDs = np.concatenate(lists)
        merged.sort()  # each series holds one value of a label: the lists are disjoint
        return merged

    def _forget_resolved(self) -> None:
        if self._resolved:
            self._resolved.clear()
            self._resolved_ids = 0

    def _resolve_one(self, matcher: Matcher) -> IDs:
        if matcher.op == "=" and matcher.value:
            return self._array(matcher.name, matcher.value)
        if matcher.matches_empty():
            # Series lacking the label match too: everything minus the values that do not match.
            excluded = self._postings_for(matcher.name, matcher, want_match=False)
            keep = self.live[: len(self.labels)].copy()
            keep[excluded] = False
            return np.flatnonzero(keep).astype(np.int64)
        return self._postings_for(matcher.name, matcher, want_match=True)

    def resolve(self, matchers: Sequence[Matcher]) -> IDs:
        """Sorted ids of live series matching every matcher (no matchers: all series); read-only."""
        key = tuple(matchers)
        found = self._resolved.get(key)
        if found is not None:
            return found
        result: IDs | None = None
        ordered = sorted(matchers, key=lambda m: 0 if m.op == "=" and m.value else 1)
        for matcher in ordered:
            ids = self._resolve_one(matcher)
            if result is None:
                result = ids
            else:  # both sorted and unique: a mask over the id space instead of intersect1d's sort
                mask = np.zeros(len(self.labels), bool)
                mask[ids] = True
                result = result[mask[result]]
            if not len(result):
                break
        found = self.all_ids() if result is None else result
        found.flags.writeable = False
        if self._resolved_ids + len(found) > RESOLVED_KEPT_IDS:
            self._forget_resolved()
        self._resolved[key] = found
        self._resolved_ids += len(found)
        return found

    def resolve_any(self, matcher_sets: Sequence[Sequence[Matcher]]) -> IDs:
        if not matcher_sets:
            return self.all_ids()
        return np.unique(np.concatenate([self.resolve(ms) for ms in matcher_sets]))

    def in_window(self, sids: IDs, start_ms: int, end_ms: int) -> IDs:
        keep = (self.min_ts[sids] <= end_ms) & (self.max_ts[sids] >= start_ms)
        kept: IDs = sids[keep]
        return kept

    def _any_in_window(self, ids: list[int], start_ms: int, end_ms: int) -> bool:
        arr = np.array(ids, np.int64)
        return bool(((self.min_ts[arr] <= end_ms) & (self.max_ts[arr] >= start_ms)).any())

    def values_in_window(self, name: str, start_ms: int, end_ms: int) -> list[str]:
        """Values of label `name` with some series in the window, from the postings (no series scan)."""
        values = self._postings.get(name, {})
        return sorted(v for v, ids in values.items() if self._any_in_window(ids, start_ms, end_ms))

    def names_in_window(self, start_ms: int, end_ms: int) -> list[str]:
        found = []
        for name, values in self._postings.items():
            if any(self._any_in_window(ids, start_ms, end_ms) for ids in values.values()):
                found.append(name)
        return sorted(found)

    def in_label_order(self, sids: IDs) -> IDs:
        """`sids` ordered by their label sets, through a rank of every series kept until series are added.

        Blocks store series in label order, so a batch of label-adjacent series reads few pages."""
        if len(self._rank) != len(self.labels):
            order = sorted(range(len(self.labels)), key=self.labels.__getitem__)
            self._rank = np.empty(len(order), np.int64)
            self._rank[order] = np.arange(len(order), dtype=np.int64)
        ordered: IDs = sids[np.argsort(self._rank[sids], kind="stable")]
        return ordered

    def sort_by_labels(self, sids: IDs) -> list[int]:
        labels = self.labels
        return sorted((int(s) for s in sids), key=labels.__getitem__)
