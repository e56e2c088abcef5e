"""The error every ingest adapter raises for a payload it cannot read: 400, naming where it broke."""

from __future__ import annotations

from nightowl.core.errors import NightowlError


class MalformedPayload(NightowlError):
    """The body is not valid for its protocol (bad snappy, truncated protobuf, a bad exposition line)."""

    status = 400
    title = "Malformed payload"
    type_slug = "malformed-payload"


class UnsupportedMediaType(NightowlError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


class InvalidSeries(NightowlError):
    """A series breaks a naming rule or a per-series limit; the whole request is refused."""

    status = 400
    title = "Invalid series"
    type_slug = "invalid-series"


class SamplesRejected(NightowlError):
    """Storage refused some samples (too old for retention, out of order, conflicting duplicates).

    The samples it accepted stay stored; the sender learns how many were refused and why, rather than
    a 2xx that silently lost data. 400 tells remote-write senders not to retry, as Prometheus does.
    """

    status = 400
    title = "Samples rejected"
    type_slug = "samples-rejected"
