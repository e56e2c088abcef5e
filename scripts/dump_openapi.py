"""Print the app's OpenAPI document (what /openapi.json serves), for the UI's typed API client.

`cd web && npm run gen:api` runs it and turns the document into `web/src/api/schema.d.ts`;
tests/web/test_schema.py fails when the committed types no longer match the API.
"""

from __future__ import annotations

import json
import sys
import tempfile

from nightowl.app import create_app
from nightowl.config import Settings


def openapi_document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_dir:
        return create_app(Settings(data_dir=data_dir)).openapi()


if __name__ == "__main__":
    json.dump(openapi_document(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
