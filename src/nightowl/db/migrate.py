"""Apply Alembic migrations on start, programmatically (no alembic.ini needed at run time).

Alembic (with Mako and SQLAlchemy's DDL compilers) costs a server ~10 MiB that it would keep for its
whole life, so it is imported only when the schema is behind: `is_current` compares the database's
`alembic_version` rows with the heads read from the migration files' source (stdlib `ast`), and
`upgrade_in_child` runs the upgrade itself in a short-lived process.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from nightowl.core.errors import StartupError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
URL_ENV = "NIGHTOWL_MIGRATE_DATABASE_URL"
"""How `upgrade_in_child` hands the database URL (which may hold a password) to the child: not argv."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision`; safe to call on every start and from several processes.

    Each capability's migrations form their own branch off the base revision, so "heads" (plural).
    """
    if revision == "heads" and is_current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def upgrade_in_child(engine: Engine) -> None:
    """`upgrade(engine)` in a child process, so the caller never loads Alembic; a no-op when current."""
    if is_current(engine):
        return
    env = {**os.environ, URL_ENV: engine.url.render_as_string(hide_password=False)}
    done = subprocess.run(
        [sys.executable, "-m", "nightowl.db.migrate"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StartupError(f"database migration failed: {last}")


def current_revisions(engine: Engine) -> set[str]:
    """The revisions recorded in the database (empty when it was never migrated)."""
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:
        return set()


def file_heads(directory: Path = MIGRATIONS_DIR / "versions") -> set[str]:
    """Head revisions of the migration files, from their `revision` / `down_revision` assignments."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in directory.glob("*.py"):
        found: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if node.value is not None and {"revision", "down_revision"} & set(names):
                    found[names[0]] = ast.literal_eval(node.value)
        if isinstance(found.get("revision"), str):
            revisions.add(str(found["revision"]))
            down = found.get("down_revision")
            if isinstance(down, str):
                parents.add(down)
            elif isinstance(down, tuple | list):
                parents.update(d for d in down if isinstance(d, str))
    return revisions - parents


def is_current(engine: Engine) -> bool:
    return current_revisions(engine) == file_heads()


def head_revisions(engine: Engine) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def _main() -> None:
    from nightowl.db.engine import create_state_engine

    engine = create_state_engine(os.environ[URL_ENV], 1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    _main()
