"""Nightowl: a self-hosted monitoring and observability server."""

__version__ = "0.1.0"
