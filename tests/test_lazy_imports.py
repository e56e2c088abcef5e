"""The server's start-up footprint: libraries used only on some paths are imported on first use."""

from __future__ import annotations

import subprocess
import sys

LAZY = ("alembic", "mako", "psycopg", "redis", "jwt", "cryptography", "aiohttp", "apprise", "PIL")


def test_creating_the_app_leaves_path_specific_libraries_unloaded() -> None:
    code = (
        "import sys\n"
        "from nightowl.app import create_app\n"
        "from nightowl.config import Settings\n"
        "create_app(Settings(data_dir=sys.argv[1]))\n"
        f"print(' '.join(m for m in {LAZY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "/nonexistent-nightowl"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
