"""Service discovery by file (`file_sd_configs`) and by HTTP (`http_sd_configs`): both read the same
JSON/YAML shape, a list of `{targets: [...], labels: {...}}`.

Reading is pure (`parse_groups`); the I/O is a few small functions. A source that fails keeps its
last good groups, as Prometheus does, so a half-written file or a flapping endpoint does not drop
every target; the error is kept for the targets API.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from nightowl.scrape.targets import ADDRESS, TargetGroup

MAX_SD_BYTES = 16 * 1024 * 1024


class DiscoveryError(ValueError):
    """A discovery source answered something that is not a list of target groups."""


def parse_groups(data: Any, source: str, meta: dict[str, str]) -> list[TargetGroup]:
    """`[{targets: [host:port...], labels: {...}}]` -> TargetGroups with the source's meta labels."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise DiscoveryError(f"{source}: expected a list of target groups, got {type(data).__name__}")
    groups: list[TargetGroup] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise DiscoveryError(f"{source}: group {i} must be a mapping with 'targets' and 'labels'")
        unknown = set(entry) - {"targets", "labels"}
        if unknown:
            raise DiscoveryError(
                f"{source}: group {i} has unknown key {sorted(unknown)[0]!r}; allowed: labels, targets"
            )
        targets = entry.get("targets") or []
        labels = entry.get("labels") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise DiscoveryError(f"{source}: group {i} 'targets' must be a list of host:port strings")
        if not isinstance(labels, dict) or not all(isinstance(k, str) for k in labels):
            raise DiscoveryError(f"{source}: group {i} 'labels' must be a mapping of names to strings")
        group_labels = {**meta, **{k: str(v) for k, v in labels.items()}}
        groups.append(TargetGroup(tuple({ADDRESS: t} for t in targets), group_labels, f"{source}:{i}"))
    return groups


def read_sd_file(path: str) -> list[TargetGroup]:
    """One file_sd file, JSON (`.json`) or YAML (`.yml`, `.yaml`)."""
    with open(path, "rb") as handle:
        raw = handle.read(MAX_SD_BYTES + 1)
    if len(raw) > MAX_SD_BYTES:
        raise DiscoveryError(f"{path}: larger than {MAX_SD_BYTES} bytes")
    try:
        data = json.loads(raw) if path.endswith(".json") else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise DiscoveryError(f"{path}: cannot parse: {str(exc).splitlines()[0]}") from None
    return parse_groups(data, path, {"__meta_filepath": path})


def expand_patterns(patterns: list[str]) -> list[str]:
    """File patterns (a glob in the last path element, as Prometheus allows) -> existing files, sorted."""
    found: set[str] = set()
    for pattern in patterns:
        found.update(p for p in glob.glob(pattern) if os.path.isfile(p))
    return sorted(found)


@dataclass
class FileSource:
    """One `file_sd_configs` entry: re-read when a file's mtime changes or appears or disappears."""

    patterns: list[str]
    refresh_interval: float
    mtimes: dict[str, float] = field(default_factory=dict)
    groups: dict[str, list[TargetGroup]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    last_full_read: float = float("-inf")

    def refresh(self, now: float) -> bool:
        """Re-read what changed (everything once per refresh_interval); True when the groups changed."""
        files = expand_patterns(self.patterns)
        current: dict[str, float] = {}
        for path in files:
            try:
                current[path] = os.stat(path).st_mtime
            except OSError:
                continue
        full = now - self.last_full_read >= self.refresh_interval
        changed = False
        for path in set(self.groups) - set(current):
            del self.groups[path]
            self.errors.pop(path, None)
            changed = True
        for path, mtime in current.items():
            if not full and self.mtimes.get(path) == mtime and path in self.groups:
                continue
            try:
                groups = read_sd_file(path)
            except (OSError, DiscoveryError) as exc:
                self.errors[path] = str(exc)
                continue
            self.errors.pop(path, None)
            if groups != self.groups.get(path):
                self.groups[path] = groups
                changed = True
        self.mtimes = current
        if full:
            self.last_full_read = now
        return changed

    def all_groups(self) -> list[TargetGroup]:
        return [g for path in sorted(self.groups) for g in self.groups[path]]


@dataclass
class HTTPSource:
    """One `http_sd_configs` entry: fetched at its refresh_interval."""

    url: str
    refresh_interval: float
    groups: list[TargetGroup] = field(default_factory=list)
    error: str = ""
    next_refresh: float = float("-inf")

    async def refresh(self, client: httpx.AsyncClient, now: float, request_args: dict[str, Any]) -> bool:
        if now < self.next_refresh:
            return False
        self.next_refresh = now + self.refresh_interval
        try:
            response = await client.get(self.url, **request_args)
            if response.status_code != 200:
                raise DiscoveryError(f"{self.url}: HTTP {response.status_code}")
            if len(response.content) > MAX_SD_BYTES:
                raise DiscoveryError(f"{self.url}: answer larger than {MAX_SD_BYTES} bytes")
            try:
                data = response.json()
            except ValueError:
                raise DiscoveryError(f"{self.url}: the answer is not JSON") from None
            groups = parse_groups(data, self.url, {"__meta_url": self.url})
        except (httpx.HTTPError, DiscoveryError) as exc:
            self.error = str(exc) or type(exc).__name__
            return False
        self.error = ""
        if groups == self.groups:
            return False
        self.groups = groups
        return True
