"""Verified, resumable downloads against a real HTTPS server on 127.0.0.1 (trustme certificate)."""

from __future__ import annotations

import hashlib
import os
import socket

import pytest

from desktop_search.errors import ModelDownloadError, ModelError
from desktop_search.models.install.download import download, fetch_files
from desktop_search.models.install.manifest import parse_manifest

SIZE = 300_000
DATA = os.urandom(SIZE)
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server(https_server):
    https_server.files["/model.bin"] = DATA
    return https_server


def fetch(server, tmp_path, client_context, **kwargs):
    kwargs.setdefault("size", SIZE)
    kwargs.setdefault("sha256", SHA)
    return download(
        f"{server.base}/model.bin", tmp_path / "model.bin", ssl_context=client_context, **kwargs
    )


def test_good_fetch_verifies_and_installs(server, tmp_path, client_context):
    seen = []
    path = fetch(server, tmp_path, client_context, progress=lambda d, t: seen.append((d, t)))
    assert path == tmp_path / "model.bin" and path.read_bytes() == DATA
    assert not (tmp_path / "model.bin.part").exists()
    assert server.requests == [("/model.bin", None)]
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == SIZE and len(done) > 2
    assert {t for _, t in seen} == {SIZE}


def test_existing_verified_file_is_not_downloaded_again(server, tmp_path, client_context):
    fetch(server, tmp_path, client_context)
    fetch(server, tmp_path, client_context)
    assert len(server.requests) == 1


def test_corrupted_file_is_rejected_and_nothing_installed(server, tmp_path, client_context):
    server.files["/model.bin"] = DATA[:-1] + bytes([DATA[-1] ^ 0xFF])
    with pytest.raises(ModelDownloadError) as info:
        fetch(server, tmp_path, client_context)
    message = str(info.value)
    assert "corrupted or was tampered with" in message and "nothing was installed" in message
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_is_rejected(server, tmp_path, client_context):
    server.files["/model.bin"] = DATA + b"extra"
    with pytest.raises(ModelDownloadError, match="more than 300000 bytes"):
        fetch(server, tmp_path, client_context)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path, client_context):
    cut = 100_000
    server.drop_after = cut
    seen = []
    path = fetch(server, tmp_path, client_context, progress=lambda d, t: seen.append(d))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    assert server.requests == [("/model.bin", None), ("/model.bin", f"bytes={cut}-")]
    assert seen[-1] == SIZE and cut in seen


def test_interrupted_download_resumes_in_a_later_call(server, tmp_path, client_context):
    cut = 123_456
    server.drop_after = cut
    with pytest.raises(ModelDownloadError, match="check the connection"):
        fetch(server, tmp_path, client_context, retries=0)
    part = tmp_path / "model.bin.part"
    assert part.stat().st_size == cut and not (tmp_path / "model.bin").exists()
    path = fetch(server, tmp_path, client_context)
    assert path.read_bytes() == DATA and not part.exists()
    assert server.requests[-1] == ("/model.bin", f"bytes={cut}-")


def test_server_that_ignores_range_restarts_from_zero(server, tmp_path, client_context):
    (tmp_path / "model.bin.part").write_bytes(DATA[:50_000])
    server.ignore_range = True
    path = fetch(server, tmp_path, client_context)
    assert path.read_bytes() == DATA
    assert server.requests == [("/model.bin", "bytes=50000-")]


def test_part_larger_than_the_file_restarts(server, tmp_path, client_context):
    (tmp_path / "model.bin.part").write_bytes(DATA + b"junk")
    path = fetch(server, tmp_path, client_context)
    assert path.read_bytes() == DATA
    assert server.requests == [("/model.bin", None)]


def test_stale_part_is_discarded_and_downloaded_again(server, tmp_path, client_context):
    # A .part from some other file: the resumed result does not verify, so start over once.
    (tmp_path / "model.bin.part").write_bytes(b"x" * 1000)
    path = fetch(server, tmp_path, client_context)
    assert path.read_bytes() == DATA
    assert server.requests == [("/model.bin", "bytes=1000-"), ("/model.bin", None)]


def test_complete_part_is_verified_without_a_request(server, tmp_path, client_context):
    (tmp_path / "model.bin.part").write_bytes(DATA)
    assert fetch(server, tmp_path, client_context).read_bytes() == DATA
    assert server.requests == []


def test_416_restarts_from_zero(server, tmp_path, client_context):
    (tmp_path / "model.bin.part").write_bytes(DATA[:1000])
    server.refuse_range_once = True
    assert fetch(server, tmp_path, client_context).read_bytes() == DATA
    assert server.requests == [("/model.bin", "bytes=1000-"), ("/model.bin", None)]


def test_http_is_refused(tmp_path):
    with pytest.raises(ModelError, match="only https:// URLs"):
        download("http://127.0.0.1:1/model.bin", tmp_path / "m", size=1, sha256=SHA)
    assert list(tmp_path.iterdir()) == []


def test_redirect_to_http_is_refused(server, tmp_path, client_context):
    server.redirects["/model.bin"] = "http://127.0.0.1:1/model.bin"
    with pytest.raises(ModelDownloadError, match="not https"):
        fetch(server, tmp_path, client_context)


def test_https_redirect_is_followed_and_keeps_the_range(server, tmp_path, client_context):
    server.files["/cdn/model.bin"] = DATA
    server.redirects["/model.bin"] = f"{server.base}/cdn/model.bin"
    (tmp_path / "model.bin.part").write_bytes(DATA[:10])
    assert fetch(server, tmp_path, client_context).read_bytes() == DATA
    assert server.requests == [("/model.bin", "bytes=10-"), ("/cdn/model.bin", "bytes=10-")]


def test_untrusted_certificate_is_a_download_error(server, tmp_path):
    with pytest.raises(ModelDownloadError, match="cannot download model.bin"):
        download(f"{server.base}/model.bin", tmp_path / "model.bin", size=SIZE, sha256=SHA)


def test_missing_file_is_a_download_error(server, tmp_path, client_context):
    with pytest.raises(ModelDownloadError, match="HTTP 404"):
        download(
            f"{server.base}/nope", tmp_path / "x", size=1, sha256=SHA, ssl_context=client_context
        )


def test_unreachable_server_says_what_to_do(tmp_path, client_context):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(ModelDownloadError) as info:
        download(
            f"https://127.0.0.1:{port}/model.bin",
            tmp_path / "model.bin",
            size=SIZE,
            sha256=SHA,
            ssl_context=client_context,
            timeout=5,
        )
    message = str(info.value)
    assert message.startswith("cannot download model.bin (")
    assert "check the connection" in message and "desktop-search models import" in message
    assert "\n" not in message


def test_server_that_never_answers_times_out(tmp_path, client_context):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP connection, never speaks TLS
        port = listener.getsockname()[1]
        with pytest.raises(ModelDownloadError, match="timed out"):
            download(
                f"https://127.0.0.1:{port}/model.bin",
                tmp_path / "model.bin",
                size=SIZE,
                sha256=SHA,
                ssl_context=client_context,
                timeout=0.5,
            )


def _manifest(server, files):
    return parse_manifest(
        {
            "id": "test-model",
            "kind": "detector",
            "name": "Test",
            "license": "MIT",
            "description": "d",
            "source": {"type": "url", "files": files},
            "preprocess": {"image_size": 32},
            "install": {"format": "onnx"},
        }
    )


def test_fetch_files_downloads_every_file_with_overall_progress(server, tmp_path, client_context):
    small = b"config"
    server.files["/sub/config.json"] = small
    manifest = _manifest(
        server,
        [
            {"path": "model.bin", "url": f"{server.base}/model.bin", "size": SIZE, "sha256": SHA},
            {
                "path": "sub/config.json",
                "url": f"{server.base}/sub/config.json",
                "size": len(small),
                "sha256": hashlib.sha256(small).hexdigest(),
            },
        ],
    )
    seen = []
    result = fetch_files(manifest, tmp_path, lambda d, t: seen.append((d, t)), client_context)
    assert result == {
        "model.bin": tmp_path / "model.bin",
        "sub/config.json": tmp_path / "sub/config.json",
    }
    assert (tmp_path / "sub" / "config.json").read_bytes() == small
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (SIZE + len(small), SIZE + len(small))


def test_fetch_files_stops_at_the_first_bad_file(server, tmp_path, client_context):
    manifest = _manifest(
        server,
        [
            {
                "path": "model.bin",
                "url": f"{server.base}/model.bin",
                "size": SIZE,
                "sha256": "0" * 64,
            }
        ],
    )
    with pytest.raises(ModelDownloadError, match="test-model: model.bin"):
        fetch_files(manifest, tmp_path, None, client_context)
    assert list(tmp_path.iterdir()) == []
