"""A write answered before `kill -9` is there after restart: the WAL, block writes and flushes are crash-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from nightowl.core.clock import ManualClock
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from nightowl.core.clock import ManualClock
    from nightowl.metrics.model import SampleBatch
    from nightowl.tsdb.db import TSDB
    from nightowl.tsdb.options import TSDBOptions

    db = TSDB(__import__("pathlib").Path(sys.argv[1]), TSDBOptions(fsync="never", head_max_samples=5000,
              freeze_samples=1000), ManualClock(1_700_000_000))
    series = [(("__name__", "crash"), ("n", str(i))) for i in range(50)]
    for step in range(100_000):
        ts = np.full(50, 1_700_000_000_000 + step * 1000, np.int64)
        db.append(SampleBatch(series, np.arange(50, dtype=np.int32), ts, np.full(50, float(step))))
        print(step, flush=True)
    """
)


def test_every_acknowledged_sample_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "tsdb"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acked = -1
    for line in child.stdout:
        acked = int(line)
        if acked >= 600:  # several background flushes have happened by now
            break
    os.kill(child.pid, signal.SIGKILL)
    for line in child.stdout:  # acknowledgements already in the pipe count too
        acked = int(line)
    child.wait()
    db = TSDB(data, TSDBOptions(), ManualClock(1_700_000_000))
    try:
        found = db.select([], 0, 2**62)
        assert len(found) == 50
        for series in found:
            stamps = series.timestamps.tolist()
            assert stamps[: acked + 1] == [1_700_000_000_000 + i * 1000 for i in range(acked + 1)]
            assert series.values[: acked + 1].tolist() == [float(i) for i in range(acked + 1)]
    finally:
        db.close()
