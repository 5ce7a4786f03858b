"""Fetching a CLIP model from the hub, pinned by the hub's metadata (manifest without checksums).

A local HTTPS imitation of the hub and its CDN (tests/fake_hub.py) serves the default model's real
file layout: a tiny Immich-style ONNX export built by the tests. The CLI runs in this process
(click's runner) with ``HF_ENDPOINT`` pointing at the fake hub; the shipped manifests are replaced
by one unpinned hub manifest through ``DESKTOP_SEARCH_MANIFESTS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from desktop_search.app.library import Library
from desktop_search.cli.root import cli
from desktop_search.errors import FetchCancelled, ModelDownloadError
from desktop_search.models.install import hub
from tests.conftest_models import three_photos

REPO = "immich-app/Tiny-CLIP__test"
MODEL_ID = "tiny-hub"


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(home, *args, expect=0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def one_error_line(stderr: str) -> bool:
    """One actionable line (besides the "downloading FILE" line per file of a piped run)."""
    lines = stderr.strip().splitlines()
    return len([line for line in lines if not line.startswith("downloading ")]) == 1 and (
        lines[-1].startswith("error: ")
    )


def hub_manifest(files: list[str], **extra) -> dict:
    """An unpinned hub manifest like the shipped CLIP ones: file paths, no sizes or checksums."""
    return {
        "schema": 1, "id": MODEL_ID, "kind": "clip", "name": "Tiny CLIP", "license": "MIT",
        "description": "served by the fake hub", "default": True, "embedding_size": 64,
        "approximate_size": 1_000_000,
        "source": {"type": "hf", "repo": REPO, "revision": "main", "pinned": False,
                   "files": [{"path": path} for path in files]},
        "preprocess": {
            "image_size": 224, "mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28],
            "resize_mode": "shortest", "interpolation": "bicubic",
            "tokenizer": "textual/tokenizer.json", "max_length": 77,
        },
        "install": {"format": "immich-onnx", "quantize": "int8"}, **extra,
    }  # fmt: skip


@pytest.fixture
def served(trusted_fake_hub, immich_files, tmp_path, monkeypatch):
    """The fake hub holds the export (ONNX files in LFS, served by the CDN host); the app knows
    only an unpinned manifest for it."""
    hub_server = trusted_fake_hub
    hub_server.add_repo(REPO, {**immich_files, "README.md": b"# tiny\n"})
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / f"{MODEL_ID}.toml").write_text(tomli_w.dumps(hub_manifest(sorted(immich_files))))
    monkeypatch.setenv("DESKTOP_SEARCH_MANIFESTS", str(folder))
    return hub_server


def test_fetch_pins_the_commit_verifies_every_file_and_records_it(served, immich_files, tmp_path):
    home = tmp_path / "home"
    commit = served.head(REPO)
    result = run(home, "models", "fetch", MODEL_ID, "--json")
    report = json.loads(result.stdout)
    assert report["commit"] == commit and report["active"] is True
    assert report["files"].keys() == immich_files.keys()  # what the manifest lists, not README
    for path, content in immich_files.items():
        assert report["files"][path]["sha256"] == hashlib.sha256(content).hexdigest()
        assert report["files"][path]["size"] == len(content)
    # Every byte came from that commit; the big files from the CDN host, by redirect.
    resolves = [r.path for r in served.requests_to("hub") if "/resolve/" in r.path]
    assert resolves and all(f"/resolve/{commit}/" in path for path in resolves)
    assert {r.path.split("?")[0] for r in served.requests_to("cdn")} == {
        f"/repos/{hashlib.sha256(c).hexdigest()}" for p, c in immich_files.items()
        if p.endswith(".onnx")
    }  # fmt: skip
    # Recorded in the installed model and shown by `models list --json`.
    listed = [json.loads(line) for line in run(home, "models", "list", "--json").stdout.split("\n")
              if line]  # fmt: skip
    (installed,) = [m for m in listed if m["installed"]]
    assert installed["source"]["commit"] == commit and installed["source"]["repo"] == REPO
    assert installed["source"]["files"] == report["files"]
    (available,) = [m for m in listed if not m["installed"]]
    total = sum(len(c) for c in immich_files.values())
    assert (available["size"], available["size_exact"]) == (total, True)  # learnt from the hub
    assert "verified against the hub" in run(home, "models", "list").stdout
    # `models verify` re-hashes what is installed.
    assert "file(s) match their sha256" in run(home, "models", "verify", MODEL_ID).stdout
    installed_file = home / "models" / MODEL_ID / "visual.onnx"
    installed_file.write_bytes(installed_file.read_bytes()[:-1] + b"\0")
    failed = run(home, "models", "verify", MODEL_ID, expect=1)
    assert "visual.onnx does not match its sha256" in failed.stderr
    assert not (home / "models" / ".downloads" / MODEL_ID).exists()  # downloads cleaned up


def test_a_commit_reproduces_an_install_after_the_repo_moved_on(served, immich_files, tmp_path):
    first = served.head(REPO)
    changed = immich_files["textual/tokenizer_config.json"].replace(b"}", b', "note": 1}', 1)
    second = served.commit(REPO, {"textual/tokenizer_config.json": changed})
    assert second != first
    home = tmp_path / "home"
    old = json.loads(run(home, "models", "fetch", MODEL_ID, "--commit", first, "--json").stdout)
    assert old["commit"] == first
    assert old["files"]["textual/tokenizer_config.json"]["sha256"] == hashlib.sha256(
        immich_files["textual/tokenizer_config.json"]
    ).hexdigest()
    new = json.loads(run(tmp_path / "other", "models", "fetch", MODEL_ID, "--json").stdout)
    assert new["commit"] == second
    assert new["files"]["textual/tokenizer_config.json"]["sha256"] == hashlib.sha256(
        changed
    ).hexdigest()
    bad = run(home, "models", "fetch", MODEL_ID, "--commit", "abc", expect=1)
    assert "full 40-character commit id" in bad.stderr


@pytest.mark.parametrize(
    ("path", "problem"),
    [("visual/model.onnx", "corrupted or was tampered with"),  # LFS: sha256 while writing
     ("textual/tokenizer.json", "git blob id does not match")],  # small file: git blob id
)  # fmt: skip
def test_bytes_that_do_not_match_the_hub_metadata_install_nothing(served, tmp_path, path, problem):
    served.corrupt(REPO, path)  # same length, other bytes; the metadata keeps the real checksum
    home = tmp_path / "home"
    result = run(home, "models", "fetch", MODEL_ID, expect=1)
    assert problem in result.stderr and "nothing was installed" in result.stderr
    assert one_error_line(result.stderr)
    assert not (home / "models" / MODEL_ID).exists()
    leftovers = home / "models" / ".downloads" / MODEL_ID
    kept = [p.relative_to(leftovers).as_posix() for p in leftovers.rglob("*") if p.is_file()]
    assert not [k for k in kept if k.split("/", 1)[-1].startswith(path)], kept


def test_a_dropped_connection_resumes_with_a_range_request(served, immich_files, tmp_path):
    size = len(immich_files["visual/model.onnx"])
    served.drop_connection(REPO, "visual/model.onnx", at=size // 2)
    run(tmp_path / "home", "models", "fetch", MODEL_ID)
    ranges = [r.range for r in served.requests_to("cdn") if r.range]
    assert ranges and int(ranges[0].removeprefix("bytes=").rstrip("-")) > 0


def test_cancel_keeps_what_arrived_and_the_next_fetch_resumes(served, immich_files, tmp_path):
    """Cancel (the window's button) half-way; a later fetch, as after quitting the app, goes on
    from the partial file."""
    home = tmp_path / "home"
    cancel = threading.Event()
    # Files come in the manifest's order: cancel half-way through the image tower.
    order = sorted(immich_files)
    start = sum(len(immich_files[p]) for p in order[: order.index("visual/model.onnx")])
    halfway = start + len(immich_files["visual/model.onnx"]) // 2

    def progress(done: int, total: int) -> None:
        if done >= halfway:
            cancel.set()

    with Library.open(home) as library, pytest.raises(FetchCancelled):
        library.fetch_model(MODEL_ID, progress=progress, cancel=cancel)
    partial = [p for p in (home / "models" / ".downloads").rglob("*.part") if p.stat().st_size]
    assert partial, "the partial download is kept"
    kept = partial[0].stat().st_size
    with Library.open(home) as library:  # a new process, in effect: nothing is remembered in RAM
        result = library.fetch_model(MODEL_ID)
        assert library.active_model_name == MODEL_ID and result.commit == served.head(REPO)
    assert f"bytes={kept}-" in [r.range for r in served.requests if r.range]


@pytest.mark.parametrize(
    ("access", "words"),
    [("private", ["HTTP 401", "HF_TOKEN", "hf auth login"]),
     ("gated", ["gated", "HF_TOKEN"])],
)  # fmt: skip
def test_a_repo_that_needs_a_token_says_how_to_give_one(served, tmp_path, access, words):
    served.set_access(REPO, access)
    result = run(tmp_path / "home", "models", "fetch", MODEL_ID, expect=1)
    assert all(word in result.stderr for word in words), result.stderr
    assert one_error_line(result.stderr)


def test_a_file_gone_from_the_repo_is_named(served, tmp_path):
    served.commit(REPO, {"visual/preprocess_cfg.json": None})
    result = run(tmp_path / "home", "models", "fetch", MODEL_ID, expect=1)
    assert "has no file visual/preprocess_cfg.json" in result.stderr


def test_an_unreachable_hub_says_mirror_or_import(served, tmp_path, monkeypatch, unused_port):
    monkeypatch.setenv("HF_ENDPOINT", f"https://127.0.0.1:{unused_port}")
    result = run(tmp_path / "home", "models", "fetch", MODEL_ID, expect=1)
    assert f"cannot reach the model hub at https://127.0.0.1:{unused_port}" in result.stderr
    assert "HF_ENDPOINT" in result.stderr and "models import" in result.stderr
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = run(tmp_path / "home", "models", "fetch", MODEL_ID, expect=1)
    assert "HF_HUB_OFFLINE is set" in result.stderr


def test_too_little_disk_space_is_refused_before_downloading(tmp_path):
    free = hub.shutil.disk_usage(tmp_path).free
    resolved = hub.ResolvedSource(REPO, "main", "a" * 40, (
        hub.HubFile("visual/model.onnx", free, "0" * 64, None),
    ))  # fmt: skip
    with pytest.raises(ModelDownloadError, match="not enough disk space") as info:
        hub.check_free_space(resolved, tmp_path)
    assert str(tmp_path) in str(info.value) and "free" in str(info.value)


def test_first_run_index_fetches_the_default_model_and_encodes(served, tmp_path):
    home, photos = tmp_path / "home", three_photos(tmp_path)
    result = run(home, "index", photos, "--fetch-model", "--json")
    assert "Tiny CLIP (tiny-hub" in result.stderr
    report = json.loads(result.stdout)
    assert (report["new"], report["encoded"]) == (3, 3)


def test_first_run_without_the_hub_catalogues_the_photos(served, tmp_path, monkeypatch,
                                                         unused_port):  # fmt: skip
    monkeypatch.setenv("HF_ENDPOINT", f"https://127.0.0.1:{unused_port}")
    home, photos = tmp_path / "home", three_photos(tmp_path)
    result = run(home, "index", photos, "--fetch-model", "--json")
    assert "warning: cannot reach the model hub" in result.stderr
    assert json.loads(result.stdout)["new"] == 3
    assert json.loads(run(home, "status", "--json").stdout)["pending"] == 3


GUARD = """
import socket, sys
def guard(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        if event == "socket.connect" and args[0].family == socket.AF_UNIX:
            return
        raise RuntimeError(f"network touched: {event} {args[1:]!r}")
sys.addaudithook(guard)
from desktop_search.cli.root import cli
cli(sys.argv[1:])
"""


def guarded(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", GUARD, "--home", str(home), *args],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_nothing_touches_the_network_until_a_fetch_is_asked_for(served, tmp_path):
    """Every socket is refused in these processes (audit hook): listing models, indexing without
    a model, searching and status work; only `models fetch` runs into the guard."""
    env = {**os.environ, **served.env(), "DESKTOP_SEARCH_MANIFESTS": os.environ[
        "DESKTOP_SEARCH_MANIFESTS"]}  # fmt: skip
    home, photos = tmp_path / "home", three_photos(tmp_path)
    for args in (["models", "list"], ["index", str(photos)], ["search", "coffee"], ["status"]):
        done = guarded(home, *args, env=env)
        assert done.returncode == 0, (args, done.stderr)
        assert "network touched" not in done.stderr
    asked = guarded(home, "models", "fetch", MODEL_ID, env=env)
    assert asked.returncode != 0 and "network touched" in asked.stderr + asked.stdout
    assert served.requests == []


def test_index_search_and_status_do_not_load_the_hub_client(tmp_path):
    code = (
        "import sys\n"
        "from desktop_search.cli.root import cli\n"
        f"home = {str(tmp_path / 'home')!r}\n"
        "for args in (['status'], ['search', 'dog'], ['models', 'list']):\n"
        "    try:\n"
        "        cli(['--home', home, *args])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('LOADED', sorted({'huggingface_hub', 'httpx2'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
