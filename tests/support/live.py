"""A Nightowl app served by uvicorn on a real port, for clients outside the process (a real Prometheus)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.remote_servers import free_port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` (its lifespan included) in a thread; yields its base URL, e.g. http://127.0.0.1:PORT."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for a real server thread, not for logic
        assert server.started, "the Nightowl server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
