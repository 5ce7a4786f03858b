"""The lean search path: a `search` process imports nothing of indexing, PDFs, OCR, the detector,
the doctor, the live index or the hub; `status` and `models list` never import torch.

Each command runs in a fresh interpreter over a small real library, and prints what it imported
(``sys.modules`` at exit) on stderr; the checks read that list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.cli.root import COMMANDS, LazyGroup, cli

MARK = "imported-modules: "
# Runs the CLI as `python -m desktop_search` does, then prints sys.modules whatever the exit.
PROBE = (
    "import atexit, json, runpy, sys\n"
    f"atexit.register(lambda: print({MARK!r} + json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
    "sys.argv = ['desktop-search', *sys.argv[1:]]\n"
    "runpy.run_module('desktop_search', run_name='__main__')\n"
)
# Never on the search path: (module, or package whose submodules count too).
NOT_FOR_SEARCH = (
    "desktop_search.index",
    "desktop_search.app.doctor",
    "desktop_search.app.doctor_keywords",
    "desktop_search.app.live",
    "desktop_search.extract.pdf",
    "desktop_search.extract.pdf_limits",
    "desktop_search.extract.documents",
    "desktop_search.models.runtime.detector",
    "desktop_search.models.runtime.ocr",
    "desktop_search.models.runtime.text_gate",
    "desktop_search.models.install.fetch",
    "desktop_search.models.install.hub",
    "desktop_search.gui",
    "pypdf",
    "pypdfium2",
    "rapidocr_onnxruntime",
    "watchdog",
    "huggingface_hub",
    "torch",
    "transformers",
    "open_clip",
    "onnx",
    "PySide6",
)
CONVERTER = ("torch", "transformers", "open_clip")


def imported(home: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``desktop-search --home HOME ARGS`` in a new interpreter: its result and every module
    it had imported when it exited."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--home", str(home), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.startswith(MARK)]
    assert len(lines) == 1, result.stderr
    return result, set(json.loads(lines[0].removeprefix(MARK)))


def offenders(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=90)
    return folder


def indexed(home: Path, folder: Path) -> Path:
    with Library.open(home) as library:
        report = library.index([folder])
    assert report.new == 3 and report.failed == 0
    return home


def test_text_search_with_a_clip_model_imports_nothing_of_indexing(model_home, photo_folder):
    home = indexed(model_home, photo_folder)
    result, modules = imported(home, "search", "a cat on a sofa", "--json")
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(hits) == 3 and {hit["kind"] for hit in hits} == {"photo"}
    # The search did run through the CLIP model and its vector index.
    assert {"desktop_search.models.runtime.clip", "onnxruntime", "hnswlib"} <= modules
    assert offenders(modules, NOT_FOR_SEARCH) == []


def test_search_without_a_model_imports_nothing_of_indexing(tmp_path, photo_folder):
    home = indexed(tmp_path / "home", photo_folder)
    result, modules = imported(home, "search", "coffee")
    assert result.returncode == 0, result.stderr
    assert "coffee.jpg" in result.stdout
    assert offenders(modules, NOT_FOR_SEARCH) == []


def test_a_failed_search_imports_nothing_of_indexing_either(tmp_path):
    result, modules = imported(tmp_path / "home", "search", 'after:"not a date"')
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr
    assert offenders(modules, NOT_FOR_SEARCH) == []


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["models", "list"]])
def test_status_and_models_list_never_import_the_converter(model_home, photo_folder, command):
    home = indexed(model_home, photo_folder)
    result, modules = imported(home, *command)
    assert result.returncode == 0, result.stderr
    assert offenders(modules, CONVERTER) == []


def test_the_root_group_imports_a_command_only_when_it_runs(tmp_path):
    result, modules = imported(tmp_path / "home", "--version")
    assert result.returncode == 0, result.stderr
    commands = {target.partition(":")[0] for target in COMMANDS.values()}
    assert sorted(commands & modules) == []
    # Help lists every command with its summary: then each module is imported.
    result, modules = imported(tmp_path / "home", "--help")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines()
              if line.strip()}  # fmt: skip
    assert listed == set(COMMANDS)
    assert commands <= modules


def test_every_lazy_command_is_the_command_of_its_name():
    context = click.Context(cli)
    assert cli.list_commands(context) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name
    assert cli.get_command(context, "no-such-command") is None


def test_a_lazy_target_that_is_no_command_is_refused():
    group = LazyGroup(name="g", lazy_commands={"bad": "desktop_search.cli.root:COMMANDS"})
    with pytest.raises(TypeError, match="not a click command"):
        group.get_command(click.Context(group), "bad")
