"""PromQL: parse with promql-parser, evaluate over numpy arrays through `metrics.Querier`."""
