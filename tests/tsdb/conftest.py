"""Factories for TSDB tests: a store on a temp dir with a manual clock, and label sets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import Labels, labels_from_dict
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

T0 = 1_700_000_000_000


def lbl(name: str, **labels: str) -> Labels:
    return labels_from_dict({"__name__": name, **labels})


@pytest.fixture
def open_tsdb(tmp_path: Path, clock: ManualClock) -> Iterator[Callable[..., TSDB]]:
    opened: list[TSDB] = []

    def factory(**options: Any) -> TSDB:
        db = TSDB(tmp_path / "tsdb", TSDBOptions(**options), clock)
        opened.append(db)
        return db

    yield factory
    for db in opened:
        db.close()
