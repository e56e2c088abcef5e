"""The metrics API between Nightowl and its storage: SampleBatch in (Appender), series out (Querier)."""
