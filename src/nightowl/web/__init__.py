"""The web UI: the built single-page app (`dist/`, made by `web/` with Vite) and the ASGI layer serving it."""
