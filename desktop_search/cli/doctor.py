"""The ``doctor`` command: check a library home for inconsistencies and repair them."""

from __future__ import annotations

import json
import logging

import click

from desktop_search.app.doctor import DoctorReport, run_doctor, unopenable_report
from desktop_search.app.library import Library
from desktop_search.cli.common import printable
from desktop_search.config import Paths, resolve_home
from desktop_search.errors import StoreError

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only report problems (exit 1 if any); change nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def doctor(ctx: click.Context, check_only: bool, as_json: bool) -> None:
    """Check that the database, vector indices, thumbnails and queue agree, and repair them."""
    report = _diagnose(ctx, repair=not check_only)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        # Details name files and quote SQLite's and the system's errors: no controls, one line each.
        for check in report.checks:
            click.echo(printable(check.line()))
        click.echo(printable(report.summary()))
    if report.problems:
        ctx.exit(1)


def _diagnose(ctx: click.Context, *, repair: bool) -> DoctorReport:
    home = ctx.obj["home"]
    try:
        library = Library.open(home)
    except StoreError as error:
        # A database SQLite cannot open is what doctor is asked about: report it, don't fail.
        report = unopenable_report(error, Paths(resolve_home(home)).database, repair=repair)
        if report is None:
            raise
        return report
    ctx.call_on_close(library.close)
    return run_doctor(library, repair=repair)
