from __future__ import annotations

from sqlalchemy import inspect

from nightowl.config import Settings
from nightowl.db import migrate
from nightowl.db.engine import create_state_engine


def test_migrations_reach_head_and_are_idempotent(make_settings) -> None:
    settings: Settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    engine = create_state_engine(settings.state_database_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current_revisions(engine) == migrate.head_revisions(engine)
        assert "instance_meta" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = create_state_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()


def test_heads_read_from_the_files_match_alembic(make_settings) -> None:
    settings: Settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    engine = create_state_engine(settings.state_database_url)
    try:
        assert migrate.file_heads() == migrate.head_revisions(engine)
        assert not migrate.is_current(engine)
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_upgrade_in_child_migrates_in_another_process(make_settings) -> None:
    settings: Settings = make_settings()
    settings.data_dir.mkdir(parents=True)
    engine = create_state_engine(settings.state_database_url)
    try:
        migrate.upgrade_in_child(engine)
        assert migrate.current_revisions(engine) == migrate.file_heads()
        assert "instance_meta" in inspect(engine).get_table_names()
        migrate.upgrade_in_child(engine)  # current: nothing to do
    finally:
        engine.dispose()
