"""The bundle's entry point: ``desktop_search.cli.root:main``, the console script's own.

The command line and the window are one program (``desktop-search gui``, or plain
``desktop-search`` where there is a display), so the bundle has one executable.
"""

import multiprocessing
import os
import sys


def _clean_child_environment() -> None:
    """Programs the app starts (a PDF viewer at the hit's page, xdg-open, the menu's cache tools)
    must see the desktop's environment, not the bundle's. PyInstaller's bootloader put the
    bundle's libraries first on LD_LIBRARY_PATH (among them Qt 6, SQLite, libffi), and its Qt
    hook pointed QT_PLUGIN_PATH and QML2_IMPORT_PATH into the bundle: a KDE viewer inheriting
    them would load this Qt and its plugins instead of its own. This process keeps what it needs:
    the dynamic loader read LD_LIBRARY_PATH when the process started, and Qt finds its plugins
    through the qt.conf that PySide6 embeds. The bundle's own child processes (reader
    processes) start through the bootloader, which sets its paths again."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
    for name in ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH"):
        if os.environ.get(name, "").startswith(bundle):
            del os.environ[name]


if __name__ == "__main__":
    # Reader processes (index/readers.py) start through multiprocessing's forkserver. In a frozen
    # app the forkserver and the resource tracker are this executable started again with
    # "-c from multiprocessing... import main": PyInstaller's freeze_support recognises such a
    # start and does that work instead of running the command line.
    multiprocessing.freeze_support()
    _clean_child_environment()
    # Login entries written before platform/autostart.py knew about bundles read
    # `sys.executable -m desktop_search gui --hidden`; a frozen app's executable takes no `-m`.
    if sys.argv[1:3] == ["-m", "desktop_search"]:
        del sys.argv[1:3]
    from desktop_search.cli.root import main

    main()
