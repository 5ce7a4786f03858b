"""Home resolution and settings persistence."""

import pytest

from desktop_search.config import Paths, Settings, resolve_home
from desktop_search.errors import DesktopSearchError, HomeNotWritableError


def test_explicit_home_beats_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOP_SEARCH_HOME", str(tmp_path / "env"))
    assert resolve_home(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_home(None) == tmp_path / "env"


def test_default_home_is_the_platform_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DESKTOP_SEARCH_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_home(None) == tmp_path / "xdg" / "desktop-search"


def test_ensure_creates_all_folders_private(tmp_path):
    paths = Paths(tmp_path / "home")
    paths.ensure()
    for folder in (paths.home, paths.vectors, paths.models, paths.thumbnails):
        assert folder.is_dir()
    assert paths.home.stat().st_mode & 0o077 == 0


def test_unwritable_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(HomeNotWritableError, match="--home"):
        Paths(blocker / "home").ensure()


def test_settings_round_trip(tmp_path):
    path = tmp_path / "config.toml"
    Settings(active_model="m", exclude=["*/tmp/*"], batch_size=8).save(path)
    loaded = Settings.load(path)
    assert (loaded.active_model, loaded.exclude, loaded.batch_size) == ("m", ["*/tmp/*"], 8)


def test_broken_settings_file_is_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("exclude = [unclosed")
    with pytest.raises(DesktopSearchError, match="cannot read settings file"):
        Settings.load(path)
