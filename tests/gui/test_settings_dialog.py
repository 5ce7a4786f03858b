"""The settings dialog over a real Library home: values round trip, folders, models, fetch."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop_search import autostart
from desktop_search.config import Settings
from desktop_search.errors import ModelDownloadError
from desktop_search.gui.settings_dialog import UNPINNED_REASON, SettingsDialog
from desktop_search.library import Library


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
    assert exec_line == "Exec=" + shlex.join([sys.executable, "-m", "desktop_search", "gui",
                                              "--hidden"])  # fmt: skip
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
    assert sum(row["count"] for row in library.status()["files"]) == 1  # its photo is forgotten


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


def test_unpinned_models_are_disabled_with_the_reason(qtbot, library, pool):
    dialog = open_dialog(qtbot, library, pool)
    assert dialog.installed_models() == []
    assert not dialog.model_combo.isEnabled()
    clip_ids = [m.id for m in library.available_models() if m.kind == "clip"]
    assert clip_ids, "the repository ships CLIP manifests"
    for manifest in library.available_models():
        item = dialog.available_item(manifest.id)
        if manifest.kind != "clip":
            assert item is None
            continue
        assert item is not None
        if not manifest.pinned:
            assert not (item.flags() & Qt.ItemFlag.ItemIsEnabled)
            assert item.text(2) == UNPINNED_REASON
    assert not dialog.unpinned_note.isHidden()
    dialog.available_list.setCurrentItem(dialog.available_item(clip_ids[0]))
    assert not dialog.fetch_button.isEnabled()


class FetchingLibrary(Library):
    """A real Library whose catalogue offers one pinned CLIP model with a scripted download."""

    script: dict

    def available_models(self):
        return [SimpleNamespace(id="tiny-clip", kind="clip", name="Tiny CLIP", license="MIT",
                                pinned=True, total_size=3_000_000_000, default=False)]  # fmt: skip

    def fetch_model(self, model_id, *, progress=None, **kwargs):
        total = 3_000_000_000  # above 2**31: progress must still arrive
        progress(0, total)
        progress(total // 2, total)
        self.script["reported"].set()
        self.script["go"].wait(20)
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
        dialog.available_list.setCurrentItem(item)
        assert dialog.fetch_button.isEnabled()
        dialog.fetch_button.click()
        assert not dialog.fetch_button.isEnabled()
        assert script["reported"].wait(10)
        qtbot.waitUntil(lambda: dialog.fetch_progress.value() > 0)
        assert dialog.fetch_progress.isVisible() or not dialog.isVisible()
        assert dialog.fetch_progress.format() == "1.5 GB of 3.0 GB"
        script["go"].set()
        settle(qtbot, dialog)
        text = dialog.fetch_status.text()
        assert text.startswith("Fetch failed: visual.onnx failed verification")
        assert "\n" not in text
        assert not dialog.fetch_progress.isVisible()
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
    finally:
        library.close()
