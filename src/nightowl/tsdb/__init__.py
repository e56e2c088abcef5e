"""Nightowl's embedded time-series database: series index, WAL, columnar head, compressed blocks,
compaction, retention and downsampled tiers. `db.TSDB` is the `metrics.api.Storage` it provides."""
