"""From discovered target groups to scrape targets: meta labels, relabeling, defaults, the scrape URL.

Follows Prometheus: a group's labels under each target's own, then `job`, `__scheme__`,
`__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__` and `__param_<name>` unless already
set, then `relabel_configs`; after them every label starting with `__` is dropped from the series
labels, and `instance` defaults to `__address__`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from nightowl.metrics.model import Labels
from nightowl.scrape.config import GlobalConfig, ScrapeConfig, format_duration, parse_duration
from nightowl.scrape.relabel import Rule, relabel

ADDRESS = "__address__"
SCHEME = "__scheme__"
METRICS_PATH = "__metrics_path__"
SCRAPE_INTERVAL = "__scrape_interval__"
SCRAPE_TIMEOUT = "__scrape_timeout__"
PARAM_PREFIX = "__param_"


@dataclass(frozen=True)
class TargetGroup:
    """What a service discovery source yields: targets (each at least `__address__`) sharing labels."""

    targets: tuple[dict[str, str], ...]
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Target:
    """One endpoint to scrape, with the labels its series get."""

    job: str
    url: str
    labels: Labels
    discovered: dict[str, str]
    interval: float
    timeout: float
    params: dict[str, list[str]]
    source: str = ""

    @property
    def key(self) -> str:
        """Stable identity: the same job, URL and labels are the same target across rediscoveries."""
        text = self.job + "\0" + self.url + "\0" + "\0".join(f"{n}={v}" for n, v in self.labels)
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]

    def offset(self) -> float:
        """Where in each interval this target is scraped, so scrapes spread over the interval."""
        spread = int(self.key, 16) % max(1, int(self.interval * 1000))
        return spread / 1000.0

    @property
    def instance(self) -> str:
        return dict(self.labels).get("instance", "")


@dataclass(frozen=True)
class DroppedTarget:
    """A discovered target that relabeling dropped (or that had no address), kept for the targets API."""

    job: str
    discovered: dict[str, str]
    reason: str


class TargetError(ValueError):
    """A target the relabeled labels cannot describe (no address, a bad interval)."""


def _scrape_url(labels: dict[str, str], params: dict[str, list[str]]) -> str:
    query: list[tuple[str, str]] = []
    merged = {name: list(values) for name, values in params.items()}
    for name, value in labels.items():
        if name.startswith(PARAM_PREFIX):
            param = name[len(PARAM_PREFIX) :]
            merged[param] = [value, *merged.get(param, [])[1:]]
    for name, values in merged.items():
        query.extend((name, v) for v in values)
    address = labels[ADDRESS]
    url = f"{labels.get(SCHEME, 'http')}://{address}{labels.get(METRICS_PATH, '/metrics')}"
    return f"{url}?{urlencode(query)}" if query else url


def populate(
    target_labels: dict[str, str],
    group_labels: dict[str, str],
    config: ScrapeConfig,
    defaults: GlobalConfig,
    rules: tuple[Rule, ...],
    source: str = "",
) -> Target | DroppedTarget:
    """One discovered target -> a `Target`, or a `DroppedTarget` saying why it will not be scraped."""
    discovered = {**group_labels, **target_labels}
    interval = config.interval(defaults)
    timeout = config.timeout(defaults)
    base: dict[str, str] = {
        "job": config.job_name,
        SCHEME: config.scheme,
        METRICS_PATH: config.metrics_path,
        SCRAPE_INTERVAL: format_duration(interval),
        SCRAPE_TIMEOUT: format_duration(timeout),
    }
    for name, values in config.params.items():
        if values:
            base[PARAM_PREFIX + name] = values[0]
    for name, value in base.items():
        discovered.setdefault(name, value)
    labels = relabel(discovered, rules) if rules else dict(discovered)
    if labels is None:
        return DroppedTarget(config.job_name, discovered, "dropped by relabeling")
    address = labels.get(ADDRESS, "")
    if not address:
        return DroppedTarget(config.job_name, discovered, "no __address__ label after relabeling")
    if "/" in address:
        return DroppedTarget(config.job_name, discovered, f"invalid address {address!r}: host:port expected")
    try:
        interval = parse_duration(labels.get(SCRAPE_INTERVAL, "") or format_duration(interval))
        timeout = parse_duration(labels.get(SCRAPE_TIMEOUT, "") or format_duration(timeout))
    except ValueError as exc:
        return DroppedTarget(config.job_name, discovered, str(exc))
    if timeout > interval:
        return DroppedTarget(config.job_name, discovered, "scrape timeout greater than scrape interval")
    final = {name: value for name, value in labels.items() if not name.startswith("__") and value}
    final.setdefault("instance", address)
    return Target(
        job=config.job_name,
        url=_scrape_url(labels, config.params),
        labels=tuple(sorted(final.items())),
        discovered=discovered,
        interval=interval,
        timeout=timeout,
        params=config.params,
        source=source,
    )


def targets_from_groups(
    groups: list[TargetGroup], config: ScrapeConfig, defaults: GlobalConfig, rules: tuple[Rule, ...]
) -> tuple[list[Target], list[DroppedTarget]]:
    """Every target of every group, deduplicated by identity, in discovery order."""
    active: dict[str, Target] = {}
    dropped: list[DroppedTarget] = []
    for group in groups:
        for target_labels in group.targets:
            result = populate(target_labels, group.labels, config, defaults, rules, group.source)
            if isinstance(result, Target):
                active.setdefault(result.key, result)
            else:
                dropped.append(result)
    return list(active.values()), dropped


def static_groups(config: ScrapeConfig) -> list[TargetGroup]:
    return [
        TargetGroup(tuple({ADDRESS: t} for t in static.targets), dict(static.labels), f"{config.job_name}/static/{i}")
        for i, static in enumerate(config.static_configs)
    ]
