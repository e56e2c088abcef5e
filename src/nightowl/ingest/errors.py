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


class PartialWrite(NightowlError):
    """The storage refused some samples (out of order, too old...) and stored the rest."""

    status = 400
    title = "Partially written"
    type_slug = "partial-write"
