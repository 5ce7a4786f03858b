"""`models fetch` and the first run without a model, end to end through the CLI.

Model files are served by a real HTTPS server on 127.0.0.1 whose test CA the CLI trusts through
SSL_CERT_FILE (what Python's default SSL context reads); manifests pointing at it are either
given with --manifest or put in place of the shipped ones with DESKTOP_SEARCH_MANIFESTS.
"""

import hashlib
import json
import socket
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from PIL import Image
from skimage import data

from desktop_search.cli.root import cli
from desktop_search.models.runtime.detector import ObjectDetector
from tests.conftest_models import three_photos

SHARED_DETECTOR = Path(__file__).resolve().parents[2] / "shared/models/yolox_nano_coco.onnx"


def run(home, *args, expect=0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


@pytest.fixture
def trusted(ca, tmp_path, monkeypatch):
    """The CLI's default SSL context trusts the test server's CA."""
    pem = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


def served_manifest(server, model_id, kind, files: dict[str, bytes], **extra) -> dict:
    """A pinned manifest for ``files``, which the server then serves."""
    entries = []
    for path, content in files.items():
        server.files[f"/{model_id}/{path}"] = content
        digest = hashlib.sha256(content).hexdigest()
        url = f"{server.base}/{model_id}/{path}"
        entries.append({"path": path, "url": url, "size": len(content), "sha256": digest})
    return {
        "schema": 1, "id": model_id, "kind": kind, "name": f"Test {kind}",
        "license": "Apache-2.0", "description": "served by the test", "default": True,
        "source": {"type": "url", "pinned": True, "files": entries}, **extra,
    }  # fmt: skip


def detector_manifest(server) -> dict:
    manifest = served_manifest(
        server, "test-yolox", "detector", {"yolox_nano.onnx": SHARED_DETECTOR.read_bytes()}
    )
    manifest["preprocess"] = {"image_size": 416, "resize_mode": "letterbox", "fill": 114}
    manifest["install"] = {"format": "onnx", "quantize": "none"}
    return manifest


def write_toml(path: Path, manifest: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(manifest))
    return path


@pytest.mark.skipif(not SHARED_DETECTOR.exists(), reason="shared/models is not beside the repo")
def test_fetch_from_a_manifest_file_verifies_and_installs(https_server, trusted, tmp_path):
    home = tmp_path / "home"
    manifest = write_toml(tmp_path / "test-yolox.toml", detector_manifest(https_server))
    result = run(home, "models", "fetch", "--manifest", manifest)
    assert "installed test-yolox (detector)" in result.stdout
    folder = home / "models" / "test-yolox"
    description = json.loads((folder / "model.json").read_text())
    assert description["kind"] == "detector"
    assert (
        description["files"]["yolox_nano.onnx"]
        == hashlib.sha256(SHARED_DETECTOR.read_bytes()).hexdigest()
    )
    assert not (home / "models" / ".downloads" / "test-yolox").exists()
    detections = ObjectDetector(folder / "yolox_nano.onnx").detect(
        Image.fromarray(data.astronaut())
    )
    assert "person" in {d.label for d in detections}
    installed = [
        json.loads(line)
        for line in run(home, "models", "list", "--json").stdout.split("\n")
        if line
    ]
    assert {"id": "test-yolox", "kind": "detector", "installed": True}.items() <= installed[
        0
    ].items()


def test_a_corrupted_download_installs_nothing(https_server, trusted, tmp_path):
    home = tmp_path / "home"
    manifest = served_manifest(https_server, "broken", "detector", {"m.onnx": b"x" * 5000})
    manifest["preprocess"] = {"image_size": 416}
    manifest["install"] = {"format": "onnx"}
    https_server.files["/broken/m.onnx"] = b"y" * 5000  # not what the manifest pins
    result = run(
        home,
        "models",
        "fetch",
        "--manifest",
        write_toml(tmp_path / "broken.toml", manifest),
        expect=1,
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupted or was tampered with" in lines[0]
    assert not (home / "models" / "broken").exists()


def test_unknown_model_id_lists_the_known_ones(tmp_path):
    result = run(tmp_path / "home", "models", "fetch", "no-such-model", expect=1)
    assert "unknown model 'no-such-model'" in result.stderr and "yolox-nano" in result.stderr


def test_default_clip_model_is_named_and_indexing_goes_on_without_the_hub(tmp_path, monkeypatch):
    """The shipped default comes from the hub; unreachable (a closed port as HF_ENDPOINT: no
    request leaves this machine), the run says so and catalogues the photos."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"https://127.0.0.1:{port}")
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(data.coffee()).save(photos / "coffee.jpg")
    result = run(tmp_path / "home", "index", photos, "--fetch-model", "--json")
    assert "vit-b-32-laion2b" in result.stderr and "about 607.0 MB" in result.stderr
    assert "cannot reach the model hub" in result.stderr
    assert json.loads(result.stdout)["new"] == 1


@pytest.fixture
def default_clip_served(https_server, immich_files, tmp_path, monkeypatch):
    """The shipped manifests replaced by one pinned default CLIP model on the test server."""
    manifest = served_manifest(
        https_server, "tiny-default", "clip", immich_files, embedding_size=64,
        preprocess={
            "image_size": 224, "mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28],
            "resize_mode": "shortest", "interpolation": "bicubic",
            "tokenizer": "textual/tokenizer.json", "max_length": 77,
        }, install={"format": "immich-onnx", "quantize": "int8"},
    )  # fmt: skip
    folder = tmp_path / "manifests"
    write_toml(folder / "tiny-default.toml", manifest)
    monkeypatch.setenv("DESKTOP_SEARCH_MANIFESTS", str(folder))
    return https_server


def test_first_run_fetches_the_default_model_and_indexes_with_it(
    default_clip_served, trusted, tmp_path
):
    home, photos = tmp_path / "home", three_photos(tmp_path)
    result = run(home, "index", photos, "--fetch-model", "--json")
    assert "fetching Test clip (tiny-default" in result.stderr
    report = json.loads(result.stdout)
    assert (report["new"], report["encoded"]) == (3, 3)
    status = json.loads(run(home, "status", "--json").stdout)
    assert (status["model"], status["pending"]) == ("tiny-default", 0)
    hits = [
        json.loads(line)
        for line in run(
            home, "search", "--image", photos / "camera.jpg", "--json"
        ).stdout.splitlines()
    ]
    assert hits[0]["path"] == str(photos / "camera.jpg")


def test_first_run_fetch_failure_degrades_to_cataloguing(default_clip_served, trusted, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    manifest = tmp_path / "manifests" / "tiny-default.toml"  # now pointing at a closed port
    manifest.write_text(
        manifest.read_text().replace(default_clip_served.base, f"https://127.0.0.1:{port}")
    )
    home, photos = tmp_path / "home", three_photos(tmp_path)
    result = run(home, "index", photos, "--fetch-model", "--json")
    assert "warning: cannot download" in result.stderr
    assert "models import" in result.stderr
    report = json.loads(result.stdout)
    assert (report["new"], report["encoded"]) == (3, 0)
    assert json.loads(run(home, "status", "--json").stdout)["pending"] == 3


def test_offline_copy_is_used_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))  # any download fails
    home = tmp_path / "home"
    assert "installed pp-ocrv4 (ocr)" in run(home, "models", "fetch", "pp-ocrv4").stdout
    description = json.loads((home / "models" / "pp-ocrv4" / "model.json").read_text())
    assert description["kind"] == "ocr" and len(description["files"]) == 3
