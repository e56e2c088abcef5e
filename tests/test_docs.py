"""Meta-tests that ratchet: what users read stays in step with the code."""

from __future__ import annotations

from pathlib import Path

from nightowl.config import settings_markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_as_generated() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    assert settings_markdown_table() in docs, "run `make docs` to regenerate docs/configuration.md"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < readme.index("## ")
