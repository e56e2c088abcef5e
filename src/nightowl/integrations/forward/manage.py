"""Forwarder configurations: validated, stored with the API key encrypted, turned into running forwarders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from nightowl.auth import redact
from nightowl.auth.secrets import SecretBox
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.ingest.selector import parse_selector
from nightowl.integrations import tables
from nightowl.integrations.forward.formats import KINDS
from nightowl.integrations.forward.forwarder import ForwarderConfig

REDACTIONS: redact.Redactions = {"api_key": "secret", "url": "url"}


@dataclass(frozen=True)
class StoredForwarder:
    type: str
    settings: dict[str, Any]  # api_key encrypted
    enabled: bool
    updated_at: float

    def public(self) -> dict[str, Any]:
        return {
            "type": self.type,
            **redact.redact(self.settings, REDACTIONS),
            "enabled": self.enabled,
            "updated_at": self.updated_at,
        }

    def runtime_config(self, box: SecretBox, timeout: float) -> ForwarderConfig:
        key = self.settings.get("api_key")
        return ForwarderConfig(
            type=self.type,
            url=self.settings["url"],
            api_key=box.decrypt(key) if key else "",
            username=self.settings.get("username", ""),
            match=tuple(tuple(parse_selector(s, "match")) for s in self.settings.get("match", [])),
            batch_size=self.settings["batch_size"],
            max_buffer_bytes=self.settings["max_buffer_bytes"],
            timeout=timeout,
        )


def check_type(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"unknown forwarder type {kind!r}; known: {', '.join(KINDS)}", field="type")


def prepare(kind: str, body: dict[str, Any], box: SecretBox, previous: StoredForwarder | None) -> dict[str, Any]:
    """Validate a PUT body into stored settings; an omitted or masked api_key keeps the stored one."""
    check_type(kind)
    url = str(body.get("url") or KINDS[kind].default_url)
    url = redact.restore_value("url", url, previous.settings.get("url") if previous else None, "url")
    if not url:
        raise InvalidInput("url is required for remote_write", field="url")
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"url {url!r} must start with http:// or https://", field="url")
    match = [str(s) for s in body.get("match") or []]
    for selector in match:
        parse_selector(selector, "match")
    batch_size = int(body.get("batch_size") or 500)
    max_buffer = int(body.get("max_buffer_bytes") or 64 << 20)
    if not 1 <= batch_size <= 100_000:
        raise InvalidInput("batch_size must be between 1 and 100000", field="batch_size")
    if max_buffer < 4096:
        raise InvalidInput("max_buffer_bytes must be at least 4096", field="max_buffer_bytes")
    key = body.get("api_key")
    if key is None or redact.is_mask(key):
        stored_key = previous.settings.get("api_key") if previous else None
    else:
        stored_key = box.encrypt(str(key)) if key else None
    if kind != "remote_write" and not stored_key:
        raise InvalidInput(f"{kind} needs an api_key", field="api_key")
    return {
        "url": url,
        "api_key": stored_key,
        "username": str(body.get("username") or ""),
        "match": match,
        "batch_size": batch_size,
        "max_buffer_bytes": max_buffer,
    }


def load(engine: Engine) -> list[StoredForwarder]:
    with engine.connect() as conn:
        rows = conn.execute(select(tables.forwarders).order_by(tables.forwarders.c.type)).mappings().all()
    return [StoredForwarder(r["type"], json.loads(r["config"]), bool(r["enabled"]), r["updated_at"]) for r in rows]


def get(engine: Engine, kind: str) -> StoredForwarder:
    check_type(kind)
    found = next((f for f in load(engine) if f.type == kind), None)
    if found is None:
        raise NotFound(f"forwarder {kind!r} is not configured", field="type")
    return found


def save(engine: Engine, stored: StoredForwarder) -> None:
    t = tables.forwarders
    values = {"config": json.dumps(stored.settings), "enabled": stored.enabled, "updated_at": stored.updated_at}
    with engine.begin() as conn:
        exists = conn.execute(select(t.c.type).where(t.c.type == stored.type)).first()
        if exists:
            conn.execute(update(t).where(t.c.type == stored.type).values(**values))
        else:
            conn.execute(insert(t).values(type=stored.type, **values))


def remove(engine: Engine, kind: str) -> None:
    get(engine, kind)
    with engine.begin() as conn:
        conn.execute(delete(tables.forwarders).where(tables.forwarders.c.type == kind))


def buffer_dir(data_dir: Path, kind: str) -> Path:
    return data_dir / "forward" / kind
