"""Reader processes (index/readers.py): files are read and decoded in worker processes with
limits; a file that crashes, swells or hangs its reader fails alone and the reader is replaced."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from desktop_search.errors import FileNotIndexableError
from desktop_search.index.readers import (
    REASON_CRASHED,
    LocalReader,
    ReaderLimits,
    ReaderPool,
    _Packer,
    too_long_reason,
)
from tests.bad_files import heavy_photos
from tests.make_pdfs import scanned_pdf, text_pdf


def write_photo(path: Path, side: int = 0, fmt: str = "JPEG") -> Path:
    """A real photo (skimage's astronaut), upscaled to ``side`` when given."""
    image = Image.fromarray(data.astronaut())
    if side:
        image = image.resize((side, side * 3 // 4), Image.BILINEAR)
    image.save(path, fmt, **({"compress_level": 1} if fmt == "PNG" else {}))
    return path


@pytest.fixture
def pool():
    readers = ReaderPool(1)
    yield readers
    readers.close()


def test_a_photo_decoded_in_a_reader_equals_the_one_decoded_here(tmp_path, pool):
    path = write_photo(tmp_path / "astronaut.png", fmt="PNG")
    local = LocalReader()
    with pool.borrow() as reader:
        assert reader.load(str(path)) == local.load(str(path))
        there = reader.photo(min_side=224, thumb_size=256, long_side=640)
    here = local.photo(min_side=224, thumb_size=256, long_side=640)
    assert (there.width, there.height, there.thumbnail) == (here.width, here.height, here.thumbnail)
    assert there.image.mode == here.image.mode and there.image.size == here.image.size
    assert np.array_equal(np.asarray(there.image), np.asarray(here.image))


def test_pixels_come_back_through_shared_memory_not_the_pickle():
    image = Image.fromarray(data.astronaut())  # 512 x 512 RGB: 786 KB of pixels
    block = memoryview(bytearray(2 * 1024**2))
    shared, inline = io.BytesIO(), io.BytesIO()
    _Packer(shared, block).dump(("ok", image))
    _Packer(inline, None).dump(("ok", image))
    assert len(shared.getvalue()) < 1_000 and len(inline.getvalue()) > 786_000


def test_a_document_is_extracted_in_a_reader_and_its_ocr_asked_of_the_caller(tmp_path, pool):
    typed = tmp_path / "typed.pdf"
    typed.write_bytes(text_pdf(["The quarterly water bill", "Page two of the bill"]))
    scanned = tmp_path / "scanned.pdf"
    scanned.write_bytes(scanned_pdf(["A receipt from the hardware store"]))
    asked: list[tuple[int, int]] = []

    def read_text(image: Image.Image) -> str:  # runs here, in the indexing process
        asked.append(image.size)
        return "receipt hardware store"

    with pool.borrow() as reader:
        reader.load(str(typed))
        document = reader.document(str(typed), read_text)
        reader.load(str(scanned))
        ocr = reader.document(str(scanned), read_text)
    assert document.pages == 2 and "water bill" in document.items[0].text
    assert asked and "hardware store" in ocr.items[0].text
    assert ocr.thumbnail is not None and ocr.thumbnail.size[0] > 0  # came back as pixels


def test_a_reader_that_dies_fails_that_file_and_the_next_file_is_read(tmp_path, pool):
    path = write_photo(tmp_path / "a.jpg")
    with pool.borrow() as reader:
        reader.load(str(path))
        os.kill(reader._process.pid, signal.SIGKILL)  # as the OOM killer or a segfault would
        reader._process.join(10)
        with pytest.raises(FileNotIndexableError) as failed:
            reader.photo(min_side=224, thumb_size=256)
        assert failed.value.reason == REASON_CRASHED and not failed.value.transient
        reader.load(str(path))  # a fresh reader
        assert reader.photo(min_side=224, thumb_size=256).width == 512


def test_a_reader_that_takes_too_long_is_stopped_and_replaced(tmp_path):
    # ~0.5 s to decode here (0.14 s at 3000 px: a faster CI machine beat a 0.25 s limit); the
    # limit is a tenth of that so the margin holds on any machine.
    slow = write_photo(tmp_path / "big.png", side=6000, fmt="PNG")
    quick = tmp_path / "small.jpg"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(quick)
    pool = ReaderPool(1, ReaderLimits(seconds=0.05))
    try:
        with pool.borrow() as reader:
            reader.load(str(slow))
            started = time.monotonic()
            with pytest.raises(FileNotIndexableError) as failed:
                reader.photo(min_side=224, thumb_size=256)
            assert time.monotonic() - started < 5
            assert failed.value.reason == too_long_reason(0.05)
            assert reader._process is None  # stopped, not left decoding
            reader.limits = ReaderLimits()  # its replacement's first file includes its start
            reader.load(str(quick))
            assert reader.photo(min_side=16, thumb_size=16).width == 64
    finally:
        pool.close()


def test_a_file_past_the_memory_limit_fails_alone(tmp_path):
    heavy = next(image for image in heavy_photos() if image.name == "float32.tif")
    path = tmp_path / heavy.name
    path.write_bytes(heavy.write(heavy.size))
    quick = write_photo(tmp_path / "small.jpg")
    # Room for the reader itself (~250 MB of address space) but not for the decode (~320 MB
    # resident above the baseline, more address space).
    pool = ReaderPool(1, ReaderLimits(memory_bytes=450 * 1024**2))
    try:
        with pool.borrow() as reader:
            reader.load(str(path))
            with pytest.raises(FileNotIndexableError) as failed:
                reader.photo(min_side=224, thumb_size=256)
            assert "memory" in failed.value.reason
            reader.load(str(quick))
            assert reader.photo(min_side=224, thumb_size=256).width == 512
    finally:
        pool.close()


def test_closing_a_pool_ends_its_processes_and_frees_its_shared_memory(tmp_path):
    path = write_photo(tmp_path / "a.jpg")
    pool = ReaderPool(2)
    names = []
    for _ in range(2):
        with pool.borrow() as reader:
            reader.load(str(path))
            names.append(reader._shared.name)
    processes = [reader._process for reader in pool._all]
    assert all(process is not None and process.is_alive() for process in processes)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 3
    assert multiprocessing.active_children() == []
    assert not any(Path("/dev/shm", name).exists() for name in names)
    with pytest.raises(RuntimeError), pool.borrow():
        pass


def run_script(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``script`` as a program Python reads from stdin (no file, no main guard)."""
    return subprocess.run(
        [sys.executable, "-"], input=textwrap.dedent(script), capture_output=True, text=True,
        timeout=300, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip


def test_readers_start_under_any_main_module(tmp_path):
    """A program read from stdin, without an ``if __name__ == "__main__"`` guard: readers must
    not import it again (it would fail, or index twice) and still read every file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "a.jpg")
    run = run_script(
        f"""
        import logging
        logging.basicConfig(level=logging.INFO)
        from desktop_search.app.library import Library
        print("body ran")
        with Library.open({str(tmp_path / "home")!r}) as library:
            report = library.index([{str(folder)!r}])
        print(report.new, report.failed)
        """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["body ran", "1 0"]
    assert "files are read in this process" not in run.stderr and "Traceback" not in run.stderr


# Where readers cannot start at all, files are read in the indexing process: a process that
# dropped its privileges after starting the forkserver cannot reach it any more. That is what
# tests/test_bad_files.py::test_unreadable_entries_as_an_unprivileged_user does (as root).
