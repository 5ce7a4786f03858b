"""The library's object detector: found among the installed models, opened on first use.

Shared by a Library and its readers. Indexing uses it only while the ``detect_objects`` setting
is on; a query image's objects are detected whenever a detector is installed (the user asked).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from desktop_search.config import Settings
from desktop_search.core.items import FoundObject
from desktop_search.core.objects import ObjectFinder, objects_key
from desktop_search.core.store import Store
from desktop_search.errors import FileNotIndexableError, ModelError, NoModelError, QueryError
from desktop_search.extract.images import load_photo, read_file
from desktop_search.models import manifest as manifests
from desktop_search.models.detector import ObjectDetector
from desktop_search.models.fetch import install_as_is
from desktop_search.models.files import read_model_json
from desktop_search.models.store import ModelStore

log = logging.getLogger(__name__)

RELOOK_SECONDS = 30.0
NO_DETECTOR_HINT = (
    "install it with 'desktop-search models fetch yolox-nano', or 'desktop-search models "
    "import-detector FILE.onnx' for a YOLOX file you have"
)


class ObjectTools:
    def __init__(self, models: ModelStore, settings: Settings) -> None:
        self.models = models
        self.settings = settings
        self._lock = threading.Lock()
        self._finder: ObjectFinder | None = None
        self._broken: str | None = None  # an installed detector that could not be opened
        self._found: str | None = None  # the installed detector's id, once found
        self._looked_at = -RELOOK_SECONDS

    def detector_id(self) -> str | None:
        """The installed detector (looked for again every half minute while there is none)."""
        now = time.monotonic()
        if self._found is None and now - self._looked_at > RELOOK_SECONDS:
            self._found, self._looked_at = self.models.first_of_kind("detector"), now
        return self._found

    def finder(self) -> ObjectFinder | None:
        """For indexing: None when switched off in the settings or no detector is installed."""
        return self.query_finder() if self.settings.detect_objects else None

    def query_finder(self) -> ObjectFinder | None:
        """The detector, whatever the setting; None when none is installed or it is broken."""
        name = self.detector_id()
        if name is None:
            return None
        with self._lock:
            if name == self._broken:  # said once in the log; not tried on every search
                return None
            if self._finder is None or self._finder.detector_id != name:
                self._finder = self._open(name)
                self._broken = None if self._finder else name
            return self._finder

    def _open(self, name: str) -> ObjectFinder | None:
        folder = self.models.path(name)
        try:
            description = read_model_json(folder)
            (onnx,) = [folder / f for f in description.get("files", {}) if f.endswith(".onnx")]
            size = int(description.get("preprocess", {}).get("image_size", 416))
            # One thread per run: the indexer's decode threads each run it, side by side.
            detector = ObjectDetector(onnx, input_size=size, threads=1)
            detector.load()
        except (ModelError, ValueError) as error:
            log.warning("the object detector %s cannot be used: %s", name, error)
            return None
        return ObjectFinder(detector, name)

    def query_objects(self, path: Path) -> list[FoundObject]:
        """The objects of a query image, numbered by their place in the list."""
        finder = self.query_finder()
        if finder is None and self._broken:
            raise NoModelError(f"the object detector {self._broken} cannot be opened (see the log)",
                               hint=f"install it again: {NO_DETECTOR_HINT}")  # fmt: skip
        if finder is None:
            raise NoModelError("finding objects in an image needs the object detector, "
                               "and none is installed", hint=NO_DETECTOR_HINT)  # fmt: skip
        if not path.is_file():
            raise QueryError(f"query image not found: {path}", hint="check the path")
        try:
            photo = load_photo(read_file(path), min_side=64, thumb_size=64,
                               long_side=finder.input_size)  # fmt: skip
        except FileNotIndexableError as error:
            raise QueryError(f"cannot use {path} as a query image: {error.reason}") from error
        return finder.find(photo.image, (photo.width, photo.height))

    def import_detector(self, onnx_file: Path) -> str:
        """Install a YOLOX ONNX file the user has as the detector (checked by loading it)."""
        manifest = manifests.default_for("detector")
        size = int(manifest.preprocess.get("image_size", 416))
        try:
            ObjectDetector(onnx_file, input_size=size, threads=1).load()
        except ModelError:
            raise
        except Exception as error:  # onnxruntime's own errors for files that are no model
            raise ModelError(
                f"{onnx_file} is not a usable ONNX detector: {error}",
                hint="give the yolox_nano.onnx file of the YOLOX release",
            ) from None
        install_as_is(self.models, manifest, [onnx_file], origin=str(onnx_file),
                      names=[f"{manifest.id.replace('-', '_')}.onnx"])  # fmt: skip
        self.release()
        self._found, self._broken = None, None
        self._looked_at = -RELOOK_SECONDS
        return manifest.id

    def status(self, store: Store, model: str | None) -> dict:
        """Objects found per class, and photos still to look at (with the setting on). Does not
        load the detector: the window asks every few seconds."""
        found = store.object_counts()
        detector = self.detector_id() if self.settings.detect_objects else None
        found["detector"] = detector  # None: none installed, or switched off
        key = objects_key(detector, model) if detector and model else None
        found["pending"] = store.photos_without_objects(key) if key else 0
        return found

    def release(self) -> None:
        with self._lock:
            if self._finder is not None:
                self._finder.detector.release()
            self._finder = None
