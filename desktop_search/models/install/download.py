"""Verified, resumable HTTPS downloads of model files (stdlib only: urllib + ssl).

Nothing is installed unless its size and sha256 match the manifest: a file is downloaded to
``NAME.part`` (resumed with an HTTP Range request after an interruption), checked, and only
then moved into place with ``os.replace``.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from desktop_search.errors import ModelDownloadError, ModelError
from desktop_search.models.install.files import hash_into, sha256_file
from desktop_search.models.install.manifest import Manifest, offline_root
from desktop_search.platform import private

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

CHUNK = 1 << 16
USER_AGENT = "desktop-search (model fetch)"
IMPORT_HINT = (
    "check the connection, or install the model offline with 'desktop-search models import ...'"
)
_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _Interrupted(Exception):
    """The transfer stopped early; what arrived is kept in the .part file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (the hub redirects to its CDN) but never to anything but https."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        if urlsplit(newurl).scheme != "https":
            raise ModelDownloadError(
                f"refusing to follow a redirect from {req.full_url} to {newurl} (not https)",
                hint=IMPORT_HINT,
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            # A token for the hub is not for its CDN (or whoever a redirect names).
            new.remove_header("Authorization")
        return new


def _opener(ssl_context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    context = ssl_context or ssl.create_default_context()
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _HttpsOnlyRedirects()
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
        if not isinstance(exc, urllib.error.URLError):
            return _reason(exc)
        return str(exc.reason)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else type(exc).__name__


class HttpStatusError(ModelDownloadError):
    """The server answered a download with an HTTP error (``status``): callers that know the
    server (the hub) can say what it means."""

    def __init__(self, message: str, hint: str | None, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


def _network_error(name: str, exc: BaseException | str) -> ModelDownloadError:
    reason = exc if isinstance(exc, str) else _reason(exc)
    if isinstance(exc, urllib.error.HTTPError):
        return HttpStatusError(f"cannot download {name} ({reason})", IMPORT_HINT, exc.code)
    return ModelDownloadError(f"cannot download {name} ({reason})", hint=IMPORT_HINT)


def _tampered(name: str, problem: str) -> ModelDownloadError:
    return ModelDownloadError(
        f"the download of {name} is corrupted or was tampered with ({problem}); "
        "nothing was installed",
        hint="try again later; if it persists, install the model offline with "
        "'desktop-search models import ...'",
    )


def _transfer(
    opener: urllib.request.OpenerDirector,
    url: str,
    part: Path,
    *,
    size: int,
    timeout: float,
    progress: Progress | None,
    name: str,
    headers: dict[str, str] | None = None,
) -> hashlib._Hash:
    """One request: append to ``part`` (or restart it); returns the hash of the whole part file.

    Raises _Interrupted when the connection drops (the part keeps what arrived).
    """
    offset = part.stat().st_size if part.exists() else 0
    if offset > size:
        log.info("%s: partial download larger than the file, starting over", name)
        part.unlink()
        offset = 0
    digest = hashlib.sha256()
    if offset == size:
        hash_into(digest, part)
        return digest

    request = urllib.request.Request(url, headers={**(headers or {}), "User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # The server cannot serve the rest of what we have: start over.
            log.info("%s: server refused to resume (416), starting over", name)
            part.unlink(missing_ok=True)
            raise _Interrupted("range not satisfiable") from exc
        raise _network_error(name, exc) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _network_error(name, exc) from exc

    with response:
        if response.status == 206:
            match = _CONTENT_RANGE_RE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise _Interrupted("server sent an unexpected range")
            mode = "ab"
            hash_into(digest, part)
        else:
            if offset:
                log.info("%s: server ignored the Range request, starting over", name)
            offset = 0
            mode = "wb"
        done = offset
        if progress:
            progress(done, size)
        try:
            with private.open_private(part, mode) as out:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    if done + len(block) > size:
                        out.close()
                        part.unlink(missing_ok=True)
                        raise _tampered(name, f"the server sent more than {size} bytes")
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(done, size)
        except (OSError, http.client.HTTPException) as exc:
            # Includes timeouts, resets and TLS EOFs mid-body: keep the part, resume later.
            raise _Interrupted(_reason(exc)) from exc
    if done < size:
        raise _Interrupted(f"connection closed after {done} of {size} bytes")
    return digest


def download(
    url: str,
    target: Path,
    *,
    size: int,
    sha256: str | None,
    progress: Progress | None = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30,
    retries: int = 3,
    name: str | None = None,
    headers: dict[str, str] | None = None,
) -> Path:
    """Download ``url`` to ``target`` if and only if it has ``size`` bytes and ``sha256``.

    ``sha256`` None: only the size is checked here and the caller verifies the content (the
    hub's small files carry a git blob id instead). ``headers`` (e.g. a hub token) are sent to
    ``url``'s host only, not to another host it redirects to.

    Resumes from ``target.part`` (HTTP Range); after a dropped connection it retries up to
    ``retries`` times, resuming each time. ``progress(done, size)`` is called as bytes arrive.
    An existing ``target`` that already verifies is kept. Raises ModelError for a non-https URL
    and ModelDownloadError for network failures and for content that does not verify (the part
    file is deleted and nothing is installed).
    """
    target = Path(target)
    name = name or target.name
    if urlsplit(url).scheme != "https":
        raise ModelError(
            f"refusing to download {name} from {url}: only https:// URLs are allowed",
            hint="fix the model manifest",
        )
    sha256 = sha256.lower() if sha256 else None
    if (target.is_file() and target.stat().st_size == size and sha256
            and sha256_file(target) == sha256):  # fmt: skip
        if progress:
            progress(size, size)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(target.suffix + ".part")
    opener = _opener(ssl_context)
    restarted = False
    attempt = 0
    while True:
        resumed = part.exists() and part.stat().st_size > 0
        try:
            digest = _transfer(
                opener, url, part, size=size, timeout=timeout, progress=progress, name=name,
                headers=headers,
            )
        except _Interrupted as exc:
            attempt += 1
            if attempt > retries:
                raise _network_error(name, exc.reason) from None
            log.info("%s: %s; resuming (attempt %d of %d)", name, exc.reason, attempt, retries)
            continue
        actual_size = part.stat().st_size
        if actual_size == size and sha256 in (None, digest.hexdigest()):
            os.replace(part, target)
            return target
        part.unlink(missing_ok=True)
        if resumed and not restarted:
            # A stale .part (e.g. from another version of the file) spoils the hash: retry
            # once from scratch before calling the server's content bad.
            log.info("%s: resumed download does not verify, downloading again", name)
            restarted = True
            continue
        problem = (
            f"{actual_size} bytes instead of {size}"
            if actual_size != size
            else "its sha256 does not match the expected one"
        )
        raise _tampered(name, problem)


def fetch_files(
    manifest: Manifest,
    dest_dir: Path,
    progress: Progress | None = None,
    ssl_context: ssl.SSLContext | None = None,
    *,
    timeout: float = 30,
) -> dict[str, Path]:
    """Download every file of ``manifest``'s source into ``dest_dir`` (same relative paths).

    Returns ``{manifest path: local file}``. ``progress(done, total)`` counts bytes over all
    files. Refuses a manifest without pinned checksums or without a network source.
    """
    source = manifest.source
    if source is None:
        package = manifest.offline.pypi if manifest.offline else "its package"
        raise ModelError(
            f"{manifest.id} has no download source",
            hint=f"install it with: pip install {package}",
        )
    if not manifest.pinned:
        raise ModelError(
            f"the manifest of {manifest.id} does not pin checksums yet, so its files cannot be "
            "verified and are not downloaded",
            hint="use 'desktop-search models import ...' with files you obtained yourself",
        )
    dest_dir = Path(dest_dir)
    total = sum(f.size or 0 for f in source.files)
    finished = 0

    def file_progress(done: int, _size: int) -> None:
        if progress:
            progress(finished + done, total)

    result = {}
    for file in source.files:
        assert file.size is not None and file.sha256 is not None  # pinned
        result[file.path] = download(
            source.url_for(file),
            dest_dir / file.path,
            size=file.size,
            sha256=file.sha256,
            progress=file_progress,
            ssl_context=ssl_context,
            timeout=timeout,
            name=f"{manifest.id}: {file.path}",
        )
        finished += file.size
    return result


def offline_files(manifest: Manifest) -> Path | None:
    """The folder of ``manifest``'s files inside its installed PyPI package, verified.

    None when the manifest has no offline source or the package is not installed; ModelError
    when the package is installed but a file is missing or does not match its sha256.
    """
    root = offline_root(manifest)
    if root is None or manifest.offline is None:
        return None
    problems = []
    for file in manifest.offline.files:
        path = root / file.path
        if not path.is_file():
            problems.append(f"{file.path} is missing")
        elif path.stat().st_size != file.size or sha256_file(path) != file.sha256:
            problems.append(f"{file.path} does not match the manifest")
    if problems:
        raise ModelError(
            f"the installed package {manifest.offline.pypi} does not hold the files of "
            f"{manifest.id}: {'; '.join(problems)}",
            hint=f"reinstall it: pip install --force-reinstall {manifest.offline.pypi}",
        )
    return root
