"""A local HTTPS imitation of the Hugging Face hub and its CDN, as pytest fixtures.

A pytest plugin (see tests/conftest.py). Two servers on 127.0.0.1, like huggingface.co and its
LFS CDN: the hub (``https://localhost:PORT``) answers the model-info API and ``/resolve/`` (small
files itself, LFS files by a 302 to the CDN), the CDN (``https://127.0.0.1:PORT``) serves LFS
bytes by content address with Range support. The hosts differ on purpose: huggingface_hub drops
the Authorization header and stops following redirects when they leave the hub's origin.

Fixtures: ``fake_hub`` (a fresh :class:`FakeHub` per test, not yet trusted by the client) and
``trusted_fake_hub`` (the same after :meth:`FakeHub.trust`, so huggingface_hub in this process
accepts its certificate). ``hub.env()`` gives the variables a subprocess needs (``HF_ENDPOINT``,
``SSL_CERT_FILE``). Never sends X-Xet-* headers, so the client downloads over plain HTTP even
with ``hf_xet`` installed.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import secrets
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import trustme

Access = Literal["public", "private", "gated"]
Server = Literal["hub", "cdn"]
LfsRule = bool | Callable[[str], bool] | None

HUB_HOST = "localhost"
CDN_HOST = "127.0.0.1"  # a different host from the hub's, as cdn-lfs.hf.co is from huggingface.co

# What the hub's default .gitattributes sends to LFS (the part that matters for model repos);
# files over 10 MB go to LFS whatever their name.
_LFS_SUFFIXES = (
    ".onnx", ".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".npy", ".npz",
    ".pb", ".tflite", ".ot", ".model", ".gguf", ".zip", ".gz", ".tar", ".7z", ".arrow", ".parquet",
)  # fmt: skip
_LFS_MIN_SIZE = 10 * 1024 * 1024

_API_MODEL = re.compile(r"/api/models/(?P<repo>[^/]+(?:/[^/]+)?)(?:/revision/(?P<rev>[^/]+))?")
_RESOLVE = re.compile(r"/(?P<repo>[^/]+(?:/[^/]+)?)/resolve/(?P<rev>[^/]+)/(?P<file>.+)")
_CDN_OBJECT = re.compile(r"/repos/(?P<sha256>[0-9a-f]{64})")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")


def git_blob_id(data: bytes) -> str:
    """The git object id of ``data`` stored as a blob (what the hub calls ``blobId``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file git stores in place of an LFS file."""
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    return text.encode()


def default_lfs_rule(path: str) -> bool:
    return path.endswith(_LFS_SUFFIXES)


@dataclass(frozen=True)
class HubFile:
    """One file of one commit, with the metadata the hub reports for it."""

    path: str
    data: bytes
    lfs: bool
    sha256: str  # of the content (the hub reports it for LFS files only)
    blob_id: str  # git oid of what git stores: the content, or the LFS pointer for LFS files
    pointer_size: int | None  # LFS files only

    @classmethod
    def make(cls, path: str, data: bytes, lfs: bool) -> HubFile:
        sha256 = hashlib.sha256(data).hexdigest()
        pointer = lfs_pointer(sha256, len(data)) if lfs else None
        return cls(
            path=path,
            data=data,
            lfs=lfs,
            sha256=sha256,
            # The real hub's blobId of an LFS file is the oid of its pointer, not of the content.
            blob_id=git_blob_id(pointer if pointer is not None else data),
            pointer_size=len(pointer) if pointer is not None else None,
        )

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        """What the hub sends as ETag / X-Linked-Etag: sha256 for LFS files, else the blob id."""
        return self.sha256 if self.lfs else self.blob_id


@dataclass(frozen=True)
class Commit:
    sha: str
    files: Mapping[str, HubFile]
    date: datetime


@dataclass
class Repo:
    repo_id: str
    commits: list[Commit]  # oldest first; the last one is what "main" points at
    access: Access = "public"

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def resolve(self, revision: str) -> Commit | None:
        """A branch name ("main") or a full commit sha; None if the hub would not know it."""
        if revision == "main":
            return self.head
        if _COMMIT_SHA.fullmatch(revision):
            return next((c for c in self.commits if c.sha == revision), None)
        return None


@dataclass
class Drop:
    """Break the connection once the transfer reaches byte ``at`` of the file.

    An absolute file offset, not a per-response count: a client resuming from ``at`` or beyond
    gets the headers and then a hang-up, so "every time" really fails instead of creeping forward.
    """

    at: int
    times: int | None  # how many more drops; None: every time


@dataclass(frozen=True)
class HubRequest:
    """One request either server received (recorded before the answer is sent)."""

    server: Server
    method: str
    host: str  # the Host header: "localhost:PORT" (hub) or "127.0.0.1:PORT" (CDN)
    path: str  # with the query string
    range: str | None
    authorized: bool  # an Authorization header was sent
    status: int


@dataclass(frozen=True)
class _Grant:
    """What one signed CDN URL stands for (its token), like a pre-signed S3 URL."""

    repo_id: str
    path: str
    file: HubFile


@dataclass
class _Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut: int | None = None  # send this many body bytes, then hang up


@dataclass(frozen=True)
class FakeHubTls:
    ca: trustme.CA
    cert: trustme.LeafCert  # valid for both hosts
    ca_pem_path: Path


def _iso(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%S.") + f"{date.microsecond // 1000:03d}Z"


def _error(status: int, code: str | None, message: str, **headers: str) -> _Reply:
    # The client picks the exception class from X-Error-Code and shows X-Error-Message/"error".
    if code is not None:
        headers["X-Error-Code"] = code
    headers["X-Error-Message"] = message
    headers["Content-Type"] = "application/json; charset=utf-8"
    return _Reply(status, headers, json.dumps({"error": message}).encode())


class FakeHub:
    """The state of both servers; tests add repos and switch behaviours before requesting."""

    def __init__(self, tls: FakeHubTls) -> None:
        self.ca = tls.ca
        self.ca_pem_path = tls.ca_pem_path
        self.requests: list[HubRequest] = []
        self.repos: dict[str, Repo] = {}
        self._tls = tls
        self._lock = threading.Lock()
        self._drops: dict[tuple[str, str], Drop] = {}
        self._wrong_bytes: dict[tuple[str, str], bytes] = {}
        self._grants: dict[str, _Grant] = {}
        self._servers: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []
        self.endpoint = ""  # set by start()
        self.cdn_base = ""

    # --- repos -------------------------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        lfs: LfsRule = None,
        access: Access = "public",
    ) -> str:
        """Create ``repo_id`` with one commit of ``files``; returns the commit sha.

        ``lfs``: which files are LFS (stored on the CDN): True/False for all, a predicate on the
        path, or None for the hub's default (model-weight suffixes, files over 10 MB).
        """
        with self._lock:
            if repo_id in self.repos:
                raise ValueError(f"{repo_id} already exists; use commit()")
            commit = self._make_commit(repo_id, {}, files, lfs, parent="")
            self.repos[repo_id] = Repo(repo_id, [commit], access)
            return commit.sha

    def commit(
        self, repo_id: str, files: Mapping[str, bytes | None], *, lfs: LfsRule = None
    ) -> str:
        """Publish a new commit on main, ``files`` added or replaced (None deletes); its sha.

        Older commits keep their files: ``resolve/<old sha>/...`` still serves the old bytes.
        """
        with self._lock:
            repo = self.repos[repo_id]
            commit = self._make_commit(repo_id, repo.head.files, files, lfs, parent=repo.head.sha)
            repo.commits.append(commit)
            return commit.sha

    def set_access(self, repo_id: str, access: Access) -> None:
        """Switch who may read ``repo_id``.

        "private": every request answers RepoNotFound (401 without a token, 404 with one), as
        for a repo that does not exist. "gated": model info works, file downloads answer 403
        GatedRepo (the real hub lets anyone read a gated repo's info).
        """
        self.repos[repo_id].access = access

    def metadata(self, repo_id: str, revision: str = "main") -> dict[str, HubFile]:
        """The files of ``repo_id`` at ``revision``, with their sizes, sha256s and blob ids."""
        commit = self.repos[repo_id].resolve(revision)
        if commit is None:
            raise KeyError(revision)
        return dict(commit.files)

    def head(self, repo_id: str) -> str:
        """The commit sha "main" points at."""
        return self.repos[repo_id].head.sha

    def resolve_url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"

    # --- behaviours ----------------------------------------------------------------------------

    def corrupt(self, repo_id: str, path: str, data: bytes | None = None) -> bytes:
        """Serve other bytes for ``path`` (at every commit) while the metadata (size, sha256,
        ETag) stays that of the real content. Default: the newest content with its last byte
        flipped (same length). Returns the bytes now served."""
        real = self.repos[repo_id].head.files[path].data
        if data is None and not real:
            raise ValueError("an empty file has no byte to flip; pass data")
        wrong = data if data is not None else real[:-1] + bytes([real[-1] ^ 0xFF])
        self._wrong_bytes[(repo_id, path)] = wrong
        return wrong

    def drop_connection(self, repo_id: str, path: str, *, at: int, times: int | None = 1) -> None:
        """Hang up (no TLS close_notify) when serving ``path`` reaches file offset ``at``,
        ``times`` times (None: every time). Applies where the bytes come from: the CDN for LFS
        files, the hub for small ones."""
        with self._lock:
            self._drops[(repo_id, path)] = Drop(at, times)

    def stop_dropping(self, repo_id: str, path: str) -> None:
        with self._lock:
            self._drops.pop((repo_id, path), None)

    def requests_to(self, server: Server) -> list[HubRequest]:
        return [r for r in self.requests if r.server == server]

    # --- client side ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables for a subprocess using huggingface_hub against this hub (merge into
        os.environ). HF_ENDPOINT is read once, when huggingface_hub is imported."""
        return {
            "HF_ENDPOINT": self.endpoint,
            "SSL_CERT_FILE": str(self.ca_pem_path),
            "NO_PROXY": f"{HUB_HOST},{CDN_HOST}",
            "no_proxy": f"{HUB_HOST},{CDN_HOST}",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }

    def trust(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make huggingface_hub in this process trust the hub's certificate until the test ends.

        httpx2 (httpcore2.default_ssl_context) reads SSL_CERT_FILE when a client is built, and
        huggingface_hub shares one client (utils._http.get_session), so the shared client is
        closed now (rebuilt on next use) and again at teardown (by the fixture). HF_ENDPOINT is
        set for subprocesses only: this process read it at import, so pass ``endpoint=``.
        """
        from huggingface_hub import close_session

        for name, value in self.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        close_session()

    # --- servers -------------------------------------------------------------------------------

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.cert.configure_cert(context)
        ports = []
        for role in ("hub", "cdn"):
            handler = type(f"{role.title()}Handler", (_Handler,), {"hub": self, "role": role})
            httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            httpd.daemon_threads = False  # server_close() then joins every request thread
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
            thread.start()
            self._servers.append((httpd, thread))
            ports.append(httpd.server_address[1])
        self.endpoint = f"https://{HUB_HOST}:{ports[0]}"
        self.cdn_base = f"https://{CDN_HOST}:{ports[1]}"

    def stop(self) -> None:
        if "huggingface_hub" in sys.modules:
            # Close the client's pooled connections first: a request thread still writing to
            # an abandoned response would otherwise keep server_close() waiting.
            from huggingface_hub import close_session

            close_session()
        for httpd, thread in self._servers:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    # --- internals -----------------------------------------------------------------------------

    def _make_commit(
        self,
        repo_id: str,
        base: Mapping[str, HubFile],
        changes: Mapping[str, bytes | None],
        lfs: LfsRule,
        parent: str,
    ) -> Commit:
        files = dict(base)
        for path, data in changes.items():
            if data is None:
                files.pop(path, None)
                continue
            if lfs is None:
                is_lfs = default_lfs_rule(path) or len(data) > _LFS_MIN_SIZE
            else:
                is_lfs = lfs(path) if callable(lfs) else lfs
            files[path] = HubFile.make(path, data, is_lfs)
        tree = "".join(f"{f.blob_id} {p}\n" for p, f in sorted(files.items()))
        sha = hashlib.sha1(f"{repo_id}\nparent {parent}\n{tree}".encode()).hexdigest()
        # Strictly increasing dates, so lastModified orders commits even within one millisecond.
        date = datetime.now(UTC)
        repo = self.repos.get(repo_id)
        if repo is not None and date <= repo.head.date:
            date = repo.head.date + timedelta(milliseconds=1)
        return Commit(sha, files, date)

    def _record(self, role: Server, method: str, path: str, headers, status: int) -> None:
        self.requests.append(
            HubRequest(
                server=role,
                method=method,
                host=headers.get("Host", ""),
                path=path,
                range=headers.get("Range"),
                authorized=headers.get("Authorization") is not None,
                status=status,
            )
        )

    def _reply(self, role: Server, method: str, target: str, headers) -> _Reply:
        with self._lock:
            if role == "hub":
                return self._hub_reply(method, target, headers)
            return self._cdn_reply(method, target, headers)

    def _repo_or_error(self, repo_id: str, headers, *, download: bool) -> Repo | _Reply:
        repo = self.repos.get(repo_id)
        if repo is None or repo.access == "private":
            # The hub does not tell missing from private: 401 anonymous, 404 with a token.
            status = 404 if headers.get("Authorization") else 401
            return _error(status, "RepoNotFound", "Repository not found")
        if repo.access == "gated" and download:
            return _error(
                403,
                "GatedRepo",
                f"Access to model {repo_id} is restricted and you are not in the authorized list.",
            )
        return repo

    def _hub_reply(self, method: str, target: str, headers) -> _Reply:
        url = urlsplit(target)
        if match := _API_MODEL.fullmatch(url.path):
            repo = self._repo_or_error(unquote(match["repo"]), headers, download=False)
            if isinstance(repo, _Reply):
                return repo
            revision = unquote(match["rev"]) if match["rev"] else "main"
            commit = repo.resolve(revision)
            if commit is None:
                return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            blobs = parse_qs(url.query).get("blobs", [""])[0].lower() == "true"
            body = json.dumps(self._model_info(repo, commit, blobs=blobs)).encode()
            return _Reply(200, {"Content-Type": "application/json; charset=utf-8"}, body)
        if match := _RESOLVE.fullmatch(url.path):
            repo = self._repo_or_error(unquote(match["repo"]), headers, download=True)
            if isinstance(repo, _Reply):
                return repo
            revision = unquote(match["rev"])
            commit = repo.resolve(revision)
            if commit is None:
                return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            path = unquote(match["file"])
            file = commit.files.get(path)
            if file is None:
                # With X-Repo-Commit, as the real hub: the client caches the file's absence.
                return _error(
                    404, "EntryNotFound", f"{path} does not exist on \"{revision}\"",
                    **{"X-Repo-Commit": commit.sha},
                )  # fmt: skip
            common = {"X-Repo-Commit": commit.sha, "ETag": f'"{file.etag}"'}
            if file.lfs:
                token = secrets.token_hex(8)
                self._grants[token] = _Grant(repo.repo_id, path, file)
                name = quote(path.rsplit("/", 1)[-1])
                location = (
                    f"{self.cdn_base}/repos/{file.sha256}?token={token}"
                    f"&response-content-disposition=inline%3B+filename%2A%3DUTF-8%27%27{name}"
                )
                headers_out = {
                    **common,
                    "Location": location,
                    "X-Linked-Etag": f'"{file.sha256}"',
                    "X-Linked-Size": str(file.size),
                    "Content-Type": "text/plain; charset=utf-8",
                }
                return _Reply(302, headers_out, f"Found. Redirecting to {location}".encode())
            return self._serve(repo.repo_id, file, method, headers, common)
        return _error(404, None, "Sorry, we can't find the page you are looking for.")

    def _cdn_reply(self, method: str, target: str, headers) -> _Reply:
        url = urlsplit(target)
        match = _CDN_OBJECT.fullmatch(url.path)
        grant = self._grants.get(parse_qs(url.query).get("token", [""])[0])
        if match is None or grant is None or grant.file.sha256 != match["sha256"]:
            # Like S3 answering a URL whose signature does not match.
            body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            return _Reply(403, {"Content-Type": "application/xml"}, body)
        extra = {"ETag": f'"{grant.file.sha256}"'}
        name = quote(grant.path.rsplit("/", 1)[-1])
        extra["Content-Disposition"] = f"inline; filename*=UTF-8''{name}; filename=\"{name}\";"
        return self._serve(grant.repo_id, grant.file, method, headers, extra)

    def _serve(
        self, repo_id: str, file: HubFile, method: str, headers, extra: dict[str, str]
    ) -> _Reply:
        data = self._wrong_bytes.get((repo_id, file.path), file.data)
        out = {**extra, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        start, stop, status = 0, len(data), 200
        if match := _RANGE.fullmatch(headers.get("Range") or ""):
            start = int(match[1])
            stop = min(int(match[2]) + 1, len(data)) if match[2] else len(data)
            if start >= len(data) or start >= stop:
                return _Reply(416, {"Content-Range": f"bytes */{len(data)}"})
            status = 206
            out["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
        cut = None
        drop = self._drops.get((repo_id, file.path))
        if drop is not None and method == "GET" and start <= drop.at < stop:
            cut = drop.at - start
            if drop.times is not None:
                drop.times -= 1
                if drop.times <= 0:
                    del self._drops[(repo_id, file.path)]
        return _Reply(status, out, data[start:stop], cut)

    def _model_info(self, repo: Repo, commit: Commit, *, blobs: bool) -> dict:
        siblings = []
        for path, file in sorted(commit.files.items()):
            sibling: dict = {"rfilename": path}
            if blobs:  # only with ?blobs=true (HfApi.model_info(files_metadata=True))
                sibling["size"] = file.size
                sibling["blobId"] = file.blob_id
                if file.lfs:
                    sibling["lfs"] = {
                        "sha256": file.sha256,
                        "size": file.size,
                        "pointerSize": file.pointer_size,
                    }
            siblings.append(sibling)
        owner = repo.repo_id.split("/")[0] if "/" in repo.repo_id else None
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": owner,
            "sha": commit.sha,
            "lastModified": _iso(commit.date),
            "createdAt": _iso(repo.commits[0].date),
            "private": repo.access == "private",
            "gated": "manual" if repo.access == "gated" else False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "library_name": "onnx",
            "spaces": [],
            "siblings": siblings,
            "usedStorage": sum(f.size for f in commit.files.values()),
        }


class _Handler(http.server.BaseHTTPRequestHandler):
    hub: FakeHub
    role: Server
    timeout = 10  # a stuck client cannot keep a request thread (and teardown) waiting forever

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        reply = self.hub._reply(self.role, self.command, self.path, self.headers)
        # Recorded before answering, so a test reading hub.requests after the client returned
        # always sees the request.
        self.hub._record(self.role, self.command, self.path, self.headers, reply.status)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if head:
            return
        try:
            if reply.cut is None:
                self.wfile.write(reply.body)
                return
            self.wfile.write(reply.body[: reply.cut])
            self.wfile.flush()
            # Hang up mid-body without a TLS close_notify, like a dropped connection.
            self.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client went away first; nothing to report


@pytest.fixture(scope="session")
def fake_hub_tls(tmp_path_factory: pytest.TempPathFactory) -> FakeHubTls:
    ca = trustme.CA()
    pem = tmp_path_factory.mktemp("fake_hub_ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return FakeHubTls(ca, ca.issue_cert(HUB_HOST, CDN_HOST), pem)


@pytest.fixture
def fake_hub(fake_hub_tls: FakeHubTls) -> Iterator[FakeHub]:
    """A fresh hub + CDN for this test (no repos); call ``trust(monkeypatch)`` to use it."""
    before = set(threading.enumerate())
    hub = FakeHub(fake_hub_tls)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()
        # No server or request thread left (daemon ones, e.g. tqdm's monitor, are not ours).
        assert {t for t in threading.enumerate() if not t.daemon} <= before


@pytest.fixture
def trusted_fake_hub(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake_hub.trust(monkeypatch)
    return fake_hub


def tune_client(monkeypatch: pytest.MonkeyPatch, *, chunk_size: int | None = 16 * 1024) -> None:
    """Make huggingface_hub's own retry loop observable with files of a few hundred KB.

    http_get writes to disk only in chunks of constants.DOWNLOAD_CHUNK_SIZE (10 MiB) and loses
    a partial chunk when the connection breaks, so without a smaller chunk a small file always
    restarts from 0 (no Range); ``chunk_size=None`` keeps the client's. The waits are always
    skipped: http_get sleeps 1 s before each resume, and hf_hub_download, when the HEAD fails
    to connect (hub down, certificate refused) and no local copy exists, retries it with
    backoff (1+2+4+8+8 = 23 s). Both modules use their ``time`` import only to sleep.
    """
    from huggingface_hub import constants, file_download
    from huggingface_hub.utils import _http

    if chunk_size is not None:
        monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", chunk_size)
    no_wait = SimpleNamespace(sleep=lambda seconds: None)
    monkeypatch.setattr(file_download, "time", no_wait)
    monkeypatch.setattr(_http, "time", no_wait)
