"""The integration hub: the in-process event bus, outgoing event webhooks and metric forwarders."""
