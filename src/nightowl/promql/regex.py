"""PromQL's label regexes: RE2 syntax, fully anchored (compiled and kept by `core.regex`)."""

from __future__ import annotations

from nightowl.core.regex import LabelRegex, RegexError, compile_regex
from nightowl.promql.errors import QueryParseError


def compile_anchored(pattern: str) -> LabelRegex:
    """A fully anchored regex, as Prometheus matches label values; bad_data when RE2 refuses it."""
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise QueryParseError(str(exc)) from None
