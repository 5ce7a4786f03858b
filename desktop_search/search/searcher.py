"""Turn a query (text with filters, an example image, or both) into ranked hits, one per file.

Up to three searches run and are fused by reciprocal rank (``search/fusion.py``):
- ``clip``: the CLIP embedding of the text and/or image (or one region of it) against photos, the
  objects detected in them, and pictures in mail;
- ``text``: the sentence model's embedding against passages (document chunks, e-mails, chat
  windows, text read in photos);
- ``keyword``: SQLite FTS5 (bm25) over file names, titles and passages.
Filters apply to every list; quoted phrases must occur in a hit's text. Lists are fused by place
(a PDF's page, else the item: ``fusion.fuse_places``), then grouped per file: a hit carries its
best place's locator (page, message, time) and snippet with the query's words marked, and, for
documents, its next best places (``Hit.places``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from desktop_search.errors import FileNotIndexableError, NoModelError, QueryError
from desktop_search.models.runtime.preprocess import crop_with_context, preprocess, scale_box
from desktop_search.search.fusion import fuse_places, group_places
from desktop_search.search.hits import Hit
from desktop_search.search.listings import LISTING_WEIGHT, looks_like_listing
from desktop_search.search.query import (
    HYBRID,
    KEYWORD,
    MAX_LIMIT,
    MODES,
    SEMANTIC,
    Filters,
    ParsedQuery,
    fts_match,
    parse_query,
    split_words,
)
from desktop_search.search.snippets import fold, make_snippet
from desktop_search.store.objects import OBJECT
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.encoders import QueryEncoder
from desktop_search.vectors.spaces import Space, Spaces

log = logging.getLogger(__name__)

CANDIDATES = 100  # per list; more when filters will drop some
# Reciprocal rank fusion's k: how fast a place's weight falls with its rank in a list. 60 (the
# paper's value, and this app's until issue 19) lets places at middling ranks in both lists beat
# the first of one; on long manuals 10 found the right page first more often (MRR 0.68 against
# 0.64 with everything else the same), and the household set kept its numbers
# (benchmarks/README.md, "Long real documents").
RRF_K = 10
# A result is a file; besides its best place it shows up to MAX_PLACES - 1 more ("also on pages
# 37, 112") that score at least PLACE_SHARE of the best: in a 1,000-page manual the best page is
# often the contents or a neighbour of the answer, and the person never saw the answer.
MAX_PLACES = 3
PLACE_SHARE = 0.5
REGION_DECODE_SIDE = 1024  # query images searched by a region are decoded this large


@dataclass(frozen=True)
class Query:
    text: str | None = None
    image: Path | None = None
    limit: int = 20
    # One part of ``image`` to search with: x, y, w, h in its full-size pixels (orientation
    # applied), e.g. the box of one of its objects (``Library.query_objects``).
    region: tuple[float, float, float, float] | None = None
    filters: Filters = field(default_factory=Filters)  # e.g. the window's filter controls
    mode: str = HYBRID

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise QueryError(f"unknown search mode {self.mode!r}", hint=f"use {', '.join(MODES)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"--limit must be from 1 to {MAX_LIMIT:,}, not {self.limit}")
        if self.region is not None:
            _check_region(self.region, self.image)
        parsed = self.parsed  # bad filters fail here, before anything runs
        if parsed.is_empty and self.image is None and self.all_filters.is_empty:
            raise QueryError("the query is empty", hint="give search text or --image FILE")

    @cached_property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text or "")

    @cached_property
    def all_filters(self) -> Filters:
        return self.parsed.filters.merged(self.filters)


class Searcher:
    """Searches the spaces there are models for; the store supplies what is shown per hit.

    Without any model, text queries match file names, titles and document text by keywords. A
    space's index is loaded when a query first needs it (a keyword search loads none).
    """

    def __init__(self, store: Store, spaces: Spaces, thumbnails: ThumbnailStore) -> None:
        self.store = store
        self.spaces = spaces
        self.clip = spaces.clip
        self.text = spaces.text
        self.thumbnails = thumbnails

    def search(self, query: Query) -> list[Hit]:
        ranked = self.ranked_lists(query)
        candidates = list(dict.fromkeys(item for ids in ranked.values() for item in ids))
        records = self.store.reads.hits(candidates)
        fused = fuse_places(
            ranked,
            {item: place_of(record) for item, record in records.items()},
            item_weights=self._item_weights(ranked, query.parsed),
            k=RRF_K,
        )
        files = group_places(
            fused,
            {item: record["file_id"] for item, record in records.items()},
            most=MAX_PLACES,
            share=PLACE_SHARE,
            single={r["file_id"] for r in records.values() if r["kind"] == "photo"},
        )
        top = files[: query.limit]
        texts = self.store.reads.item_texts([p.item for _, places in top for p in places])
        terms = query.parsed.terms
        best_possible = len(ranked) / (RRF_K + 1) or 1.0
        hits = []
        for _, places in top:
            shown = [
                self._hit(records[p.item], p.score / best_possible, texts.get(p.item, ""), terms)
                for p in places
            ]
            # The hit is its best place with the places beside it (copies without places).
            hits.append(replace(shown[0], places=shown) if len(shown) > 1 else shown[0])
        return hits

    def _item_weights(
        self, ranked: dict[str, list[int]], parsed: ParsedQuery
    ) -> dict[str, dict[int, float]]:
        """Per list, how much single entries count: keyword hits by the share of the query
        they hold; in every list, contents and index passages (``listings.py``) less. Only a
        list's first CANDIDATES entries are looked at for listings: deeper ones do not reach
        the first results, and ``--limit 10000`` would read the text of 50,000 passages. One
        read of the keyword index's text serves both."""
        keyword = ranked.get("keyword", [])
        head = list(dict.fromkeys(item for ids in ranked.values() for item in ids[:CANDIDATES]))
        texts = self.store.reads.keyword_texts(list(dict.fromkeys([*keyword, *head])))
        weights = {"keyword": self._coverage(keyword, parsed, texts)}
        listed = {item for item in head if looks_like_listing(texts.get(item, ""))}
        for name, ids in ranked.items():
            scaled = weights.setdefault(name, {})
            for item in listed.intersection(ids):
                scaled[item] = scaled.get(item, 1.0) * LISTING_WEIGHT
        return weights

    def ranked_lists(self, query: Query) -> dict[str, list[int]]:
        """Item ids per search, best first, every one passing the query's filters."""
        parsed, filters = query.parsed, query.all_filters
        wanted = max(CANDIDATES, query.limit * 5) * (1 if filters.is_empty else 5)
        if parsed.is_empty and query.image is None:
            return {"recent": self.store.reads.recent_items(filters, wanted)}
        ranked: dict[str, list[int]] = {}
        if query.mode != KEYWORD or query.image is not None:
            ranked |= self._semantic(query, parsed, filters, wanted)
        # With an example image, words only steer its CLIP embedding ("like this, but at
        # night"): a file named like a word must not outrank the photos that look alike.
        if query.mode != SEMANTIC and not parsed.is_empty and query.image is None:
            match = fts_match(parsed)
            if match:  # filtered in SQL: no need to fetch more for filters to drop
                limit = max(CANDIDATES, query.limit * 5)
                ranked["keyword"] = self.store.reads.keyword_search(match, filters, limit)
            if self.clip is None and self.text is None:  # no model: folder names count too
                names = [record["item_id"] for record, _ in self._name_matches(parsed.text)]
                ranked["names"] = self._filtered_ids(names, filters)
        # An exact phrase is a must, for every search. One without letters or digits ('"!!!"')
        # has nothing the keyword index could match (None): it requires nothing.
        must = fts_match(ParsedQuery(phrases=parsed.phrases), require_all=True)
        if must is not None:
            allowed = set(self.store.reads.keyword_search(must, filters, wanted * 10))
            ranked = {name: [i for i in ids if i in allowed] for name, ids in ranked.items()}
        return ranked

    def _semantic(
        self, query: Query, parsed: ParsedQuery, filters: Filters, wanted: int
    ) -> dict[str, list[int]]:
        ranked: dict[str, list[int]] = {}
        if query.image is not None and self.clip is None:
            raise _no_model_for_images()
        # The clip space holds photos and the pictures attached to e-mails.
        if self.clip is not None and (not filters.types or filters.types & {"photo", "mail"}):
            vector = self.query_vector(parsed.text, query.image, query.region)
            ranked["clip"] = self._filtered(self.clip.vectors.search(vector, wanted), filters)
        if self.text is not None and not parsed.is_empty and query.image is None:
            vector = self.text.encoder.encode([parsed.text])[0]
            ranked["text"] = self._filtered(self.text.vectors.search(vector, wanted), filters)
        return ranked

    @staticmethod
    def _coverage(ids: list[int], parsed: ParsedQuery, texts: dict[int, str]) -> dict[int, float]:
        """How much of the query each keyword hit holds (matching query words / query words).

        Keyword hits are ranked by bm25 among themselves, but a hit holding one word of
        "how long is the guarantee on my work computer" is no match at all, and in a fusion by
        rank it would weigh as much as the best semantic hit. Scaled by the square of this (a
        soft "and": half the words count a quarter), it barely counts; a hit with every word (a
        booking reference, a name) counts fully. benchmarks/README.md has the evaluation.
        ``texts``: what the keyword index holds of each hit (``reads.keyword_texts``).
        """
        terms = {fold(term) for term in parsed.content_terms}
        if not ids or len(terms) < 2:
            return {}
        held = {
            item_id: len(terms & {fold(word) for word in split_words(texts.get(item_id, ""))})
            for item_id in ids
        }
        return {item_id: (count / len(terms)) ** 2 for item_id, count in held.items()}

    def _filtered(self, found: list[tuple[int, float]], filters: Filters) -> list[int]:
        return self._filtered_ids([item_id for item_id, _ in found], filters)

    def _filtered_ids(self, ids: list[int], filters: Filters) -> list[int]:
        if filters.is_empty:
            return ids
        kept = self.store.reads.filter_items(ids, filters)
        return [item_id for item_id in ids if item_id in kept]

    def _name_matches(self, text: str, limit: int = CANDIDATES) -> list[tuple[dict, float]]:
        """Files whose path holds every word, with the share of the words in the file name
        (folders count, the name counts most), best first."""
        words = [word.lower() for word in text.split()]
        scored = []
        for record in self.store.reads.match_paths(words, limit):
            name = os.path.basename(record["path"]).lower()
            scored.append((record, sum(word in name for word in words) / len(words)))
        scored.sort(key=lambda pair: -pair[1])
        return scored

    def search_names(self, query: Query) -> list[Hit]:
        """Rank files whose path holds every query word; words in the file name count most."""
        if query.image is not None:
            raise _no_model_for_images()
        found = self._name_matches(query.text, query.limit)[: query.limit]
        return [self._hit(record, score) for record, score in found]

    def query_vector(
        self, text: str | None, image: Path | None = None, region: tuple | None = None
    ) -> np.ndarray:
        """The CLIP embedding; text and image together are averaged (both are unit length)."""
        parts = []
        if text and text.strip():
            parts.append(self._clip().encoder.encode_texts([text.strip()])[0])
        if image is not None:
            parts.append(self._image_vector(image, region))
        vector = np.mean(parts, axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _image_vector(self, path: Path, region: tuple | None = None) -> np.ndarray:
        if not path.is_file():
            raise QueryError(f"query image not found: {path}", hint="check the path")
        from desktop_search.extract.images import load_photo, read_file  # not for a text query

        encoder = self._clip().encoder
        spec = encoder.image_spec
        try:
            # A region is a part of the image: decode it larger so the part keeps some detail.
            photo = load_photo(read_file(path), min_side=spec.size, thumb_size=spec.size,
                               long_side=REGION_DECODE_SIDE if region else 0)  # fmt: skip
        except FileNotIndexableError as error:
            raise QueryError(
                f"cannot use {path} as a query image: {error.reason}",
                hint="give a readable JPEG, PNG, WebP, GIF, TIFF, BMP or HEIC file",
            ) from error
        image = photo.image
        if region is not None:
            box = _region_inside(region, photo.width, photo.height)
            to_image = (image.width / photo.width, image.height / photo.height)
            image = crop_with_context(image, scale_box(box, *to_image))
        return encoder.encode_images(preprocess(image, spec)[None])[0]

    def search_vector(self, vector: np.ndarray, limit: int) -> list[Hit]:
        """The CLIP space alone, for a ready query vector (benchmarks/query_latency.py)."""
        found = self._clip().vectors.search(vector, limit)
        records = self.store.reads.hits([item_id for item_id, _ in found])
        # An id missing from the store was removed by a concurrent writer: skip it.
        return [self._hit(records[i], score) for i, score in found if i in records]

    def _clip(self) -> Space[QueryEncoder]:
        if self.clip is None:
            raise _no_model_for_images()
        return self.clip

    def _hit(self, record: dict, score: float, text: str = "", terms: tuple = ()) -> Hit:
        senders = record.get("senders")
        locator = json.loads(record["locator"]) if record.get("locator") else None
        found = locator if record.get("item_kind") == OBJECT and locator else {}
        return Hit(
            path=record["path"], score=float(score), kind=record["kind"],
            file_id=record["file_id"], item_id=record["item_id"], taken_at=record["taken_at"],
            camera=record["camera"], width=record["width"], height=record["height"],
            size=record["size"], thumbnail=self.thumbnails.path(record["thumbnail"]),
            locator=locator,
            item_kind=record.get("item_kind"), title=record.get("file_title"),
            started_at=record.get("started_at"), ended_at=record.get("ended_at"),
            senders=senders.split("\n") if senders else None,
            snippet=make_snippet(text, terms) if text and not found else None,  # label: no
            box=tuple(found["box"]) if "box" in found else None, object_label=found.get("label"),
        )  # fmt: skip


def place_of(record: dict) -> tuple:
    """The place an item is in, for fusion: a PDF page (of the file, or of one attachment)
    holds several passages; any other item is a place of its own."""
    locator = json.loads(record["locator"]) if record.get("locator") else {}
    if record.get("kind") != "photo" and isinstance(locator.get("page"), int):
        return (record["file_id"], locator.get("attachment"), locator["page"])
    return (record["file_id"], record["item_id"])


def _check_region(region: tuple, image: Path | None) -> None:
    if image is None:
        raise QueryError("a region needs a query image", hint="give --image FILE as well")
    if len(region) != 4 or region[2] <= 0 or region[3] <= 0:
        raise QueryError(f"bad region {region}", hint="give x,y,w,h with a width and height > 0")


def _region_inside(region: tuple, width: int, height: int) -> tuple[float, float, float, float]:
    """The part of ``region`` inside a ``width x height`` image; QueryError if none is."""
    x, y, w, h = (float(v) for v in region)
    left, top = max(x, 0.0), max(y, 0.0)
    right, bottom = min(x + w, float(width)), min(y + h, float(height))
    if right - left < 1 or bottom - top < 1:
        raise QueryError(
            f"the region {x:g},{y:g},{w:g},{h:g} lies outside the {width}x{height} query image",
            hint="give x,y,w,h in the image's pixels (x, y from its top-left corner)",
        )
    return left, top, right - left, bottom - top


def _no_model_for_images() -> NoModelError:
    return NoModelError(
        "searching by image needs a CLIP model, and none is installed",
        hint="see 'desktop-search models list' for models to fetch or import",
    )
