"""Hybrid product search: BM25 + dense vectors + metadata pre-filters, fused.

Chroma holds every vector and its metadata (the store of record, and the
scale-out path through a Chroma server).  Beside it each process keeps an
in-memory mirror — the vectors as one float32 matrix, the filterable metadata as
columns, and a BM25 index over the same rows — so a query costs one encode, one
mask, one sparse BM25 lookup and one exact matrix-vector product over the
filtered rows.  Filters are applied *inside* both retrievers: a filter can only
remove products, never empty a page that has matches.

When the catalog outgrows ``max_inmemory_vectors`` the dense side goes to
Chroma's own ``where`` + HNSW query instead (``dense_strategy="chroma"``).
"""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from retrieval._chroma import (
    ShopAssistEmbeddingFunction,
    chroma_where,
    product_from_metadata,
    product_metadata,
)
from retrieval._columns import FilterColumns
from retrieval._encoder import Encoder
from retrieval._fusion import blend, rrf
from retrieval._lexical import LexicalIndex
from retrieval._schema import SORTS, Product, SearchFilters

__all__ = ["HybridIndex", "Hit", "Candidate", "SearchResult", "MODES", "ProductNotIndexed"]

MODES = ("hybrid", "bm25", "dense")
Mode = Literal["hybrid", "bm25", "dense"]
Vectors = npt.NDArray[np.float32]
_SNAPSHOT_FORMAT = 1
_CHROMA_BATCH = 2000


class ProductNotIndexed(KeyError):
    """The product id is not in the index."""


@dataclass(frozen=True)
class Hit:
    product: Product
    score: float
    lexical: float
    dense: float
    matched_terms: int
    #: distinct query terms the catalog knows (what ``matched_terms`` counts against)
    n_terms: int
    #: distinct query terms in all, known to the catalog or not
    query_terms: int = 0


@dataclass(frozen=True)
class Candidate:
    """One of the top-``k`` products of :meth:`HybridIndex.candidates`, with each retriever's score."""

    product: Product
    #: 0-based position in the fused order
    rank: int
    #: fused score (what ``rank`` orders by)
    fused: float
    #: raw BM25 score (0 when no query term matched)
    lexical: float
    #: cosine between the query and product embeddings
    dense: float


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    filters: SearchFilters
    sort: str
    mode: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: facet → value → number of matches with that value (only the facets asked for)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: prices of all matches (when facets were asked for), for price bands
    match_prices: list[float] = field(default_factory=list)


def _now_ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


class HybridIndex:
    """Products searchable by text and filters; see the module docstring."""

    def __init__(
        self,
        *,
        encoder: Encoder,
        client: Any,
        collection: str = "products",
        index_dir: Path | None = None,
        fusion: Literal["rrf", "blend"] = "blend",
        alpha: float = 0.4,
        dense_floor: float = 0.5,
        dense_strategy: Literal["auto", "numpy", "chroma"] = "auto",
        max_inmemory_vectors: int = 2_000_000,
    ) -> None:
        self.encoder = encoder
        self.fusion = fusion
        self.alpha = alpha
        self.dense_floor = dense_floor
        self.dense_strategy = dense_strategy
        self.max_inmemory_vectors = max_inmemory_vectors
        self._index_dir = index_dir
        self._client = client
        self._ef = ShopAssistEmbeddingFunction(
            encoder="hashing" if encoder.name == "hashing" else "minilm", dim=encoder.dim, _instance=encoder
        )
        self._collection: Any = client.get_or_create_collection(
            name=collection,
            embedding_function=self._ef,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"encoder": encoder.name, "dim": encoder.dim},
        )
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._products: list[Product] = []
        self._vectors: Vectors = np.zeros((0, encoder.dim), dtype=np.float32)
        self._cols = FilterColumns()
        self._lexical = LexicalIndex()
        self._texts_dirty = False
        self.version = ""
        self._last_version_check = 0.0
        self.load()

    # ------------------------------------------------------------------ state
    @property
    def n_products(self) -> int:
        return len(self._ids)

    @property
    def n_active(self) -> int:
        return int(self._cols.active.sum())

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._row

    def get(self, product_id: str) -> Product:
        row = self._row.get(product_id)
        if row is None:
            raise ProductNotIndexed(product_id)
        return self._products[row]

    def is_active(self, product_id: str) -> bool:
        row = self._row.get(product_id)
        return row is not None and bool(self._cols.active[row])

    def vector(self, product_id: str) -> Vectors:
        row = self._row.get(product_id)
        if row is None:
            raise ProductNotIndexed(product_id)
        out: Vectors = self._vectors[row]
        return out

    def products(self, *, active_only: bool = True) -> list[Product]:
        return [p for i, p in enumerate(self._products) if not active_only or self._cols.active[i]]

    def rows_of(self, product_ids: Sequence[str]) -> npt.NDArray[np.int64]:
        """Each id's row in this index (-1 when not indexed); pair with :meth:`filter_mask`."""
        return np.fromiter((self._row.get(pid, -1) for pid in product_ids), np.int64, len(product_ids))

    def filter_mask(self, filters: SearchFilters) -> npt.NDArray[np.bool_]:
        """Per row: active and meeting every filter (other indexes, e.g. images, filter through this)."""
        return self._cols.mask(filters)

    def facet_values(self, name: str) -> list[str]:
        return self._cols.values(name)

    # ------------------------------------------------------------------ writes
    def upsert(
        self,
        products: Sequence[Product],
        vectors: Vectors | None = None,
        *,
        active: bool = True,
    ) -> None:
        """Add or replace products (with their vectors, encoded here when not given)."""
        if not products:
            return
        if vectors is None:
            vectors = self.encoder.encode([p.embedding_text() for p in products])
        if vectors.shape != (len(products), self.encoder.dim):
            raise ValueError(f"expected vectors of shape {(len(products), self.encoder.dim)}")
        self._chroma_upsert(products, vectors, active=active)
        with self._lock:
            new_ids = [p.id for p in products if p.id not in self._row]
            start = len(self._ids)
            if new_ids:
                self._vectors = np.concatenate(
                    [self._vectors, np.zeros((len(new_ids), self.encoder.dim), np.float32)]
                )
                self._cols.resize(start + len(new_ids))
                for i, pid in enumerate(new_ids):
                    self._row[pid] = start + i
                    self._ids.append(pid)
                    self._products.append(products[0])  # replaced just below
            for p, v in zip(products, vectors, strict=True):
                row = self._row[p.id]
                self._products[row] = p
                self._vectors[row] = v
                self._cols.set_row(row, p, active=active)
            self._texts_dirty = True

    def update_products(self, products: Sequence[Product], *, active: bool | None = None) -> None:
        """Change fields that need no new vector (price, stock, rating), keeping each stored vector.

        ``active`` sets the products' state; ``None`` keeps each product's current one.
        """
        known = [p for p in products if p.id in self._row]
        if not known:
            return
        vectors = np.stack([self._vectors[self._row[p.id]] for p in known])
        now_active = {p.id: bool(self._cols.active[self._row[p.id]]) for p in known}
        active_of = {pid: (a if active is None else active) for pid, a in now_active.items()}
        for flag in (True, False):
            group = [i for i, p in enumerate(known) if active_of[p.id] is flag]
            if group:
                self._chroma_upsert([known[i] for i in group], vectors[group], active=flag)
        with self._lock:
            for p in known:
                row = self._row[p.id]
                self._products[row] = p
                self._cols.set_row(row, p, active=active_of[p.id])

    def set_active(self, product_ids: Iterable[str], active: bool) -> int:
        """Mark products active or inactive (inactive ones never match a search). Returns the count."""
        rows = [self._row[i] for i in product_ids if i in self._row]
        rows = [r for r in rows if bool(self._cols.active[r]) is not active]
        if not rows:
            return 0
        prods = [self._products[r] for r in rows]
        self._chroma_upsert(prods, self._vectors[rows], active=active)
        with self._lock:
            for r in rows:
                self._cols.active[r] = active
        return len(rows)

    def _chroma_upsert(self, products: Sequence[Product], vectors: Vectors, *, active: bool) -> None:
        for s in range(0, len(products), _CHROMA_BATCH):
            chunk = products[s : s + _CHROMA_BATCH]
            self._collection.upsert(
                ids=[p.id for p in chunk],
                embeddings=vectors[s : s + _CHROMA_BATCH],
                # no `documents`: Chroma would index their text a second time (+45 % upsert time) and
                # nothing reads it; the whole product travels in the metadata
                metadatas=[product_metadata(p, active=active) for p in chunk],
            )

    def commit(self) -> str:
        """Rebuild BM25 if texts changed, write the local snapshot, publish a new catalog version."""
        with self._lock:
            if self._texts_dirty or self._lexical.n_docs != len(self._ids):
                self._lexical.build([p.search_text() for p in self._products])
                self._texts_dirty = False
            self.version = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
            self._save_snapshot()
            self._collection.modify(
                metadata={
                    "catalog_version": self.version,
                    "encoder": self.encoder.name,
                    "dim": self.encoder.dim,
                }
            )
            return self.version

    # ------------------------------------------------------------------ persistence
    def _chroma_version(self) -> str:
        meta = self._collection.metadata or {}
        return str(meta.get("catalog_version", ""))

    def _save_snapshot(self) -> None:
        if self._index_dir is None:
            return
        final = self._index_dir / "snapshot"
        tmp = self._index_dir / f".snapshot-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self._vectors)
        with (tmp / "products.jsonl").open("w", encoding="utf-8") as fh:
            for p, act in zip(self._products, self._cols.active, strict=True):
                fh.write(json.dumps({"active": bool(act), "product": p.model_dump(mode="json")}) + "\n")
        self._lexical.save(tmp / "bm25")
        manifest = {
            "format": _SNAPSHOT_FORMAT,
            "version": self.version,
            "encoder": self.encoder.name,
            "dim": self.encoder.dim,
            "n": len(self._ids),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest))
        old = self._index_dir / f".old-{uuid.uuid4().hex[:8]}"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)

    def _load_snapshot(self, version: str) -> bool:
        if self._index_dir is None:
            return False
        snap = self._index_dir / "snapshot"
        try:
            manifest = json.loads((snap / "manifest.json").read_text())
        except (OSError, ValueError):
            return False
        if (
            manifest.get("format") != _SNAPSHOT_FORMAT
            or manifest.get("version") != version
            or manifest.get("encoder") != self.encoder.name
        ):
            return False
        vectors = np.load(snap / "vectors.npy")
        products: list[Product] = []
        active: list[bool] = []
        with (snap / "products.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                products.append(Product.model_validate(rec["product"]))
                active.append(bool(rec["active"]))
        lexical = LexicalIndex()
        lexical.load(snap / "bm25")
        if len(products) != vectors.shape[0] or lexical.n_docs != len(products):
            return False
        self._install(products, vectors, active, lexical)
        self.version = version
        return True

    def _load_from_chroma(self) -> None:
        products: list[Product] = []
        active: list[bool] = []
        chunks: list[Vectors] = []
        total = self._collection.count()
        for offset in range(0, total, _CHROMA_BATCH):
            got = self._collection.get(
                include=["embeddings", "metadatas"], limit=_CHROMA_BATCH, offset=offset
            )
            for meta in got["metadatas"]:
                products.append(product_from_metadata(meta))
                active.append(bool(meta.get("active", True)))
            chunks.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, self.encoder.dim))
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, self.encoder.dim), np.float32)
        lexical = LexicalIndex()
        lexical.build([p.search_text() for p in products])
        self._install(products, vectors, active, lexical)

    def _install(
        self, products: list[Product], vectors: Vectors, active: list[bool], lexical: LexicalIndex
    ) -> None:
        cols = FilterColumns()
        cols.resize(len(products))
        for i, (p, a) in enumerate(zip(products, active, strict=True)):
            cols.set_row(i, p, active=a)
        with self._lock:
            self._ids = [p.id for p in products]
            self._row = {pid: i for i, pid in enumerate(self._ids)}
            self._products = products
            self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            self._cols = cols
            self._lexical = lexical
            self._texts_dirty = False

    def load(self) -> None:
        """(Re)load the mirror: from the local snapshot when it matches Chroma's version, else from Chroma."""
        version = self._chroma_version()
        if version and self._load_snapshot(version):
            return
        self._load_from_chroma()
        self.version = version
        if version:
            self._save_snapshot()

    def reload_if_changed(self, *, min_interval_s: float = 2.0) -> bool:
        """Pick up a catalog another process committed (checked at most every ``min_interval_s``)."""
        now = time.monotonic()
        if now - self._last_version_check < min_interval_s:
            return False
        self._last_version_check = now
        self._collection = self._client.get_collection(self._collection.name, embedding_function=self._ef)
        version = self._chroma_version()
        if version and version != self.version:
            self.load()
            return True
        return False

    # ------------------------------------------------------------------ search
    def _dense_scores(self, query_vec: Vectors, rows: npt.NDArray[np.int64], filters: SearchFilters) -> Any:
        n = len(self._ids)
        use_chroma = self.dense_strategy == "chroma" or (
            self.dense_strategy == "auto" and n > self.max_inmemory_vectors
        )
        if use_chroma:
            k = int(min(len(rows), 1000))
            res = self._collection.query(
                query_embeddings=[query_vec],
                n_results=max(k, 1),
                where=chroma_where(filters),
                include=["distances"],
            )
            sims = np.full(len(rows), -1.0, dtype=np.float32)
            pos = {int(r): i for i, r in enumerate(rows)}
            for pid, dist in zip(res["ids"][0], res["distances"][0], strict=True):
                row = self._row.get(pid)
                if row is not None and row in pos:
                    sims[pos[row]] = 1.0 - float(dist)
            return sims
        if len(rows) * 4 > n:  # broad filter: one pass over the whole matrix beats gathering rows
            return (self._vectors @ query_vec)[rows]
        return self._vectors[rows] @ query_vec

    def _score(
        self,
        query: str,
        filters: SearchFilters,
        mode: str,
        candidate_rows: npt.NDArray[np.int64] | None,
        timings: dict[str, float],
        *,
        need_coverage: bool = True,
        query_vector: Vectors | None = None,
    ) -> tuple[npt.NDArray[np.int64], Any, Any, Any, Any, int, int]:
        """Rows passing the filters with their fused, lexical and dense scores and term coverage."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        t0 = time.perf_counter()
        mask = self._cols.mask(filters)
        if candidate_rows is not None:
            keep = np.zeros_like(mask)
            keep[candidate_rows] = True
            mask &= keep
        rows = np.flatnonzero(mask).astype(np.int64)
        timings["filter_ms"] = _now_ms(t0)
        n_rows = len(rows)
        zeros: Any = np.zeros(n_rows)
        if not query.strip() or n_rows == 0:
            return rows, zeros, zeros, zeros, np.zeros(n_rows, np.int16), 0, 0
        lexical: Any = zeros
        coverage: Any = np.zeros(n_rows, np.int16)
        n_terms = n_words = 0
        if mode != "dense":
            t0 = time.perf_counter()
            tokens, n_words = self._lexical.query_terms(query)
            n_terms = len(tokens)
            if tokens:
                lexical = self._lexical.scores(tokens)[rows]
                if need_coverage:
                    coverage = self._lexical.coverage(tokens)[rows]
            timings["lexical_ms"] = _now_ms(t0)
        dense = zeros
        if mode != "bm25":
            t0 = time.perf_counter()
            qv = self.encoder.encode_query(query) if query_vector is None else query_vector
            timings["encode_ms"] = _now_ms(t0)
            t0 = time.perf_counter()
            dense = self._dense_scores(qv, rows, filters)
            timings["dense_ms"] = _now_ms(t0)
        t0 = time.perf_counter()
        if mode == "bm25":
            fused = lexical.astype(np.float64)
        elif mode == "dense":
            fused = dense.astype(np.float64)
        elif self.fusion == "rrf":
            fused = rrf(lexical, dense)
        else:
            fused = blend(lexical, dense, alpha=self.alpha)
        timings["fusion_ms"] = _now_ms(t0)
        return rows, fused, lexical, dense, coverage, n_terms, n_words

    def rank(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        k: int = 100,
        mode: str = "hybrid",
        candidate_ids: Sequence[str] | None = None,
        timings: dict[str, float] | None = None,
        query_vector: Vectors | None = None,
    ) -> list[tuple[str, float]]:
        """Top-``k`` ids by fused score over all filtered products (evaluation and re-ranking).

        ``query_vector``: the query's embedding when the caller already has it (batch evaluation).
        """
        found = self.candidates(
            query,
            filters,
            k=k,
            mode=mode,
            candidate_ids=candidate_ids,
            query_vector=query_vector,
            timings=timings,
        )
        return [(c.product.id, c.fused) for c in found]

    def candidates(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        k: int = 50,
        mode: str = "hybrid",
        candidate_ids: Sequence[str] | None = None,
        query_vector: Vectors | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Candidate]:
        """Like :meth:`rank`, with the product and the BM25 and cosine scores of each (for re-ranking)."""
        timings = timings if timings is not None else {}
        cand = None
        if candidate_ids is not None:
            cand = np.asarray([self._row[i] for i in candidate_ids if i in self._row], dtype=np.int64)
        rows, fused, lexical, dense, *_ = self._score(
            query,
            filters or SearchFilters(),
            mode,
            cand,
            timings,
            need_coverage=False,
            query_vector=query_vector,
        )
        if len(rows) == 0:
            return []
        return [
            Candidate(
                product=self._products[int(rows[i])],
                rank=r,
                fused=float(fused[i]),
                lexical=float(lexical[i]),
                dense=float(dense[i]),
            )
            for r, i in enumerate(_top_k(fused, k))
        ]

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        sort: str = "relevance",
        limit: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
        facets: Sequence[str] = (),
    ) -> SearchResult:
        """Products that match ``query`` and every filter, one page of them, and how many match in all.

        A product matches when it contains enough of the query's known terms
        (all of one or two, 60 % of more) or its embedding is close to the
        query's (cosine ≥ ``dense_floor``).  An empty query matches every
        filtered product.  ``sort`` orders the matches (``relevance`` = fused score).
        """
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        filters = filters or SearchFilters()
        timings: dict[str, float] = {}
        t_all = time.perf_counter()
        rows, fused, lexical, dense, coverage, n_terms, n_words = self._score(
            query, filters, mode, None, timings
        )
        t0 = time.perf_counter()
        if query.strip() and len(rows):
            need = n_terms if n_terms <= 2 else math.ceil(0.6 * n_terms)
            matched = np.zeros(len(rows), dtype=np.bool_)
            if mode != "dense" and n_terms:
                matched |= coverage >= need
            if mode != "bm25":
                matched |= dense >= self.dense_floor
            sel = np.flatnonzero(matched)
        else:
            sel = np.arange(len(rows))
        total = len(sel)
        order = self._order(sel, rows, fused, sort, has_query=bool(query.strip()), need=offset + limit)
        page = order[offset : offset + limit]
        hits = [
            Hit(
                product=self._products[int(rows[i])],
                score=float(fused[i]),
                lexical=float(lexical[i]),
                dense=float(dense[i]),
                matched_terms=int(coverage[i]),
                n_terms=n_terms,
                query_terms=n_words,
            )
            for i in page
        ]
        timings["order_ms"] = _now_ms(t0)
        result = SearchResult(
            hits=hits, total=total, filters=filters, sort=sort, mode=mode, timings_ms=timings
        )
        if facets and total:
            match_rows = rows[sel]
            for name in facets:
                codes = self._cols.column(name)[match_rows]
                codes = codes[codes >= 0]
                values = self._cols.values(name)
                counts = np.bincount(codes, minlength=len(values)) if len(codes) else np.zeros(0, np.int64)
                result.facets[name] = {values[i]: int(c) for i, c in enumerate(counts) if c}
            result.match_prices = [float(x) for x in self._cols.price[match_rows]]
        timings["total_ms"] = _now_ms(t_all)
        return result

    def _order(
        self,
        sel: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int64],
        fused: Any,
        sort: str,
        *,
        has_query: bool,
        need: int,
    ) -> list[int]:
        if len(sel) == 0:
            return []
        r = rows[sel]
        price = self._cols.price[r]
        rating = np.nan_to_num(self._cols.rating[r], nan=0.0)
        count = self._cols.rating_count[r]
        rel = fused[sel] if has_query else rating + np.log1p(count) / 100.0
        if sort == "relevance":
            keys: tuple[Any, ...] = (-rel,)
        elif sort == "price_asc":
            keys = (price, -rel)
        elif sort == "price_desc":
            keys = (-price, -rel)
        else:  # rating_desc
            keys = (-rating, -count, -rel)
        # lexsort sorts by the last key first
        order = np.lexsort(tuple(reversed(keys)))
        return [int(sel[i]) for i in order[: max(need, 0)]]

    def similar(
        self, product_id: str, filters: SearchFilters | None = None, *, k: int = 10
    ) -> list[tuple[Product, float]]:
        """Products whose embedding is closest to this product's (itself excluded)."""
        row = self._row.get(product_id)
        if row is None:
            raise ProductNotIndexed(product_id)
        rows = np.flatnonzero(self._cols.mask(filters or SearchFilters())).astype(np.int64)
        rows = rows[rows != row]
        if len(rows) == 0:
            return []
        sims = self._vectors[rows] @ self._vectors[row]
        top = _top_k(sims, k)
        return [(self._products[int(rows[i])], float(sims[i])) for i in top]

    def close(self) -> None:
        """Nothing to flush: every write went to Chroma and the snapshot at commit."""


def _top_k(scores: Any, k: int) -> list[int]:
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]
    return [int(i) for i in np.argsort(-scores, kind="stable")]
