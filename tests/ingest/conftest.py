from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def make_settings(make_settings: Any) -> Any:
    """Ingest tests backfill from 1970, so raw retention must reach that far back."""

    def factory(**overrides: Any) -> Any:
        overrides.setdefault("tsdb_retention", "100y")
        overrides.setdefault("tsdb_tier_retention", "100y")
        return make_settings(**overrides)

    return factory
