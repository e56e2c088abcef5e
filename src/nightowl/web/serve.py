"""Serve the single-page app: hashed assets with a long cache, `index.html` for every client-side route.

The layer sits outside authentication: the page and its scripts are public (they hold no data; the app
fetches everything with the session), so a browser that is not logged in gets the login screen, never
problem JSON. Any path a route of the API answers, or under an API prefix, passes through untouched.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

DIST = Path(__file__).parent / "dist"
API_PREFIXES = (
    "/api/",
    "/prometheus/",
    "/v1/",
    "/metrics",
    "/health",
    "/ready",
    "/status",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/ping/",
    "/-/",
    "/demo/",
)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Inline styles only (uPlot and CodeMirror set them); scripts come from our own files, never inline."""
HTML_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-cache"),
]
ASSET_CACHE = b"public, max-age=31536000, immutable"
NOT_BUILT = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nightowl</title></head>
<body><h1>Nightowl</h1><p>The web UI is not built. Run <code>make run</code> (it builds <code>web/</code>
with npm), or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>.
The API is at <a href="/docs">/docs</a>.</p></body></html>
"""


def wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


class SinglePageApp:
    """ASGI middleware: `/assets/*` and top-level files of the build, and `index.html` as the fallback."""

    def __init__(self, app: ASGIApp, router: Router, dist: Path = DIST) -> None:
        self.app, self.router, self.dist = app, router, dist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or self._api(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/assets/") or (path.count("/") == 1 and "." in path and path != "/index.html"):
            await self._file(scope, send, path)
            return
        if path == "/" or path == "/index.html" or wants_html(scope):
            await self._index(scope, send)
            return
        await self.app(scope, receive, send)

    def _api(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path.startswith(API_PREFIXES):
            return True
        return any(route.matches(scope)[0] != Match.NONE for route in self.router.routes)

    async def _file(self, scope: Scope, send: Send, path: str) -> None:
        target = (self.dist / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.dist.resolve()) or not target.is_file():
            await _send(scope, send, 404, b"not found\n", [(b"content-type", b"text/plain; charset=utf-8")])
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
            kind += "; charset=utf-8"
        cache = ASSET_CACHE if path.startswith("/assets/") else b"no-cache"
        headers = [(b"content-type", kind.encode()), (b"cache-control", cache), (b"x-content-type-options", b"nosniff")]
        await _send(scope, send, 200, target.read_bytes(), headers)

    async def _index(self, scope: Scope, send: Send) -> None:
        index = self.dist / "index.html"
        body = index.read_bytes() if index.is_file() else NOT_BUILT
        await _send(scope, send, 200, body, [(b"content-type", b"text/html; charset=utf-8"), *HTML_HEADERS])


async def _send(scope: Scope, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
