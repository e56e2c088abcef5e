"""Fixtures of the ingest tests: the real app served over TCP, for real senders."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from nightowl.app import create_app


@pytest.fixture
def live_app(make_settings: Any) -> Iterator[tuple[FastAPI, str]]:
    """The real app served by uvicorn on a free port, in a thread."""
    app = create_app(make_settings())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()
