"""Live updates for the UI: topics that browsers subscribe to over `/api/v1/ws`."""
