"""A small remote write receiver for the failure cases: it answers what the test scripts, records the rest.

It decodes what it receives with its own minimal protobuf reader, independent of the encoder under test.
"""

from __future__ import annotations

import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cramjam

Decoded = dict[int, list[bytes | int]]


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(data: bytes) -> Decoded:
    """Field number -> values: bytes for length-delimited and 64-bit fields, ints for varints."""
    out: Decoded = {}
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: bytes | int
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = read_varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        else:
            raise ValueError(f"unexpected wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


@dataclass
class ReceivedSeries:
    labels: dict[str, str]
    samples: list[tuple[int, float]]


def decode_write_request(body: bytes) -> tuple[list[ReceivedSeries], list[Decoded]]:
    message = fields(bytes(cramjam.snappy.decompress_raw(body)))
    series = []
    for raw in message.get(1, []):
        ts = fields(raw)
        labels = {}
        for label in ts.get(1, []):
            f = fields(label)
            labels[f[1][0].decode()] = f.get(2, [b""])[0].decode()
        samples = []
        for sample in ts.get(2, []):
            f = fields(sample)
            timestamp = f[2][0]
            samples.append(
                (timestamp - (1 << 64) if timestamp >= 1 << 63 else timestamp, struct.unpack("<d", f[1][0])[0])
            )
        series.append(ReceivedSeries(labels, samples))
    return series, [fields(m) for m in message.get(3, [])]


@dataclass
class WriteReceiver:
    """Answers each request with the next scripted (status, headers), then 204; records accepted writes."""

    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    accepted: list[list[ReceivedSeries]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    server: ThreadingHTTPServer | None = None

    def samples(self) -> int:
        return sum(len(s.samples) for request in self.accepted for s in request)

    def start(self, port: int = 0) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                status, headers = receiver.answers.popleft() if receiver.answers else (204, {})
                if status < 300:
                    receiver.accepted.append(decode_write_request(body)[0])
                    receiver.headers.append(dict(self.headers))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                body = b'{"status": "success", "data": {}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
