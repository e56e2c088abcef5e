"""OTLP metric, unit and attribute names -> Prometheus names, as Prometheus's OTLP receiver translates them.

The default strategy `UnderscoreEscapingWithSuffixes` escapes every character outside the classic
charset to `_` and appends the unit (`_seconds`, `_bytes`, `_per_second`) and `_total` for monotonic
counters (`_ratio` for gauges of unit "1"). The other strategies keep UTF-8 names and/or skip suffixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TranslationStrategy = Literal[
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
]
MetricKind = Literal["counter", "gauge", "histogram", "summary"]

UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "TiBy": "tibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "TBy": "terabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}

_NOT_METRIC_CHAR = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9]+")
_UNDERSCORES = re.compile(r"__+")


@dataclass(frozen=True)
class Namer:
    strategy: TranslationStrategy = "UnderscoreEscapingWithSuffixes"

    @property
    def escape(self) -> bool:
        return self.strategy.startswith("UnderscoreEscaping")

    @property
    def suffixes(self) -> bool:
        return self.strategy in ("UnderscoreEscapingWithSuffixes", "NoUTF8EscapingWithSuffixes")

    def metric(self, name: str, unit: str, kind: MetricKind, monotonic: bool = False) -> str:
        """The Prometheus name of an OTLP metric ("" when nothing usable is left)."""
        counter = kind == "counter" and monotonic
        if not self.escape:
            return _utf8_name(name, unit, kind, counter) if self.suffixes else name
        if not self.suffixes:
            joined = "_".join(t for t in re.split(r"[^a-zA-Z0-9:_]+", name) if t)
            joined = f"_{joined}" if joined[:1].isdigit() else joined
            return joined if joined.strip("_") else ""
        tokens = [t for t in _NOT_METRIC_CHAR.split(name) if t]
        main, per = unit_suffixes(unit)
        main, per = _clean_unit(main), _clean_unit(per)
        if main in tokens:
            main = ""
        if per == "per_":
            per = ""
        else:
            per = per.removesuffix("_")
            if per in tokens:
                per = ""
        if per:
            main = main.removesuffix("_")
        tokens += [t for t in (main, per) if t]
        if counter:
            tokens = [t for t in tokens if t != "total"] + ["total"]
        if unit == "1" and kind == "gauge":
            tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
        joined = "_".join(tokens)
        joined = f"_{joined}" if joined[:1].isdigit() else joined
        return joined if joined.strip("_") else ""

    def label(self, name: str) -> str:
        """The Prometheus name of an attribute key ("" when it cannot be one)."""
        if not name:
            return ""
        if not self.escape:
            return name if name.strip("_") else ""
        reserved = len(name) >= 4 and name.startswith("__") and name.endswith("__")
        core = name[2:-2] if reserved else name
        cleaned = _NOT_LABEL_CHARS.sub("_", core)
        cleaned = f"__{cleaned}__" if reserved else cleaned
        if cleaned[:1].isdigit():
            cleaned = f"key_{cleaned}"
        return cleaned if cleaned.strip("_") else ""

    def unit(self, unit: str) -> str:
        """The unit as metadata carries it (`seconds`, `bytes_per_second`)."""
        main, per = unit_suffixes(unit)
        if self.escape:
            main, per = _clean_unit(main), _clean_unit(per)
        text = f"{main}_{per}" if main and per else main or per
        return text.strip("_") if text.startswith("_") or text.endswith("_") else text


def unit_suffixes(unit: str) -> tuple[str, str]:
    """("seconds", "per_second") for "s/s": the main unit and the "per" unit, UCUM braces dropped."""
    main_part, _, per_part = unit.partition("/")
    main_part = main_part.strip()
    main = UNITS.get(main_part, main_part) if main_part and not any(c in main_part for c in "{}") else ""
    per = ""
    per_part = per_part.strip()
    if per_part and not any(c in per_part for c in "{}"):
        per = "per_" + PER_UNITS.get(per_part, per_part)
    return main, per


def _clean_unit(unit: str) -> str:
    return _UNDERSCORES.sub("_", re.sub(r"[^a-zA-Z0-9:]", "_", unit)).removeprefix("_")


def _trim(name: str, suffix: str) -> str:
    return name[: -(len(suffix) + 1)] if name.endswith(suffix) and len(name) > len(suffix) + 1 else name


def _utf8_name(name: str, unit: str, kind: MetricKind, counter: bool) -> str:
    ratio = unit == "1" and kind == "gauge"
    if ratio:
        name = _trim(name, "ratio")
    if counter:
        name = _trim(name, "total")
    main, per = unit_suffixes(unit)
    if per:
        name = _trim(name, per)
    if main and not name.endswith(main):
        name = f"{name}_{main}"
    if per:
        name = f"{name}_{per}"
    if counter:
        name += "_total"
    if ratio:
        name += "_ratio"
    return name
