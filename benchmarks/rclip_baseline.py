"""rclip, the baseline of the photo benchmarks, in its own venv and offline.

rclip 3.3.0 (the version issue 17 measured; it needs no torch) reads
``$RCLIP_DATADIR/ViT-B-32-256-datacomp_s34b_b86k/{visual,textual}.onnx`` (input ``input``,
output ``output``, dynamic batch) and ``$RCLIP_DATADIR/tokenizer/bpe_simple_vocab_16e6.txt.gz``,
and downloads them only when they are missing. We write them: an fp32 export of the random
ViT-B-32-256 weights of ``common.random_checkpoint`` (the same weights our converter turns into
the int8 model we index with) and open_clip's own BPE vocabulary. Its database is
``$RCLIP_DATADIR/db.sqlite3``; a run deletes it first so that rclip indexes every photo.

    python -m benchmarks.rclip_baseline     # set up (once) and check it runs offline
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from benchmarks.common import CACHE, random_checkpoint

RCLIP_VERSION = "3.3.0"
RCLIP_VENV = CACHE / "rclip-venv"
RCLIP_DATA = CACHE / "rclip-data"
MODEL_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
VOCAB = "tokenizer/bpe_simple_vocab_16e6.txt.gz"


def rclip_executable() -> Path:
    """``rclip`` in its own venv (made once with ``pip install rclip==3.3.0``)."""
    executable = RCLIP_VENV / "bin" / "rclip"
    if not executable.exists():
        venv.create(RCLIP_VENV, with_pip=True)
        subprocess.run(
            [str(RCLIP_VENV / "bin" / "pip"), "install", "-q", f"rclip=={RCLIP_VERSION}"],
            check=True,
        )
    return executable


def rclip_datadir() -> Path:
    """``$RCLIP_DATADIR`` holding the fp32 random ViT-B-32-256 and the BPE vocabulary."""
    model = RCLIP_DATA / MODEL_SUBDIR
    if not (model / "textual.onnx").exists():
        _export(model)
    vocab = RCLIP_DATA / VOCAB
    if not vocab.exists():
        import open_clip

        vocab.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz", vocab)
    return RCLIP_DATA


def _export(model_dir: Path) -> None:
    """fp32 ONNX of both towers, dynamic batch, named as rclip's published files are."""
    import open_clip
    import torch
    from safetensors.torch import load_file

    from desktop_search.models.convert.clip import ONNX_OPSET

    model = open_clip.create_model("ViT-B-32-256", pretrained=None, device="cpu")
    model.load_state_dict(load_file(str(random_checkpoint("ViT-B-32-256"))))
    model.eval()

    class Tower(torch.nn.Module):
        def __init__(self, encode) -> None:  # noqa: ANN001 (a bound method of the model)
            super().__init__()
            self.model, self.encode = model, encode

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.encode(x)

    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=".rclip-export-"))
    examples = {
        "visual.onnx": (model.encode_image, torch.zeros(2, 3, 256, 256)),
        "textual.onnx": (model.encode_text, open_clip.get_tokenizer("ViT-B-32-256")(["a", "b"])),
    }
    # nn.MultiheadAttention's fused fast path has no ONNX symbolic (as in our converter).
    torch.backends.mha.set_fastpath_enabled(False)
    for name, (encode, example) in examples.items():
        with torch.no_grad():
            torch.onnx.export(
                Tower(encode), (example,), str(tmp / name), input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=ONNX_OPSET, do_constant_folding=True, dynamo=False,
            )
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(model_dir, ignore_errors=True)
    tmp.rename(model_dir)


def rclip_env() -> dict[str, str]:
    """The environment an rclip run gets: our data dir, and the hub switched off so that a
    missing file fails instead of downloading."""
    return {**os.environ, "RCLIP_DATADIR": str(rclip_datadir()), "HF_HUB_OFFLINE": "1"}


def rclip_command(query: str = "a photo of a dog") -> list[str]:
    """``rclip -t 3 QUERY``: run inside the folder, it indexes the folder first."""
    return [str(rclip_executable()), "-t", "3", query]


def reset_database() -> None:
    """Forget what rclip indexed, so that the next run indexes every photo again."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (RCLIP_DATA / f"db.sqlite3{suffix}").unlink(missing_ok=True)


def main() -> None:
    """Set up rclip and run it on three Pillow-made photos with the network off."""
    from PIL import Image

    command, env = rclip_command(), rclip_env()
    reset_database()
    with tempfile.TemporaryDirectory() as folder:
        for i, colour in enumerate(("red", "green", "blue")):
            Image.new("RGB", (640, 480), colour).save(Path(folder) / f"{i}.jpg")
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    reset_database()
    print(done.stdout, done.stderr[-2000:], sep="\n", file=sys.stderr)
    if done.returncode != 0 or len(done.stdout.split()) < 3:
        raise SystemExit(f"rclip failed (exit {done.returncode})")
    print(f"rclip {RCLIP_VERSION} runs offline with {RCLIP_DATA}")


if __name__ == "__main__":
    main()
