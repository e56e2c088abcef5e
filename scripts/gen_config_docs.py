"""Regenerate the settings table in docs/configuration.md from nightowl.config.Settings (`make docs`)."""

from __future__ import annotations

import re
from pathlib import Path

from nightowl.config import settings_markdown_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"


def main() -> None:
    text = DOC.read_text()
    table = f"{BEGIN}\n{settings_markdown_table()}\n{END}"
    DOC.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: table, text, flags=re.S))


if __name__ == "__main__":
    main()
