"""The phases of an index run as a person sees them (issue 17): photos first and alone (the
moment they are searchable is in the report), then documents, their passages and the text in
photos; on a terminal a bar per phase and a line when photos are searchable, in a log one line
per phase.

The Indexer is built from real parts (a SQLite store, photos read in this process, the small
deterministic encoders of tests/small_encoders.py); the CLI runs as a real process with the tiny
CLIP model, on a pty (tests/test_terminal_output.py's harness) and on pipes.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.app.library import Library
from desktop_search.extract.images import read_file
from desktop_search.index.indexer import Indexer, IndexOptions
from desktop_search.index.memory import map_large_blocks, release_models
from desktop_search.index.progress import Phase, PhaseProgress
from desktop_search.models.runtime.base import OnnxModel
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, TEXT, Space, Spaces
from tests.conftest_models import install_model_home
from tests.small_encoders import COLOR_PHOTOS, ColorEncoder, WordEncoder, write_color_photos
from tests.test_terminal_output import assert_inert, start

COLORS_MODEL = "colors-1"
WORDS_MODEL = "words-1"
PHOTO_TEXT = "Receipt: coffee 3.50, total 3.50"
PHOTOS = len(COLOR_PHOTOS) + 1  # the colours and chelsea.jpg


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


def documents_then_photos(tmp_path: Path) -> tuple[Path, Path]:
    """Two folders: notes (queued first when indexed first) and photos."""
    notes, photos = tmp_path / "notes", tmp_path / "photos"
    notes.mkdir()
    for n, subject in enumerate(("boiler repair invoice", "dentist appointment", "garden plan")):
        (notes / f"note{n}.txt").write_text(f"A note about the {subject}.\n", encoding="utf-8")
    write_color_photos(photos)
    Image.fromarray(data.chelsea()).save(photos / "chelsea.jpg")  # 451 px: looked at for text
    return notes, photos


def read_text(image: Image.Image) -> str:
    """Stands in for the OCR engine: every photo it is asked about holds the same receipt."""
    return PHOTO_TEXT


def make_indexer(store: Store, tmp_path: Path, spaces: Spaces) -> Indexer:
    options = IndexOptions(read=read_file, threads=2, batch_size=2)
    return Indexer(store, spaces, ThumbnailStore(tmp_path / "thumbnails"), options,
                   read_text=read_text)  # fmt: skip


def test_photos_are_searchable_first_then_documents_passages_and_text(store, tmp_path):
    notes, photos = documents_then_photos(tmp_path)
    spaces = Spaces(
        clip=Space.holding(CLIP, ColorEncoder(), COLORS_MODEL, VectorIndex(4)),
        text=Space.holding(TEXT, WordEncoder(), WORDS_MODEL, VectorIndex(64)),
    )
    updates: list[PhaseProgress] = []
    seen_at_photos_end: dict[str, int] = {}

    def on_phase(update: PhaseProgress) -> None:
        updates.append(update)
        if update.phase is Phase.PHOTOS and update.done == update.total:
            # What a search in another process could find at this moment: every photo,
            # committed; not one of the notes queued before them read yet.
            states = store.files.file_states(str(tmp_path), COLORS_MODEL)
            seen_at_photos_end["photos"] = sum(s.has_embedding for s in states.values())
            seen_at_photos_end["documents"] = sum(s.kind != "photo" for s in states.values())

    files: list[tuple[int, int]] = []
    report = make_indexer(store, tmp_path, spaces).run(
        [notes, photos], lambda done, total: files.append((done, total)), phases=on_phase
    )
    assert (report.new, report.documents, report.failed) == (PHOTOS + 3, 3, 0)
    assert report.photo_texts == 1  # chelsea.jpg; the colours are too small to hold text
    assert seen_at_photos_end == {"photos": PHOTOS, "documents": 0}

    order = list(dict.fromkeys(u.phase for u in updates))
    assert order == [Phase.PHOTOS, Phase.DOCUMENTS, Phase.PASSAGES, Phase.PHOTO_TEXT]
    for phase in order:  # each phase is reported in one stretch, counting up to its end
        mine = [u for u in updates if u.phase is phase]
        first = updates.index(mine[0])
        assert updates[first : first + len(mine)] == mine
        assert [u.done for u in mine] == sorted(u.done for u in mine)
        assert mine[-1].done == mine[-1].total and mine[-1].failed == 0
        assert sum(u.done == u.total for u in mine) == 1  # said to end once
    ends = {u.phase: u for u in updates if u.done == u.total}
    assert (ends[Phase.PHOTOS].total, ends[Phase.DOCUMENTS].total) == (PHOTOS, 3)
    assert ends[Phase.PASSAGES].total == report.passages - 1  # the photo's text: after the pass
    assert ends[Phase.PHOTO_TEXT].total == PHOTOS  # the small ones count as looked at
    seconds = [u.seconds for u in updates]
    assert seconds == sorted(seconds)

    assert report.searchable_seconds is not None
    assert report.searchable_seconds == ends[Phase.PHOTOS].seconds
    assert 0 < report.searchable_seconds <= ends[Phase.DOCUMENTS].seconds <= report.seconds
    # The plain (done, total) callback keeps its meaning: every file of the drain, in order.
    assert files[0] == (0, PHOTOS + 3) and files[-1] == (PHOTOS + 3, PHOTOS + 3)
    assert [done for done, _ in files] == sorted(done for done, _ in files)


def test_without_a_clip_model_nothing_is_searchable_and_a_photo_that_fails_is_counted(
    store, tmp_path
):
    _, photos = documents_then_photos(tmp_path)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all")
    updates: list[PhaseProgress] = []
    report = make_indexer(store, tmp_path, Spaces()).run([photos], phases=updates.append)
    assert report.searchable_seconds is None  # catalogued (names, dates), not searchable
    assert report.failed == 1
    end = [u for u in updates if u.phase is Phase.PHOTOS][-1]
    assert (end.done, end.total, end.failed) == (PHOTOS + 1, PHOTOS + 1, 1)


def test_a_run_with_nothing_to_do_is_searchable_at_once(store, tmp_path):
    _, photos = documents_then_photos(tmp_path)
    spaces = Spaces(clip=Space.holding(CLIP, ColorEncoder(), COLORS_MODEL, VectorIndex(4)))
    make_indexer(store, tmp_path, spaces).run([photos])
    updates: list[PhaseProgress] = []
    again = make_indexer(store, tmp_path, spaces).run([photos], phases=updates.append)
    assert again.unchanged == PHOTOS and updates == []  # no phase had anything to do
    assert again.searchable_seconds is not None
    assert 0 <= again.searchable_seconds <= again.seconds


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    for name in ("astronaut", "coffee", "rocket"):
        (folder / "photos").mkdir(parents=True, exist_ok=True)
        Image.fromarray(getattr(data, name)()).save(folder / "photos" / f"{name}.jpg")
    (folder / "note.txt").write_text("Quokka sightings on the island.\n", encoding="utf-8")
    return folder


SEARCHABLE_LINE = re.compile(r"^photos searchable after \d+\.\d s: 3 of 3$")


def test_index_on_a_terminal_draws_a_bar_per_phase_and_says_when_photos_are_searchable(
    tmp_path, tiny_clip_dir, cli_folder
):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    terminal = start(home, "index", cli_folder)
    assert terminal.finish() == 0, terminal.output
    assert_inert(terminal.output)  # only the bar's own sequences
    shown = terminal.output.decode().replace("\x1b[?25l", "").replace("\x1b[?25h", "")
    lines = [line.split("\r")[-1] for line in shown.split("\n")]  # what stays on the screen
    photos_bar = next(i for i, line in enumerate(lines) if line.startswith("photos  ["))
    assert "3/3" in lines[photos_bar]
    assert SEARCHABLE_LINE.match(lines[photos_bar + 1]), lines
    assert lines[photos_bar + 2].startswith("documents  [") and "1/1" in lines[photos_bar + 2]
    assert "\rphotos  [" in shown and "0/3" in shown  # drawn from the start, not only at the end
    assert "4 new, 0 changed" in shown


def test_index_without_a_terminal_says_one_line_per_phase_and_none_with_json(
    tmp_path, tiny_clip_dir, cli_folder
):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    command = [sys.executable, "-m", "desktop_search", "--home", str(home), "index"]
    piped = subprocess.run([*command, str(cli_folder)], capture_output=True, text=True,
                           check=True)  # fmt: skip
    said = piped.stderr.splitlines()
    assert len(said) == 2, said
    assert SEARCHABLE_LINE.match(said[0]), said
    assert re.fullmatch(r"documents read after \d+\.\d s: 1 of 1", said[1]), said
    assert "\r" not in piped.stderr and "4 new" in piped.stdout

    (cli_folder / "photos" / "astronaut.jpg").unlink()
    Image.fromarray(data.chelsea()).save(cli_folder / "photos" / "chelsea.jpg")
    quiet = subprocess.run([*command, str(cli_folder), "--json"], capture_output=True, text=True,
                           check=True)  # fmt: skip
    assert quiet.stderr == ""
    report = json.loads(quiet.stdout)
    assert (report["new"], report["removed"]) == (1, 1)
    assert 0 < report["searchable_seconds"] <= report["seconds"]


# --- memory between the phases ------------------------------------------------------------------


def test_the_image_model_is_released_before_the_passes_and_loads_again_on_use(
    tmp_path, tiny_clip_dir, cli_folder
):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    with Library.open(home) as library:
        clip = library.clip_or_none()
        loaded_at_photos_end: list[bool] = []

        def on_phase(update: PhaseProgress) -> None:
            if update.phase is Phase.PHOTOS and update.done == update.total:
                loaded_at_photos_end.append(clip.visual.loaded)

        report = library.index([cli_folder], phases=on_phase)
        assert report.encoded == 3 and loaded_at_photos_end == [True]
        assert not clip.visual.loaded  # released once the photos were done
        size = clip.image_spec.size
        pixels = np.zeros((1, 3, size, size), dtype=np.float32)
        assert clip.encode_images(pixels).shape == (1, clip.embed_dim)  # and back on use


def test_release_models_lets_go_of_what_can_be_let_go_of(tiny_clip_dir):
    model = OnnxModel(tiny_clip_dir / "visual.onnx", threads=1)
    model.load()
    release_models(model, None, "not a model")
    assert not model.loaded
    if platform.libc_ver()[0] == "glibc":
        assert map_large_blocks()  # glibc takes the setting (elsewhere: nothing to set)
