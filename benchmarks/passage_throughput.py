"""Passages/s of the text model on a realistic mix of passages (issue 19 goal: at least 2x).

The mix: passages extracted and chunked exactly as the indexer makes them
(``extract_document``: pages and ~200-token chunks of PDFs, text files, e-mails, chat windows)
from the Debian manuals on this machine (the PDFs and text files of ``/usr/share/doc``) and from
the retrieval benchmark's generated household corpus (``benchmarks/retrieval_corpus.py``: PDFs,
notes, e-mails, WhatsApp chats), plus short texts as photos give them (text read in photos:
receipt and sign lines). The passages are taken in a seeded shuffled order, as a library's
items come in any order, and handed to the encoder ``TEXT_BATCH`` at a time, as
``index/passes/text.embed_passages`` hands them.

The model is the int8 all-MiniLM-L6-v2 as ``models import-text`` installs it (converted once
into ``benchmarks/.cache/models``, shared with the other benchmarks). Every variant runs in
every round, in turn, in one process (the machine is shared: compare ratios within a run):

* ``today``: ``TextModel.encode`` as committed before issue 19 (one text per call on an int8
  graph, 2 intra-op threads) - re-implemented here so the baseline stays the same after the
  change;
* ``code``: ``TextModel.encode`` as it is in the working tree;
* int8 forced into real batches (sorted by token length, batch 8/16/32/64): the share of
  padded tokens, and how far each vector moves from its one-text-per-call self;
* thread settings: 1 intra-op thread; 2 threads without spinning; one text per call on a
  1-thread session from 2 Python threads at once;
* max_length 128 instead of 256 (changes the vectors of long passages: shown for the record).

Fidelity: every variant's vectors are compared to ``today``'s (min cosine over the mix).

    .venv/bin/python -m benchmarks.passage_throughput [--rounds 3] [--passages 600]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort

from benchmarks.common import CACHE, text_model_folder
from desktop_search.extract.documents import extract_document, is_document
from desktop_search.models.runtime.text import TextModel, l2_normalize, mean_pool

TEXT_BATCH = 64  # index/passes/text.TEXT_BATCH before issue 19: passages per encode call
DOC_FILES = (
    "/usr/share/doc/libtasn1-doc/libtasn1.pdf",
    "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",
    "/usr/share/doc/dpkg/spec/triggers.txt",
    "/usr/share/doc/git/contrib/subtree/git-subtree.txt",
    "/usr/share/doc/git/RelNotes/2.28.0.txt",
    "/usr/share/doc/git/RelNotes/2.36.0.txt",
    "/usr/share/doc/gcc-12-base/README.Bugs",
)
PHOTO_TEXTS = (
    "TOTAL 23.40 EUR",
    "SUPERMARKT Hauptstr. 12 Milch 1,29 Brot 2,49 Summe 3,78",
    "NO PARKING 8 AM - 6 PM",
    "EXIT",
    "Quarterly review: revenue up 12%, churn down",
    "Platform 3 Departures 14:05 Berlin Hbf",
    "Happy Birthday Anna!",
    "WARNING high voltage do not touch",
)

Encode = Callable[[list[str]], np.ndarray]


# -- the mix -------------------------------------------------------------------------------


def passages(limit: int, seed: int = 0) -> tuple[list[str], dict[str, int]]:
    """Up to ``limit`` passages in a seeded random order, and how many came from each source."""
    from benchmarks.retrieval_corpus import write_corpus

    by_source: dict[str, list[str]] = {"debian docs": [], "household corpus": [], "photos": []}
    for path in DOC_FILES:
        if Path(path).is_file():
            by_source["debian docs"] += _texts(path, Path(path).read_bytes())
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(Path(folder))
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and is_document(str(path)):
                kind = "household corpus"
                by_source[kind] += _texts(str(path), path.read_bytes())
    by_source["photos"] = list(PHOTO_TEXTS) * 4
    rng = random.Random(seed)
    everything = [(source, text) for source, texts in by_source.items() for text in texts]
    rng.shuffle(everything)
    chosen = everything[:limit]
    counts = {source: sum(1 for s, _ in chosen if s == source) for source in by_source}
    return [text for _, text in chosen], counts


def _texts(path: str, data: bytes) -> list[str]:
    try:
        document = extract_document(path, data)
    except Exception as error:  # noqa: BLE001 - a file this machine cannot read is left out
        print(f"skipped {path}: {error}", file=sys.stderr)
        return []
    return [item.text for item in document.items if item.text]


# -- the variants ----------------------------------------------------------------------------


def _feeds(model: TextModel, encodings: Sequence, index: Sequence[int]) -> tuple[dict, np.ndarray]:
    width = max(len(encodings[i].ids) for i in index)
    ids = np.zeros((len(index), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, i in enumerate(index):
        n = len(encodings[i].ids)
        ids[row, :n] = encodings[i].ids
        types[row, :n] = encodings[i].type_ids
        mask[row, :n] = 1
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    model.session  # noqa: B018 - loads the graph, which fills model._inputs
    return {name: arrays[name].astype(dtype) for name, dtype in model._inputs.items()}, mask


def _run(session: ort.InferenceSession, feeds: dict, mask: np.ndarray) -> np.ndarray:
    hidden = session.run(None, feeds)[0]
    return l2_normalize(mean_pool(np.asarray(hidden, dtype=np.float32), mask))


def batched(model: TextModel, batch: int, stats: dict[str, int] | None = None) -> Encode:
    """Sorted by token length (longest first), ``batch`` texts a call, padded to the longest:
    what ``TextModel.encode`` does on an fp32 graph, here forced on the int8 one."""

    def encode(texts: list[str]) -> np.ndarray:
        encodings = model.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out = np.zeros((len(texts), model.embed_dim), dtype=np.float32)
        for start in range(0, len(order), batch):
            index = order[start : start + batch]
            feeds, mask = _feeds(model, encodings, index)
            out[index] = _run(model.session, feeds, mask)
            if stats is not None:
                stats["real"] += int(mask.sum())
                stats["padded"] += int(mask.size)
        return out

    return encode


def parallel(model: TextModel, workers: int) -> Encode:
    """One text per call, ``workers`` calls at once on the one session (``model`` should have
    1 intra-op thread): onnxruntime's run releases the GIL."""
    pool = ThreadPoolExecutor(workers)

    def encode(texts: list[str]) -> np.ndarray:
        encodings = model.tokenizer.encode_batch(texts)
        order = np.argsort(-np.array([len(e.ids) for e in encodings]), kind="stable")

        def one(i: int) -> np.ndarray:
            feeds, mask = _feeds(model, encodings, [i])
            return _run(model.session, feeds, mask)[0]

        out = np.zeros((len(texts), model.embed_dim), dtype=np.float32)
        for i, vector in zip(order, pool.map(one, order), strict=True):
            out[i] = vector
        return out

    return encode


class _EveryFusion(TextModel):
    """The session as TextModel made it before issue 19's SkipLayerNormFusion change (every
    onnxruntime fusion on): ``today`` stays the same baseline after the change."""

    def _load(self) -> ort.InferenceSession:
        session = super()._load()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if self.parallel_calls > 1 else (self.threads or 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(self.path), options, providers=session.get_providers())


class _NoSpin(TextModel):
    def _load(self) -> ort.InferenceSession:
        session = super()._load()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self.path), options, providers=session.get_providers())


def variant_folder(suffix: str, variant_name: str) -> Path:
    """The same MiniLM quantised as ``text_import.<variant_name>`` alone, built once into the
    cache as ``all-minilm-l6-v2-<suffix>``: another model file, so other vectors."""
    from desktop_search.models.install import text_import
    from desktop_search.models.install.sentence_source import offline_minilm_dir

    folder = CACHE / "models" / f"all-minilm-l6-v2-{suffix}"
    if not (folder / "model.json").exists():
        print(f"building the {suffix} variant ...", file=sys.stderr)
        text_import.import_text_model(
            text_import.TextSource(offline_minilm_dir()),
            folder,
            folder.name,
            variants=(getattr(text_import, variant_name),),
        )
    return folder


def per_token_folder() -> Path:
    """As ``models import-text`` installs it since issue 19 (the gate's first variant, FFN
    up-projections int8 per token; min cosine 0.994 to today on this mix)."""
    return variant_folder("per-token", "FFN_UP_PER_TOKEN")


def all_int8_folder() -> Path:
    """Every MatMul int8 (the gate's ``ALL_INT8``: mean cosine 0.9911 to torch, where the
    installed variant before issue 19 kept the FFN up-projections fp32 for 0.9937); shown for
    the record."""
    return variant_folder("all-int8", "ALL_INT8")


def in_windows(encode: Encode, window: int = TEXT_BATCH) -> Encode:
    """As embed_passages calls the encoder: ``window`` passages at a time."""

    def run(texts: list[str]) -> np.ndarray:
        return np.concatenate([encode(texts[i : i + window]) for i in range(0, len(texts), window)])

    return run


# -- measuring -----------------------------------------------------------------------------


def token_lengths(model: TextModel, texts: list[str], untruncated: bool = False) -> np.ndarray:
    tokenizer = model.tokenizer
    if untruncated:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(model.model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
    return np.array([len(e.ids) for e in tokenizer.encode_batch(texts)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--all-int8", action="store_true", help="add the all-int8 variant")
    parser.add_argument("--per-token", action="store_true",
                        help="add the model import-text installs since issue 19")  # fmt: skip
    parser.add_argument("--only", default="", help="variant names separated by ;")
    args = parser.parse_args()

    folder = text_model_folder(CACHE / "models")
    texts, counts = passages(args.passages)
    base = _EveryFusion(folder)
    lengths = token_lengths(base, texts)
    full = token_lengths(base, texts, untruncated=True)
    tokens = int(lengths.sum())
    print(f"{len(texts)} passages ({', '.join(f'{k}: {v}' for k, v in counts.items())}), "
          f"{tokens} tokens; tokens a passage (special tokens included, truncated at "
          f"{base.max_length}): min {lengths.min()}, p10 {np.percentile(lengths, 10):.0f}, "
          f"median {np.median(lengths):.0f}, mean {lengths.mean():.0f}, "
          f"p90 {np.percentile(lengths, 90):.0f}, max {lengths.max()}; "
          f"over {base.max_length} before truncation: {(full > base.max_length).sum()}; "
          f"over 128: {(lengths > 128).sum()}")  # fmt: skip

    pad_stats: dict[str, dict[str, int]] = {}

    def stats(name: str) -> dict[str, int]:
        return pad_stats.setdefault(name, {"real": 0, "padded": 0})

    one_thread = TextModel(folder, threads=1)
    code_model = TextModel(folder)
    short = TextModel(folder)
    short.info = type(short.info).from_dict({**short.info.to_dict(), "max_length": 128})
    variants: dict[str, Encode] = {
        "today": in_windows(batched(base, 1)),
        "code": in_windows(code_model.encode),
        **{
            f"int8 batched {b}, sorted": in_windows(
                batched(TextModel(folder), b, stats(f"int8 batched {b}, sorted"))
            )
            for b in (8, 16, 32, 64)
        },
        "int8 batched 32, sorted, window 256": in_windows(
            batched(TextModel(folder), 32, stats("int8 batched 32, sorted, window 256")), 256
        ),
        "1 thread": in_windows(batched(one_thread, 1)),
        "2 threads, no spinning": in_windows(batched(_NoSpin(folder), 1)),
        "1-thread session, 2 calls at once": in_windows(parallel(TextModel(folder, threads=1), 2)),
        "2-thread session, 2 calls at once": in_windows(parallel(TextModel(folder), 2)),
        "max_length 128": in_windows(batched(short, 1)),
    }
    if args.per_token:
        variants["per-token install, code"] = in_windows(TextModel(per_token_folder()).encode)
    if args.all_int8:
        variants["all-int8 graph (other model file)"] = in_windows(
            batched(TextModel(all_int8_folder()), 1)
        )
    if args.only:
        keep = {"today", *args.only.split(";")}
        variants = {k: v for k, v in variants.items() if k in keep}
    for encode in variants.values():  # load every session, warm up
        encode(texts[:4])

    seconds: dict[str, list[float]] = {name: [] for name in variants}
    # CPU seconds of the whole process (every thread): what a variant costs the machine, and
    # the number that stays comparable when other work takes cores away from the wall clock.
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    vectors: dict[str, np.ndarray] = {}
    loads = [os.getloadavg()[0]]
    names = list(variants)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        took: dict[str, float] = {}
        for name in order:
            if name in pad_stats:
                pad_stats[name]["real"] = pad_stats[name]["padded"] = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            vectors[name] = variants[name](texts)
            took[name] = time.perf_counter() - started
            cpu[name].append(time.process_time() - cpu_started)
            seconds[name].append(took[name])
        for name in names:
            ratios[name].append(took["today"] / took[name])
        loads.append(os.getloadavg()[0])
        print(f"round {round_ + 1}: load {loads[-1]:.2f}", file=sys.stderr)

    reference = vectors["today"]
    print(f"\n{args.rounds} rounds, variants in turn (order rotated each round); load average "
          f"(1 min) {', '.join(f'{x:.2f}' for x in loads)}\n")  # fmt: skip
    print(
        "| variant | passages/s | tokens/s | vs today (median of rounds) | passages per CPU s "
        "| padded tokens | min cosine to today |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        median = statistics.median(seconds[name])
        cosine = float(np.sum(vectors[name] * reference, axis=1).min())
        pad = pad_stats.get(name)
        padded = f"{1 - pad['real'] / pad['padded']:.0%}" if pad and pad["padded"] else "0%"
        per_cpu = len(texts) / statistics.median(cpu[name])
        print(f"| {name} | {len(texts) / median:.1f} | {tokens / median:.0f} "
              f"| {statistics.median(ratios[name]):.2f}x "
              f"| {per_cpu:.1f} | {padded} | {cosine:.6f} |")  # fmt: skip
    if {"today", "code"} <= set(names):
        query_latency(batched(base, 1), code_model.encode)


def query_latency(today: Encode, code: Encode, repeats: int = 200) -> None:
    """A search encodes one short query: its latency must not suffer for the passages'."""
    query = ["how much does the car insurance cost this year"]
    samples: dict[str, list[float]] = {"today": [], "code": []}
    for _ in range(repeats):
        for name, encode in (("today", today), ("code", code)):
            started = time.perf_counter()
            encode(query)
            samples[name].append((time.perf_counter() - started) * 1000)
    print(f"\nOne query of 9 words, {repeats} times each, in turn: median ms "
          + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in samples.items()))  # fmt: skip


if __name__ == "__main__":
    main()
