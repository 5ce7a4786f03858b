"""The int8 fidelity gate: good quantisations pass, a sabotaged one is caught and fp32 installed."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from desktop_search.models.convert.clip import build_clip_tokenizer
from desktop_search.models.install.calibration import CALIBRATION_TEXTS, calibration_images
from desktop_search.models.install.quantize import (
    Candidate,
    dynamic_int8,
    quantize_tower,
    sensitive_nodes,
    topk_agreement,
)
from desktop_search.models.runtime.preprocess import ImageSpec, preprocess_batch
from desktop_search.models.runtime.tokenizer import ClipTokenizer
from tests.immich_export import export_textual, export_visual, load_tiny_clip


@pytest.fixture(scope="module")
def towers(tmp_path_factory, tiny_clip_checkpoint):
    """fp32 ONNX towers of the tiny model (torch export, test only) and their calibration sets."""
    folder = tmp_path_factory.mktemp("fp32_towers")
    model = load_tiny_clip(tiny_clip_checkpoint)
    export_visual(model, folder / "visual.onnx", dynamic=True)
    export_textual(model, folder / "textual.onnx", dynamic=True)
    build_clip_tokenizer().save(str(folder / "tokenizer.json"))
    pixels = preprocess_batch(calibration_images(), ImageSpec(224))
    tokens = ClipTokenizer(folder / "tokenizer.json", 77).encode(list(CALIBRATION_TEXTS))
    return {
        "image": (folder / "visual.onnx", pixels, "image"),
        "text": (folder / "textual.onnx", tokens, "text"),
    }


def sabotaged_int8(fp32_path, out_path, per_channel, exclude):
    """A quantiser with a bug: weight scales come out wrong (as a broken export or a bad
    calibration would make them). Every int8 variant it produces is off."""
    dynamic_int8(fp32_path, out_path, per_channel, exclude)
    model = onnx.load(str(out_path))
    rng = np.random.default_rng(0)
    for init in model.graph.initializer:
        if init.name.endswith("_scale"):
            scale = numpy_helper.to_array(init)
            broken = scale * rng.uniform(0.0, 2.5, size=scale.shape).astype(scale.dtype)
            init.CopyFrom(numpy_helper.from_array(broken, init.name))
    onnx.save(model, str(out_path))


@pytest.mark.parametrize("tower", ["image", "text"])
def test_good_quantization_passes_with_top10_agreement(tmp_path, towers, tower):
    fp32, inputs, name = towers[tower]
    report = quantize_tower(fp32, tmp_path / "int8.onnx", inputs, name)
    print(tower, report.reason)
    assert report.precision == "int8" and report.path == tmp_path / "int8.onnx"
    assert report.path.is_file() and report.path.stat().st_size < fp32.stat().st_size
    f = report.fidelity
    assert f.samples == len(inputs) >= 32
    assert f.mean_cosine >= 0.99 and f.min_cosine >= 0.95
    assert 0.8 <= f.top10_agreement <= 1.0
    numbers = report.to_dict()
    assert numbers["int8_top10_agreement"] == round(f.top10_agreement, 4)
    assert numbers["precision"] == "int8" and numbers["candidates"][0]["variant"]
    # Nothing but the result is left next to it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["int8.onnx"]


@pytest.mark.parametrize("tower", ["image", "text"])
def test_sabotaged_quantization_is_caught_and_fp32_kept(tmp_path, towers, tower):
    fp32, inputs, name = towers[tower]
    report = quantize_tower(fp32, tmp_path / "int8.onnx", inputs, name, quantizer=sabotaged_int8)
    print(tower, report.reason)
    assert report.precision == "fp32" and report.path == fp32
    assert not (tmp_path / "int8.onnx").exists()
    assert report.fidelity.mean_cosine < 0.99
    assert "int8 rejected, keeping fp32" in report.reason and "mean cosine" in report.reason
    # Every variant was tried and is on record, with its numbers.
    assert len(report.candidates) == 3
    assert all(c["mean_cosine"] < 0.99 for c in report.candidates)
    assert 0.0 <= report.fidelity.top10_agreement <= 1.0


def test_first_passing_candidate_wins(tmp_path, towers):
    """Candidates are tried in order; a later one is only used when earlier ones fail."""
    fp32, inputs, name = towers["image"]
    calls = []

    def broken_per_tensor(fp32_path, out_path, per_channel, exclude):
        calls.append((per_channel, tuple(exclude)))
        (dynamic_int8 if per_channel else sabotaged_int8)(fp32_path, out_path, per_channel, exclude)

    order = (Candidate(per_channel=False), Candidate(per_channel=True, exclude_sensitive=True))
    report = quantize_tower(
        fp32, tmp_path / "int8.onnx", inputs, name, candidates=order, quantizer=broken_per_tensor
    )
    assert report.precision == "int8" and report.per_channel is True
    assert report.excluded_nodes == tuple(sensitive_nodes(fp32)) != ()
    assert [c["variant"] for c in report.candidates] == [
        "int8 per-tensor", "int8 per-channel, first/last layers fp32",
    ]  # fmt: skip
    assert calls[0] == (False, ())


def test_sensitive_nodes_are_first_and_last_weight_layers(towers):
    visual = sensitive_nodes(towers["image"][0])
    assert any("conv1" in n for n in visual)  # the patch embedding
    text = sensitive_nodes(towers["text"][0])
    assert any("Gather" in n for n in text)  # the token embedding table


def test_topk_agreement():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 16))
    assert topk_agreement(x, x) == 1.0
    assert topk_agreement(x, x + rng.normal(scale=1e-4, size=x.shape)) == 1.0
    shuffled = rng.permutation(x)
    assert topk_agreement(x, shuffled) < 0.5  # unrelated geometry
    assert topk_agreement(x[:3], x[:3]) == 1.0  # k shrinks to n - 1


def test_too_small_calibration_set_is_refused(tmp_path, towers):
    fp32, inputs, name = towers["image"]
    with pytest.raises(ValueError, match="calibration set"):
        quantize_tower(fp32, tmp_path / "int8.onnx", inputs[:8], name)


def test_calibration_data_is_deterministic_and_varied():
    a, b = calibration_images(), calibration_images()
    assert len(a) >= 32
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b, strict=True))
    assert len({image.size for image in a}) > 30  # many sizes and aspect ratios
    means = np.array([np.asarray(image).mean(axis=(0, 1)) for image in a])
    assert means.std(axis=0).min() > 20  # not all the same colour
    assert len(set(CALIBRATION_TEXTS)) == len(CALIBRATION_TEXTS) >= 32
