"""file_sd and http_sd: the group format, reload on change, keeping the last good groups on errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from nightowl.scrape.discovery import DiscoveryError, FileSource, HTTPSource, parse_groups


def test_groups_carry_targets_labels_and_meta_labels() -> None:
    groups = parse_groups([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}], "src", {"__meta_url": "u"})
    assert groups[0].targets == ({"__address__": "a:1"}, {"__address__": "b:2"})
    assert groups[0].labels == {"__meta_url": "u", "env": "prod"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"targets": []}, "expected a list"),
        ([{"targets": "a:1"}], "list of host:port"),
        ([{"targets": ["a:1"], "lables": {}}], "unknown key 'lables'"),
        (["a:1"], "must be a mapping"),
    ],
)
def test_malformed_groups_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_groups(data, "src", {})


def test_file_sd_reads_json_and_yaml_and_reloads_on_change(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"targets": ["a:1"]}]))
    (tmp_path / "b.yml").write_text("- targets: ['b:2']\n  labels: {team: core}\n")
    source = FileSource([str(tmp_path / "*.json"), str(tmp_path / "*.yml")], refresh_interval=300)
    assert source.refresh(now=0) is True
    assert [g.targets[0]["__address__"] for g in source.all_groups()] == ["a:1", "b:2"]
    assert source.all_groups()[1].labels["__meta_filepath"].endswith("b.yml")
    assert source.refresh(now=1) is False

    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"targets": ["a:1", "c:3"]}]))
    os.utime(path, (1, 1))
    assert source.refresh(now=2) is True
    assert len(source.all_groups()[0].targets) == 2

    path.unlink()
    assert source.refresh(now=3) is True
    assert [g.targets[0]["__address__"] for g in source.all_groups()] == ["b:2"]


def test_file_sd_keeps_last_good_groups_when_a_file_breaks(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"targets": ["a:1"]}]))
    source = FileSource([str(path)], refresh_interval=300)
    source.refresh(now=0)
    path.write_text("{not json")
    os.utime(path, (5, 5))
    assert source.refresh(now=1) is False
    assert source.all_groups()[0].targets == ({"__address__": "a:1"},)
    assert "cannot parse" in source.errors[str(path)]


async def test_http_sd_refreshes_at_its_interval_and_keeps_groups_on_failure() -> None:
    answers = [httpx.Response(200, json=[{"targets": ["a:1"], "labels": {"x": "1"}}]), httpx.Response(500)]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)

    source = HTTPSource("http://sd.test/targets", refresh_interval=60)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await source.refresh(client, 0, {}) is True
        assert source.groups[0].labels == {"__meta_url": "http://sd.test/targets", "x": "1"}
        assert await source.refresh(client, 30, {}) is False
        assert len(requests) == 1
        assert await source.refresh(client, 60, {}) is False
        assert source.error == "http://sd.test/targets: HTTP 500"
        assert source.groups[0].targets == ({"__address__": "a:1"},)
