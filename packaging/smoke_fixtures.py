"""Files for packaging/smoke-test-linux, made without torch (run by the build venv's Python):

    python smoke_fixtures.py OUT

OUT/photos/     photo-1.jpg (red), photo-2.png (green), photo-3.webp (blue), photo-4.heic
                (yellow), sign-5.png (a white sign reading LIGHTHOUSE): JPEG through Pillow's
                draft mode, PNG and WebP through libvips, HEIC through pillow-heif, the sign
                through OCR (RapidOCR)
OUT/photos/report.pdf   a one-page PDF with a text layer (pypdf reads it, PDFium renders it)
OUT/query-blue.png      a blue picture that is not in the folder, for `search --image`
OUT/colour-clip/        an Immich-style CLIP export (visual/, textual/, config.json) that
                        `models import` installs like a real one

The CLIP export is a real ONNX pair whose embeddings mean something simple: the image tower
maps a picture to the direction of its mean colour, and the text tower maps the words red,
green, blue, yellow and white to the direction of that colour. So "red" finds the red photo
and a blue picture finds the blue one, through the bundle's whole CLIP path (preprocessing,
tokenizer, int8 gate, vector index), without a 600 MB download.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw, ImageFont
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

SIZE = 224
MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's, as in Immich's preprocess_cfg
STD = (0.26862954, 0.26130258, 0.27577711)
DIM = 32
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "yellow": (235, 220, 30),
    "white": (245, 245, 245),
}
START, END, UNK = "<|startoftext|>", "<|endoftext|>", "[UNK]"
OPSET = [helper.make_opsetid("", 17)]


def _projection() -> np.ndarray:
    """3 -> DIM with orthonormal rows: angles between mean colours survive the projection."""
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(DIM, 3)))
    return q.T.astype(np.float32)  # (3, DIM)


def _colour_direction(rgb: tuple[int, int, int], projection: np.ndarray) -> np.ndarray:
    normalised = (np.array(rgb, np.float32) / 255.0 - np.array(MEAN)) / np.array(STD)
    vector = normalised.astype(np.float32) @ projection
    return vector / np.linalg.norm(vector)


def _normalise(graph_nodes: list, source: str, out: str) -> None:
    """L2-normalise ``source`` (N, DIM) into ``out``, safe for a zero row."""
    graph_nodes += [
        helper.make_node("ReduceL2", [source], ["norm"], keepdims=1, axes=[1]),
        helper.make_node("Max", ["norm", "eps"], ["safe_norm"]),
        helper.make_node("Div", [source, "safe_norm"], [out]),
    ]


def _image_tower(path: Path, projection: np.ndarray) -> None:
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["means"], axis=1),
        helper.make_node("MatMul", ["means", "projection"], ["projected"]),
    ]
    _normalise(nodes, "projected", "embedding")
    graph = helper.make_graph(
        nodes,
        "colour_image_tower",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        [
            numpy_helper.from_array(projection, "projection"),
            numpy_helper.from_array(np.array([1e-6], np.float32), "eps"),
        ],
    )
    _save(helper.make_model(graph, opset_imports=OPSET), path)


def _text_tower(path: Path, table: np.ndarray) -> None:
    nodes = [
        helper.make_node("Gather", ["table", "text"], ["vectors"], axis=0),
        helper.make_node("ReduceSum", ["vectors", "axis"], ["summed"], keepdims=0),
    ]
    _normalise(nodes, "summed", "embedding")
    graph = helper.make_graph(
        nodes,
        "colour_text_tower",
        [helper.make_tensor_value_info("text", TensorProto.INT32, ["batch", 77])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([1], np.int64), "axis"),
            numpy_helper.from_array(np.array([1e-6], np.float32), "eps"),
        ],
    )
    _save(helper.make_model(graph, opset_imports=OPSET), path)


def _save(model: onnx.ModelProto, path: Path) -> None:
    model.ir_version = 8  # readable by every onnxruntime the app accepts
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def write_clip_export(folder: Path) -> None:
    projection = _projection()
    vocab = {START: 0, END: 1, UNK: 2}
    for word in COLOURS:
        vocab[word] = len(vocab)
    table = np.zeros((len(vocab), DIM), np.float32)
    rng = np.random.default_rng(11)
    # The start token and unknown words get small vectors of their own, so that a text of
    # unknown words (the quantiser's calibration captions) has an embedding; the end token
    # pads the rest of the 77 ids and stays zero.
    table[vocab[START]] = rng.normal(size=DIM) * 0.02
    table[vocab[UNK]] = rng.normal(size=DIM) * 0.02
    for word, rgb in COLOURS.items():
        table[vocab[word]] = _colour_direction(rgb, projection)
    _image_tower(folder / "visual" / "model.onnx", projection)
    _text_tower(folder / "textual" / "model.onnx", table)

    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "textual" / "tokenizer.json"))
    _json(folder / "textual" / "tokenizer_config.json", {"pad_token": END, "model_max_length": 77})
    _json(
        folder / "visual" / "preprocess_cfg.json",
        {"size": [SIZE, SIZE], "mean": list(MEAN), "std": list(STD),
         "interpolation": "bicubic", "resize_mode": "shortest"},
    )  # fmt: skip
    _json(
        folder / "config.json",
        {"model_name": "colour-clip", "embed_dim": DIM, "text_cfg": {"context_length": 77}},
    )


def _json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _photo(rgb: tuple[int, int, int], seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A mostly-one-colour picture with some texture and shapes (not a flat fill, which some
    decoders and the text gate treat specially)."""
    rng = np.random.default_rng(seed)
    base = np.array(rgb, np.float32)[None, None, :]
    noise = rng.normal(0, 12, size=(size[1], size[0], 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, size[0] - 120)), int(rng.integers(0, size[1] - 120))
        shade = tuple(int(c * 0.8) for c in rgb)
        draw.ellipse([x, y, x + 100, y + 100], fill=shade)
    return image


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's own TrueType font (FreeType)
    except (TypeError, OSError):
        for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",):
            if Path(path).is_file():
                return ImageFont.truetype(path, size)
        raise


def _sign() -> Image.Image:
    image = Image.new("RGB", (1000, 600), COLOURS["white"])
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, 960, 560], outline=(20, 20, 20), width=8)
    draw.text((500, 300), "LIGHTHOUSE", fill=(15, 15, 15), font=_font(130), anchor="mm")
    return image


def _pdf(path: Path, lines: list[str]) -> None:
    """A one-page PDF with a Helvetica text layer, written by hand (no PDF library needed)."""
    text = ["BT", "/F1 16 Tf", "72 720 Td", "22 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({escaped}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def main(out: Path) -> None:
    import pillow_heif

    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    _photo(COLOURS["red"], 1).save(photos / "photo-1.jpg", quality=90)
    _photo(COLOURS["green"], 2).save(photos / "photo-2.png")
    _photo(COLOURS["blue"], 3).save(photos / "photo-3.webp", quality=90)
    heif = pillow_heif.from_pillow(_photo(COLOURS["yellow"], 4))
    heif.save(str(photos / "photo-4.heic"), quality=90)
    _sign().save(photos / "sign-5.png")
    _pdf(
        photos / "report.pdf",
        [
            "Quarterly invoice from the hardware store",
            "Two ladders, a hammer and a box of copper nails.",
            "Paid by card on the third of March.",
        ],
    )
    _photo((40, 60, 200), 9, size=(500, 400)).save(out / "query-blue.png")
    write_clip_export(out / "colour-clip")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    main(Path(sys.argv[1]))
