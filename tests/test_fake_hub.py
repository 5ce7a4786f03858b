"""The fake hub (tests/fake_hub.py) against the real huggingface_hub client, unmodified.

Uses huggingface_hub only (not the project's code): these tests pin down what the client asks
and what it checks, so tests of the project's own downloads can rely on the imitation.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, file_download, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.fake_hub import CDN_HOST, HUB_HOST, FakeHub, git_blob_id, lfs_pointer, tune_client

REPO = "immich-app/ViT-B-32__laion2b-s34b-b79k"
CONFIG = json.dumps({"embed_dim": 512}).encode()
MODEL = os.urandom(300_000)
MODEL_PATH = "visual/model.onnx"


@pytest.fixture
def hub(trusted_fake_hub: FakeHub) -> FakeHub:
    trusted_fake_hub.add_repo(REPO, {"config.json": CONFIG, MODEL_PATH: MODEL})
    return trusted_fake_hub


@pytest.fixture
def no_xet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if huggingface_hub takes its Xet path (hf_xet is installed in the venv)."""

    def refuse(**kwargs):
        raise AssertionError("xet_get called: the fake hub must not advertise Xet")

    monkeypatch.setattr(file_download, "xet_get", refuse)


def download(hub: FakeHub, tmp_path: Path, filename: str = MODEL_PATH, **kwargs) -> Path:
    kwargs.setdefault("local_dir", tmp_path / "local")
    kwargs.setdefault("cache_dir", tmp_path / "cache")  # never the user's ~/.cache
    return Path(hf_hub_download(REPO, filename, endpoint=hub.endpoint, **kwargs))


def incomplete_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.incomplete"))


def test_model_info_gives_commit_sizes_blob_ids_and_lfs_sha256(hub: FakeHub) -> None:
    info = HfApi(endpoint=hub.endpoint).model_info(REPO, files_metadata=True)
    assert info.id == REPO and info.sha == hub.head(REPO)
    assert info.private is False and info.gated is False and info.last_modified is not None
    siblings = {s.rfilename: s for s in info.siblings}
    assert siblings["config.json"].size == len(CONFIG)
    assert siblings["config.json"].blob_id == git_blob_id(CONFIG)
    assert siblings["config.json"].lfs is None
    model = siblings[MODEL_PATH]
    assert model.size == len(MODEL) and model.lfs.size == len(MODEL)
    assert model.lfs.sha256 == hashlib.sha256(MODEL).hexdigest()
    # As on the real hub, an LFS file's blobId is the git oid of its pointer file.
    pointer = lfs_pointer(model.lfs.sha256, len(MODEL))
    assert model.blob_id == git_blob_id(pointer) and model.lfs.pointer_size == len(pointer)
    assert hub.requests[-1].path == f"/api/models/{REPO}?blobs=true"  # no revision: no /revision/

    # The same commit by its sha; without files_metadata only the names.
    by_sha = HfApi(endpoint=hub.endpoint).model_info(REPO, revision=info.sha)
    assert by_sha.sha == info.sha and {s.rfilename for s in by_sha.siblings} == set(siblings)
    assert all(s.size is None and s.lfs is None for s in by_sha.siblings)
    with pytest.raises(RevisionNotFoundError):
        HfApi(endpoint=hub.endpoint).model_info(REPO, revision="v9")


def test_lfs_file_comes_from_the_cdn_without_the_token(
    hub: FakeHub, tmp_path: Path, no_xet: None
) -> None:
    xet_loaded_before = "hf_xet" in sys.modules
    path = download(hub, tmp_path, token="hf_secret")
    assert path == tmp_path / "local" / "visual" / "model.onnx" and path.read_bytes() == MODEL
    head, get = hub.requests
    assert (head.server, head.method, head.status, head.authorized) == ("hub", "HEAD", 302, True)
    assert head.host.startswith(f"{HUB_HOST}:")
    assert head.path == f"/{REPO}/resolve/main/{MODEL_PATH}"
    # The bytes: one plain GET on the CDN host, Authorization left behind on the hub.
    assert (get.server, get.method, get.status, get.range) == ("cdn", "GET", 200, None)
    assert get.host.startswith(f"{CDN_HOST}:") and not get.authorized
    assert not xet_loaded_before and "hf_xet" not in sys.modules  # hf_xet never even imported
    # local_dir bookkeeping: <local_dir>/.cache/huggingface/download/<path>.metadata
    metadata = tmp_path / "local/.cache/huggingface/download/visual/model.onnx.metadata"
    commit, etag = metadata.read_text().splitlines()[:2]
    assert commit == hub.head(REPO) and etag == hashlib.sha256(MODEL).hexdigest()
    assert incomplete_files(tmp_path) == []


def test_small_file_comes_from_the_hub(hub: FakeHub, tmp_path: Path, no_xet: None) -> None:
    path = download(hub, tmp_path, "config.json")
    assert path.read_bytes() == CONFIG
    assert [(r.server, r.method, r.status) for r in hub.requests] == [
        ("hub", "HEAD", 200),
        ("hub", "GET", 200),
    ]


def test_small_file_dropped_on_the_hub_is_fetched_again(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tune_client(monkeypatch)
    hub.drop_connection(REPO, "config.json", at=5)
    assert download(hub, tmp_path, "config.json").read_bytes() == CONFIG
    assert [(r.method, r.range) for r in hub.requests_to("hub")] == [
        ("HEAD", None),
        ("GET", None),
        ("GET", None),  # 5 bytes were less than a chunk: nothing kept, no Range
    ]


def test_dropped_connection_is_resumed_by_the_client_with_a_range(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tune_client(monkeypatch, chunk_size=16 * 1024)
    hub.drop_connection(REPO, MODEL_PATH, at=100_000)
    assert download(hub, tmp_path).read_bytes() == MODEL
    first, resumed = hub.requests_to("cdn")
    # Only whole 16 KiB chunks reached the file before the drop: 6 * 16384 = 98304 bytes.
    assert first.range is None and resumed.range == "bytes=98304-" and resumed.status == 206


def test_with_the_default_chunk_size_a_small_file_restarts_from_zero(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DOWNLOAD_CHUNK_SIZE is 10 MiB: nothing of a 300 KB file was written when the line broke.
    tune_client(monkeypatch, chunk_size=None)
    hub.drop_connection(REPO, MODEL_PATH, at=100_000)
    assert download(hub, tmp_path).read_bytes() == MODEL
    assert [r.range for r in hub.requests_to("cdn")] == [None, None]


def test_dropping_every_time_fails_and_the_next_call_starts_over(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tune_client(monkeypatch, chunk_size=16 * 1024)
    hub.drop_connection(REPO, MODEL_PATH, at=100_000, times=None)
    with pytest.raises(httpx2.RemoteProtocolError):
        download(hub, tmp_path)
    ranges = [r.range for r in hub.requests_to("cdn")]
    # One try, then 5 retries from the last whole chunk (no progress resets the budget).
    assert ranges == [None] + ["bytes=98304-"] * 5
    # huggingface_hub 2.4 downloads to a per-call "<hash>.<etag>.<uuid8>.incomplete" and deletes
    # it on failure: nothing is left to resume from, so the next call starts at byte 0.
    assert incomplete_files(tmp_path) == []
    assert not (tmp_path / "local" / MODEL_PATH).exists()
    hub.stop_dropping(REPO, MODEL_PATH)
    hub.requests.clear()
    assert download(hub, tmp_path).read_bytes() == MODEL
    assert [r.range for r in hub.requests_to("cdn")] == [None]


def test_private_or_missing_repo_is_repository_not_found(hub: FakeHub, tmp_path: Path) -> None:
    hub.set_access(REPO, "private")
    api = HfApi(endpoint=hub.endpoint)
    with pytest.raises(RepositoryNotFoundError) as info:
        api.model_info(REPO, token=False)
    assert info.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(REPO, token="hf_secret")  # 404 when a token was sent
    with pytest.raises(RepositoryNotFoundError) as info:
        download(hub, tmp_path, token=False)
    assert not isinstance(info.value, GatedRepoError)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing", token=False)
    assert hub.requests_to("cdn") == []


def test_gated_repo_info_is_readable_but_files_are_not(hub: FakeHub, tmp_path: Path) -> None:
    hub.set_access(REPO, "gated")
    assert HfApi(endpoint=hub.endpoint).model_info(REPO).gated == "manual"
    with pytest.raises(GatedRepoError) as info:
        download(hub, tmp_path)
    assert info.value.response.status_code == 403
    assert hub.requests_to("cdn") == []


def test_missing_file_and_revision(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(RemoteEntryNotFoundError) as info:
        download(hub, tmp_path, "textual/model.onnx")
    assert isinstance(info.value, EntryNotFoundError)
    assert info.value.response.headers["X-Repo-Commit"] == hub.head(REPO)
    with pytest.raises(RevisionNotFoundError):
        download(hub, tmp_path, revision="0" * 40)


def test_client_checks_the_size_but_not_the_sha256(hub: FakeHub, tmp_path: Path) -> None:
    # Same length, other bytes: accepted, although X-Linked-Etag is the real sha256.
    wrong = hub.corrupt(REPO, MODEL_PATH)
    assert len(wrong) == len(MODEL) and wrong != MODEL
    assert download(hub, tmp_path).read_bytes() == wrong

    # Other length: http_get compares the bytes received with X-Linked-Size.
    hub.corrupt(REPO, MODEL_PATH, MODEL[:-10])
    with pytest.raises(OSError, match="Consistency check failed"):
        download(hub, tmp_path, local_dir=tmp_path / "other")
    assert not (tmp_path / "other" / MODEL_PATH).exists()
    assert incomplete_files(tmp_path) == []


def test_client_hashes_an_lfs_file_only_to_skip_downloading_it(
    hub: FakeHub, tmp_path: Path
) -> None:
    # A file already in local_dir without .cache metadata: sha256 == ETag -> kept, no GET.
    target = tmp_path / "local" / MODEL_PATH
    target.parent.mkdir(parents=True)
    target.write_bytes(MODEL)
    download(hub, tmp_path)
    assert [r.method for r in hub.requests] == ["HEAD"]
    # With different bytes (and still no metadata) it is downloaded again.
    (tmp_path / "local/.cache/huggingface/download/visual/model.onnx.metadata").unlink()
    target.write_bytes(b"x" * len(MODEL))
    assert download(hub, tmp_path).read_bytes() == MODEL
    assert [r.method for r in hub.requests] == ["HEAD", "HEAD", "GET"]


def test_old_commit_still_serves_old_bytes(hub: FakeHub, tmp_path: Path) -> None:
    old = hub.head(REPO)
    new_model = os.urandom(200_000)
    new = hub.commit(REPO, {MODEL_PATH: new_model, "config.json": None})
    assert new != old and hub.head(REPO) == new
    assert download(hub, tmp_path, revision=old, local_dir=tmp_path / "old").read_bytes() == MODEL
    assert download(hub, tmp_path, local_dir=tmp_path / "new").read_bytes() == new_model
    assert download(hub, tmp_path, "config.json", revision=old).read_bytes() == CONFIG
    with pytest.raises(RemoteEntryNotFoundError):
        download(hub, tmp_path, "config.json")
    info = HfApi(endpoint=hub.endpoint).model_info(REPO, revision=old, files_metadata=True)
    assert info.sha == old and len(info.siblings) == 2


def test_subprocess_finds_the_hub_through_hf_endpoint(hub: FakeHub, tmp_path: Path) -> None:
    script = (
        "import sys; from huggingface_hub import hf_hub_download;"
        " print(hf_hub_download(sys.argv[1], sys.argv[2], local_dir=sys.argv[3]))"
    )
    env = {**os.environ, **hub.env(), "HF_HOME": str(tmp_path / "hf_home")}
    done = subprocess.run(
        [sys.executable, "-c", script, REPO, MODEL_PATH, str(tmp_path / "local")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).read_bytes() == MODEL
    assert [r.server for r in hub.requests] == ["hub", "cdn"]


def test_cache_dir_mode_stores_the_blob_under_its_etag(hub: FakeHub, tmp_path: Path) -> None:
    path = Path(hf_hub_download(REPO, MODEL_PATH, cache_dir=tmp_path, endpoint=hub.endpoint))
    assert path.read_bytes() == MODEL
    storage = tmp_path / f"models--{REPO.replace('/', '--')}"
    assert path == storage / "snapshots" / hub.head(REPO) / MODEL_PATH
    assert (storage / "blobs" / hashlib.sha256(MODEL).hexdigest()).read_bytes() == MODEL
    assert (storage / "refs" / "main").read_text() == hub.head(REPO)
    assert [r.server for r in hub.requests] == ["hub", "cdn"]


def test_the_shared_client_must_be_rebuilt_to_trust_the_hub(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import close_session
    from huggingface_hub.errors import LocalEntryNotFoundError

    fake_hub.add_repo(REPO, {MODEL_PATH: MODEL})
    close_session()
    # hf_hub_download retries a failed connection 5 times (23 s of backoff without tune_client),
    # then reports it as "not in the local cache".
    tune_client(monkeypatch, chunk_size=None)
    with pytest.raises(LocalEntryNotFoundError) as info:
        download(fake_hub, tmp_path)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value.__cause__)
    assert fake_hub.requests == []  # the handshake failed: no request reached the hub
    api = HfApi(endpoint=fake_hub.endpoint)  # model_info does not retry
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        api.model_info(REPO)
    # SSL_CERT_FILE alone is not enough: the shared client built above keeps its SSL context.
    monkeypatch.setenv("SSL_CERT_FILE", str(fake_hub.ca_pem_path))
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        api.model_info(REPO)
    fake_hub.trust(monkeypatch)  # also closes the shared client
    assert api.model_info(REPO).sha == fake_hub.head(REPO)
