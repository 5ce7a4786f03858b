"""`models fetch` of the sentence model from the hub's ready ONNX export, end to end, no torch.

The local HTTPS imitation of the hub (tests/fake_hub.py) serves the layout of
sentence-transformers/all-MiniLM-L6-v2: ``onnx/model.onnx`` (LFS, from the CDN host), the
tokenizer and the pipeline files. The graph is a tiny BERT the test builds (tests/tiny_bert.py,
through bert_graph). As in the shipped manifest, the ONNX file is pinned by the manifest (size and
sha256) and the small files by the hub's metadata at the commit a fetch resolves.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.models.install.bert_graph import write_bert_onnx
from desktop_search.models.runtime.session import create_session
from desktop_search.models.runtime.text import TextModel
from tests.tiny_bert import HIDDEN, MAX_LENGTH, write_tiny_sentence_model

REPO = "sentence-transformers/Tiny-MiniLM__test"
MODEL_ID = "tiny-text"
GRAPH = "onnx/model.onnx"
SMALL_FILES = ("tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json",
               "1_Pooling/config.json")  # fmt: skip


def run(home: Path, *args: object, expect: int = 0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


@pytest.fixture(scope="module")
def repo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What the hub repository holds: a checkpoint-less sentence-transformers layout."""
    folder = write_tiny_sentence_model(tmp_path_factory.mktemp("tiny_text") / "model")
    write_bert_onnx(folder, folder / "exported.onnx")
    files = {path: (folder / path).read_bytes() for path in SMALL_FILES}
    return {GRAPH: (folder / "exported.onnx").read_bytes(), **files, "README.md": b"# tiny\n"}


def text_manifest(graph: bytes) -> dict:
    """Like models/all-minilm-l6-v2.toml: the graph pinned, the small files by the hub."""
    return {
        "schema": 1, "id": MODEL_ID, "kind": "text", "name": "Tiny text", "license": "Apache-2.0",
        "description": "served by the fake hub", "default": True, "embedding_size": HIDDEN,
        "approximate_size": 2_000_000,
        "source": {"type": "hf", "repo": REPO, "revision": "main", "pinned": False, "files": [
            {"path": GRAPH, "size": len(graph), "sha256": hashlib.sha256(graph).hexdigest()},
            *({"path": path} for path in SMALL_FILES),
        ]},
        "preprocess": {"tokenizer": "tokenizer.json", "max_length": MAX_LENGTH,
                       "pooling": "mean", "normalize": True},
        "install": {"format": "sentence-transformers", "onnx": GRAPH, "quantize": "int8"},
    }  # fmt: skip


@pytest.fixture
def served(trusted_fake_hub, repo_files, tmp_path, monkeypatch):
    trusted_fake_hub.add_repo(REPO, repo_files)
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / f"{MODEL_ID}.toml").write_text(tomli_w.dumps(text_manifest(repo_files[GRAPH])))
    monkeypatch.setenv("DESKTOP_SEARCH_MANIFESTS", str(folder))
    return trusted_fake_hub


def test_fetch_downloads_verifies_quantises_and_installs_the_text_model(
    served, repo_files, tmp_path
):
    home = tmp_path / "home"
    commit = served.head(REPO)
    report = json.loads(run(home, "models", "fetch", MODEL_ID, "--json").stdout)
    assert report["commit"] == commit and report["kind"] == "text"
    assert set(report["files"]) == {GRAPH, *SMALL_FILES}  # the manifest's files, not the README
    for path, record in report["files"].items():
        assert record["sha256"] == hashlib.sha256(repo_files[path]).hexdigest()
    # The graph came from the CDN by redirect, every file from the resolved commit.
    assert {r.path.split("?")[0] for r in served.requests_to("cdn")} == {
        f"/repos/{hashlib.sha256(repo_files[GRAPH]).hexdigest()}"
    }
    assert all(f"/resolve/{commit}/" in r.path for r in served.requests_to("hub")
               if "/resolve/" in r.path)  # fmt: skip

    folder = home / "models" / MODEL_ID
    model = TextModel(folder)
    info = model.info
    assert (info.kind, info.embed_dim, info.max_length) == ("text", HIDDEN, MAX_LENGTH)
    assert info.source["type"] == "onnx" and info.source["repo"] == REPO
    assert info.source["commit"] == commit and info.source["name"] == REPO
    assert info.source["onnx_sha256"] == hashlib.sha256(repo_files[GRAPH]).hexdigest()
    assert info.fidelity["candidates"] and info.fidelity["precision"] == info.precision
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.onnx",
                                                        "tokenizer.json"]  # fmt: skip

    # What it computes: the served graph's sentence embeddings (pooled, normalised), within the
    # gate's promise when int8 was kept.
    texts = ["hello world", "the cat and the dog", "tax return for this year", ""]
    reference = _served_embeddings(repo_files, texts, model, tmp_path)
    cosines = np.sum(model.encode(texts) * reference, axis=1)
    assert cosines.min() >= (0.95 if info.precision == "int8" else 0.99999), cosines

    # The app uses it at once; its files re-hash to what model.json records.
    assert json.loads(run(home, "status", "--json").stdout)["text_model"] == MODEL_ID
    assert "2 file(s) match their sha256" in run(home, "models", "verify", MODEL_ID).stdout
    assert not (home / "models" / ".downloads" / MODEL_ID).exists()
    listed = [json.loads(line) for line in run(home, "models", "list", "--json").stdout.split("\n")
              if line]  # fmt: skip
    assert [m["source"]["commit"] for m in listed if m["installed"]] == [commit]


def _served_embeddings(files: dict[str, bytes], texts: list[str], model: TextModel,
                       tmp_path: Path) -> np.ndarray:  # fmt: skip
    """The served fp32 graph run directly, mean-pooled and normalised by hand."""
    graph = tmp_path / "served.onnx"
    graph.write_bytes(files[GRAPH])
    session = create_session(graph, threads=1)
    rows = []
    for text in texts:
        ids = np.array([model.token_ids(text)], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                    "token_type_ids": np.zeros_like(ids)})[0][0]  # fmt: skip
        pooled = hidden.mean(axis=0)
        rows.append(pooled / np.linalg.norm(pooled))
    return np.stack(rows)


@pytest.mark.parametrize(
    ("path", "problem"),
    [(GRAPH, "corrupted or was tampered with"),  # the manifest's pin, hashed while written
     ("tokenizer.json", "git blob id does not match")],  # the hub's metadata at the commit
)  # fmt: skip
def test_a_file_that_does_not_match_installs_nothing(served, tmp_path, path, problem):
    served.corrupt(REPO, path)
    home = tmp_path / "home"
    result = run(home, "models", "fetch", MODEL_ID, expect=1)
    assert problem in result.stderr and "nothing was installed" in result.stderr
    assert not (home / "models" / MODEL_ID).exists()


def test_an_export_that_is_not_a_bare_encoder_is_refused(trusted_fake_hub, repo_files, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """A graph that pools itself (one vector per text) would be pooled again: refused."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["ids", "axis"], ["embedded"]),
         helper.make_node("ReduceMean", ["embedded"], ["sentence"], axes=[1], keepdims=0)],
        "pooled", [helper.make_tensor_value_info(n, TensorProto.INT64, ["b", "s"])
                   for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["b", 1])],
        [helper.make_tensor("axis", TensorProto.INT64, [1], [2])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    pooled = model.SerializeToString()
    onnx.checker.check_model(model)
    trusted_fake_hub.add_repo(REPO, {**repo_files, GRAPH: pooled})
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / f"{MODEL_ID}.toml").write_text(tomli_w.dumps(text_manifest(pooled)))
    monkeypatch.setenv("DESKTOP_SEARCH_MANIFESTS", str(folder))
    result = run(tmp_path / "home", "models", "fetch", MODEL_ID, expect=1)
    assert "not a bare sentence encoder" in result.stderr
    assert not (tmp_path / "home" / "models" / MODEL_ID).exists()
