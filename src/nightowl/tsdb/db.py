"""The embedded TSDB: a `Storage` over the series index, the WAL, the head and the blocks on disk.

Append: labels -> series ids (one dict lookup per series), vectorised order/duplicate checks, one
WAL write, then the columns join the head. Select: matchers -> ids through the inverted index, then
the samples of those ids from blocks, the head and any head being flushed, merged with one sort.
Maintenance (flush, compaction, retention, tiers) lives in `maintenance.py` and runs on the scheduler.
"""

from __future__ import annotations

import json
import logging
import operator
import os
import threading
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nightowl.core.clock import Clock
from nightowl.metrics.api import MetricMetadata, SelectHints
from nightowl.metrics.model import AppendResult, Labels, Matcher, SampleBatch, Series
from nightowl.tsdb import wal as wal_records
from nightowl.tsdb.block import Block, read_labels, read_meta
from nightowl.tsdb.gather import Runs, assemble, under_raw
from nightowl.tsdb.head import Chunk, Head, Part
from nightowl.tsdb.index import SeriesIndex
from nightowl.tsdb.options import TSDBOptions
from nightowl.tsdb.telemetry import TSDBMetrics
from nightowl.tsdb.tiers import tier_runs
from nightowl.tsdb.wal import WriteAheadLog

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
OUT_OF_ORDER = "out_of_order"
TOO_OLD = "too_old"
DUPLICATE = "duplicate_sample_for_timestamp"
_NAN_BITS = np.uint64(0x7FF8DEAD0000BEEF)  # "no stored sample": a NaN payload no writer produces


class TSDB:
    def __init__(self, directory: Path, options: TSDBOptions, clock: Clock, metrics: TSDBMetrics | None = None) -> None:
        self.directory = directory
        self.options = options
        self.clock = clock
        self.metrics = metrics or TSDBMetrics()
        self.index = SeriesIndex()
        self.head = Head(options.freeze_samples)
        self.flushing: list[Part] = []
        self.blocks: list[Block] = []
        self.tier_blocks: list[Block] = []
        self.lock = threading.RLock()
        self.maintenance_lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._metadata: dict[str, MetricMetadata] = self._load_metadata()
        self._last_value = np.zeros(1024, np.float64)
        self._in_segment = np.zeros(1024, bool)
        self._scratch = np.zeros(1024, np.int64)
        self._sid_by_object: dict[int, int] = {}
        self._flush_thread: threading.Thread | None = None
        self._newest = np.iinfo(np.int64).min
        self.block_seq = 0
        self.blocks_dir = directory / "blocks"
        self.blocks_dir.mkdir(parents=True, exist_ok=True)
        self.wal = WriteAheadLog(directory / "wal", options.fsync, options.fsync_interval_s)
        self._load_blocks()
        self._replay()

    def _load_metadata(self) -> dict[str, MetricMetadata]:
        try:
            doc = json.loads((self.directory / "metadata.json").read_text())
        except FileNotFoundError:
            return {}
        return {name: MetricMetadata(*entry) for name, entry in doc.items()}

    def _save_metadata(self) -> None:
        """Metadata changes rarely: the whole table is rewritten (atomically) when it does."""
        tmp = self.directory / "metadata.json.tmp"
        doc = {name: [m.type, m.help, m.unit] for name, m in self._metadata.items()}
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.directory / "metadata.json")

    def _load_blocks(self) -> None:
        paths = [p for p in self.blocks_dir.iterdir() if p.is_dir()]
        for p in paths:
            if p.name.startswith(".tmp-"):
                log.warning("removing unfinished block %s", p.name)
                _remove_tree(p)
        metas = {p.name: read_meta(p) for p in paths if not p.name.startswith(".tmp-")}
        replaced = {parent for meta in metas.values() for parent in meta.parents}
        for block_id in sorted(metas):
            path = self.blocks_dir / block_id
            if block_id in replaced:
                log.info("removing block %s, already merged into a newer one", block_id)
                _remove_tree(path)
                continue
            block = self.open_block(path)
            (self.tier_blocks if block.meta.is_tier else self.blocks).append(block)
        if metas:
            log.info("opened %d blocks, %d series", len(self.blocks) + len(self.tier_blocks), len(self.index))

    def open_block(self, path: Path) -> Block:
        """Open a block and give each of its series a global id (registering new series in the index)."""
        meta = read_meta(path)
        labels = read_labels(path)
        gids = np.fromiter((self.index.add(ls) for ls in labels), np.int64, len(labels))
        block = Block(path, meta, gids)
        if len(gids):
            if not meta.is_tier:
                self._newest = max(self._newest, meta.max_ts)
            self.index.observe(np.concatenate([gids, gids]), np.concatenate([block.min_ts, block.max_ts]))
        return block

    def _replay(self) -> None:
        remap = np.full(1024, -1, np.int64)  # WAL series id -> index series id
        records = 0
        for record in self.wal.replay():
            records += 1
            if isinstance(record, wal_records.SeriesRecord):
                if record.sid >= len(remap):
                    remap = np.concatenate([remap, np.full(max(record.sid + 1, 2 * len(remap)) - len(remap), -1)])
                remap[record.sid] = self.index.add(record.labels)
                self._ensure_capacity()
            elif isinstance(record, wal_records.SamplesRecord):
                mapped = remap[record.sids]
                known = mapped >= 0
                self._ingest(Chunk(mapped[known], record.timestamps[known], record.values[known]))
            else:
                wal_sids = record.sids[record.sids < len(remap)]
                sids = remap[wal_sids]
                self._delete_ids(sids[sids >= 0], record.start_ms, record.end_ms)
        if records:
            self.refresh_time_bounds()
            log.info(
                "WAL replay done: %d records, %d head samples, %d series", records, self.head.samples, len(self.index)
            )
        self.start_wal_segment()

    def start_wal_segment(self) -> int:
        """A new WAL segment; series get recorded in it again before their first samples there."""
        self._in_segment[:] = False
        return self.wal.begin_segment()

    def _ensure_capacity(self) -> None:
        if len(self._last_value) < len(self.index.max_ts):
            grown = np.zeros(len(self.index.max_ts), np.float64)
            grown[: len(self._last_value)] = self._last_value
            self._last_value = grown
            self._in_segment = np.concatenate([self._in_segment, np.zeros(len(grown) - len(self._in_segment), bool)])
            self._scratch = np.zeros(len(grown), np.int64)

    def _ingest(self, chunk: Chunk) -> None:
        """Make accepted samples visible: head, per-series time bounds, last values."""
        self._ensure_capacity()
        sids, ts = chunk.sids, chunk.timestamps
        newer = ts > self.index.max_ts[sids]
        if newer.any():
            self.index.max_ts[sids[newer]] = ts[newer]
            self._last_value[sids[newer]] = chunk.values[newer]
        older = ts < self.index.min_ts[sids]
        if older.any():
            np.minimum.at(self.index.min_ts, sids[older], ts[older])
        self._newest = max(self._newest, int(ts.max()))
        self.head.add(chunk)

    def newest_ts(self) -> int:
        """Time of the newest sample stored (windows close relative to it, not to the clock)."""
        return self._newest

    def append(self, batch: SampleBatch) -> AppendResult:
        with self.lock:
            result = self._append(batch)
        now = self.clock.monotonic()
        if self.wal.sync_due(now):
            self.wal.sync(now)
        flushing = self._flush_thread
        if flushing is not None and self.head.samples >= 3 * self.options.head_max_samples:
            flushing.join()  # backpressure: the head may not outgrow memory while a flush lags behind
        return result

    def _append(self, batch: SampleBatch) -> AppendResult:
        changed = False
        for name, (kind, help_text, unit) in batch.metadata.items():
            entry = MetricMetadata(kind, help_text, unit)
            if self._metadata.get(name) != entry:
                self._metadata[name] = entry
                changed = True
        if changed:
            self._save_metadata()
        if not len(batch):
            return AppendResult(0)
        frames: list[bytes] = []
        distinct, created = self._series_ids(batch.series)
        n_series = len(batch.series)
        self._ensure_capacity()
        unrecorded = distinct[~self._in_segment[distinct]]
        if len(unrecorded):
            labels_of = self.index.labels
            frames.extend(wal_records.series_frame(sid, labels_of[sid]) for sid in np.unique(unrecorded).tolist())
            self._in_segment[unrecorded] = True
        sids = distinct[batch.series_index]
        ts = batch.timestamps.astype(np.int64, copy=False)
        values = batch.values.astype(np.float64, copy=False)
        repeated = len(batch) > n_series or bool(np.bincount(batch.series_index, minlength=1).max() > 1)
        if not repeated:
            seen = self._scratch[distinct] = np.arange(n_series)
            repeated = not bool((self._scratch[distinct] == seen).all())
        if repeated:
            order = np.lexsort((ts, sids))
            sids, ts, values = sids[order], ts[order], values[order]
        last = self.index.max_ts[sids]
        rejected: dict[str, int] = {}
        keep: npt.NDArray[np.bool_] | None = None
        oldest_allowed = int(self.clock.now() * 1000) - self.options.retention_raw_ms
        if repeated or not bool((ts > last).all()) or int(ts.min()) < oldest_allowed:
            keep = self._check(sids, ts, values, last, oldest_allowed, rejected)
        accepted = Chunk(sids, ts, values) if keep is None else Chunk(sids[keep], ts[keep], values[keep])
        if len(accepted) or frames:
            if len(accepted):
                frames.append(
                    wal_records.samples_frame(accepted.sids.astype(np.int32), accepted.timestamps, accepted.values)
                )
            self.wal.write(b"".join(frames), self.clock.monotonic())
        if len(accepted):
            self._ingest(accepted)
        self.metrics.appended.inc(len(accepted))
        for reason, count in rejected.items():
            self.metrics.rejected.labels(reason).inc(count)
        if self.head.samples >= self.options.head_max_samples:
            self._flush_in_background()
        silently_dropped = len(batch) - len(accepted) - sum(rejected.values())
        return AppendResult(len(accepted) + silently_dropped, rejected, created)

    def _series_ids(self, series: list[Labels]) -> tuple[I64, int]:
        """The id of each label set (created when new) and how many were created.

        A scraper hands the same tuples every scrape, so ids are first looked up by object identity
        (`id()` hashes in C; tuples rehash every element), then by value, and only then created.
        """
        n_series = len(series)
        by_object = self._sid_by_object
        # map() over two iterables runs dict.get in C: no Python frame per series on the hot path.
        distinct = np.fromiter(map(by_object.get, map(id, series), repeat(-1, n_series)), np.int64, n_series)
        hit = distinct >= 0
        if hit.any():
            dead = np.flatnonzero(hit & ~self.index.live[np.where(hit, distinct, 0)])
            for i in dead.tolist():  # series removed (deleted, past retention) since: a new id
                by_object.pop(id(series[i]), None)
            distinct[dead] = -1
        missing = np.flatnonzero(distinct < 0)
        if len(missing) == 0:
            return distinct, 0
        todo = [series[i] for i in missing.tolist()]
        found = np.fromiter(map(self.index.ids.get, todo, repeat(-1, len(todo))), np.int64, len(todo))
        created = 0
        for j in np.flatnonzero(found < 0).tolist():
            labels = todo[j]
            clean = labels if all(value for _, value in labels) else tuple(p for p in labels if p[1])
            known = len(self.index)
            found[j] = sid = self.index.add(clean)
            created += sid == known
        distinct[missing] = found
        sids = found.tolist()
        # Only objects the index itself holds are remembered: they stay alive, so their id stays theirs.
        held = list(map(operator.is_, map(self.index.labels.__getitem__, sids), todo))
        by_object.update(zip(map(id, compress(todo, held)), compress(sids, held), strict=True))
        return distinct, created

    def _check(
        self,
        sids: I64,
        ts: I64,
        values: npt.NDArray[np.float64],
        last: I64,
        oldest_allowed: int,
        rejected: dict[str, int],
    ) -> npt.NDArray[np.bool_]:
        """Which samples to store; counts refusals by reason. Equal duplicates are dropped silently."""
        keep = np.ones(len(sids), bool)
        bits = values.view(np.uint64)
        too_old = ts < oldest_allowed
        floor = np.maximum(last, np.iinfo(np.int64).min + self.options.out_of_order_window_ms)
        out_of_order = ~too_old & (ts < floor - self.options.out_of_order_window_ms)
        if too_old.any():
            rejected[TOO_OLD] = int(too_old.sum())
        if out_of_order.any():
            rejected[OUT_OF_ORDER] = int(out_of_order.sum())
        keep &= ~too_old & ~out_of_order
        # Within the batch (sorted by series, time): a repeated (series, time) keeps its first sample.
        again = np.zeros(len(sids), bool)
        again[1:] = (sids[1:] == sids[:-1]) & (ts[1:] == ts[:-1])
        differs = np.zeros(len(sids), bool)
        differs[1:] = again[1:] & (bits[1:] != bits[:-1])
        keep &= ~again
        dup_conflicts = int((differs & ~too_old & ~out_of_order).sum())
        # Against stored samples: the last one per series is at hand; older ones need a look-up.
        at_last = keep & (ts == last)
        last_bits = self._last_value.view(np.uint64)[sids]
        dup_conflicts += int((at_last & (bits != last_bits)).sum())
        keep &= ~at_last
        older = np.flatnonzero(keep & (ts < last))
        if len(older):
            stored = self._stored_values(sids[older], ts[older])
            found = stored.view(np.uint64) != _NAN_BITS
            keep[older[found]] = False
            dup_conflicts += int((found & (stored.view(np.uint64) != bits[older])).sum())
        if dup_conflicts:
            rejected[DUPLICATE] = dup_conflicts
        return keep

    def _stored_values(self, sids: I64, ts: I64) -> npt.NDArray[np.float64]:
        """The stored value at each (sid, ts), or a sentinel NaN (`_NAN_BITS`) where there is none."""
        result = np.full(len(sids), np.float64(0)).view(np.uint64)
        result[:] = _NAN_BITS
        out = result.view(np.float64)
        found = assemble(self._sources(np.unique(sids), int(ts.min()), int(ts.max())))
        for i, (sid, t) in enumerate(zip(sids.tolist(), ts.tolist(), strict=True)):
            series = found.get(sid)
            if series is None:
                continue
            pos = int(np.searchsorted(series[0], t))
            if pos < len(series[0]) and series[0][pos] == t:
                out[i] = series[1][pos]
        return out

    def _sources(self, sids: I64, start_ms: int, end_ms: int) -> list[Runs]:
        """Samples of `sids` from every source, oldest first (blocks by window, flushing head, head).

        The lists are snapshotted under the lock; decoding happens outside it, so appends go on.
        """
        with self.lock:
            blocks = [b for b in self.blocks if b.meta.max_ts >= start_ms and b.meta.min_ts <= end_ms]
            flushing = list(self.flushing)
            parts, active = self.head.snapshot()
        found: list[Runs] = []
        for block in blocks:
            local = block.local(sids)
            inside = block.meta.min_ts >= start_ms and block.meta.max_ts <= end_ms
            window = (None, None) if inside else (start_ms, end_ms)
            for members, slices in block.pieces(local, 0, *window):
                gids = block.gids[members]
                found.extend(Runs(gids, counts.astype(np.int64), ts, v).without_empty() for counts, ts, v in slices)
        found.extend(part.runs(sids) for part in [*flushing, *parts])
        if len(active):
            found.append(Runs.of_unsorted(active.where(np.isin(active.sids, sids))))
        return [r.clip(start_ms, end_ms) for r in found if len(r.counts)]

    def _raw_floor(self) -> int:
        """The oldest raw sample time on record: without overrides, tiers only matter before it."""
        floors = [b.meta.min_ts for b in self.blocks]
        parts, active = self.head.snapshot()
        floors.extend(int(c.timestamps.min()) for c in [*(p.data for p in [*self.flushing, *parts]), active] if len(c))
        return min(floors) if floors else np.iinfo(np.int64).max

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        with self.lock:
            sids = self.index.in_window(self.index.resolve(matchers), start_ms, end_ms)
        return self._load(sids, start_ms, end_ms, hints)

    def select_batches(
        self,
        matchers: Sequence[Matcher],
        start_ms: int,
        end_ms: int,
        hints: SelectHints | None,
        batch_series: int,
    ) -> Iterator[list[Series]]:
        """`select` in batches of label-adjacent series: blocks keep series in label order, so each
        batch reads its own run of pages and a page is decoded for one batch only."""
        batch_series = max(1, batch_series)
        with self.lock:
            sids = self.index.in_window(self.index.resolve(matchers), start_ms, end_ms)
            if len(sids) > batch_series:
                sids = self.index.in_label_order(sids)
        for first in range(0, len(sids), batch_series):
            yield self._load(np.sort(sids[first : first + batch_series]), start_ms, end_ms, hints)

    def _load(self, sids: I64, start_ms: int, end_ms: int, hints: SelectHints | None) -> list[Series]:
        """The samples of `sids` in the window, from every source, as series sorted by labels."""
        if not len(sids):
            return []
        with self.lock:
            labels = self.index.labels
            # Tiers only fill in before each series' first raw sample. Without per-metric overrides raw
            # blocks go oldest first, so that is before the oldest raw sample: tiers past it are not read.
            tier_end = end_ms if self.options.overrides else min(end_ms, self._raw_floor() - 1)
            has_tiers = bool(self.tier_blocks) and start_ms <= tier_end
        try:
            found = assemble(self._sources(sids, start_ms, end_ms))
            if has_tiers:
                found = under_raw(found, assemble(tier_runs(self, sids, start_ms, tier_end, hints)))
        except FileNotFoundError:  # a block merged away meanwhile: its replacement is published now
            return self._load(sids, start_ms, end_ms, hints)
        ordered = sorted(found, key=labels.__getitem__)  # by labels, with no Python frame per comparison key
        return [Series(labels[sid], *found[sid]) for sid in ordered]

    def _matching(self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int) -> list[Labels]:
        with self.lock:
            sids = self.index.in_window(self.index.resolve_any(matcher_sets), start_ms, end_ms)
            return [self.index.labels[s] for s in self.index.sort_by_labels(sids)]

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        found = self._matching(matcher_sets, start_ms, end_ms)
        return found[:limit] if limit else found

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        if not matcher_sets:
            with self.lock:
                names = self.index.names_in_window(start_ms, end_ms)
        else:
            names = sorted({n for labels in self._matching(matcher_sets, start_ms, end_ms) for n, _ in labels})
        return names[:limit] if limit else names

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        if not matcher_sets:
            with self.lock:
                values = self.index.values_in_window(name, start_ms, end_ms)
        else:
            found = self._matching(matcher_sets, start_ms, end_ms)
            values = sorted({v for labels in found for n, v in labels if n == name})
        return values[:limit] if limit else values

    def metadata(self, metric: str | None = None, limit: int = 0) -> dict[str, list[MetricMetadata]]:
        with self.lock:
            found = {n: [m] for n, m in sorted(self._metadata.items()) if metric is None or n == metric}
        return dict(list(found.items())[:limit]) if limit else found

    def _delete_ids(self, sids: I64, start_ms: int, end_ms: int) -> None:
        self.head.delete(sids, start_ms, end_ms)
        # No head is being flushed here: deletes and flushes both hold the maintenance lock.

    def delete_series(self, matchers: Sequence[Matcher], start_ms: int | None = None, end_ms: int | None = None) -> int:
        from nightowl.tsdb.maintenance import rewrite_blocks_without

        lo = start_ms if start_ms is not None else np.iinfo(np.int64).min
        hi = end_ms if end_ms is not None else np.iinfo(np.int64).max
        with self.maintenance_lock:
            with self.lock:
                sids = self.index.resolve(matchers)
                if not len(sids):
                    return 0
                self.wal.write(wal_records.delete_frame(sids, lo, hi), self.clock.monotonic())
                self.wal.sync()
                self._delete_ids(sids, lo, hi)
            rewrite_blocks_without(self, sids, lo, hi)
            with self.lock:
                if start_ms is None and end_ms is None:
                    self.index.remove(sids.tolist())
                else:
                    self.refresh_time_bounds()
        return len(sids)

    def refresh_time_bounds(self) -> None:
        """Recompute each series' first/last sample time from blocks and head; forget series with none left."""
        index = self.index
        n = len(index)
        lo = np.full(n, np.iinfo(np.int64).max, np.int64)
        hi = np.full(n, np.iinfo(np.int64).min, np.int64)
        for block in [*self.blocks, *self.tier_blocks]:
            np.minimum.at(lo, block.gids, block.min_ts)
            np.maximum.at(hi, block.gids, block.max_ts)
        for chunk in [*(p.data for p in self.flushing), *self.head.everything()]:
            if len(chunk):
                np.minimum.at(lo, chunk.sids, chunk.timestamps)
                np.maximum.at(hi, chunk.sids, chunk.timestamps)
        index.min_ts[:n] = lo
        index.max_ts[:n] = np.maximum(hi, index.max_ts[:n], where=hi > np.iinfo(np.int64).min, out=hi.copy())
        empty = np.flatnonzero(index.live[:n] & (lo == np.iinfo(np.int64).max))
        index.remove(empty.tolist())

    def _flush_in_background(self) -> None:
        if self._flush_thread is not None and self._flush_thread.is_alive():
            return
        from nightowl.tsdb.maintenance import flush_and_compact

        self._flush_thread = threading.Thread(target=flush_and_compact, args=(self,), name="tsdb-flush", daemon=True)
        self._flush_thread.start()

    def flush(self) -> None:
        """Write the whole head out as blocks and merge each window's blocks (before backups, benchmarks)."""
        from nightowl.tsdb.maintenance import compact, flush_head

        if self._flush_thread is not None:
            self._flush_thread.join()
        flush_head(self)
        compact(self, force=True)

    def status(self) -> dict[str, float]:
        return {
            "active_series": float(self.index.active_count),
            "head_samples": float(self.head.samples + sum(len(p.data) for p in self.flushing)),
            "head_bytes": float(self.head.bytes),
            "wal_bytes": float(self.wal.size_bytes()),
            "blocks": float(len(self.blocks) + len(self.tier_blocks)),
            "block_bytes": float(sum(b.size_bytes for b in [*self.blocks, *self.tier_blocks])),
        }

    def sync_wal(self) -> None:
        self.wal.sync(self.clock.monotonic())

    def close(self) -> None:
        """Wait for a running flush or compaction, then close the WAL (the head replays from it)."""
        if self._flush_thread is not None:
            self._flush_thread.join()
        with self.maintenance_lock, self.lock:
            self.wal.close()


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
