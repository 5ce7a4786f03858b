"""Reading an installed model's folder: its ``model.json`` and the files it must hold.

What a loaded model needs at runtime; writing and installing model folders is
``models/install/files.py``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop_search.errors import ModelError

MODEL_JSON = "model.json"
REIMPORT_HINT = "re-import the model (desktop-search models import ...) or remove it"


def read_model_json(model_dir: Path) -> dict[str, Any]:
    """The parsed ``model_dir/model.json``; ModelError (with the fix) if absent or malformed."""
    path = Path(model_dir) / MODEL_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"Not a model folder (no {MODEL_JSON}): {model_dir}", REIMPORT_HINT
        ) from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {path}: {exc}", REIMPORT_HINT) from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} is invalid (not a JSON object)", REIMPORT_HINT)
    return data


def require_files(model_dir: Path, model_id: str, names: Iterable[str]) -> None:
    """ModelError naming every file of ``names`` missing from ``model_dir``."""
    missing = [name for name in sorted(set(names)) if not (Path(model_dir) / name).is_file()]
    if missing:
        raise ModelError(
            f"Model {model_id!r} in {model_dir} is missing {', '.join(missing)}", REIMPORT_HINT
        )
