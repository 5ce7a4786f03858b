"""The dependency rules of ARCHITECTURE.md, checked by walking every import in the package."""

import ast
from pathlib import Path

import desktop_search

PACKAGE = Path(desktop_search.__file__).parent
HEAVY = {"torch", "torchvision", "open_clip", "transformers", "sentence_transformers", "onnx"}


def imports_of(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), imports_of(path)


def top(name: str) -> str:
    return name.split(".")[0]


# The int8 quantiser (onnxruntime.quantization needs the onnx package) may import onnx, and
# nothing else heavy: importing ready ONNX exports must work without torch.
ALLOWED_HEAVY = {
    "models/convert/clip.py": HEAVY,
    "models/convert/text.py": HEAVY,
    "models/install/quantize.py": {"onnx"},  # onnxruntime's quantiser works on onnx graphs; no torch
}


def test_only_the_converter_imports_torch_open_clip_or_onnx():
    offenders = {
        name: sorted(i for i in found if top(i) in HEAVY - ALLOWED_HEAVY.get(name, set()))
        for name, found in modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_hub_module_imports_the_hub_client():
    """huggingface_hub (and its HTTP stack) loads for a fetch only, never on the search path."""
    client = {"huggingface_hub", "hf_xet", "httpx2", "httpx"}
    offenders = [
        name for name, found in modules()
        if name != "models/install/hub.py" and any(top(i) in client for i in found)
    ]  # fmt: skip
    assert offenders == []


def test_only_the_gui_imports_qt():
    offenders = [
        name for name, found in modules()
        if not name.startswith("gui/") and any(top(i) == "PySide6" for i in found)
    ]  # fmt: skip
    assert offenders == []


def test_leaf_modules_do_not_import_each_other():
    leaves = {"store/store.py", "vectors/index.py", "index/scan.py", "index/thumbnails.py"}
    leaves |= {"vectors/files.py", "store/moves.py", "store/reads.py"}
    leaves |= {"store/texts.py", "store/objects.py"}
    # private: the file modes of what the app creates under its home (no dependencies).
    allowed = {"desktop_search.errors", "desktop_search.store.records", "desktop_search.platform.private"}
    # vector_files is the on-disk format split out of vectors.py; the queue and the vector log
    # are tables of the store's database, store_moves/store_reads parts of the Store class:
    # parts only their owner imports (sqlpaths: the SQL helpers those parts share; pathnames:
    # how a path is spelt in the database and the keyword index).
    # filter_sql turns the query module's filters into SQL for the reads.
    store_parts = {"desktop_search.store.sql", "desktop_search.store.pathnames"}
    private = {
        "store/moves.py": store_parts,
        "store/reads.py": store_parts
        | {"desktop_search.search.filter_sql", "desktop_search.search.query"},
        "store/texts.py": store_parts | {"desktop_search.extract.document"},
        "store/objects.py": store_parts,
        "vectors/index.py": {"desktop_search.vectors.files"},
        "store/store.py": {
            "desktop_search.store.pathnames",
            "desktop_search.store.queue",
            "desktop_search.store.sql",
            "desktop_search.store.vector_log",
            "desktop_search.store.moves",
            "desktop_search.store.reads",
            "desktop_search.store.texts",
            "desktop_search.store.objects",
        },
    }
    for name, found in modules():
        own = {i for i in found if i.startswith("desktop_search.")}
        if name in leaves:
            assert own - private.get(name, set()) <= allowed, name
        elif name.startswith("extract/"):
            assert {i for i in own if not i.startswith("desktop_search.extract")} <= allowed, name
        elif name.startswith("models/"):
            assert {i for i in own if not i.startswith("desktop_search.models")} <= allowed, name


def test_the_core_never_imports_the_interfaces():
    for name, found in modules():
        if name.startswith(("core/", "extract/", "models/")):
            assert not any(
                i.startswith(("desktop_search.cli.root", "desktop_search.gui", "desktop_search.app.library"))
                for i in found
            ), name
