"""The examples in README.md and docs/*.md run, against a live `nightowl serve`, so one that stops working fails.

Every ```sh, ```bash and ```yaml block carries a marker on the line before it saying what it is:

    <!-- example: run -->                 shell commands, run with bash (curl fails on an HTTP error status)
    <!-- example: otlp -->                OTEL_* variables: an OpenTelemetry SDK program exports with them
    <!-- example: prometheus -->          a prometheus.yml snippet: `promtool check config`, then a real
                                          Prometheus runs it and its samples or alerts must reach Nightowl
    <!-- example: config -->              a Nightowl config file (or a part of one): `nightowl check-config`
    <!-- example: skip: <reason> -->      not run, for the reason given

The examples are written as a user runs them, against `localhost:3017`; before running, the addresses
(`localhost:3017`, `nightowl:3017`, `nightowl.example.com`...) point at the test's server, `.venv/bin/nightowl`
is the `nightowl` under test, and files under `/etc/prometheus/` are in a temporary directory. Credentials
are never supplied by the test: an example creates the API key it needs, with the scope it needs
(`nightowl keys create ... --scopes ingest`), or a prometheus.yml snippet reads it from
`/etc/prometheus/nightowl.key`, where the test puts a key with the `ingest` scope only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHECKED_LANGUAGES = ("sh", "bash", "yaml", "yml")
KINDS = ("run", "otlp", "prometheus", "config", "skip")
FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```", re.S | re.M)
MARKER = re.compile(r"<!--\s*example:\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
DOCS_ALERT = "DocsExampleAlert"

pytestmark = [pytest.mark.serial]


@dataclass(frozen=True)
class Example:
    document: str
    line: int
    language: str
    kind: str
    reason: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def fenced_blocks(path: Path) -> Iterator[Example]:
    source = path.read_text(encoding="utf-8")
    for match in FENCE.finditer(source):
        language, text = match.group(2), textwrap.dedent(match.group(3))
        line = source.count("\n", 0, match.start()) + 1
        before = source[: match.start()].rstrip().rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(before.strip())
        kind, reason = (marker.group(1), marker.group(2) or "") if marker else ("", "")
        yield Example(str(path.relative_to(ROOT)), line, language, kind, reason, text)


def all_examples() -> list[Example]:
    return [e for path in DOCUMENTS for e in fenced_blocks(path) if e.language in CHECKED_LANGUAGES]


def examples_of(kind: str) -> list[Any]:
    return [pytest.param(e, id=e.id) for e in all_examples() if e.kind == kind]


def test_every_example_says_how_it_is_checked() -> None:
    problems = []
    for example in all_examples():
        if example.kind not in KINDS:
            problems.append(f"{example.id}: no `<!-- example: {'|'.join(KINDS)} -->` line before the block")
        elif example.kind == "skip" and not example.reason:
            problems.append(f"{example.id}: `<!-- example: skip: <reason> -->` needs a reason")
        elif example.kind in ("run", "otlp") and example.language not in ("sh", "bash"):
            problems.append(f"{example.id}: a `{example.kind}` example must be a sh or bash block")
        elif example.kind in ("prometheus", "config") and example.language not in ("yaml", "yml"):
            problems.append(f"{example.id}: a `{example.kind}` example must be a yaml block")
    assert not problems, "\n".join(problems)


def test_there_are_examples_of_every_kind() -> None:
    kinds = {e.kind for e in all_examples()}
    assert {"run", "otlp", "prometheus", "config"} <= kinds


# --- the live server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    port: int
    data_dir: Path
    env: dict[str, str]
    admin_key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin_key}"}, timeout=30)

    def query(self, promql: str) -> list[dict[str, Any]]:
        with self.client() as client:
            answer = client.get("/prometheus/api/v1/query", params={"query": promql})
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def key(self, *scopes: str) -> str:
        created = subprocess.run(
            ["nightowl", "keys", "create", "--name", f"docs-{time.monotonic_ns()}", "--scopes", ",".join(scopes)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return created.stdout.strip().splitlines()[-1]

    def localize(self, text: str, workdir: Path) -> str:
        """The example as written for a user, pointed at this server, this `nightowl` and a scratch directory."""
        for address in ("https://nightowl.example.com", "http://nightowl.example.com"):
            text = text.replace(address + ":3017", self.url).replace(address, self.url)
        for address in ("localhost:3017", "127.0.0.1:3017", "nightowl.example.com:3017", "nightowl:3017"):
            text = text.replace(address, f"127.0.0.1:{self.port}")
        return text.replace(".venv/bin/nightowl", "nightowl").replace("/etc/prometheus/", f"{workdir}/")


def _command_dir(tmp: Path) -> Path:
    """A directory for PATH with `nightowl` running the code under test (whatever venv runs pytest)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "nightowl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nightowl.cli "$@"\n')
    shim.chmod(0o755)
    return bin_dir


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("docs-live")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIGHTOWL_", "OTEL_"))}
    env.update(
        PATH=f"{_command_dir(tmp)}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]),
        NIGHTOWL_DATA_DIR=str(tmp / "data"),
        NIGHTOWL_DEMO_SEED="7",
    )
    server = subprocess.Popen(
        ["nightowl", "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "server.log").open("w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nightowl serve did not start:\n{(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)
        live = Live(port, tmp / "data", env, "")
        live.admin_key = live.key("admin")
        yield live
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


CURL_FAILS_ON_HTTP_ERRORS = 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'


def run_bash(live: Live, script: str, workdir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    prologue = "set -euo pipefail\n" + CURL_FAILS_ON_HTTP_ERRORS + "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
    return subprocess.run(
        ["bash", "-c", prologue + script],
        env=live.env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- the examples ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", examples_of("run"))
def test_shell_example_runs(example: Example, live: Live, tmp_path: Path) -> None:
    done = run_bash(live, live.localize(example.text, tmp_path), tmp_path)
    output = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{example.id} failed ({done.returncode}):\n{output}"


OTLP_PROGRAM = """
from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=60_000)
provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "docs-example"}))
counter = provider.get_meter("docs").create_counter("docs_example_requests", description="Requests.")
counter.add(3, {"route": "/checkout"})
provider.force_flush()
provider.shutdown()
"""


@pytest.mark.parametrize("example", examples_of("otlp"))
def test_otlp_environment_example_exports_metrics(example: Example, live: Live, tmp_path: Path) -> None:
    """An OpenTelemetry SDK program configured by nothing but the example's variables gets its metrics in."""
    (tmp_path / "app.py").write_text(OTLP_PROGRAM)
    script = live.localize(example.text, tmp_path) + f'\n"{sys.executable}" app.py\n'
    done = run_bash(live, script, tmp_path)
    assert done.returncode == 0, f"{example.id}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "Failed to export" not in done.stderr, done.stderr[-3000:]
    wait_until(lambda: live.query('docs_example_requests_total{route="/checkout"}'), "the OTLP counter")


def _prometheus_config(example: Example, live: Live, workdir: Path, scrape_port: int) -> dict[str, Any]:
    """The snippet, completed with what makes Prometheus produce something to send, quickly."""
    snippet = yaml.safe_load(live.localize(example.text, workdir)) or {}
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "docs-example", "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}]}],
    }
    if "alerting" in snippet:
        rules = workdir / "rules.yml"
        rules.write_text(
            f"groups:\n- name: docs\n  rules:\n  - alert: {DOCS_ALERT}\n    expr: vector(1)\n"
            "    labels: {severity: info}\n"
        )
        config["rule_files"] = [str(rules)]
    config.update(snippet)
    return config


@pytest.mark.parametrize("example", examples_of("prometheus"))
@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="requires component: prometheus: apt-get install prometheus")
def test_prometheus_snippet_works_in_a_real_prometheus(example: Example, live: Live, tmp_path: Path) -> None:
    (tmp_path / "nightowl.key").write_text(live.key("ingest") + "\n")  # what the docs tell a user to create
    port = free_port()
    config = _prometheus_config(example, live, tmp_path, port)
    assert "remote_write" in config or "alerting" in config, f"{example.id}: neither remote_write nor alerting"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    checked = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, f"{example.id}: promtool check config:\n{checked.stdout}{checked.stderr}"
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={path}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--rules.alert.resend-delay=1s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        if "remote_write" in config:
            wait_until(lambda: live.query('up{job="docs-example"}'), "samples written by Prometheus")
        if "alerting" in config:

            def alert_arrived() -> bool:
                with live.client() as client:
                    alerts = client.get("/api/v2/alerts").json()
                return any(a["labels"].get("alertname") == DOCS_ALERT for a in alerts)

            wait_until(alert_arrived, "the alert sent by Prometheus")
    except AssertionError as exc:
        raise AssertionError(f"{example.id}: {exc}\n{(tmp_path / 'prometheus.log').read_text()[-3000:]}") from None
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("example", examples_of("config"))
def test_config_example_is_accepted_by_check_config(example: Example, live: Live, tmp_path: Path) -> None:
    config = tmp_path / "nightowl.yml"
    config.write_text(textwrap.dedent(live.localize(example.text, tmp_path)))
    env = {k: v for k, v in live.env.items() if k != "NIGHTOWL_DATA_DIR"}
    checked = subprocess.run(
        ["nightowl", "check-config", "--config", str(config)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, f"{example.id}:\n{checked.stdout}{checked.stderr}"
