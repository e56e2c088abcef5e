"""Stored channels: configuration with secrets encrypted by the SecretBox, masked whenever shown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from nightowl.auth import redact
from nightowl.auth.secrets import SecretBox
from nightowl.core.errors import ConfigError, InvalidInput
from nightowl.notify import tables
from nightowl.notify.channels import channel_class
from nightowl.notify.message import SEVERITY_RANK
from nightowl.routing.store import upsert

_ENCRYPTED = "enc:"


@dataclass(frozen=True)
class ChannelRecord:
    id: str
    name: str
    kind: str
    receiver: str
    config: dict[str, Any]  # secrets still encrypted
    min_severity: str | None
    rate_limit: int | None
    send_resolved: bool
    enabled: bool
    source: str
    updated_at: float

    def plain_config(self, box: SecretBox) -> dict[str, Any]:
        return {k: _decrypt(box, v) for k, v in self.config.items()}

    def masked(self, box: SecretBox) -> dict[str, Any]:
        """What every caller sees: each declared secret masked (a URL or header map keeps its harmless parts)."""
        rules = channel_class(self.kind).redactions()
        config = {k: (_shown(box, rules[k], v) if k in rules else v) for k, v in self.config.items()}
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "receiver": self.receiver,
            "config": config,
            "min_severity": self.min_severity,
            "rate_limit": self.rate_limit,
            "send_resolved": self.send_resolved,
            "enabled": self.enabled,
            "source": self.source,
            "updated_at": self.updated_at,
        }


def _shown(box: SecretBox, rule: redact.Rule, value: Any) -> Any:
    """A whole secret is masked without decrypting it; a URL or header map is decrypted to show its harmless
    parts, or masked whole when it cannot be (the secret key changed): listing channels never fails."""
    if rule == "secret":
        return redact.redact_value(rule, value)
    try:
        return redact.redact_value(rule, _decrypt(box, value))
    except ConfigError:
        return redact.MASK


def _decrypt(box: SecretBox, value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_ENCRYPTED):
        return json.loads(box.decrypt(value[len(_ENCRYPTED) :]))
    return value


def prepare_config(
    kind: str, config: dict[str, Any], box: SecretBox, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate and encrypt; a secret left out or sent back masked keeps its stored value."""
    cls = channel_class(kind)
    secrets = cls.secret_fields()
    stored = {k: _decrypt(box, v) for k, v in (previous or {}).items()}
    plain = redact.restore(config, stored, cls.redactions(), prefix="config.")
    for name in secrets:
        if plain.get(name) is None and stored.get(name) is not None and cls.redactions()[name] == "secret":
            plain[name] = stored[name]
    validated = cls.validate(plain)
    return {k: (_ENCRYPTED + box.encrypt(json.dumps(v)) if k in secrets else v) for k, v in validated.items()}


def check_options(min_severity: str | None, rate_limit: int | None) -> None:
    if min_severity is not None and min_severity not in SEVERITY_RANK:
        raise InvalidInput(f"min_severity {min_severity!r} is not one of {list(SEVERITY_RANK)}", field="min_severity")
    if rate_limit is not None and rate_limit < 1:
        raise InvalidInput("rate_limit must be at least 1 notification per minute", field="rate_limit")


def _record(row: Any) -> ChannelRecord:
    return ChannelRecord(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        receiver=row["receiver"],
        config=json.loads(row["config"]),
        min_severity=row["min_severity"],
        rate_limit=row["rate_limit"],
        send_resolved=bool(row["send_resolved"]),
        enabled=bool(row["enabled"]),
        source=row["source"],
        updated_at=row["updated_at"],
    )


def save_channel(conn: Connection, record: ChannelRecord) -> None:
    values = {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "receiver": record.receiver,
        "config": json.dumps(record.config, sort_keys=True),
        "min_severity": record.min_severity,
        "rate_limit": record.rate_limit,
        "send_resolved": record.send_resolved,
        "enabled": record.enabled,
        "source": record.source,
        "updated_at": record.updated_at,
    }
    upsert(conn, tables.channels, values, ["id"])


def get_channel(conn: Connection, channel_id: str) -> ChannelRecord | None:
    row = conn.execute(select(tables.channels).where(tables.channels.c.id == channel_id)).mappings().first()
    return _record(row) if row is not None else None


def list_channels(conn: Connection, receiver: str | None = None) -> list[ChannelRecord]:
    query = select(tables.channels).order_by(tables.channels.c.receiver, tables.channels.c.name)
    if receiver is not None:
        query = query.where(tables.channels.c.receiver == receiver)
    return [_record(r) for r in conn.execute(query).mappings()]


def delete_channel(conn: Connection, channel_id: str) -> bool:
    return conn.execute(delete(tables.channels).where(tables.channels.c.id == channel_id)).rowcount > 0
