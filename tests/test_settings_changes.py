"""Settings change through the app layer (app/settings_service.py), on a real library home."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_search.app.library import Library
from desktop_search.app.settings_service import Preferences, SettingsChange
from desktop_search.config import Settings
from desktop_search.errors import AutostartError, ModelError, SettingsError
from desktop_search.platform import autostart
from tests.conftest_models import TINY_CLIP_NAME, install_model_home

LINUX = sys.platform.startswith("linux")


@pytest.fixture(autouse=True)
def xdg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Login entries go under the test's folder, never the user's own."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def saved(home: Path) -> Settings:
    """What a new process would read."""
    return Settings.load(home / "config.toml")


def test_each_switch_is_saved_and_seen_by_readers(home: Path) -> None:
    with Library.open(home) as library, library.reader() as reader:
        service = library.settings_service
        assert service.set_detect_objects(False) == SettingsChange(rescan=False)
        service.set_read_text_in_photos(False)
        service.set_index_documents(False)
        service.set_index_threads(2)
        service.set_keep_in_tray(False)
        # A reader (another thread's Library) shares the settings: it sees the change at once.
        assert not reader.settings.detect_objects and reader.settings.index_threads == 2
        reader.settings_service.set_detect_objects(True)  # and changes them the same way
        assert library.settings.detect_objects
    on_disk = saved(home)
    assert on_disk.detect_objects and not on_disk.read_text_in_photos
    assert not on_disk.index_documents and not on_disk.keep_in_tray
    assert on_disk.index_threads == 2


def test_documents_switched_off_are_not_indexed(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text("a note", encoding="utf-8")
    with Library.open(home) as library:
        library.settings_service.set_index_documents(False)
        assert library.index([folder]).documents == 0
        library.settings_service.set_index_documents(True)
        assert library.index([folder]).documents == 1


def test_other_exclude_patterns_ask_for_a_rescan(home: Path) -> None:
    with Library.open(home) as library:
        service = library.settings_service
        change = service.set_exclude(["  *.tmp ", "", "**/private/**", "*.tmp"])
        assert change == SettingsChange(rescan=True)
        assert library.settings.exclude == ["*.tmp", "**/private/**"]  # cleaned, in order
        assert service.set_exclude(["*.tmp", "**/private/**"]).rescan is False
        assert service.set_detect_objects(False).rescan is False  # the same patterns
        assert service.preferences().exclude == ("*.tmp", "**/private/**")
    assert saved(home).exclude == ["*.tmp", "**/private/**"]


def test_update_saves_every_preference_at_once(home: Path) -> None:
    with Library.open(home) as library:
        service = library.settings_service
        wanted = Preferences(exclude=("*.raw",), index_threads=1, index_documents=False,
                             read_text_in_photos=False, detect_objects=False,
                             start_at_login=False, keep_in_tray=False)  # fmt: skip
        assert service.update(wanted).rescan
        assert service.preferences() == wanted
    assert Preferences.of(saved(home)) == wanted


@pytest.mark.parametrize(
    ("field", "value"),
    [("index_threads", -1), ("index_threads", 1.5), ("index_threads", True),
     ("detect_objects", "yes"), ("keep_in_tray", 1), ("exclude", ("*.tmp", 3))],
)  # fmt: skip
def test_a_value_no_setting_takes_changes_nothing(home: Path, field: str, value: object) -> None:
    with Library.open(home) as library:
        library.settings_service.set_index_threads(2)
        before = (home / "config.toml").read_text()
        preferences = replace(library.settings_service.preferences(), **{field: value})
        with pytest.raises(SettingsError):
            library.settings_service.update(preferences)
        assert library.settings.index_threads == 2 and library.settings.detect_objects
        assert (home / "config.toml").read_text() == before


def test_a_save_that_fails_leaves_the_settings_as_they_were(home: Path) -> None:
    with Library.open(home) as library:
        (home / "config.toml").mkdir()  # the settings file cannot be replaced by a folder's name
        with pytest.raises(SettingsError, match="nothing was changed"):
            library.settings_service.set_exclude(["*.raw"])
        with pytest.raises(SettingsError):
            library.settings_service.set_detect_objects(False)
        assert library.settings.exclude == [] and library.settings.detect_objects


@pytest.mark.skipif(not LINUX, reason="login entries are automated on freedesktop systems only")
def test_start_at_login_makes_and_removes_the_entry(home: Path, xdg_config: Path) -> None:
    entry = xdg_config / "autostart" / autostart.ENTRY_NAME
    with Library.open(home) as library:
        library.settings_service.set_start_at_login(True)
        assert entry.is_file() and saved(home).start_at_login
        entry.unlink()  # e.g. removed by hand: saving the settings again makes it again
        library.settings_service.set_keep_in_tray(False)
        assert entry.is_file()
        library.settings_service.set_start_at_login(False)
        assert not entry.exists() and not saved(home).start_at_login
        # An entry the person made otherwise is theirs while this setting does not change.
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text("[Desktop Entry]\n")
        library.settings_service.set_detect_objects(False)
        assert entry.is_file()


@pytest.mark.skipif(not LINUX, reason="login entries are automated on freedesktop systems only")
def test_a_login_entry_that_cannot_be_made_keeps_the_saved_settings(
    home: Path, xdg_config: Path
) -> None:
    xdg_config.mkdir()
    (xdg_config / "autostart").write_text("a file where the folder should be")
    with Library.open(home) as library:
        with pytest.raises(AutostartError, match="login entry"):
            library.settings_service.set_start_at_login(True)
        assert library.settings.start_at_login
    assert saved(home).start_at_login


# -- models ---------------------------------------------------------------------------------


def install_as(model_dir: Path, home: Path, name: str) -> None:
    """Install a copy of ``model_dir`` under another id (model.json names it)."""
    import json

    target = home / "models" / name
    shutil.copytree(model_dir, target)
    meta = json.loads((target / "model.json").read_text())
    meta["id"] = name
    (target / "model.json").write_text(json.dumps(meta))


def test_choosing_and_removing_models(tmp_path: Path, tiny_clip_dir: Path) -> None:
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    install_as(tiny_clip_dir, home, "tiny-clip-b")
    with Library.open(home) as library:
        first = library.clip()
        library.use_model("tiny-clip-b")
        assert library.clip().info.id == "tiny-clip-b" and library.clip() is not first
        assert saved(home).active_model == "tiny-clip-b"
        with pytest.raises(ModelError, match="not installed|no model|not found"):
            library.use_model("no-such-model")
        with pytest.raises(ModelError, match="not a text model"):
            library.use_text_model("tiny-clip-b")
        assert library.settings.active_model == "tiny-clip-b"
        assert library.settings.text_model is None
        library.remove_model("tiny-clip-b")  # the active one: back to none chosen
        assert library.settings.active_model is None and library.clip_or_none() is None
        library.use_model(TINY_CLIP_NAME)
    on_disk = saved(home)
    assert (on_disk.active_model, on_disk.text_model) == (TINY_CLIP_NAME, None)


def test_a_model_switch_that_cannot_be_saved_keeps_the_model(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    install_as(tiny_clip_dir, home, "tiny-clip-b")
    with Library.open(home) as library:
        (home / "config.toml").unlink()
        (home / "config.toml").mkdir()
        with pytest.raises(SettingsError):
            library.use_model("tiny-clip-b")
        assert library.settings.active_model == TINY_CLIP_NAME
        assert library.clip().info.id == TINY_CLIP_NAME
