"""The first run without a CLIP model: the window offers the default one and downloads it.

Real parts throughout: the main window over a fresh library home, the library's fetch (resolve
on the hub, download, verify, install int8) and the fake hub (tests/fake_hub.py), which serves the
default model's real file layout (a tiny Immich-style ONNX export) under a test manifest that
replaces the shipped ones (DESKTOP_SEARCH_MANIFESTS). The one addition is ``Stall``: it holds the
download's worker thread at a chosen byte, like a network that stops there, so a test can act
while bytes are half in without racing a local transfer that takes a fraction of a second.
"""

from __future__ import annotations

import os
import threading

import pytest
import tomli_w
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from desktop_search.app.library import Library
from desktop_search.errors import ModelDownloadError
from desktop_search.gui import main_window as mw
from desktop_search.gui.model_download import (
    CANCELLED,
    DOWNLOADING,
    FAILED,
    INSTALLED,
    INSTALLING,
    NOT_FETCHABLE,
    DownloadState,
    Offer,
    error_line,
    size_text,
)
from desktop_search.models.install import fetch as fetch_module
from tests.fake_hub import FakeHub
from tests.gui.conftest import PHOTOS, SCREENSHOTS

REPO = "test-org/tiny-clip-immich"
MODEL_ID = "tiny-default"
NAME = "Tiny CLIP (test)"
BIG_FILE = "textual/model.onnx"  # the largest file (13 MB)
TIMEOUT = 60_000


def default_manifest(files: dict[str, bytes]) -> dict:
    """Like models/vit-b-32-laion2b.toml: an unpinned hub source, sizes learnt at fetch time."""
    return {
        "schema": 1, "id": MODEL_ID, "kind": "clip", "name": NAME, "license": "MIT",
        "description": "the tiny test model, as the default", "default": True,
        "approximate_size": 18_000_000, "embedding_size": 64,
        "source": {
            "type": "hf", "repo": REPO, "revision": "main", "pinned": False,
            "files": [{"path": path} for path in files],
        },
        "preprocess": {
            "image_size": 224, "mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28],
            "resize_mode": "shortest", "interpolation": "bicubic",
            "tokenizer": "textual/tokenizer.json", "max_length": 77,
        },
        "install": {"format": "immich-onnx", "quantize": "int8"},
    }  # fmt: skip


class Stall:
    """Holds a fetch once ``at`` bytes (over all files) have arrived, until ``release()``.

    It wraps ``Library.fetch_model``'s progress callback, which the download calls on the
    worker thread after each block: held there, the transfer waits as on a stalled line, and a
    Cancel pressed meanwhile is seen at the next block.
    """

    def __init__(self) -> None:
        self.at: int | None = None
        self.held = threading.Event()
        self._go = threading.Event()

    def hold_at(self, at: int) -> None:
        """Hold at ``at`` (a fetch held elsewhere goes on up to there)."""
        previous, self._go = self._go, threading.Event()
        self.held.clear()
        self.at = at
        previous.set()

    def release(self) -> None:
        self.at = None
        self._go.set()

    def wrap(self, progress):  # noqa: ANN001, ANN201 - a progress callback
        def report(done: int, total: int) -> None:
            progress(done, total)
            go = self._go
            if self.at is not None and done >= self.at:
                self.held.set()
                go.wait(30)  # never longer: a failed test must not hang its teardown

        return report


@pytest.fixture
def stall(monkeypatch) -> Stall:
    stall = Stall()
    fetch = Library.fetch_model

    def stalling_fetch(self, model_id, *, progress=None, **kwargs):  # noqa: ANN001, ANN202
        return fetch(self, model_id, progress=stall.wrap(progress), **kwargs)

    monkeypatch.setattr(Library, "fetch_model", stalling_fetch)
    yield stall
    stall.release()


@pytest.fixture
def served_model(trusted_fake_hub: FakeHub, immich_files, tmp_path, monkeypatch) -> FakeHub:
    """The fake hub serving the default model (HF_ENDPOINT, set by ``trust``, points at it);
    the shipped manifests replaced by the test one."""
    hub = trusted_fake_hub
    hub.add_repo(REPO, immich_files)
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / f"{MODEL_ID}.toml").write_text(tomli_w.dumps(default_manifest(immich_files)))
    monkeypatch.setenv("DESKTOP_SEARCH_MANIFESTS", str(folder))
    monkeypatch.delenv("HF_TOKEN", raising=False)  # anonymous, as on a first run
    return hub


@pytest.fixture
def first_run(make_window, served_model, stall, tmp_path, qtbot):
    """A window over a fresh home: nothing indexed, no model; its live index running."""
    window = make_window(tmp_path / "home")
    qtbot.waitUntil(lambda: window.status is not None and window.live.running, timeout=TIMEOUT)
    assert window.state == mw.FIRST_RUN
    window.first_run.clear_folders()  # not the Pictures folder of whoever runs the tests
    return window


def offer_of(window):
    return window.first_run.model_offer


def phase(window) -> str:
    return window.model_download.state.phase


def remember_lines(window) -> list[str]:
    """Every line the offer showed from now on."""
    lines: list[str] = []
    window.model_download.changed.connect(lambda state: lines.append(state.line))
    return lines


def wait_phase(qtbot, window, wanted: str, timeout: int = TIMEOUT) -> None:
    qtbot.waitUntil(lambda: phase(window) == wanted, timeout=timeout)


def save_before_and_during(before: QImage, during: QImage) -> None:
    """docs/screenshots/first-run-model.png: the panel before and during the download, one
    above the other (when DESKTOP_SEARCH_SCREENSHOTS=1, like the other screenshots)."""
    if os.environ.get("DESKTOP_SEARCH_SCREENSHOTS") != "1":
        return
    gap = 12
    both = QImage(max(before.width(), during.width()), before.height() + gap + during.height(),
                  QImage.Format.Format_RGB32)  # fmt: skip
    both.fill(Qt.GlobalColor.white)
    painter = QPainter(both)
    painter.drawImage(0, 0, before)
    painter.drawImage(0, before.height() + gap, during)
    painter.end()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert both.save(str(SCREENSHOTS / "first-run-model.png"))


def test_the_panel_offers_the_model_before_anything_is_asked_of_the_hub(first_run, served_model):
    window = first_run
    offer = offer_of(window)
    assert offer is not None and offer.isVisible()
    assert window.first_run.model_note.isVisible()
    assert offer.details.text() == f"{NAME} · about 18 MB · licence: MIT"
    assert offer.details.textFormat() == Qt.TextFormat.PlainText
    assert offer.button.isVisible() and offer.button.isEnabled()
    assert offer.button.text() == "Download model"
    assert not offer.cancel_button.isVisible() and not offer.progress_bar.isVisible()
    assert "Hugging Face hub" in offer.where.text()
    # The banner holds the same offer for a window with folders; not while the panel shows.
    assert not window.model_banner.isVisible()
    assert served_model.requests == []  # opening the window asked the network nothing


def test_pressing_download_installs_it_and_encodes_what_was_catalogued(
    first_run, served_model, stall, photo_folder, qtbot, gui_screenshots
):
    window, hub = first_run, served_model
    before = window.first_run.grab().toImage()
    stall.hold_at(1_000_000)
    lines = remember_lines(window)
    offer = offer_of(window)
    qtbot.mouseClick(offer.button, Qt.LeftButton)
    assert phase(window) == DOWNLOADING and offer.cancel_button.isVisible()
    assert not offer.button.isVisible() and offer.progress_bar.isVisible()
    assert offer.line.text() == "Connecting to the model hub…"
    qtbot.waitUntil(stall.held.is_set, timeout=TIMEOUT)
    qtbot.wait(700)  # a line slower than a local one: the speed gets measured
    # Held again until the photos are catalogued: the model comes after them.
    stall.hold_at(3_000_000)
    qtbot.waitUntil(stall.held.is_set, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: " MB/s · about " in offer.line.text(), timeout=TIMEOUT)
    assert offer.line.text().startswith("3.0 of 18.1 MB · "), offer.line.text()
    assert hub.requests[0].path == f"/api/models/{REPO}/revision/main?blobs=true"
    during = window.first_run.grab().toImage()
    save_before_and_during(before, during)

    # Folders chosen while it downloads: the panel goes, the banner shows the same download.
    window.first_run.add_folder(photo_folder)
    qtbot.mouseClick(window.first_run.start_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: window.count_label.text()
        == f"{len(PHOTOS)} photos indexed, {len(PHOTOS)} waiting for a model",
        timeout=TIMEOUT,
    )  # fmt: skip
    banner = window.model_banner
    assert window.state != mw.FIRST_RUN and banner.isVisible()
    assert banner.cancel_button.isVisible() and banner.line.text() == offer.line.text()
    assert banner.details.text() == f"Downloading {NAME}:"
    window.grab().save(str(gui_screenshots / "first_run_model_banner.png"))
    stall.release()

    wait_phase(qtbot, window, INSTALLED)
    assert window.library.active_model_name == MODEL_ID
    assert lines[-1].startswith("Installed") and "Verifying and installing…" in lines
    # The live index encodes the catalogued photos with the new model (the status follows).
    qtbot.waitUntil(
        lambda: window.count_label.text() == f"{len(PHOTOS)} photos indexed", timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: window.status.pending == 0 and window.status.model == MODEL_ID,
                    timeout=TIMEOUT)  # fmt: skip
    assert window.status.embeddings == len(PHOTOS)
    assert not banner.isVisible()  # a model is active: nothing to offer any more


def test_with_folders_indexed_the_banner_offers_the_download(
    first_run, served_model, photo_folder, qtbot
):
    window = first_run
    window.first_run.add_folder(photo_folder)
    qtbot.mouseClick(window.first_run.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: f"{len(PHOTOS)} waiting for a model" in window.count_label.text(),
                    timeout=TIMEOUT)  # fmt: skip
    banner = window.model_banner
    assert banner.isVisible() and banner.button.text() == "Download model"
    assert banner.details.text() == (
        f"No CLIP model: photos are found by file name only. {NAME} · about 18 MB · licence: MIT"
    )
    assert served_model.requests == []
    qtbot.mouseClick(banner.button, Qt.LeftButton)
    wait_phase(qtbot, window, INSTALLED)
    qtbot.waitUntil(lambda: window.status.pending == 0 and window.status.model == MODEL_ID,
                    timeout=TIMEOUT)  # fmt: skip
    assert not banner.isVisible()


def test_cancel_keeps_the_partial_file_and_pressing_again_resumes_it(
    first_run, served_model, stall, qtbot
):
    window, hub = first_run, served_model
    stall.hold_at(1_000_000)  # a megabyte into textual/model.onnx, the second file
    offer = offer_of(window)
    qtbot.mouseClick(offer.button, Qt.LeftButton)
    qtbot.waitUntil(stall.held.is_set, timeout=TIMEOUT)
    qtbot.mouseClick(offer.cancel_button, Qt.LeftButton)
    assert offer.line.text() == "Cancelling…" and not offer.cancel_button.isEnabled()
    stall.release()  # the next block sees the cancel
    wait_phase(qtbot, window, CANCELLED)
    assert offer.line.text().startswith("Download cancelled. What arrived is kept")
    assert offer.details.text() == f"{NAME} · 18.1 MB · licence: MIT"  # the hub told the size
    assert offer.button.isVisible() and offer.button.text() == "Download model"
    assert not offer.progress_bar.isVisible() and not offer.cancel_button.isVisible()
    assert window.library.active_model_name is None
    downloads = window.library.models.models_dir / fetch_module.DOWNLOADS / MODEL_ID
    parts = [p for p in downloads.rglob("*.part") if p.stat().st_size >= 900_000]
    assert [p.name for p in parts] == ["model.onnx.part"], list(downloads.rglob("*"))
    kept = parts[0].stat().st_size

    hub.requests.clear()
    lines = remember_lines(window)
    qtbot.mouseClick(offer.button, Qt.LeftButton)
    wait_phase(qtbot, window, INSTALLED)
    assert window.library.active_model_name == MODEL_ID
    cdn = hub.requests_to("cdn")
    assert cdn[0].range == f"bytes={kept}-" and cdn[0].status == 206  # resumed, not restarted
    # The speed counts what arrives now, not the megabyte kept from before.
    assert not any(rate_over(line, 1000) for line in lines), lines
    assert not downloads.exists()  # installed: the download folder is gone


def rate_over(line: str, limit: float) -> bool:
    for part in line.split(" · "):
        if part.endswith(" MB/s") and float(part[:-5].replace(",", "")) > limit:
            return True
    return False


def test_a_repo_that_needs_a_token_says_so_and_can_be_tried_again(first_run, served_model, qtbot):
    window, hub = first_run, served_model
    hub.set_access(REPO, "private")  # what an anonymous client gets: 401 RepoNotFound
    offer = offer_of(window)
    qtbot.mouseClick(offer.button, Qt.LeftButton)
    wait_phase(qtbot, window, FAILED)
    line = offer.line.text()
    assert line.startswith(f"the model hub does not give {REPO} (HTTP 401"), line
    assert "set HF_TOKEN or run 'hf auth login'" in line and "\n" not in line
    assert offer.line.textFormat() == Qt.TextFormat.PlainText
    assert offer.button.isVisible() and offer.button.text() == "Try again"
    assert not offer.progress_bar.isVisible() and not offer.cancel_button.isVisible()
    assert [r.status for r in hub.requests] == [401]

    hub.set_access(REPO, "public")  # e.g. a token was set meanwhile
    qtbot.mouseClick(offer.button, Qt.LeftButton)
    wait_phase(qtbot, window, INSTALLED)
    assert window.library.active_model_name == MODEL_ID
    assert offer.line.text().startswith("Installed")
    assert not window.first_run.model_note.isVisible()


def test_closing_the_window_stops_a_download_it_runs(first_run, stall, qtbot):
    window = first_run
    stall.hold_at(1_000_000)
    qtbot.mouseClick(offer_of(window).button, Qt.LeftButton)
    qtbot.waitUntil(stall.held.is_set, timeout=TIMEOUT)
    # The line goes on a moment later (the stall ends): the next block sees the cancel.
    later = threading.Timer(0.3, stall.release)
    later.start()
    window.shutdown(wait_ms=20_000)
    later.join()
    assert window.pool.pool.activeThreadCount() == 0  # the download did not outlive the window
    assert window.library.active_model_name is None
    downloads = window.library.models.models_dir / fetch_module.DOWNLOADS / MODEL_ID
    assert any(p.stat().st_size >= 900_000 for p in downloads.rglob("*.part"))  # for next time


# -- the state the widgets render (no Qt) ------------------------------------------------------

OFFER = Offer("vit", "CLIP ViT-B/32 (LAION-2B)", "MIT", "about 607 MB", fetchable=True)


def test_sizes_before_a_fetch_are_estimates_and_after_one_exact() -> None:
    assert size_text(None, 607_000_000) == "about 607 MB"
    assert size_text(605_023_113, 607_000_000) == "605.0 MB"
    assert size_text(None, None) == "size unknown"
    assert OFFER.details == "CLIP ViT-B/32 (LAION-2B) · about 607 MB · licence: MIT"


def test_what_each_phase_shows() -> None:
    offered = DownloadState(OFFER)
    assert (offered.button_text, offered.button_shown, offered.busy) == (
        "Download model", True, False,
    )  # fmt: skip
    assert offered.line == "" and not offered.can_cancel
    started = DownloadState(OFFER, phase=DOWNLOADING)
    assert started.line == "Connecting to the model hub…" and started.fraction is None
    assert started.can_cancel and not started.button_shown
    going = DownloadState(OFFER, phase=DOWNLOADING, done=120_500_000, total=605_000_000,
                          progress="120.5 of 605.0 MB · 4.2 MB/s · about 2 min left")  # fmt: skip
    assert going.line == "120.5 of 605.0 MB · 4.2 MB/s · about 2 min left"
    assert round(going.fraction, 3) == 0.199
    installing = DownloadState(OFFER, phase=INSTALLING, done=1, total=1)
    assert installing.fraction is None and not installing.can_cancel and installing.busy
    failed = DownloadState(OFFER, phase=FAILED, error="cannot reach the model hub")
    assert (failed.button_text, failed.line) == ("Try again", "cannot reach the model hub")
    unfetchable = DownloadState(Offer("x", "X", "MIT", "about 1 MB", fetchable=False))
    assert unfetchable.line == NOT_FETCHABLE and not unfetchable.button_enabled


def test_an_error_is_one_line() -> None:
    error = ModelDownloadError("cannot reach the model hub at https://hub\n(timed out)",
                               hint="check the connection")  # fmt: skip
    assert error_line(error) == (
        "cannot reach the model hub at https://hub (timed out) — check the connection"
    )
    assert error_line(RuntimeError("boom")) == "Download failed: RuntimeError: boom"
