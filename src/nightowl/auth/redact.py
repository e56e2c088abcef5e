"""Secret-bearing configuration: declared per kind of object, shown masked to everyone, kept on write-back.

Each resource that stores configuration declares which of its fields carry secrets and how
(`Redactions`): a whole value (a password, a token, a request body), a URL (its password and query
values), a secret URL (everything after the host: webhook URLs carry their token in the path, which is
why Alertmanager types them `SecretURL`), or a header map (every value but a few harmless ones).
The API shows the masked form to every role, admin included: a secret is write-only. A client that
sends back what it was shown (the mask, or a URL or header map with masks in it) keeps the stored
secret, so a form can be saved unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from nightowl.core.errors import InvalidInput

MASK = "<secret>"
"""What the API shows instead of a secret: the word Alertmanager uses."""
LEGACY_MASKS = frozenset({"********", "****"})
"""Masks shown by earlier versions; sent back, they keep the stored value too."""

Rule = Literal["secret", "url", "secret_url", "headers"]
Redactions = Mapping[str, Rule]
"""Field name -> how its value carries secrets."""

PLAIN_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "cache-control", "content-language", "content-type", "user-agent"}
)
"""Header values shown as they are; every other header (Authorization, X-Api-Key, X-Whatever) is masked."""


def is_mask(value: object) -> bool:
    return isinstance(value, str) and (value == MASK or value in LEGACY_MASKS)


def mask_url(url: str) -> str:
    """The URL with its password (or a user name standing alone, often a token) and query values masked."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = parts.query
    if query:
        query = "&".join(f"{quote(name, safe='')}={MASK}" for name, _ in parse_qsl(query, keep_blank_values=True))
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def mask_secret_url(url: str) -> str:
    """Only the scheme and host stay visible: `https://hooks.example/<secret>`."""
    if "://" not in url:
        return MASK
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    rest = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    if not rest.strip("/") and host == parts.netloc:
        return url
    return f"{parts.scheme}://{host}/{MASK}"


def mask_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v if k.lower() in PLAIN_HEADERS else MASK) for k, v in headers.items()}


def redact_value(rule: Rule, value: Any) -> Any:
    """The form of `value` every API answer shows."""
    if value is None or value == "" or value == [] or value == {}:
        return value
    if rule == "url":
        return mask_url(value) if isinstance(value, str) else MASK
    if rule == "secret_url":
        return mask_secret_url(value) if isinstance(value, str) else MASK
    if rule == "headers":
        return mask_headers(value) if isinstance(value, Mapping) else MASK
    return MASK


def redact(config: Mapping[str, Any], redactions: Redactions) -> dict[str, Any]:
    """A copy of `config` with every declared secret masked."""
    return {k: (redact_value(redactions[k], v) if k in redactions else v) for k, v in config.items()}


def _unresolved(where: str) -> InvalidInput:
    return InvalidInput(
        f"{where} contains the mask {MASK} but no secret is stored for it; send the secret itself", field=where
    )


def _restore_url(new: str, current: Any, where: str) -> str:
    if MASK not in new and not any(m in new for m in LEGACY_MASKS):
        return new
    if not isinstance(current, str):
        raise _unresolved(where)
    if new == mask_url(current):
        return current
    # The client edited the URL but left masks in place: take each masked part from the stored URL.
    new_parts, old_parts = urlsplit(new), urlsplit(current)
    netloc = new_parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        old_userinfo = old_parts.netloc.rpartition("@")[0] if "@" in old_parts.netloc else None
        if colon and is_mask(password):
            if old_userinfo is None or ":" not in old_userinfo:
                raise _unresolved(where)
            netloc = f"{user}:{old_userinfo.partition(':')[2]}@{host}"
        elif not colon and is_mask(user):
            if old_userinfo is None:
                raise _unresolved(where)
            netloc = f"{old_userinfo}@{host}"
    query = new_parts.query
    if query:
        stored = dict(parse_qsl(old_parts.query, keep_blank_values=True))
        pairs = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            if is_mask(value):
                if name not in stored:
                    raise _unresolved(where)
                value = stored[name]
            pairs.append(f"{quote(name, safe='')}={quote(value, safe='')}")
        query = "&".join(pairs)
    restored = urlunsplit(new_parts._replace(netloc=netloc, query=query))
    if MASK in restored:
        raise _unresolved(where)
    return restored


def _restore_headers(new: Mapping[str, Any], current: Any, where: str) -> dict[str, Any]:
    stored = {k.lower(): v for k, v in current.items()} if isinstance(current, Mapping) else {}
    out: dict[str, Any] = {}
    for name, value in new.items():
        if is_mask(value):
            if name.lower() not in stored:
                raise _unresolved(f"{where}.{name}")
            value = stored[name.lower()]
        out[name] = value
    return out


def restore_value(rule: Rule, new: Any, current: Any, where: str) -> Any:
    """`new` with every mask replaced by the stored secret it stands for; InvalidInput when none is stored."""
    if rule == "secret" or not isinstance(new, str | Mapping):
        if is_mask(new) or (isinstance(new, list) and new and all(is_mask(v) for v in new)):
            if current in (None, "", [], {}):
                raise _unresolved(where)
            return current
        return new
    if rule == "url" and isinstance(new, str):
        return _restore_url(new, current, where)
    if rule == "secret_url" and isinstance(new, str):
        if isinstance(current, str) and new == mask_secret_url(current):
            return current
        if contains_mask(new) or is_mask(new):
            raise _unresolved(where)
        return new
    if rule == "headers" and isinstance(new, Mapping):
        return _restore_headers(new, current, where)
    if is_mask(new):
        if current in (None, "", [], {}):
            raise _unresolved(where)
        return current
    return new


def restore(
    config: Mapping[str, Any], previous: Mapping[str, Any] | None, redactions: Redactions, prefix: str = ""
) -> dict[str, Any]:
    """`config` as sent by a client, with masks replaced by the secrets in `previous` (field names get `prefix`)."""
    stored = previous or {}
    out = dict(config)
    for name, rule in redactions.items():
        if name in out and out[name] is not None:
            out[name] = restore_value(rule, out[name], stored.get(name), f"{prefix}{name}")
    return out


def contains_mask(value: object) -> bool:
    """Whether a mask is still inside `value` (to refuse storing the mask itself as a secret)."""
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, Mapping):
        return any(contains_mask(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_mask(v) for v in value)
    return False
