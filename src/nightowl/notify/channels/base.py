"""The one interface every channel implements, and the declared field schema of its configuration.

From the schema come validation, which fields are secret (encrypted at rest, masked in the API) and
the form a UI shows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from nightowl.auth.redact import Redactions, Rule
from nightowl.core.errors import InvalidInput
from nightowl.notify.message import Message
from nightowl.notify.templates import check_template
from nightowl.outbound import OutboundPolicy

FieldKind = Literal["str", "int", "bool", "list", "dict", "choice"]


@dataclass(frozen=True)
class Field:
    """One configuration field. `secret` marks a whole value as secret; `redact` says how a URL
    ("url": its password and query values) or a header map ("headers") carries secrets."""

    name: str
    kind: FieldKind = "str"
    required: bool = False
    secret: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""
    redact: Rule | None = None
    integer_ok: bool = False
    """A str field that also takes an integer (Telegram's numeric chat_id in alertmanager.yml)."""

    @property
    def rule(self) -> Rule | None:
        return "secret" if self.secret else self.redact


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    retryable: bool = True
    response: dict[str, Any] | None = None


@dataclass
class SendContext:
    """What a send may use: the shared HTTP client, the time, the last answer to this group, and graphs.

    `graphs` renders a PNG per alert (by fingerprint) on demand, for channels that can show one.
    `http` applies the outbound `policy`; a channel that connects by other means (SMTP, Apprise)
    asks the policy itself.
    """

    http: httpx.AsyncClient
    now: float
    timeout: float
    previous: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    graphs: Callable[[Message], Awaitable[dict[str, bytes]]] | None = None
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)


TEMPLATE_FIELDS = (
    Field("title_template", help="Jinja2 template of the title/subject."),
    Field("text_template", help="Jinja2 template of the plain-text body."),
)


class Channel(ABC):
    """One kind of destination; subclasses declare their field schema and implement `send`."""

    kind: ClassVar[str]
    label: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]

    @abstractmethod
    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        """Deliver one message and report how it went (status, latency, error)."""

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Fields that carry secrets in any form: encrypted at rest, masked in every answer."""
        return set(cls.redactions())

    @classmethod
    def redactions(cls) -> Redactions:
        return {f.name: f.rule for f in cls.fields if f.rule is not None}

    @classmethod
    def validate(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check types and required fields; returns the config with defaults filled in."""
        known = {f.name: f for f in cls.fields}
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise InvalidInput(
                f"{cls.kind} channel: unknown fields {unknown}; known: {sorted(known)}", field=f"config.{unknown[0]}"
            )
        out: dict[str, Any] = {}
        for f in cls.fields:
            value = config.get(f.name, f.default)
            where = f"config.{f.name}"
            if value is None or value == "":
                if f.required:
                    raise InvalidInput(f"{cls.kind} channel: {f.name} is required", field=where)
                continue
            out[f.name] = _coerce(f, value, where)
            if f.name.endswith("_template"):
                check_template(str(value), where)
        extra = cls.check(out)
        if extra:
            raise InvalidInput(f"{cls.kind} channel: {extra}", field="config")
        return out

    @classmethod
    def check(cls, config: dict[str, Any]) -> str | None:
        """Cross-field rules of one channel kind; a message when they are broken."""
        return None


def _coerce(f: Field, value: Any, where: str) -> Any:
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidInput(f"{where} must be an integer, got {value!r}", field=where)
        try:
            return int(value)
        except ValueError:
            raise InvalidInput(f"{where} must be an integer, got {value!r}", field=where) from None
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"{where} must be true or false, got {value!r}", field=where)
        return value
    if f.kind == "list":
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{where} must be a list of strings", field=where)
        return value
    if f.kind == "dict":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InvalidInput(f"{where} must be a mapping of strings", field=where)
        return value
    if f.kind == "choice" and value not in f.choices:
        raise InvalidInput(f"{where} must be one of {list(f.choices)}, got {value!r}", field=where)
    if f.integer_ok and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, got {value!r}", field=where)
    return value


def http_result(response: httpx.Response, ok: Callable[[httpx.Response], bool] | None = None) -> DeliveryResult:
    """Classify an HTTP answer: 2xx delivered; 408, 429 and 5xx worth retrying; other 4xx permanent."""
    code = response.status_code
    if (ok or (lambda r: r.is_success))(response):
        return DeliveryResult(True, code)
    retryable = code in (408, 425, 429) or code >= 500
    return DeliveryResult(False, code, f"HTTP {code}: {response.text[:300]}", retryable)
