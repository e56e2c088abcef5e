from __future__ import annotations

import numpy as np

from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import STALE_NAN, Matcher, SampleBatch, is_stale, labels_from_dict


def up(job: str, instance: str) -> tuple[tuple[str, str], ...]:
    return labels_from_dict({"__name__": "up", "job": job, "instance": instance})


def test_select_by_every_matcher_kind_and_window() -> None:
    storage = MemoryStorage()
    storage.append(
        SampleBatch.from_rows(
            [(up("api", "a:1"), 1000, 1.0), (up("api", "b:1"), 2000, 0.0), (up("web", "c:1"), 3000, STALE_NAN)]
        )
    )
    assert [s.labels for s in storage.select([Matcher("job", "=", "api")], 0, 5000)] == [
        up("api", "a:1"),
        up("api", "b:1"),
    ]
    assert len(storage.select([Matcher("job", "!=", "api")], 0, 5000)) == 1
    assert len(storage.select([Matcher("instance", "=~", "a.*|c.*")], 0, 5000)) == 2
    assert len(storage.select([Matcher("instance", "!~", "a.*")], 1500, 2500)) == 1
    assert is_stale(storage.select([Matcher("job", "=", "web")], 0, 5000)[0].values).tolist() == [True]
    assert not is_stale(np.array([float("nan")])).any()


def test_regex_matchers_are_anchored_and_missing_labels_match_empty() -> None:
    assert not Matcher("job", "=~", "ap").matches("api")
    assert Matcher("team", "=", "").matches("")
    assert str(Matcher("path", "!~", 'a"b')) == 'path!~"a\\"b"'


def test_delete_series_and_label_listing() -> None:
    storage = MemoryStorage()
    storage.append(SampleBatch.from_rows([(up("api", "a:1"), 1000, 1.0), (up("web", "c:1"), 1000, 1.0)]))
    assert storage.label_values("job", [], 0, 2000) == ["api", "web"]
    assert storage.delete_series([Matcher("job", "=", "api")]) == 1
    assert storage.label_values("job", [], 0, 2000) == ["web"]
    assert storage.label_names([], 0, 2000) == ["__name__", "instance", "job"]
