"""The `nightowl` command: serve, init, version, check-config (and the commands later capabilities add)."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from nightowl import __version__
from nightowl.config import SAMPLE_CONFIG, Settings, load_settings
from nightowl.core.errors import ConfigError, StartupError

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
    from nightowl.core.logging import configure_logging

    settings = settings_from_cli(config, host=host, port=port, data_dir=data_dir, demo=demo)
    configure_logging(settings.log_level, settings.log_format)
    try:
        ensure_writable_dir(settings.data_dir)
        sock = bind_socket(settings.host, settings.port)
        application = create_app(settings)
        application.state.nightowl.prepare()
    except ConfigError as exc:
        raise fail(str(exc), exc.exit_code) from None
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
    typer.echo(
        f"configuration ok: port {settings.port}, data dir {settings.data_dir}, "
        f"database {'postgresql' if settings.database_url else 'sqlite'}"
    )


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
