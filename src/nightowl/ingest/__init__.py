"""Protocol adapters: each ingest protocol becomes one columnar `SampleBatch` for the one append path."""
