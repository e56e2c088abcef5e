"""Document the error answers every operation can give, so clients (and schemathesis) know their shape.

FastAPI documents only 422 with `application/json`; Nightowl answers problem JSON for every refusal
(authentication, roles, limits, validation), and the Prometheus and Alertmanager compatible paths
answer errors in their own JSON shapes.
"""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `field` names the offending input, limits name their setting.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}

ERROR_STATUSES: dict[str, str] = {
    "400": "Malformed input (the problem names the field)",
    "401": "Missing or invalid credentials",
    "403": "The credential's role or scope does not allow this",
    "404": "No such resource",
    "405": "Method not allowed",
    "409": "Conflicts with the current state",
    "413": "A size limit was exceeded (the problem names the setting)",
    "415": "Unsupported content type or encoding",
    "422": "Invalid input (the problem names the field)",
    "429": "Rate limited, or too many concurrent requests (Retry-After says when to retry)",
    "503": "Not ready, overloaded or a query timed out",
}


def _error_content() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    # Prometheus- and Alertmanager-compatible paths answer errors as application/json in their own shapes;
    # /federate and the graph page answer a bad selector as text, as Prometheus does.
    return {
        "application/problem+json": {"schema": ref},
        "application/json": {"schema": {}},
        "text/plain": {"schema": {"type": "string"}},
    }


def document_error_answers(schema: dict[str, Any]) -> None:
    """Add the common error answers to every operation of an OpenAPI document, in place."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in ERROR_STATUSES.items():
                answer = responses.setdefault(status, {"description": description})
                answer["content"] = _error_content()
