"""The ``install-desktop-entry`` command: put the app in the applications menu, or take it out."""

from __future__ import annotations

import logging

import click

from desktop_search.cli.common import printable, shown_path
from desktop_search.platform import desktop_entry
from desktop_search.platform.desktop_entry import EntryReport

log = logging.getLogger(__name__)


@click.command("install-desktop-entry")
@click.option("--remove", is_flag=True, help="Take the menu entry, icons and metainfo away.")
def install_desktop_entry(remove: bool) -> None:
    """Add desktop-search to your applications menu, with its icon.

    Writes the desktop entry (running this installation's desktop-search), the icons and the
    AppStream metainfo under your data folder ($XDG_DATA_HOME, else ~/.local/share), for you
    only. --remove deletes exactly the files this command wrote, unless they were changed since.
    Running it again changes nothing that is in place.
    """
    if remove:
        _print_removal(desktop_entry.remove())
    else:
        _print_installation(desktop_entry.install())


def _print_installation(report: EntryReport) -> None:
    for path in report.written:
        click.echo(f"wrote {shown_path(path)}")
    if not report.written:
        click.echo(f"already in place: {len(report.unchanged)} file(s), nothing changed")
    for tool in report.refreshed:
        click.echo(f"refreshed the cache ({tool})")
    command = printable(" ".join(report.command))
    click.echo(f"desktop-search is in the applications menu (it runs: {command}); "
               "'desktop-search install-desktop-entry --remove' takes it away")  # fmt: skip


def _print_removal(report: EntryReport) -> None:
    for path in report.removed:
        click.echo(f"removed {shown_path(path)}")
    for path in report.kept:
        click.echo(f"kept {shown_path(path)}: changed since desktop-search wrote it")
    for tool in report.refreshed:
        click.echo(f"refreshed the cache ({tool})")
    if not report.removed and not report.kept:
        click.echo("nothing to remove: no menu entry written by desktop-search is here")
    elif not report.kept:
        click.echo("desktop-search is no longer in the applications menu")
