"""`desktop-search models ...` through the CLI: import a checkpoint, list, use, remove."""

import json

from click.testing import CliRunner

from desktop_search.cli.root import cli


def run(home, *args, expect=0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def test_import_converts_and_activates_the_model(tmp_path, tiny_clip_checkpoint):
    home = tmp_path / "home"
    assert "installed: none" in run(home, "models", "list").stdout
    result = run(
        home,
        "models",
        "import",
        tiny_clip_checkpoint.checkpoint,
        "--arch",
        tiny_clip_checkpoint.config,
        "--name",
        "mine",
    )
    assert "installed mine" in result.stdout
    lines = run(home, "models", "list", "--json").stdout.splitlines()
    listed = [json.loads(line) for line in lines]
    (mine,) = [entry for entry in listed if entry["installed"]]
    assert (mine["id"], mine["kind"], mine["precision"], mine["active"]) == (
        "mine", "clip", "int8", True,
    )  # fmt: skip
    assert mine["size"] > 100_000
    available = {entry["id"]: entry for entry in listed if not entry["installed"]}
    assert available["yolox-nano"]["status"] == "fetchable"
    clip = available["vit-b-32-laion2b"]
    assert clip["status"].startswith("fetchable (verified against the hub") and clip["fetchable"]
    # Not fetched yet: the manifest's estimate, said to be one (no network asked).
    assert (clip["size"], clip["size_exact"]) == (607_000_000, False)
    assert (home / "models" / "mine" / "visual.onnx").is_file()
    assert 'active_model = "mine"' in (home / "config.toml").read_text()
    assert json.loads(run(home, "status", "--json").stdout)["model"] == "mine"


def test_use_and_remove(tmp_path, tiny_clip_dir):
    home = tmp_path / "home"
    run(home, "status")  # creates the home
    for name in ("a", "b"):
        (home / "models" / name).mkdir()
        for path in tiny_clip_dir.iterdir():
            text = path.read_bytes()
            if path.name == "model.json":
                text = json.dumps({**json.loads(text), "id": name}).encode()
            (home / "models" / name / path.name).write_bytes(text)
    run(home, "models", "use", "b")
    assert "* b" in run(home, "models", "list").stdout
    run(home, "models", "remove", "b")
    assert not (home / "models" / "b").exists()
    assert json.loads(run(home, "status", "--json").stdout)["model"] is None


def test_using_a_model_that_is_not_installed_is_a_clear_error(tmp_path):
    result = run(tmp_path / "home", "models", "use", "nope", expect=1)
    assert result.stderr.startswith("error: ") and "nope" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_of_a_missing_checkpoint_is_a_usage_error(tmp_path):
    result = run(
        tmp_path / "home",
        "models",
        "import",
        tmp_path / "none.safetensors",
        "--arch",
        "ViT-B-32",
        expect=2,
    )
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_import_of_a_broken_checkpoint_keeps_the_old_model(tmp_path, tiny_clip_checkpoint):
    home = tmp_path / "home"
    run(
        home,
        "models",
        "import",
        tiny_clip_checkpoint.checkpoint,
        "--arch",
        tiny_clip_checkpoint.config,
        "--name",
        "good",
    )
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    result = run(
        home,
        "models",
        "import",
        broken,
        "--arch",
        tiny_clip_checkpoint.config,
        "--name",
        "bad",
        expect=1,
    )
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert [m.name for m in (home / "models").iterdir() if not m.name.startswith(".")] == ["good"]
    assert json.loads(run(home, "status", "--json").stdout)["model"] == "good"


def test_import_text_installs_the_sentence_model_and_encodes_what_was_indexed(tmp_path):
    from tests.make_pdfs import text_pdf

    home, folder = tmp_path / "home", tmp_path / "docs"
    folder.mkdir()
    (folder / "lab.pdf").write_bytes(text_pdf(["Lipid panel: LDL cholesterol 162 mg/dl."]))
    run(home, "index", folder)
    result = run(home, "models", "import-text")
    assert "installed the text model all-minilm-l6-v2" in result.stdout
    assert "0 document(s) read, 1 passage(s) encoded" in result.stdout  # nothing read again
    assert 'text_model = "all-minilm-l6-v2"' in (home / "config.toml").read_text()
    hits = run(home, "search", "blood fat test results", "--mode", "semantic", "--json").stdout
    assert json.loads(hits.splitlines()[0])["path"] == str(folder / "lab.pdf")
