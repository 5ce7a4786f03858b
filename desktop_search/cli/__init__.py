"""The ``desktop-search`` command line: a lazy click group (``root.py``), one module per command
group; ``from desktop_search.cli import cli, main``."""

from desktop_search.cli.root import cli, main

__all__ = ["cli", "main"]
