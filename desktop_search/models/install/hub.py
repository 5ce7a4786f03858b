"""Model files from the Hugging Face hub, pinned by the hub's own metadata when a manifest is not.

``huggingface_hub`` speaks the hub's API: it resolves a revision to a commit with every file's
metadata (size; sha256 of LFS files; git blob id), builds ``resolve`` URLs for the endpoint
(``HF_ENDPOINT`` mirrors), gives the token for gated repos (``HF_TOKEN``, ``hf auth login``) and
honours ``HF_HUB_OFFLINE``. The bytes are moved by the project's own downloader
(:mod:`desktop_search.models.install.download`), not by ``hf_hub_download``: in
huggingface_hub 2.4 a failed or cancelled transfer deletes its ``.incomplete`` file (and keeps
only whole 10 MiB chunks), so a download could not resume after Cancel or after quitting the
app; ours keeps a ``.part`` file and resumes it with a Range request, follows the 302 to the CDN
over https only (the token is not sent to another host) and hashes as it writes.

What huggingface_hub would verify itself is the size; every file is verified here against the
metadata of one commit: size, and sha256 for LFS files or the git blob id for small files. A
manifest's own pin (size + sha256) wins over the hub's word.

Only ``models fetch`` and the window's download button import this module: ``huggingface_hub``
(and its HTTP stack) never loads on the search or index path.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, constants, hf_hub_url
from huggingface_hub import errors as hub_errors
from huggingface_hub.utils import build_hf_headers

from desktop_search.errors import FetchCancelled, ModelDownloadError, ModelError
from desktop_search.models.install.download import HttpStatusError, Progress
from desktop_search.models.install.download import download as transfer
from desktop_search.models.install.files import hash_into, sha256_file
from desktop_search.models.install.manifest import Manifest

log = logging.getLogger(__name__)


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
# Room for the download plus the int8 copy the install makes of it (a quarter of the fp32 size)
# and the temporary fp32 copy quantisation writes next to it: twice the download, rounded up.
SPACE_FACTOR = 2.2
IMPORT_HINT = "or install a model you have with 'desktop-search models import FOLDER'"
OFFLINE_HINT = (
    "check the connection; behind a firewall set HF_ENDPOINT to a mirror of the hub, "
    + IMPORT_HINT
)


@dataclass(frozen=True)
class HubFile:
    """One file of a resolved source: what the hub (or the manifest's pin) says it must be."""

    path: str
    size: int
    sha256: str | None  # LFS files (and every file a manifest pins)
    blob_id: str | None  # the git blob id: the hub's checksum of small, non-LFS files


@dataclass(frozen=True)
class ResolvedSource:
    """A manifest's files at one commit of its repository."""

    repo: str
    revision: str  # what was asked for: a branch, a tag or a commit
    commit: str
    files: tuple[HubFile, ...]

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class FetchedFile:
    """A downloaded, verified file: recorded in the installed model's model.json."""

    path: str
    size: int
    sha256: str
    blob_id: str | None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"size": self.size, "sha256": self.sha256}
        if self.blob_id:
            record["blob_id"] = self.blob_id
        return record


def git_blob_id(path: Path) -> str:
    """The git object id of a file's content (sha1 of ``blob <size>\\0`` + bytes)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(b"blob %d\0" % path.stat().st_size)
    hash_into(digest, path)
    return digest.hexdigest()


def resolve(
    manifest: Manifest, *, commit: str | None = None, endpoint: str | None = None
) -> ResolvedSource:
    """The commit the manifest's revision (or ``commit``) names now, with its files' metadata.

    One API call (model info with file metadata). A file the manifest pins keeps the manifest's
    size and sha256; a manifest pinned to a commit cannot be fetched at another one.
    """
    source = manifest.source
    if source is None or source.type != "hf" or source.repo is None:
        raise ModelError(f"{manifest.id} does not come from the model hub")
    if commit is not None and not _COMMIT_RE.match(commit):
        raise ModelError(
            f"--commit must be a full 40-character commit id, got {commit!r}",
            hint="copy it from 'desktop-search models list --json' of the install to reproduce",
        )
    revision = commit or source.revision or "main"
    pinned_commit = source.revision if _COMMIT_RE.match(source.revision or "") else None
    if commit and pinned_commit and commit != pinned_commit:
        raise ModelError(
            f"the manifest of {manifest.id} pins commit {pinned_commit}; it cannot be fetched at "
            f"{commit}"
        )
    _refuse_offline_mode()
    endpoint = hub_endpoint(endpoint)
    try:
        info = HfApi(endpoint=endpoint).model_info(
            source.repo, revision=revision, files_metadata=True
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes one actionable line
        raise hub_error(exc, source.repo, endpoint) from exc
    siblings = {s.rfilename: s for s in info.siblings or []}
    files = []
    for wanted in source.files:
        sibling = siblings.get(wanted.path)
        if sibling is None:
            raise ModelDownloadError(
                f"{source.repo} has no file {wanted.path} at {revision} (commit {info.sha})",
                hint="the repository changed: update desktop-search, " + IMPORT_HINT,
            )
        lfs_sha = sibling.lfs.sha256 if sibling.lfs is not None else None
        size = sibling.lfs.size if sibling.lfs is not None else sibling.size
        if size is None or (lfs_sha is None and sibling.blob_id is None):
            raise ModelDownloadError(
                f"the model hub gave no checksum for {source.repo}/{wanted.path}",
                hint="try again later, " + IMPORT_HINT,
            )
        if wanted.pinned:  # the manifest's pin wins: the bytes must match it, not the hub
            size, lfs_sha = int(wanted.size or 0), wanted.sha256
        files.append(HubFile(wanted.path, int(size), lfs_sha, sibling.blob_id))
    return ResolvedSource(source.repo, revision, str(info.sha), tuple(files))


def download(
    resolved: ResolvedSource,
    dest_dir: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    endpoint: str | None = None,
    announce: Callable[[HubFile], None] | None = None,
) -> list[FetchedFile]:
    """Download every file of ``resolved`` at its commit into ``dest_dir`` and verify it.

    ``progress(done, total)`` counts bytes over all files; ``cancel`` set stops at the next block
    (FetchCancelled; the ``.part`` file stays and the next attempt, in this process or a later
    one, resumes it with a Range request). A file that does not verify is deleted and nothing
    else is downloaded (ModelDownloadError).
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_free_space(resolved, dest_dir)
    headers = build_hf_headers()  # the token of HF_TOKEN or 'hf auth login', if any
    endpoint = hub_endpoint(endpoint)
    total = resolved.total_size
    fetched: list[FetchedFile] = []
    finished = 0
    for file in resolved.files:
        if announce:
            announce(file)

        def file_progress(done: int, _size: int, base: int = finished) -> None:
            if cancel is not None and cancel.is_set():
                raise FetchCancelled("download cancelled", hint="fetch again to resume it")
            if progress:
                progress(base + done, total)

        url = hf_hub_url(resolved.repo, file.path, revision=resolved.commit, endpoint=endpoint)
        try:
            local = transfer(
                url, dest_dir / file.path, size=file.size, sha256=file.sha256,
                progress=file_progress, headers=headers, name=f"{resolved.repo}/{file.path}",
            )  # fmt: skip
        except HttpStatusError as exc:
            raise _file_refused(exc.status, resolved, file) from exc
        except OSError as exc:
            raise _disk_error(exc, resolved, dest_dir) from exc
        fetched.append(verify_file(local, file, resolved.repo))
        finished += file.size
    return fetched


def verify_file(local: Path, expected: HubFile, repo: str) -> FetchedFile:
    """Check a downloaded file against its metadata; a mismatch deletes it (nothing installed)."""
    size = local.stat().st_size
    sha256 = sha256_file(local)
    problem = None
    if size != expected.size:
        problem = f"{size} bytes instead of {expected.size}"
    elif expected.sha256 is not None and sha256 != expected.sha256.lower():
        problem = "its sha256 does not match"
    elif expected.sha256 is None and git_blob_id(local) != expected.blob_id:
        problem = "its git blob id does not match"
    if problem:
        local.unlink(missing_ok=True)
        raise _mismatch(repo, expected.path, problem)
    return FetchedFile(expected.path, size, sha256, expected.blob_id)


def _mismatch(repo: str, path: str, problem: str) -> ModelDownloadError:
    return ModelDownloadError(
        f"the download of {repo}/{path} does not match the hub's checksum ({problem}); it was "
        "deleted and nothing was installed",
        hint="try again; if it persists, the mirror or a proxy alters files: " + IMPORT_HINT,
    )


def check_free_space(resolved: ResolvedSource, folder: Path) -> None:
    """Refuse before downloading when the disk cannot hold the download and its install."""
    present = sum(
        (folder / f.path).stat().st_size for f in resolved.files if (folder / f.path).is_file()
    )
    needed = int(resolved.total_size * SPACE_FACTOR) - present
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ModelDownloadError(
            f"not enough disk space for {resolved.repo}: about {_mb(needed)} needed in {folder}, "
            f"{_mb(free)} free",
            hint="free some space there (or move the library with --home) and fetch again",
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def hub_endpoint(endpoint: str | None = None) -> str:
    """The hub to ask: ``endpoint``, else ``HF_ENDPOINT`` as it is now (huggingface_hub reads it
    once, at import), else huggingface.co."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _refuse_offline_mode() -> None:
    # Read now, not at import like huggingface_hub.constants: a test or a long-lived app may set it.
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}
    if offline or constants.HF_HUB_OFFLINE:
        raise ModelDownloadError(
            "the model hub is switched off here (HF_HUB_OFFLINE is set)",
            hint="unset HF_HUB_OFFLINE to fetch, " + IMPORT_HINT,
        )


def _file_refused(status: int, resolved: ResolvedSource, file: HubFile) -> ModelDownloadError:
    """What an HTTP error on a file of a repo the API described means to the person."""
    if status in (401, 403):  # model info is public for gated repos; their files are not
        return ModelDownloadError(
            f"{resolved.repo} is gated on the model hub (HTTP {status} for {file.path}): it needs "
            "your token",
            hint="accept its terms on the hub, then set HF_TOKEN or run 'hf auth login'",
        )
    if status == 404:
        return ModelDownloadError(
            f"{file.path} is gone from {resolved.repo} at commit {resolved.commit} (HTTP 404)",
            hint="the repository changed: fetch again, or update desktop-search, " + IMPORT_HINT,
        )
    return ModelDownloadError(f"the model hub answered HTTP {status} for {file.path}",
                              hint="try again later, " + IMPORT_HINT)  # fmt: skip


def _disk_error(exc: OSError, resolved: ResolvedSource, dest_dir: Path) -> ModelDownloadError:
    if exc.errno == errno.ENOSPC:  # the disk filled up meanwhile
        return ModelDownloadError(
            f"the disk filled up while downloading {resolved.repo} into {dest_dir}",
            hint=f"free about {_mb(int(resolved.total_size * SPACE_FACTOR))} there and fetch "
            "again (the download resumes)",
        )
    return ModelDownloadError(f"cannot write the download into {dest_dir} ({exc})",
                              hint="check that the folder is writable")  # fmt: skip


def hub_error(exc: BaseException, repo: str, endpoint: str | None) -> ModelDownloadError:
    """One actionable line for whatever the hub client raised."""
    if isinstance(exc, ModelDownloadError):
        return exc
    where = hub_endpoint(endpoint)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, hub_errors.OfflineModeIsEnabled):
        return ModelDownloadError(
            "the model hub is switched off here (HF_HUB_OFFLINE is set)",
            hint="unset HF_HUB_OFFLINE to fetch, " + IMPORT_HINT,
        )
    if isinstance(exc, hub_errors.GatedRepoError):
        return ModelDownloadError(
            f"{repo} is gated on the model hub (HTTP {status}): it needs your token",
            hint="accept its terms on the hub, then set HF_TOKEN or run 'hf auth login'",
        )
    if isinstance(exc, hub_errors.RepositoryNotFoundError):
        return ModelDownloadError(
            f"the model hub does not give {repo} (HTTP {status}: private, gated or gone)",
            hint="if it needs a token set HF_TOKEN or run 'hf auth login'; otherwise update "
            "desktop-search, " + IMPORT_HINT,
        )
    if isinstance(exc, hub_errors.RevisionNotFoundError):
        return ModelDownloadError(
            f"{repo} has no such revision (HTTP {status})",
            hint="check the commit id, " + IMPORT_HINT,
        )
    if isinstance(exc, hub_errors.EntryNotFoundError) and not isinstance(
        exc, hub_errors.LocalEntryNotFoundError
    ):
        return ModelDownloadError(
            f"a file of {repo} is gone from the model hub (HTTP {status or 404})",
            hint="the repository changed: update desktop-search, " + IMPORT_HINT,
        )
    if isinstance(exc, hub_errors.HfHubHTTPError) and status is not None:
        return ModelDownloadError(
            f"the model hub answered HTTP {status} for {repo}",
            hint="try again later, " + IMPORT_HINT,
        )
    return ModelDownloadError(
        f"cannot reach the model hub at {where} ({_reason(exc)})", hint=OFFLINE_HINT
    )


def _reason(exc: BaseException) -> str:
    """The innermost cause's text: 'connection refused', not a wrapper's paragraph."""
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen).strip().splitlines()[0] if str(seen).strip() else type(seen).__name__
    return text[:200]
