"""Outbound connections made on a user's behalf (checks, channels, webhooks, forwarders, API-added
scrape targets) and the policy that decides where they may go (docs/security.md, "Outbound requests")."""

from __future__ import annotations

from nightowl.outbound.connect import CONNECTION_FAILED, open_connection, public_error
from nightowl.outbound.policy import OutboundDenied, OutboundPolicy

__all__ = ["CONNECTION_FAILED", "OutboundDenied", "OutboundPolicy", "open_connection", "public_error"]
