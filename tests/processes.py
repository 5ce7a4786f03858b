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
