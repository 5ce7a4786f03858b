"""The one onnxruntime session factory: every model in the app is loaded through here."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort

from desktop_search.errors import ModelError

log = logging.getLogger(__name__)

# Execution providers we use, most preferred first. CPU only for now: the fidelity of the int8
# (dynamically quantised) graphs is measured on CPU, and other providers would need their own
# checks before we trust them.
_PREFERRED_PROVIDERS = ("CPUExecutionProvider",)

# onnxruntime severity levels: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
_LOG_SEVERITY_WARNING = 2


def _pick_providers() -> list[str]:
    available = ort.get_available_providers()
    chosen = [p for p in _PREFERRED_PROVIDERS if p in available]
    # Every onnxruntime build ships the CPU provider; fall back to whatever exists rather than
    # failing on an exotic build.
    return chosen or list(available)


def create_session(
    path: Path, threads: int | None = None, disabled_optimizers: Sequence[str] = ()
) -> ort.InferenceSession:
    """Open ``path`` as an inference session tuned for this app's CPU workloads.

    ``threads`` bounds intra-op parallelism (default: all cores); ``disabled_optimizers`` names
    onnxruntime graph transformers not to run. Raises :class:`ModelError` when the file is
    missing or onnxruntime cannot load it.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"Model file is missing: {path}",
            hint="re-import the model (desktop-search models import ...) or remove it",
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    # One request at a time per session: inter-op parallelism only adds scheduling overhead for
    # these sequential transformer graphs.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = _LOG_SEVERITY_WARNING
    providers = _pick_providers()
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers,
                                       disabled_optimizers=list(disabled_optimizers))  # fmt: skip
    except Exception as exc:  # onnxruntime raises several unrelated exception types
        raise ModelError(
            f"Model file cannot be loaded: {path} ({type(exc).__name__}: {exc})",
            hint="the file is corrupt or incomplete; re-import the model",
        ) from exc
    log.debug("loaded %s with %s, %d threads", path.name, providers, options.intra_op_num_threads)
    return session
