"""Images in the service: uploaded photos, the product image index, and search by image (+ words).

``vision/`` holds the CNN embedders; this module stores what they produce:

* **Uploads** (``POST /v1/images``) are validated by content (``vision.decode_image``: JPEG, PNG or
  WebP, ≤ 8 MB, ≤ 40 megapixels) and kept under ``<data dir>/uploads`` with their embedding, so a
  chat turn that names the ``image_id`` does not run the CNN again.
* **The image index** keeps one vector per product image in a Chroma collection of its own
  (``product_images``, the same metadata as text search, so Chroma's ``where`` filters work on the
  scale-out path) and an in-memory mirror; searches filter through the text index's columns, so
  "like this but under $50" uses exactly the filters text search uses.
* Vectors belong to one embedder: when the fine-tuned head changes, the catalog is embedded again.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from assistant._artifacts import replace_dir
from assistant.errors import InvalidRequest, NotFound
from retrieval import HybridIndex, Product, SearchFilters
from retrieval._chroma import product_metadata
from retrieval._index import Hit, SearchResult

__all__ = [
    "IMAGE_ID_PATTERN",
    "ImageIndex",
    "ImageIngestReport",
    "ImageNotFound",
    "UploadStore",
    "embedder_id",
    "search_by_image",
]

log = logging.getLogger("shopassist.images")

IMAGE_ID_PATTERN = r"^img_[0-9a-f]{24}$"
_IMAGE_ID = re.compile(IMAGE_ID_PATTERN)
_CHROMA_BATCH = 1000
#: how much the words of the message count against the photo in a fused image + text search
TEXT_WEIGHT = 0.3


class ImageNotFound(NotFound):
    code = "image_not_found"

    def __init__(self, image_id: str) -> None:
        super().__init__(f"no uploaded image {image_id!r}; upload it with POST /v1/images first")


@register_embedding_function
class PrecomputedImageVectors(EmbeddingFunction[Documents]):
    """The image collection's embedding function: vectors always come from the CNN, never from text."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        raise TypeError("the product image collection holds CNN image vectors; it cannot embed text")

    @staticmethod
    def name() -> str:
        return "shopassist-image"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PrecomputedImageVectors:
        return PrecomputedImageVectors()

    def default_space(self) -> Any:
        return "cosine"


def _reject(exc: Exception) -> InvalidRequest:
    """``vision.ImageRejected`` as the API's error (its code, and the status it asks for)."""
    err = InvalidRequest(str(getattr(exc, "message", exc)), code=str(getattr(exc, "code", "invalid_image")))
    err.status_code = int(getattr(exc, "status_code", 422))
    return err


class UploadStore:
    """Uploaded photos and their embeddings, under ``root`` (shared storage when scaled out)."""

    def __init__(self, root: Path, embedder: Callable[[], Any]) -> None:
        self.root = root
        self._embedder = embedder

    def save(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """Validate by content and store; returns ``(image_id, info)``.  Raises ``InvalidRequest``."""
        from vision import ImageRejected, decode_image, sniff_image_format

        try:
            image = decode_image(data)
        except ImageRejected as exc:
            raise _reject(exc) from None
        fmt = sniff_image_format(data) or "jpeg"
        image_id = "img_" + secrets.token_hex(12)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{image_id}.tmp"
        tmp.write_bytes(data)
        tmp.rename(self.root / f"{image_id}.{fmt}")
        info = {"format": fmt, "width": image.width, "height": image.height, "bytes": len(data)}
        (self.root / f"{image_id}.json").write_text(json.dumps(info))
        return image_id, info

    def path(self, image_id: str) -> Path:
        if not _IMAGE_ID.match(image_id or ""):
            raise ImageNotFound(str(image_id)[:80])
        for fmt in ("jpeg", "png", "webp"):
            p = self.root / f"{image_id}.{fmt}"
            if p.is_file():
                return p
        raise ImageNotFound(image_id)

    def vector(self, image_id: str) -> npt.NDArray[np.float32]:
        """The upload's embedding with the current embedder (computed once, then cached beside it)."""
        from vision import decode_image

        path = self.path(image_id)
        embedder = self._embedder()
        cache = self.root / f"{image_id}.{_safe(embedder_id(embedder))}.npy"
        if cache.is_file():
            return np.asarray(np.load(cache), dtype=np.float32)
        vec = np.asarray(embedder.embed([decode_image(path.read_bytes())])[0], dtype=np.float32)
        np.save(cache, vec)
        return vec

    def delete(self, image_id: str) -> bool:
        """Remove an upload with its info and cached embeddings (erasure); False when it is not there."""
        if not _IMAGE_ID.match(image_id or ""):
            return False
        found = False
        for p in self.root.glob(f"{image_id}.*"):
            p.unlink(missing_ok=True)
            found = True
        return found


def embedder_id(embedder: Any) -> str:
    """Names the vector space: the embedder, and for the fine-tuned one the head's digest."""
    digest = getattr(embedder, "head_digest", None)
    return f"{embedder.name}@{digest}" if digest else str(embedder.name)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]


@dataclass
class ImageIngestReport:
    n_products: int = 0
    n_embedded: int = 0
    n_unchanged: int = 0
    n_without_image: int = 0
    n_failed: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    images_per_s: float = 0.0
    embedder: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ImageIndex:
    """Product image vectors: Chroma (store of record) + an in-memory mirror for exact search."""

    def __init__(
        self,
        *,
        client: Any,
        index_dir: Path | None,
        embedder: Callable[[], Any],
        collection: str = "product_images",
        feature_cache: Any = None,
    ) -> None:
        self._client = client
        self._dir = index_dir
        self._embedder = embedder
        #: a ``vision.FeatureCache``: photos the head was trained on skip the backbone here
        self.feature_cache = feature_cache
        self._ef = PrecomputedImageVectors()
        self._collection: Any = client.get_or_create_collection(
            name=collection, embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}}
        )
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._sources: dict[str, str] = {}
        self._vectors: npt.NDArray[np.float32] = np.zeros((0, 0), np.float32)
        self.embedder_name = ""
        self.version = ""
        self._last_check = 0.0
        self._text_rows: tuple[str, str, npt.NDArray[np.int64]] | None = None
        self.load()

    # ------------------------------------------------------------------ state
    @property
    def n_images(self) -> int:
        return len(self._ids)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._row

    def vector(self, product_id: str) -> npt.NDArray[np.float32] | None:
        row = self._row.get(product_id)
        return None if row is None else self._vectors[row]

    def embedder(self) -> Any:
        return self._embedder()

    # ------------------------------------------------------------------ persistence
    def _meta(self) -> dict[str, Any]:
        return dict(self._collection.metadata or {})

    def load(self) -> None:
        meta = self._meta()
        version = str(meta.get("images_version", ""))
        if version and self._load_snapshot(version):
            return
        ids: list[str] = []
        sources: dict[str, str] = {}
        chunks: list[npt.NDArray[np.float32]] = []
        total = self._collection.count()
        for offset in range(0, total, _CHROMA_BATCH):
            got = self._collection.get(
                include=["embeddings", "metadatas"], limit=_CHROMA_BATCH, offset=offset
            )
            for pid, m in zip(got["ids"], got["metadatas"], strict=True):
                ids.append(pid)
                sources[pid] = str((m or {}).get("image_source", ""))
            chunks.append(np.asarray(got["embeddings"], dtype=np.float32))
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
        self._install(ids, vectors, sources, str(meta.get("embedder", "")), version)

    def _install(
        self,
        ids: list[str],
        vectors: npt.NDArray[np.float32],
        sources: dict[str, str],
        embedder: str,
        version: str,
    ) -> None:
        with self._lock:
            self._ids = ids
            self._row = {pid: i for i, pid in enumerate(ids)}
            self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            self._sources = sources
            self.embedder_name = embedder
            self.version = version
            self._text_rows = None

    def _load_snapshot(self, version: str) -> bool:
        if self._dir is None:
            return False
        snap = self._dir / "snapshot"
        try:
            manifest = json.loads((snap / "manifest.json").read_text())
            if manifest.get("version") != version:
                return False
            vectors = np.load(snap / "vectors.npy")
            ids = json.loads((snap / "ids.json").read_text())
        except (OSError, ValueError):
            return False
        if len(ids) != len(vectors):
            return False
        self._install(ids, vectors, dict(manifest.get("sources", {})), str(manifest["embedder"]), version)
        return True

    def _save_snapshot(self) -> None:
        if self._dir is None:
            return

        def write(folder: Path) -> None:
            np.save(folder / "vectors.npy", self._vectors)
            (folder / "ids.json").write_text(json.dumps(self._ids))
            manifest = {"version": self.version, "embedder": self.embedder_name, "sources": self._sources}
            (folder / "manifest.json").write_text(json.dumps(manifest))

        replace_dir(self._dir / "snapshot", write)

    def reload_if_changed(self, *, min_interval_s: float = 2.0) -> bool:
        """Pick up image vectors another process committed (checked at most every ``min_interval_s``)."""
        now = time.monotonic()
        if now - self._last_check < min_interval_s:
            return False
        self._last_check = now
        self._collection = self._client.get_collection(self._collection.name, embedding_function=self._ef)
        version = str(self._meta().get("images_version", ""))
        if version and version != self.version:
            self.load()
            return True
        return False

    # ------------------------------------------------------------------ writes
    def embed_catalog(
        self,
        products: Sequence[Product],
        *,
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
        fetch_timeout_s: float = 5.0,
    ) -> ImageIngestReport:
        """Embed each product's image that is new or changed (or all, after the embedder changed).

        Images come from ``image_path`` or, failing that, ``image_url``; one that cannot be read or
        fetched is reported and skipped, never fatal.
        """
        t0 = time.perf_counter()
        embedder = self._embedder()
        name = embedder_id(embedder)
        report = ImageIngestReport(n_products=len(products), embedder=name)
        same_embedder = name == self.embedder_name
        todo: list[tuple[Product, str]] = []
        for p in products:
            source = _image_source(p)
            if source is None:
                report.n_without_image += 1
                continue
            if same_embedder and self._sources.get(p.id) == source and p.id in self._row:
                report.n_unchanged += 1
                continue
            todo.append((p, source))
        if not same_embedder and self._ids:
            self._collection.delete(ids=list(self._ids))
            self._install([], np.zeros((0, 0), np.float32), {}, name, self.version)
        self.embedder_name = name
        done = 0
        if progress:
            progress(0, len(todo))
        http: Any = None
        try:
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                kept, vectors, http = self._embed_batch(embedder, batch, report, http, fetch_timeout_s)
                if kept:
                    self._upsert(kept, vectors)
                    report.n_embedded += len(kept)
                done += len(batch)
                if progress:
                    progress(done, len(todo))
        finally:
            if http is not None:
                http.close()
        if report.n_embedded or not same_embedder:
            self.commit()
        report.wall_s = time.perf_counter() - t0
        report.images_per_s = report.n_embedded / report.wall_s if report.wall_s else 0.0
        return report

    def _embed_batch(
        self,
        embedder: Any,
        batch: Sequence[tuple[Product, str]],
        report: ImageIngestReport,
        http: Any,
        timeout_s: float,
    ) -> tuple[list[tuple[Product, str]], npt.NDArray[np.float32], Any]:
        """Vectors for one batch: local files through the feature cache when all of them read, else
        one image at a time so that a bad one is reported and the rest still go in."""
        if self.feature_cache is not None and all(
            p.image_path and Path(p.image_path).is_file() for p, _ in batch
        ):
            from vision import path_features

            try:
                feats = path_features(embedder, [str(p.image_path) for p, _ in batch], self.feature_cache)
                return list(batch), np.asarray(embedder.finish(feats), dtype=np.float32), http
            except Exception:  # one bad photo: redo the batch one by one below
                pass
        images, kept = [], []
        for p, source in batch:
            try:
                img, http = _read_image(p, http, timeout_s)
            except Exception as exc:  # unreadable, unreachable, not an image: report, go on
                report.n_failed += 1
                if len(report.errors) < 10:
                    report.errors.append(f"product {p.id}: {_reason(exc)}")
                continue
            images.append(img)
            kept.append((p, source))
        if not images:
            return [], np.zeros((0, 0), np.float32), http
        return kept, np.asarray(embedder.embed(images), dtype=np.float32), http

    def _upsert(self, items: Sequence[tuple[Product, str]], vectors: npt.NDArray[np.float32]) -> None:
        metas = []
        for p, source in items:
            meta = product_metadata(p, active=True)
            meta["image_source"] = source
            metas.append(meta)
        self._collection.upsert(ids=[p.id for p, _ in items], embeddings=vectors, metadatas=metas)
        with self._lock:
            if self._vectors.size == 0:
                self._vectors = np.zeros((0, vectors.shape[1]), np.float32)
            new = [p.id for p, _ in items if p.id not in self._row]
            if new:
                start = len(self._ids)
                self._vectors = np.concatenate(
                    [self._vectors, np.zeros((len(new), vectors.shape[1]), np.float32)]
                )
                for i, pid in enumerate(new):
                    self._row[pid] = start + i
                    self._ids.append(pid)
            for (p, source), v in zip(items, vectors, strict=True):
                self._vectors[self._row[p.id]] = v
                self._sources[p.id] = source
            self._text_rows = None

    def commit(self) -> str:
        with self._lock:
            self.version = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
            self._save_snapshot()
            self._collection.modify(
                metadata={"images_version": self.version, "embedder": self.embedder_name or "none"}
            )
            return self.version

    # ------------------------------------------------------------------ reads
    def scores(
        self, vector: npt.NDArray[np.float32], text_index: HybridIndex, filters: SearchFilters
    ) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Cosine similarity of every product image that passes ``filters`` (ids, sims), unordered."""
        with self._lock:
            ids, vectors = self._ids, self._vectors
            cached = self._text_rows
            if cached is None or cached[0] != text_index.version or cached[1] != self.version:
                cached = (text_index.version, self.version, text_index.rows_of(ids))
                self._text_rows = cached
        rows = cached[2]
        if not len(ids):
            return [], np.zeros(0, np.float32)
        mask = text_index.filter_mask(filters)
        ok = rows >= 0
        ok[ok] = mask[rows[ok]]
        keep = np.flatnonzero(ok)
        sims = vectors[keep] @ np.asarray(vector, dtype=np.float32)
        return [ids[i] for i in keep], sims


def _image_source(p: Product) -> str | None:
    if p.image_path:
        path = Path(p.image_path)
        try:
            st = path.stat()
        except OSError:
            return f"path:{p.image_path}" if not p.image_url else f"url:{p.image_url}"
        return f"path:{p.image_path}:{st.st_size}:{int(st.st_mtime)}"
    if p.image_url:
        return f"url:{p.image_url}"
    return None


def _read_image(p: Product, http: Any, timeout_s: float) -> tuple[Any, Any]:
    from vision import decode_image

    if p.image_path and Path(p.image_path).is_file():
        return decode_image(Path(p.image_path).read_bytes()), http
    if p.image_url and p.image_url.startswith(("http://", "https://")):
        import httpx

        http = http or httpx.Client(timeout=timeout_s, follow_redirects=True)
        with http.stream("GET", p.image_url) as r:
            r.raise_for_status()
            data = b""
            for chunk in r.iter_bytes():
                data += chunk
                if len(data) > 8 * 1024 * 1024:
                    raise ValueError("image over 8 MB")
        return decode_image(data), http
    raise FileNotFoundError(p.image_path or p.image_url or "no image")


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def search_by_image(
    images: ImageIndex,
    text_index: HybridIndex,
    vector: npt.NDArray[np.float32],
    filters: SearchFilters,
    *,
    query: str = "",
    limit: int = 5,
    offset: int = 0,
    exclude: Sequence[str] = (),
    pool: int = 50,
) -> SearchResult:
    """Products whose image is closest to ``vector`` among those meeting ``filters``.

    With ``query`` words, the top ``pool`` by image are re-scored with the text index's fused score
    (``(1 - TEXT_WEIGHT) × image + TEXT_WEIGHT × text``, both min-max scaled over the pool).  ``total``
    is the pool size: image similarity has no natural "matches / doesn't" line.
    """
    t0 = time.perf_counter()
    ids, sims = images.scores(vector, text_index, filters)
    if exclude:
        skip = set(exclude)
        keep = [i for i, pid in enumerate(ids) if pid not in skip]
        ids, sims = [ids[i] for i in keep], sims[keep]
    order = np.argsort(-sims, kind="stable")[:pool]
    top_ids = [ids[i] for i in order]
    img = sims[order].astype(np.float64)
    score = img
    text = np.zeros(len(top_ids))
    if query.strip() and top_ids:
        found = {
            c.product.id: c.fused
            for c in text_index.candidates(query, filters, k=len(top_ids), candidate_ids=top_ids)
        }
        text = np.array([found.get(pid, 0.0) for pid in top_ids])
        score = (1 - TEXT_WEIGHT) * _scaled(img) + TEXT_WEIGHT * _scaled(text)
    final = np.argsort(-score, kind="stable")
    page = final[offset : offset + limit]
    hits = [
        Hit(
            product=text_index.get(top_ids[i]),
            score=float(score[i]),
            lexical=float(text[i]),
            dense=float(img[i]),
            matched_terms=0,
            n_terms=0,
        )
        for i in page
    ]
    return SearchResult(
        hits=hits,
        total=len(top_ids),
        filters=filters,
        sort="relevance",
        mode="image",
        timings_ms={"total_ms": (time.perf_counter() - t0) * 1000},
    )


def _scaled(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if len(x) == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-12 else (x - lo) / (hi - lo)
