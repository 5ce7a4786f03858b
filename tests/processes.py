"""Another process holding a library's writer lock, as a running `index` or `watch` would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = (
    "import filelock, sys, time; lock = filelock.FileLock(sys.argv[1]); lock.acquire();"
    " print('locked', flush=True); time.sleep(120)"
)


@contextmanager
def writer_lock_held_elsewhere(home: Path) -> Iterator[subprocess.Popen]:
    """Hold ``home``'s writer lock from a child process until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(Path(home) / "writer.lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def run_dropping_privileges(script: str, *args: str, cwd: Path) -> dict:
    """Run ``script`` (python -c, with ``args``), which drops to nobody when root, and return
    the JSON object its last output line holds. Skips the test where privileges cannot be
    dropped (some containers)."""
    import json
    import os

    import pytest

    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, env={**os.environ, "PYTHONPATH": str(cwd)},
    )  # fmt: skip
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot drop privileges in this container: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
