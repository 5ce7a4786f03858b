"""The library's object detector: found among the installed models, opened on first use.

Shared by a Library and its readers. Indexing uses it only while the ``detect_objects`` setting
is on; a query image's objects are detected whenever a detector is installed (the user asked).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_search.app.model_registry import ModelRegistry
from desktop_search.app.status import ObjectCounts
from desktop_search.config import Settings
from desktop_search.errors import FileNotIndexableError, ModelError, NoModelError, QueryError
from desktop_search.store.records import FoundObject
from desktop_search.store.store import Store

# Every Library makes ObjectTools, a `search` process included: the detector, photo decoding and
# installing are imported by the methods that use them.
if TYPE_CHECKING:
    from desktop_search.index.passes.objects import ObjectFinder

log = logging.getLogger(__name__)

NO_DETECTOR_HINT = (
    "install it with 'desktop-search models fetch yolox-nano', or 'desktop-search models "
    "import-detector FILE.onnx' for a YOLOX file you have"
)


class ObjectTools:
    """The object detector as indexing and query images use it (from the model registry)."""

    def __init__(self, registry: ModelRegistry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings

    def detector_id(self) -> str | None:
        """The installed detector (looked for again every half minute while there is none)."""
        return self.registry.name("detector")

    def finder(self) -> ObjectFinder | None:
        """For indexing: None when switched off in the settings or no detector is installed."""
        return self.query_finder() if self.settings.detect_objects else None

    def query_finder(self) -> ObjectFinder | None:
        """The detector, whatever the setting; None when none is installed or it is broken."""
        return self.registry.get("detector")

    def query_objects(self, path: Path) -> list[FoundObject]:
        """The objects of a query image, numbered by their place in the list."""
        finder = self.query_finder()
        if finder is None and self.registry.problem("detector"):
            raise NoModelError(
                f"the object detector {self.detector_id()} cannot be opened (see the log)",
                hint=f"install it again: {NO_DETECTOR_HINT}",
            )
        if finder is None:
            raise NoModelError("finding objects in an image needs the object detector, "
                               "and none is installed", hint=NO_DETECTOR_HINT)  # fmt: skip
        if not path.is_file():
            raise QueryError(f"query image not found: {path}", hint="check the path")
        from desktop_search.extract.images import load_photo, read_file

        try:
            photo = load_photo(read_file(path), min_side=64, thumb_size=64,
                               long_side=finder.input_size)  # fmt: skip
        except FileNotIndexableError as error:
            raise QueryError(f"cannot use {path} as a query image: {error.reason}") from error
        return finder.find(photo.image, (photo.width, photo.height))

    def import_detector(self, onnx_file: Path) -> str:
        """Install a YOLOX ONNX file the user has as the detector (checked by loading it)."""
        from desktop_search.models.install import manifest as manifests
        from desktop_search.models.install.fetch import install_as_is
        from desktop_search.models.runtime.detector import ObjectDetector

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
        install_as_is(self.registry.store, manifest, [onnx_file], origin=str(onnx_file),
                      names=[f"{manifest.id.replace('-', '_')}.onnx"])  # fmt: skip
        self.registry.reset("detector")
        return manifest.id

    def status(self, store: Store, model: str | None) -> ObjectCounts:
        """Objects found per class, and photos still to look at (with the setting on). Does not
        load the detector: the window asks every few seconds."""
        from desktop_search.index.passes.objects import objects_key

        found = store.objects.object_counts()
        detector = self.detector_id() if self.settings.detect_objects else None
        key = objects_key(detector, model) if detector and model else None
        return ObjectCounts(
            total=found["total"], photos=found["photos"], classes=dict(found["classes"]),
            detector=detector, pending=store.objects.photos_without_objects(key) if key else 0,
        )  # fmt: skip
