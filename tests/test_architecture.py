"""The rules of docs/ARCHITECTURE.md ("Layout"), checked on the source of every module.

Only the syntax trees are read (nothing of the package is imported but its ``__init__``), so the
whole file runs in about a second. Every failure lists the offenders as ``path:line: what``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import desktop_search

PACKAGE = Path(desktop_search.__file__).parent
ROOT = PACKAGE.name  # "desktop_search"
HEAVY = {"torch", "torchvision", "open_clip", "transformers", "sentence_transformers", "onnx"}


@dataclass(frozen=True)
class Import:
    """One module an ``import`` statement brings in, as a dotted name (``from a import b``
    names the module ``a.b`` when ``b`` is a submodule, else ``a``)."""

    module: str
    line: int
    lazy: bool  # inside a function: imported when that function runs, not with the module
    typing: bool  # under ``if TYPE_CHECKING:``: for annotations only, never imported


@dataclass(frozen=True)
class Module:
    path: str  # relative to the package, e.g. "store/store.py"
    name: str  # dotted, without the package, e.g. "store.store" ("" for the package itself)
    package: str  # the dotted package it is in, e.g. "desktop_search.store"
    source: str
    tree: ast.Module
    imports: tuple[Import, ...]

    @property
    def ours(self) -> tuple[Import, ...]:
        """The imports of other modules of the package."""
        return tuple(i for i in self.imports if top(i.module) == ROOT)

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"


def top(name: str) -> str:
    return name.split(".")[0]


def is_module(dotted: str) -> bool:
    """Whether ``dotted`` (``desktop_search.x.y``) is a module or package of ours."""
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def absolute(node: ast.ImportFrom, package: str) -> str:
    """The module ``from ... import`` names, relative imports resolved inside ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(tree: ast.Module, package: str) -> tuple[Import, ...]:
    """Every module imported anywhere in ``tree`` (top level, functions, TYPE_CHECKING blocks).

    ``package`` is the dotted package the module is in, for relative imports.
    """
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, typing: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, lazy, typing) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                module = absolute(child, package)
                for alias in child.names:
                    submodule = f"{module}.{alias.name}"
                    named = submodule if top(module) == ROOT and is_module(submodule) else module
                    found.append(Import(named, child.lineno, lazy, typing))
            elif isinstance(child, ast.If) and ast.unparse(child.test).endswith("TYPE_CHECKING"):
                visit(ast.Module(child.body, []), lazy, True)
                visit(ast.Module(child.orelse, []), lazy, typing)
                continue
            function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            visit(child, lazy or function, typing)

    visit(tree, False, False)
    return tuple(found)


def parse_module(relative: str, source: str) -> Module:
    """The module at ``relative`` (e.g. "store/store.py") with this source."""
    parts = relative.removesuffix(".py").split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    dotted = ".".join([ROOT, *parts])
    package = dotted if is_package else dotted.rpartition(".")[0]
    tree = ast.parse(source)
    return Module(relative, ".".join(parts), package, source, tree, imports_of(tree, package))


@cache
def modules() -> tuple[Module, ...]:
    return tuple(
        parse_module(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    )


def assert_none(offenders: Iterable[str]) -> None:
    """Fail listing every offender, one per line (pytest would cut a long list short)."""

    def natural(line: str) -> list:  # "x.py:9" before "x.py:10"
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", line)]

    found = sorted(set(offenders), key=natural)
    assert not found, "\n" + "\n".join(found)


def test_imports_are_read_as_the_modules_they_load():
    source = """
from typing import TYPE_CHECKING
from desktop_search.platform import private
from desktop_search.store.store import Store
from . import queue
import numpy as np
if TYPE_CHECKING:
    from desktop_search.search.query import Filters
else:
    import json
def later():
    from desktop_search.models.convert import clip
"""
    found = {(i.module, i.lazy, i.typing) for i in parse_module("store/m.py", source).imports}
    assert found == {
        ("typing", False, False),
        ("desktop_search.platform.private", False, False),  # a submodule, not the package
        ("desktop_search.store.store", False, False),
        ("desktop_search.store.queue", False, False),
        ("numpy", False, False),
        ("desktop_search.search.query", False, True),
        ("json", False, False),
        ("desktop_search.models.convert.clip", True, False),
    }


def unit(dotted: str) -> str:
    """The layer a module belongs to: its package below ``desktop_search`` (``models`` has three:
    ``models.runtime``, ``models.install``, ``models.convert``); a top-level module is its own."""
    parts = dotted.split(".")
    if parts[0] == ROOT:
        parts = parts[1:]
    if not parts:
        return ""  # the package's __init__ (its __version__)
    if parts[0] == "models" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


# --- heavy and optional dependencies -------------------------------------------------------

# The int8 quantiser (onnxruntime.quantization works on onnx graphs) may import onnx, and
# nothing else heavy: importing ready ONNX exports must work without torch.
ALLOWED_HEAVY = {
    "models/convert/clip.py": HEAVY,
    "models/convert/text.py": HEAVY,
    "models/install/quantize.py": {"onnx"},
    # Building a BERT encoder's graph and choosing which of its nodes stay fp32: no torch.
    "models/install/bert_graph.py": {"onnx"},
    "models/install/text_import.py": {"onnx"},
    # Per-token int8 MatMuls written into the quantised graph (onnx.helper): no torch.
    "models/install/per_token.py": {"onnx"},
}


def test_only_the_converter_imports_torch_open_clip_or_onnx():
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        for i in module.imports
        if top(i.module) in HEAVY - ALLOWED_HEAVY.get(module.path, set())
    )


def test_the_converter_is_imported_only_when_asked_for():
    """models/convert/ (torch, the `convert` extra) loads when a person converts, never with a
    module: only models/install/ imports it, inside the function that converts."""
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        if unit(module.name) != "models.convert"
        for i in module.ours
        if unit(i.module) == "models.convert"
        and not (i.lazy and unit(module.name) == "models.install")
    )


def test_only_the_hub_module_imports_the_hub_client():
    """huggingface_hub (and its HTTP stack) loads for a fetch only, never on the search path."""
    client = {"huggingface_hub", "hf_xet", "httpx2", "httpx"}
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        if module.path != "models/install/hub.py"
        for i in module.imports
        if top(i.module) in client
    )


def test_only_the_gui_imports_qt():
    """viewmodels/ included: the state the window shows is Qt-free, so tests and the CLI can use
    it without a display (the rule holds vacuously until that package exists)."""
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        if unit(module.name) != "gui"
        for i in module.imports
        if top(i.module) == "PySide6"
    )


# --- the layout ------------------------------------------------------------------------------

TOP_LEVEL = {"__init__.py", "__main__.py", "config.py", "errors.py"}


def test_no_module_sits_at_the_top_level_but_main_config_and_errors():
    """Every other module lives in the package of its layer (app/, cli/, store/, ...)."""
    assert_none(m.path for m in modules() if "/" not in m.path and m.path not in TOP_LEVEL)


# Who may import whom: "Dependency direction" of the Layout. gui -> viewmodels -> app;
# cli -> app; app -> index, search -> store, vectors, extract, models.runtime;
# models.install -> models.runtime. The arrows are transitive (the CLI may format a
# store.pathnames path it gets from the app); a layer never imports one above it or a sibling
# (search and index are independent: a search process imports nothing of indexing).
DIRECTION: dict[str, set[str]] = {
    "": set(),  # the package's __init__: only __version__
    "__main__": {"cli"},
    "cli": {"app"},  # and gui, from cli/gui.py only: test_nothing_imports_the_gui_but_its_command
    "gui": {"viewmodels", "app"},
    "viewmodels": {"app"},
    "app": {"index", "search", "models.install"},
    "index": {"store", "vectors", "extract", "models.runtime"},
    "search": {"store", "vectors", "extract", "models.runtime"},
    "store": {"extract"},  # the items a document is made of (extract.document) are what it saves
    "vectors": set(),
    "extract": set(),
    # The converter uses the installer's file helpers and the int8 gate; the installer imports
    # the converter only inside the function that converts (test above).
    "models.convert": {"models.install"},
    "models.install": {"models.runtime", "models.convert"},
    "models.runtime": set(),
    "models": set(),  # models/__init__.py
}
# What every layer may use; among themselves: config -> platform -> errors.
BASE: dict[str, set[str]] = {
    "errors": set(),
    "platform": {"errors"},
    "config": {"errors", "platform"},
}


def allowed_units(layer: str) -> set[str]:
    if layer in BASE:
        return {layer, *BASE[layer]}
    reached, todo = {layer}, [layer]
    while todo:
        for below in DIRECTION[todo.pop()]:
            if below not in reached:
                reached.add(below)
                todo.append(below)
    return reached | set(BASE) | {""}


def test_every_package_is_a_layer_of_the_layout():
    unknown = {unit(m.name) for m in modules()} - set(DIRECTION) - set(BASE)
    assert unknown == set(), "add the new package to DIRECTION (and to docs/ARCHITECTURE.md)"


# Imports against the direction that the layout itself calls for, each for annotations only
# (under TYPE_CHECKING: the object is passed in, the module is never imported for it).
TYPED_ONLY: dict[tuple[str, str], str] = {
    ("vectors/spaces.py", "store"): "the catch-up between processes reads the store's vector log",
    ("vectors/encoders.py", "models.runtime"): "an image encoder names the input its model wants",
}


def excepted(module: Module, i: Import) -> bool:
    return i.typing and (module.path, unit(i.module)) in TYPED_ONLY


def test_imports_follow_the_dependency_direction():
    assert_none(
        f"{module.where(i.line)}: {unit(module.name)} -> {i.module.removeprefix(ROOT + '.')}"
        for module in modules()
        if unit(module.name) in DIRECTION or unit(module.name) in BASE
        for i in module.ours
        if unit(i.module) != "gui"  # the next test
        and unit(i.module) not in allowed_units(unit(module.name))
        and not excepted(module, i)
    )


def test_every_exception_to_the_direction_is_still_needed():
    used = {(m.path, unit(i.module)) for m in modules() for i in m.ours if excepted(m, i)}
    assert set(TYPED_ONLY) - used == set(), "remove the exceptions no import needs any more"


def test_nothing_imports_the_gui_but_its_command():
    """Qt loads only when `desktop-search gui` runs (cli/gui.py), or inside the gui itself."""
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        if unit(module.name) != "gui" and module.path != "cli/gui.py"
        for i in module.ours
        if unit(i.module) == "gui"
    )


def test_the_core_never_imports_the_interfaces():
    """The layers below app/ never import app/, cli/, viewmodels/ or gui/, even lazily."""
    interfaces = {"app", "cli", "viewmodels", "gui", "__main__"}
    core = {"index", "search", "store", "vectors", "extract", "models", "platform", "config"}
    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        if top(unit(module.name)) in core | {"errors"}
        for i in module.ours
        if unit(i.module) in interfaces
    )


# Leaves: packages that import nothing of ours beyond these (dotted names below desktop_search;
# a name allows the module and everything in it).
LEAVES: dict[str, set[str]] = {
    # extract.document: the items a document is made of, which the store saves as rows;
    # platform.private: the file modes of what the app creates under its home.
    "store/": {"store", "errors", "extract.document", "platform.private"},
    "vectors/": {"vectors", "errors", "platform.private"},
    "extract/": {"extract", "errors", "platform.private"},
    "models/": {"models", "errors", "platform"},
    "platform/": {"platform", "errors"},
    "index/scan.py": {"errors"},  # walking folders is pure: no store, no models
}


def test_leaf_packages_import_only_themselves():
    def allowed(i: Import, names: set[str]) -> bool:
        inside = i.module.removeprefix(ROOT + ".")
        return any(inside == name or inside.startswith(name + ".") for name in names)

    assert_none(
        f"{module.where(i.line)}: {i.module}"
        for module in modules()
        for leaf, names in LEAVES.items()
        if module.path.startswith(leaf)
        for i in module.ours
        if not allowed(i, names) and not excepted(module, i)
    )


# --- no cross-module private access ------------------------------------------------------------

# Underscore names that are public API of the standard library's namedtuple.
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}
# Bases that bring no attributes of their own to a class.
NEUTRAL_BASES = {"object", "Protocol", "Generic", "ABC", "NamedTuple", "TypedDict", "Exception"}


def is_private(name: str) -> bool:
    """``_name``: not a dunder (``__init__``), not a sunder (``_missing_``), not ``_``."""
    return name.startswith("_") and not name.startswith("__") and not name.endswith("_")


def noqa_lines(source: str) -> set[int]:
    """Lines that say why they reach into another object (``# noqa: SLF001 - why``)."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and "noqa: SLF001" in token.string:
            lines.add(token.start[0])
    return lines


def own_names(tree: ast.Module) -> set[str]:
    """Every name this module defines: functions, classes, methods, assignments, attributes it
    sets on ``self``/``cls``, and strings such as ``__slots__`` entries."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


def base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Subscript):  # Generic[T]
        base = base.value
    while isinstance(base, ast.Attribute):  # QtWidgets.QWidget: the module it comes from
        base = base.value
    return base.id if isinstance(base, ast.Name) else None


def chain_root(node: ast.expr) -> ast.expr:
    """``a`` of ``a.b.c`` or ``a().b``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def private_access(module: Module) -> Iterator[str]:
    """Uses of another module's ``_private`` names in ``module``.

    - ``from desktop_search.x import _name`` (a private submodule of one's own package is fine);
    - ``x._name`` where ``x`` was imported from another module of ours;
    - ``obj._name`` on anything but ``self``/``cls``/``super()`` where no ``_name`` is defined in
      this module (a ``_name`` of this module's own classes, e.g. ``other._key`` in ``__eq__``,
      is the module's own business);
    - ``self._name`` in a class that does not define it here and whose bases are all ours (a
      mixin using its host's private helpers); classes built on a foreign base (Qt widgets,
      threading.Thread) are left alone, their ``_names`` may be the base's.
    Names imported from other packages (``os._exit``) are never ours to judge.
    """
    ours: dict[str, str] = {}  # local name -> the module of ours it was imported from
    foreign: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            source = absolute(node, module.package)
            for alias in node.names:
                local = alias.asname or alias.name
                if top(source) != ROOT:
                    foreign.add(local)
                    continue
                ours[local] = source
                own_package = source == module.package and is_module(f"{source}.{alias.name}")
                if is_private(alias.name) and not own_package:
                    yield f"{module.where(node.lineno)}: from {source} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                if top(alias.name) == ROOT:
                    ours[local] = alias.name
                else:
                    foreign.add(local)
    defined = own_names(module.tree)
    excused = noqa_lines(module.source)

    def foreign_based(node: ast.ClassDef) -> bool:
        names = {base_name(base) for base in node.bases} - NEUTRAL_BASES
        return any(
            name is None or name in foreign or (name not in ours and name not in defined)
            for name in names
        )

    def visit(node: ast.AST, host: ast.ClassDef | None) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.ClassDef) else host
            if (
                isinstance(child, ast.Attribute)
                and is_private(child.attr)
                and child.attr not in NAMEDTUPLE_API
                and child.lineno not in excused
            ):
                value, root = child.value, chain_root(child.value)
                where, what = module.where(child.lineno), f"{ast.unparse(value)}.{child.attr}"
                if isinstance(root, ast.Name) and root.id in foreign:
                    pass
                elif isinstance(value, ast.Name) and value.id in ours:
                    yield f"{where}: {what} ({ours[value.id]})"
                elif isinstance(value, ast.Call) and ast.unparse(value.func) == "super":
                    pass
                elif isinstance(value, ast.Name) and value.id in ("self", "cls"):
                    if child.attr not in defined and host is not None and not foreign_based(host):
                        yield f"{where}: {what} (class {host.name} does not define it)"
                elif child.attr not in defined:
                    yield f"{where}: {what}"
            yield from visit(child, inner)

    yield from visit(module.tree, None)


def test_no_module_uses_another_modules_private_names():
    """A ``_name`` is its module's own: other modules use what it makes public. Reaching in
    couples two files so that neither can change alone (the Store mixins, MainWindow's)."""
    first: dict[tuple[str, str], str] = {}  # each name once per module, at its first use
    for module in modules():
        for line in private_access(module):
            first.setdefault((module.path, line.partition(": ")[2]), line)
    assert_none(first.values())


def test_the_private_access_check_finds_reaching_in_and_only_that():
    source = """
import os
from desktop_search.store import store
from desktop_search.store.store import Store, _helper
from desktop_search.store import _rows
from PySide6.QtWidgets import QWidget

class Mixin:
    def use(self):
        return self._host_only()

class Own:
    __slots__ = ("_slot",)

    def __init__(self, other):
        self._key = 1
        self._store = Store()
        other._key
        self._slot

    def __eq__(self, other):
        return self._key == other._key and self._private_method()

    def _private_method(self):
        return store._connect(), Store._schema, self._store._db, super()._base_thing

class Widget(QWidget):
    def _on_click(self):
        self._qt_internal, os._exit, self._on_click
"""
    found = [line.partition(": ")[2] for line in private_access(parse_module("app/m.py", source))]
    assert found == [
        "from desktop_search.store.store import _helper",
        "from desktop_search.store import _rows",
        "self._host_only (class Mixin does not define it)",
        "store._connect (desktop_search.store)",
        "Store._schema (desktop_search.store.store)",
        "self._store._db",
    ]
    excused = "import x\ndef f(block):\n    return block._fd  # noqa: SLF001 - its only handle\n"
    assert list(private_access(parse_module("app/m.py", excused))) == []


def test_the_direction_is_read_transitively_and_keeps_siblings_apart():
    assert {"store", "vectors", "models.runtime", "errors"} <= allowed_units("gui")
    assert "index" not in allowed_units("search") and "search" not in allowed_units("index")
    assert "app" not in allowed_units("store") and "config" not in allowed_units("errors")
    assert "models.install" not in allowed_units("models.runtime")


# --- module size -------------------------------------------------------------------------------

LONG = 400  # lines
REASON = "Over 400 lines:"


def stated_reason(module: Module) -> str | None:
    """The ``Over 400 lines: why`` line of a module: in its docstring's first paragraph or in a
    comment among its first 15 lines."""
    docstring = ast.get_docstring(module.tree) or ""
    first_paragraph = docstring.split("\n\n")[0].splitlines()
    comments = [
        line.strip().removeprefix("#").strip()
        for line in module.source.splitlines()[:15]
        if line.strip().startswith("#")
    ]
    for line in (*first_paragraph, *comments):
        line = line.strip()
        if line.startswith(REASON) and line.removeprefix(REASON).strip():
            return line
    return None


def test_every_long_module_says_why_it_is_one_job():
    """A module grows past 400 lines only when it is still one job; the reason is written at its
    top so the next person to split it knows what holds it together."""
    assert_none(
        f"{module.path}: {len(module.source.splitlines())} lines"
        for module in modules()
        if len(module.source.splitlines()) > LONG and stated_reason(module) is None
    )


def test_the_size_rule_sees_a_reason_where_it_may_be_written():
    def reason_of(source: str) -> str | None:
        return stated_reason(parse_module("m.py", source))

    assert reason_of("# Over 400 lines: one parser.\n'''Doc.'''\n") == "Over 400 lines: one parser."
    assert reason_of('"""Doc.\nOver 400 lines: one parser.\n\nMore."""\n') is not None
    assert reason_of('"""Doc.\n\nOver 400 lines: in the second paragraph."""\n') is None
    assert reason_of("\n" * 20 + "# Over 400 lines: too far down.\n") is None
    assert reason_of("# Over 400 lines:\n") is None  # a reason must be given
