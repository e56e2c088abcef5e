"""`make bench`: the storage benchmark on a reduced tsbench workload (see bench/tsdb_ingest.py for options)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    args = sys.argv[1:] or ["--series", "2000", "--hours", "1"]
    raise SystemExit(subprocess.call([sys.executable, str(HERE / "tsdb_ingest.py"), *args]))
