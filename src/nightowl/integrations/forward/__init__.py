"""Metric forwarders: selected samples to Prometheus remote write, Datadog or New Relic, via a disk buffer."""
