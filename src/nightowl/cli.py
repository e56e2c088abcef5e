"""The `nightowl` command: serve, init, version, check-config, users, keys (and what later capabilities add)."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nightowl import __version__
from nightowl.config import SAMPLE_CONFIG, Settings, load_settings
from nightowl.core.errors import ConfigError, NightowlError, StartupError

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    name="nightowl",
    help="Nightowl: metrics, PromQL, health checks, alerts, dashboards and reports in one server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (see `nightowl init`). Env vars NIGHTOWL_* override it."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory for the state database and TSDB [default: ./data]"),
]


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"nightowl: error: {message}", err=True)
    return typer.Exit(code)


def settings_from_cli(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        raise fail(str(exc), exc.exit_code) from None


def ensure_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise StartupError(f"data dir {path} is not writable: {exc.strerror or exc}") from None


def make_private(data_dir: Path) -> None:
    """Files this process creates are its user's only (0600, directories 0700): the state database holds
    password hashes and the data dir the secret key. An existing data dir and state database are tightened."""
    os.umask(0o077)
    try:
        if data_dir.is_dir():
            data_dir.chmod(0o700)
            for name in ("nightowl.db", "nightowl.db-wal", "nightowl.db-shm", "secret.key"):
                if (data_dir / name).is_file():
                    (data_dir / name).chmod(0o600)
    except OSError as exc:
        raise StartupError(f"data dir {data_dir}: cannot restrict its permissions: {exc.strerror or exc}") from None


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == 98 else (exc.strerror or str(exc))
        raise StartupError(f"cannot listen on {host}:{port}: {reason} (choose another with --port)") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port to listen on [default: 3017]")] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
    demo: Annotated[
        bool | None,
        typer.Option("--demo/--no-demo", help="Start the simulated demo platform and scrape it [default: off]"),
    ] = None,
) -> None:
    """Run the server: API, UI, ingestion, checks, alerting and the scheduler, in one process."""
    import uvicorn

    from nightowl.app import create_app
    from nightowl.core import process
    from nightowl.core.logging import configure_logging
    from nightowl.db import migrate
    from nightowl.db.engine import check_connection

    settings = settings_from_cli(config, host=host, port=port, data_dir=data_dir, demo=demo)
    configure_logging(settings.log_level, settings.log_format)
    process.tune()
    try:
        ensure_writable_dir(settings.data_dir)
        make_private(settings.data_dir)
        sock = bind_socket(settings.host, settings.port)
        application = create_app(settings)
        nightowl = application.state.nightowl
        check_connection(nightowl.engine)
        migrate.upgrade_in_child(nightowl.engine)  # Alembic never loads in the server (docs/performance.md)
        nightowl.prepare()
    except ConfigError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except NightowlError as exc:  # a configured check, service or channel that does not validate
        raise fail(exc.detail, 2) from None
    typer.echo(f"nightowl {__version__} serving on http://{settings.host}:{settings.port}", err=True)
    server = uvicorn.Server(
        uvicorn.Config(application, log_config=None, access_log=False, proxy_headers=True, lifespan="on")
    )
    server.run(sockets=[sock])


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config file")] = Path("nightowl.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented config file to start from."""
    if path.exists() and not force:
        raise fail(f"{path} already exists (use --force to overwrite)", 1)
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    typer.echo(f"wrote {path}; start with: nightowl serve --config {path}")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"nightowl {__version__}")


@app.command("check-config")
def check_config(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Validate the configuration (file + environment) and exit 0 if it is usable, 2 if not."""
    settings = settings_from_cli(config, data_dir=data_dir)
    if settings.alertmanager_config is not None:
        from nightowl.routing.config import load_alertmanager_config

        try:
            routing = load_alertmanager_config(settings.alertmanager_config)
        except ConfigError as exc:
            raise fail(str(exc), exc.exit_code) from None
        for note in routing.unsupported:
            typer.echo(f"alertmanager_config: {note}", err=True)
    if settings.rule_files:
        from nightowl.alerting.rules import load_rule_files

        try:
            load_rule_files(settings.rule_files)
        except (NightowlError, OSError) as exc:
            raise fail(f"rule_files: {getattr(exc, 'detail', exc)}", 2) from None
    typer.echo(
        f"configuration ok: port {settings.port}, data dir {settings.data_dir}, "
        f"database {'postgresql' if settings.database_url else 'sqlite'}"
    )


users_app = typer.Typer(help="Manage users (works while the server runs).", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys (works while the server runs).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")


def state_engine(config: Path | None, data_dir: Path | None) -> Engine:
    """The state database of the configured instance, migrated, for commands that work beside the server."""
    from nightowl.db import migrate
    from nightowl.db.engine import check_connection, create_state_engine

    settings = settings_from_cli(config, data_dir=data_dir)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        make_private(settings.data_dir)
        engine = create_state_engine(settings.state_database_url, 1)
        check_connection(engine)
        migrate.upgrade(engine)
    except ConfigError as exc:
        raise fail(str(exc), exc.exit_code) from None
    return engine


@users_app.command("create-admin")
def users_create_admin(
    username: Annotated[str, typer.Option("--username", help="Name of the new admin")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts)")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an admin user. The password is prompted for (or read from stdin), never taken as a flag."""
    from nightowl.auth import users
    from nightowl.core.clock import SystemClock
    from nightowl.core.errors import NightowlError

    password = read_password(password_stdin)
    engine = state_engine(config, data_dir)
    try:
        user = users.create_user(engine, SystemClock(), username=username, password=password, role="admin", actor="cli")
    except NightowlError as exc:
        raise fail(exc.detail, 1) from None
    finally:
        engine.dispose()
    typer.echo(f"created admin user {user.username} (id {user.id})")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Option("--username", help="Whose password to set")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts)")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set a user's password (e.g. a locked-out admin's) and end their sessions."""
    from nightowl.auth import users
    from nightowl.core.clock import SystemClock
    from nightowl.core.errors import NightowlError

    password = read_password(password_stdin)
    engine = state_engine(config, data_dir)
    try:
        user = users.find_user(engine, username)
        users.set_password(engine, SystemClock(), user.id, password, actor="cli")
    except NightowlError as exc:
        raise fail(exc.detail, 1) from None
    finally:
        engine.dispose()
    typer.echo(f"password of {user.username} changed; their sessions ended")


@users_app.command("list")
def users_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """List users with their role and state."""
    from nightowl.auth import users

    engine = state_engine(config, data_dir)
    try:
        for user in users.list_users(engine):
            typer.echo(f"{user.id}  {user.username}  {user.role}{'  disabled' if user.disabled else ''}")
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. prometheus-eu")],
    scopes: Annotated[str, typer.Option("--scopes", help="Comma-separated: read, write, ingest, admin")],
    expires_at: Annotated[
        datetime | None, typer.Option("--expires-at", help="ISO 8601 time after which the key stops working")
    ] = None,
    rate_limit: Annotated[int | None, typer.Option("--rate-limit", help="Requests per hour for this key")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an API key and print it alone on the last line. It is shown only this once."""
    from nightowl.auth import keys
    from nightowl.core.clock import SystemClock
    from nightowl.core.errors import NightowlError

    expires = None
    if expires_at is not None:
        expires = (expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)).timestamp()
    engine = state_engine(config, data_dir)
    try:
        key, secret = keys.create_key(
            engine,
            SystemClock(),
            name=name,
            scopes=scopes.split(","),
            actor="cli",
            expires_at=expires,
            rate_limit=rate_limit,
        )
    except NightowlError as exc:
        raise fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}", 1) from None
    finally:
        engine.dispose()
    typer.echo(f"created API key {key.id} ({key.name}, scopes {','.join(key.scopes)}); it is shown only now:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """List API keys: id, prefix, name, scopes, state. Never the keys."""
    from nightowl.auth import keys
    from nightowl.core.clock import SystemClock

    engine = state_engine(config, data_dir)
    now = SystemClock().now()
    try:
        for key in keys.list_keys(engine):
            typer.echo(f"{key.id}  {key.prefix}...  {key.name}  {','.join(key.scopes)}  {key.state(now)}")
    finally:
        engine.dispose()


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Id of the key (see `nightowl keys list`)")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke an API key; it stops working at once, also on a running server."""
    from nightowl.auth import keys
    from nightowl.core.clock import SystemClock
    from nightowl.core.errors import NightowlError

    engine = state_engine(config, data_dir)
    try:
        key = keys.revoke_key(engine, SystemClock(), key_id, actor="cli")
    except NightowlError as exc:
        raise fail(exc.detail, 1) from None
    finally:
        engine.dispose()
    typer.echo(f"revoked API key {key.id} ({key.name})")


rules_app = typer.Typer(help="Check and unit-test Prometheus rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rule files to check")]) -> None:
    """Parse rule files as the server would (PromQL, durations, templates); exit 1 on the first problem."""
    from nightowl.alerting.rules import parse_rule_file
    from nightowl.core.errors import NightowlError

    failed = False
    for path in files:
        try:
            groups = parse_rule_file(path.read_text(encoding="utf-8"), str(path))
        except (NightowlError, OSError) as exc:
            typer.echo(f"FAILED: {getattr(exc, 'detail', exc)}", err=True)
            failed = True
            continue
        typer.echo(f"Checking {path}\n  SUCCESS: {sum(len(g.rules) for g in groups)} rules found")
    if failed:
        raise typer.Exit(1)


@rules_app.command("test")
def rules_test(files: Annotated[list[Path], typer.Argument(help="Test files (promtool test rules format)")]) -> None:
    """Run rule unit tests; exit 1 when any test fails."""
    from nightowl.alerting.unittest import run_test_file
    from nightowl.core.errors import NightowlError

    failed = False
    for path in files:
        typer.echo(f"Unit Testing: {path}")
        try:
            outcomes = run_test_file(path)
        except (NightowlError, OSError) as exc:
            typer.echo(f"  FAILED: {getattr(exc, 'detail', exc)}", err=True)
            failed = True
            continue
        for outcome in outcomes:
            if outcome.failures:
                failed = True
                typer.echo(f"  FAILED: {outcome.name}")
                for failure in outcome.failures:
                    typer.echo(f"    {failure}")
        if not any(o.failures for o in outcomes):
            typer.echo("  SUCCESS")
    if failed:
        raise typer.Exit(1)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
