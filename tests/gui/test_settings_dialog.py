"""The settings dialog over a real Library home: values round trip, folders, models, fetch."""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tomli_w
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop_search.app.library import Library
from desktop_search.config import Settings
from desktop_search.errors import FetchCancelled, ModelDownloadError
from desktop_search.gui.model_download import CANCELLED_LINE
from desktop_search.gui.settings_dialog import UNPINNED_REASON, SettingsDialog
from desktop_search.models.install.fetch import remember_resolved
from desktop_search.models.install.manifest import MANIFEST_PACKAGE, MANIFESTS_ENV
from desktop_search.platform import autostart
from desktop_search.platform.desktop_file import exec_value, launcher


@pytest.fixture
def xdg_config(tmp_path, monkeypatch) -> Path:
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def library(home):
    library = Library.open(home)
    yield library
    library.close()


def open_dialog(qtbot, library, pool, **kwargs) -> SettingsDialog:
    dialog = SettingsDialog(library, pool, **kwargs)
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    return dialog


def settle(qtbot, dialog: SettingsDialog) -> None:
    """Wait until the dialog's background tasks returned and their results were shown."""
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)


def install_model(source: Path, models: Path, name: str) -> None:
    """Copy an installed model folder under another id (model.json names it)."""
    target = models / name
    shutil.copytree(source, target)
    meta = json.loads((target / "model.json").read_text())
    meta["id"] = name
    (target / "model.json").write_text(json.dumps(meta))


def write_photo(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path, quality=90)
    return path


# -- values ----------------------------------------------------------------------------------


def test_settings_round_trip_through_a_new_library(qtbot, home, library, pool, xdg_config):
    dialog = open_dialog(qtbot, library, pool)
    assert dialog.keep_in_tray_check.isChecked() == library.settings.keep_in_tray
    assert not dialog.start_at_login_check.isChecked()
    assert dialog.threads_spin.value() == 0
    assert dialog.threads_spin.text().startswith("All cores")
    assert dialog.threads_spin.maximum() == (os.cpu_count() or 1)

    dialog.exclude_edit.setPlainText("*.tmp\n\n   **/private/**  \n*.tmp\n")
    dialog.threads_spin.setValue(1)
    assert dialog.documents_check.isChecked() == library.settings.index_documents
    assert dialog.photo_text_check.isChecked() == library.settings.read_text_in_photos
    dialog.documents_check.setChecked(False)
    dialog.photo_text_check.setChecked(True)
    dialog.start_at_login_check.setChecked(True)
    dialog.keep_in_tray_check.setChecked(False)
    with qtbot.waitSignal(dialog.settings_saved):
        dialog.apply_button.click()
    assert dialog.save_status.text() == ""
    assert dialog.exclude_edit.toPlainText() == "*.tmp\n**/private/**"

    entry = xdg_config / "autostart" / "desktop-search.desktop"
    assert entry.is_file()
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    # This installation by its absolute command (desktop_file.launcher), hidden in the tray.
    assert exec_line == "Exec=" + exec_value([*launcher(), "gui", "--hidden"])
    assert autostart.autostart_enabled()
    dialog.close()
    library.close()

    reopened = Library.open(home)
    try:
        assert reopened.settings.exclude == ["*.tmp", "**/private/**"]
        again = open_dialog(qtbot, reopened, pool)
        assert again.exclude_patterns() == ["*.tmp", "**/private/**"]
        assert again.threads_spin.value() == 1
        assert not again.documents_check.isChecked() and again.photo_text_check.isChecked()
        assert not reopened.settings.index_documents and reopened.settings.read_text_in_photos
        assert again.start_at_login_check.isChecked()
        assert not again.keep_in_tray_check.isChecked()

        again.start_at_login_check.setChecked(False)
        again.keep_in_tray_check.setChecked(True)
        again.ok_button.click()
        assert again.result() == QDialog.DialogCode.Accepted
        assert not entry.exists()
        assert not autostart.autostart_enabled()
    finally:
        reopened.close()
    third = Library.open(home)
    try:
        assert third.settings.keep_in_tray and not third.settings.start_at_login
        assert third.settings.index_threads == 1
    finally:
        third.close()


def test_cancel_discards_the_edits(qtbot, home, library, pool, xdg_config):
    dialog = open_dialog(qtbot, library, pool)
    config_before = (home / "config.toml").read_text() if (home / "config.toml").exists() else ""
    dialog.exclude_edit.setPlainText("*.raw")
    dialog.threads_spin.setValue(1)
    dialog.start_at_login_check.setChecked(True)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert library.settings.exclude == [] and library.settings.index_threads == 0
    assert not library.settings.start_at_login
    config_after = (home / "config.toml").read_text() if (home / "config.toml").exists() else ""
    assert config_after == config_before
    assert not (xdg_config / "autostart" / "desktop-search.desktop").exists()


def test_a_save_that_fails_is_shown_and_keeps_the_old_values(qtbot, home, library, pool):
    dialog = open_dialog(qtbot, library, pool)
    (home / "config.toml").mkdir()  # the settings file cannot be replaced by a folder's name
    dialog.exclude_edit.setPlainText("*.raw")
    dialog.ok_button.click()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.save_status.text().startswith("Settings not saved:")
    assert "\n" not in dialog.save_status.text()
    assert library.settings.exclude == []


# -- folders ---------------------------------------------------------------------------------


def test_adding_a_folder_emits_folder_added(qtbot, library, pool, tmp_path):
    photos = tmp_path / "Pictures"
    photos.mkdir()
    dialog = open_dialog(qtbot, library, pool, choose_folder=lambda parent: str(photos))
    assert dialog.folders() == []
    with (
        qtbot.waitSignal(dialog.folder_added) as added,
        qtbot.waitSignal(dialog.folders_changed),
    ):
        dialog.add_folder_button.click()
    assert added.args == [photos]
    assert dialog.folders() == [str(photos)]
    assert "to be indexed" in dialog.folder_list.item(0).text()

    # Adding it twice does nothing; a cancelled chooser does nothing.
    with qtbot.assertNotEmitted(dialog.folder_added):
        dialog.add_folder_button.click()
        dialog.folders_tab.choose_folder = lambda parent: ""
        dialog.add_folder_button.click()
    assert dialog.folders() == [str(photos)]

    # Once indexed it is a root: the reloaded list shows it as such.
    write_photo(photos / "a.jpg")
    library.index([photos])
    dialog.reload_folders()
    settle(qtbot, dialog)
    assert dialog.folders() == [str(photos)]
    assert dialog.folder_list.item(0).text() == str(photos)


def test_removing_a_folder_calls_remove_root_after_confirmation(
    qtbot, library, pool, tmp_path, gui_screenshots
):
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    for number, folder in enumerate((kept, dropped)):
        folder.mkdir()
        write_photo(folder / f"p{number}.jpg", seed=number)
    library.index([kept, dropped])
    questions = []
    answers = iter([False, True])

    def confirm(parent, title, text):
        questions.append(text)
        return next(answers)

    dialog = open_dialog(qtbot, library, pool, confirm=confirm)
    assert dialog.folders() == sorted([str(kept), str(dropped)])
    dialog.folder_list.setCurrentRow(dialog.folders().index(str(dropped)))
    assert dialog.remove_folder_button.isEnabled()
    dialog.grab().save(str(gui_screenshots / "settings_dialog_folders.png"))

    with qtbot.assertNotEmitted(dialog.folders_changed):
        dialog.remove_folder_button.click()  # answered "no"
    settle(qtbot, dialog)
    assert library.roots() == sorted([str(kept), str(dropped)])

    with qtbot.waitSignal(dialog.folders_changed, timeout=20_000):
        dialog.remove_folder_button.click()
    settle(qtbot, dialog)
    assert str(dropped) in questions[-1]
    assert library.roots() == [str(kept)]
    assert dialog.folders() == [str(kept)]
    assert sum(row.count for row in library.status().files) == 1  # its photo is forgotten


def test_removing_a_folder_goes_to_the_live_index_when_one_runs(qtbot, library, pool, tmp_path):
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    for number, folder in enumerate((kept, dropped)):
        folder.mkdir()
        write_photo(folder / f"p{number}.jpg", seed=number)
    library.index([kept, dropped])
    handed: list[str] = []
    live_runs = [True]

    def forget_folder(root: str) -> bool:
        handed.append(root)
        return live_runs[0]

    dialog = open_dialog(qtbot, library, pool, confirm=lambda *a: True, forget_folder=forget_folder)
    dialog.folder_list.setCurrentRow(dialog.folders().index(str(dropped)))
    with qtbot.waitSignal(dialog.folders_changed):
        dialog.remove_folder_button.click()
    assert handed == [str(dropped)] and dialog.folders() == [str(kept)]
    # The live index has not got to it yet: a reload still must not show it again.
    dialog.reload_folders()
    settle(qtbot, dialog)
    assert dialog.folders() == [str(kept)] and len(library.roots()) == 2

    # No live index (another process indexes): the tab removes it itself, as before.
    live_runs[0] = False
    dialog.folder_list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.folders_changed, timeout=20_000):
        dialog.remove_folder_button.click()
    settle(qtbot, dialog)
    assert handed == [str(dropped), str(kept)]
    assert library.roots() == [str(dropped)]  # the live index of this test never forgot it


def test_a_failed_removal_is_shown_inline(qtbot, library, pool, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "a.jpg")
    library.index([folder])
    dialog = open_dialog(qtbot, library, pool, confirm=lambda *args: True)
    dialog.folder_list.setCurrentRow(0)
    with library.writer():  # another indexer holds the library
        dialog.remove_folder_button.click()
        settle(qtbot, dialog)
    assert "another desktop-search process is indexing" in dialog.folders_status.text()
    assert library.roots() == [str(folder)]


# -- models ----------------------------------------------------------------------------------


def test_model_combo_lists_installed_models_and_switches(
    qtbot, home, library, pool, tiny_clip_dir, gui_screenshots
):
    shutil.copytree(tiny_clip_dir, home / "models" / "tiny-clip")
    install_model(tiny_clip_dir, home / "models", "tiny-clip-b")
    library.use_model("tiny-clip")
    dialog = open_dialog(qtbot, library, pool)
    assert dialog.installed_models() == ["tiny-clip", "tiny-clip-b"]
    assert dialog.model_combo.currentData() == "tiny-clip"
    assert dialog.model_combo.isEnabled()

    with qtbot.waitSignal(dialog.model_changed, timeout=20_000) as changed:
        dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("tiny-clip-b"))
    settle(qtbot, dialog)
    assert changed.args == ["tiny-clip-b"]
    assert library.active_model_name == "tiny-clip-b"
    assert Settings.load(home / "config.toml").active_model == "tiny-clip-b"  # persisted
    dialog.tabs.setCurrentIndex(2)
    dialog.grab().save(str(gui_screenshots / "settings_dialog_model.png"))


URL_CLIP = "url-clip"  # a model from plain URLs whose manifest has no checksums yet


def url_manifest() -> dict:
    return {
        "schema": 1, "id": URL_CLIP, "kind": "clip", "name": "CLIP from a URL", "license": "MIT",
        "description": "checksums not written down yet", "approximate_size": 350_000_000,
        "embedding_size": 512,
        "source": {"type": "url", "pinned": False, "files": [
            {"path": "model.bin", "url": "https://example.org/model.bin"},
        ]},
        "preprocess": {
            "image_size": 224, "mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28],
            "resize_mode": "shortest", "interpolation": "bicubic", "tokenizer": "tokenizer.json",
            "max_length": 77,
        },
        "install": {"format": "open_clip", "arch": "ViT-B-32"},
    }  # fmt: skip


@pytest.fixture
def manifests_with_a_url_model(tmp_path, monkeypatch) -> Path:
    """The shipped manifests, and next to them one with a URL source and no checksums."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    for entry in importlib.resources.files(MANIFEST_PACKAGE).iterdir():
        if entry.name.endswith(".toml"):
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"))
    (folder / f"{URL_CLIP}.toml").write_text(tomli_w.dumps(url_manifest()))
    monkeypatch.setenv(MANIFESTS_ENV, str(folder))
    return folder


def test_hub_pinned_models_can_be_fetched_and_unverifiable_ones_are_disabled_with_the_reason(
    qtbot, library, pool, manifests_with_a_url_model
):
    # One fetch learnt the exact size of the default model from the hub earlier.
    remember_resolved(library.models, "vit-b-32-laion2b", "0" * 40, 605_023_113)
    dialog = open_dialog(qtbot, library, pool)
    assert dialog.installed_models() == []
    assert not dialog.model_combo.isEnabled()
    clip = [m for m in library.available_models() if m.kind == "clip"]
    shipped = [m for m in clip if m.id != URL_CLIP]
    assert len(shipped) == 3, "the repository ships three CLIP manifests"
    for manifest in library.available_models():
        item = dialog.available_item(manifest.id)
        if manifest.kind != "clip":
            assert item is None
            continue
        assert item is not None
        enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        if manifest.id == URL_CLIP:
            assert not manifest.fetchable and manifest.status == "unpinned"
            assert not enabled and item.text(2) == UNPINNED_REASON
            assert item.text(1) == "about 350 MB"
        else:
            # No checksums in the manifest: the hub's own pin them when the fetch starts.
            assert manifest.hub_pinned and manifest.status == "pinned by the hub at fetch time"
            assert enabled and item.text(2) == "can be fetched"
    sizes = {m.id: dialog.available_item(m.id).text(1) for m in shipped}
    assert sizes == {
        "vit-b-32-laion2b": "605.0 MB",  # exact: an earlier fetch asked the hub
        "vit-b-16-siglip2": "about 1,540 MB",  # the manifest's estimate
        "xlm-roberta-base-vit-b-32": "about 1,480 MB",
    }
    assert dialog.available_item("vit-b-32-laion2b").text(0).endswith("(default)")
    assert not dialog.unpinned_note.isHidden()
    for manifest in shipped:
        dialog.available_list.setCurrentItem(dialog.available_item(manifest.id))
        assert dialog.fetch_button.isEnabled(), manifest.id
    dialog.available_list.clearSelection()
    assert not dialog.fetch_button.isEnabled()
    dialog.fetch(URL_CLIP)  # not fetchable: nothing starts
    assert dialog.model_tab.download is None and not dialog.busy


class FetchingLibrary(Library):
    """A real Library whose catalogue offers one pinned CLIP model with a scripted download.

    The download reports half its bytes, then waits for ``script["go"]``; like the hub's
    transfer, it checks the cancel event meanwhile and stops with FetchCancelled when it is set.
    """

    script: dict

    def available_models(self):
        return [SimpleNamespace(id="tiny-clip", kind="clip", name="Tiny CLIP", license="MIT",
                                pinned=True, fetchable=True, total_size=3_000_000_000,
                                approximate_size=None, default=False)]  # fmt: skip

    def fetch_model(self, model_id, *, progress=None, cancel=None, **kwargs):
        total = 3_000_000_000  # above 2**31: progress must still arrive
        progress(0, total)
        progress(total // 2, total)
        self.script["reported"].set()
        deadline = time.monotonic() + 20
        while not self.script["go"].wait(0.02) and time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():  # the next block sees the cancel
                raise FetchCancelled(f"the download of {model_id} was cancelled")
        if self.script.get("error"):
            raise self.script["error"]
        shutil.copytree(self.script["source"], self.paths.models / model_id)
        progress(total, total)
        if not self.settings.active_model:
            self.use_model(model_id)


def fetching_library(home: Path, script: dict) -> FetchingLibrary:
    plain = Library.open(home)
    library = FetchingLibrary(plain.paths, plain.settings, plain.store, plain.models)
    library.script = script
    return library


def test_a_failed_fetch_shows_one_line_inline(qtbot, home, pool):
    script = {"reported": threading.Event(), "go": threading.Event()}
    script["error"] = ModelDownloadError(
        "visual.onnx failed verification (sha256 mismatch)\nsecond line", hint="fetch it again"
    )
    library = fetching_library(home, script)
    try:
        dialog = open_dialog(qtbot, library, pool)
        item = dialog.available_item("tiny-clip")
        assert item.text(2) == "can be fetched"
        assert item.text(1) == "3,000.0 MB"  # the manifest's sizes: exact
        dialog.available_list.setCurrentItem(item)
        assert dialog.fetch_button.isEnabled()
        dialog.fetch_button.click()
        assert not dialog.fetch_button.isEnabled() and dialog.busy
        assert script["reported"].wait(10)
        qtbot.waitUntil(lambda: dialog.fetch_progress.value() > 0)
        assert not dialog.fetch_progress.isHidden() and not dialog.cancel_fetch_button.isHidden()
        assert dialog.fetch_progress.value() == 500  # of 1000: half of the bytes
        assert dialog.fetch_status.text().startswith("Tiny CLIP: 1,500.0 of 3,000.0 MB")
        script["go"].set()
        settle(qtbot, dialog)
        text = dialog.fetch_status.text()
        assert text == ("visual.onnx failed verification (sha256 mismatch) second line — "
                        "fetch it again")  # fmt: skip
        assert dialog.fetch_status.toolTip() == text
        assert dialog.fetch_progress.isHidden() and dialog.cancel_fetch_button.isHidden()
        assert dialog.fetch_button.isEnabled()  # may be tried again
    finally:
        library.close()


def test_a_fetch_installs_and_activates_the_model(qtbot, home, pool, tiny_clip_dir):
    script = {"reported": threading.Event(), "go": threading.Event(), "source": tiny_clip_dir}
    script["go"].set()
    library = fetching_library(home, script)
    try:
        dialog = open_dialog(qtbot, library, pool)
        assert dialog.installed_models() == []
        dialog.available_list.setCurrentItem(dialog.available_item("tiny-clip"))
        with qtbot.waitSignal(dialog.model_changed, timeout=20_000) as changed:
            dialog.fetch_button.click()
        settle(qtbot, dialog)
        assert changed.args == ["tiny-clip"]
        assert dialog.fetch_status.text() == "Installed tiny-clip."
        assert dialog.installed_models() == ["tiny-clip"]
        assert dialog.model_combo.currentData() == "tiny-clip"
        assert dialog.available_item("tiny-clip").text(2) == "installed"
        assert not dialog.fetch_button.isEnabled()
        assert dialog.fetch_progress.isHidden() and dialog.cancel_fetch_button.isHidden()
    finally:
        library.close()


def test_cancel_stops_a_fetch_and_fetching_again_installs_it(qtbot, home, pool, tiny_clip_dir):
    script = {"reported": threading.Event(), "go": threading.Event(), "source": tiny_clip_dir}
    library = fetching_library(home, script)
    try:
        dialog = open_dialog(qtbot, library, pool)
        dialog.available_list.setCurrentItem(dialog.available_item("tiny-clip"))
        with qtbot.assertNotEmitted(dialog.model_changed):
            dialog.fetch_button.click()
            assert script["reported"].wait(10)
            qtbot.waitUntil(lambda: "1,500.0 of 3,000.0 MB" in dialog.fetch_status.text())
            assert not dialog.cancel_fetch_button.isHidden()
            assert dialog.cancel_fetch_button.isEnabled()
            dialog.cancel_fetch_button.click()
            assert dialog.fetch_status.text() == "Tiny CLIP: Cancelling…"
            assert not dialog.cancel_fetch_button.isEnabled() and dialog.busy
            settle(qtbot, dialog)  # the fetch saw the cancel event and stopped
        assert dialog.fetch_status.text() == CANCELLED_LINE
        assert dialog.fetch_progress.isHidden() and dialog.cancel_fetch_button.isHidden()
        assert dialog.fetch_button.isEnabled()
        assert dialog.installed_models() == [] and library.active_model_name is None
        assert not (home / "models" / "tiny-clip").exists()

        script["go"].set()
        with qtbot.waitSignal(dialog.model_changed, timeout=20_000) as changed:
            dialog.fetch_button.click()
        settle(qtbot, dialog)
        assert changed.args == ["tiny-clip"]
        assert dialog.fetch_status.text() == "Installed tiny-clip."
        assert dialog.installed_models() == ["tiny-clip"]
    finally:
        library.close()
