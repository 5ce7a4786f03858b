"""Makes this Python behave as if torch and its friends were not installed (put this folder on
PYTHONPATH; Python imports ``sitecustomize`` at start-up).

Importing torch, torchvision, transformers, open_clip or sentence_transformers (or a submodule)
raises ModuleNotFoundError, as in a venv without them. Every attempt is also appended to the
file named by ``DESKTOP_SEARCH_BLOCKED_IMPORTS`` with the code that asked for it, so a test can
tell "never imported" from "imported, failed and silently handled".
Used by tests/test_no_torch.py and scripts/check-user-install.
"""

from __future__ import annotations

import os
import sys
import traceback

BLOCKED = frozenset({"torch", "torchvision", "transformers", "open_clip", "sentence_transformers"})
LOG_VARIABLE = "DESKTOP_SEARCH_BLOCKED_IMPORTS"


class _NotInstalled:
    """A meta path finder ahead of the real ones: blocked names are "not installed"."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):  # noqa: ANN001, ANN205 - importlib's protocol
        if fullname.partition(".")[0] not in BLOCKED:
            return None
        log = os.environ.get(LOG_VARIABLE)
        if log:
            frames = [f for f in traceback.extract_stack() if "importlib" not in f.filename]
            caller = frames[-2] if len(frames) > 1 else frames[-1]
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{fullname}\t{caller.filename}:{caller.lineno}\t{' '.join(sys.argv)}\n")
        raise ModuleNotFoundError(f"No module named {fullname!r} (blocked)", name=fullname)


sys.meta_path.insert(0, _NotInstalled())
