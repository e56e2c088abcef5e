"""The small JSON-path subset HTTP assertions need: `$.a.b`, `$.items[0].name`, `$["odd key"]`.

Filters and wildcards are left out on purpose: an assertion names one value and compares it.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[(?:"([^"]*)"|'([^']*)')\]""")

PathStep = str | int


def parse_json_path(path: str) -> tuple[PathStep, ...]:
    """Parse into keys (str) and list indexes (int); raise ValueError saying what is wrong."""
    if not path.startswith("$"):
        raise ValueError(f"json path {path!r} must start with '$'")
    steps: list[PathStep] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise ValueError(f'json path {path!r} is invalid at position {pos}: use $.key, [index] or ["key"]')
        name, index, quoted, single = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else (quoted if quoted is not None else single))
        pos = match.end()
    return tuple(steps)


def lookup(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of `path` in a decoded JSON document."""
    value: Any = document
    for step in parse_json_path(path):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return False, None
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return False, None
            value = value[step]
    return True, value


def values_equal(actual: Any, expected: str | int | float | bool) -> bool:
    """Compare as JSON would; a string expectation also matches the text form of a number or bool."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if isinstance(expected, str):
            return str(actual).lower() == expected.lower()
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    if isinstance(expected, str):
        return (actual if isinstance(actual, str) else str(actual)) == expected
    return bool(actual == expected)
