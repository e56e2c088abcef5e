"""How another Prometheus reads from Nightowl: `/federate`, remote read, and the TSDB cardinality status."""
