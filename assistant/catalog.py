"""Catalog ingest: read a file, upsert the database and the search indexes, record price changes.

Re-ingesting the same file changes nothing.  A changed title/description/…
re-embeds the product; a changed price, stock or rating does not (the stored
vector is kept) and a changed price appends a price-history row.  ``full=True``
marks products missing from the file inactive (never deleted: orders refer to them).
Encoding runs in the calling thread while a writer thread stores the previous
batch (Chroma + database) in Linux's idle scheduling class, so storing fills
the gaps the encoder leaves instead of stalling it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update

from assistant.db import Database
from assistant.models import IngestRunRow, PriceHistoryRow, ProductRow, utcnow
from retrieval import HybridIndex, Product
from retrieval._readers import CatalogFormatError, RowError, detect_format, iter_catalog

__all__ = ["IngestReport", "ingest_catalog", "product_from_row", "CatalogFormatError"]

ProgressFn = Callable[[int, int], None]  # (done, total)


@dataclass
class IngestReport:
    path: str
    format: str
    n_rows: int = 0
    n_valid: int = 0
    n_new: int = 0
    n_updated: int = 0
    n_reembedded: int = 0
    n_encoded: int = 0  # distinct texts encoded for the re-embedded products
    n_price_changes: int = 0
    n_unchanged: int = 0
    n_deactivated: int = 0
    n_reactivated: int = 0
    n_errors: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    encode_s: float = 0.0
    products_per_s: float = 0.0
    catalog_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(p: Product) -> str:
    return hashlib.sha256(json.dumps(p.content_key(), default=str).encode()).hexdigest()


def product_from_row(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        title=row.title,
        description=row.description,
        product_type=row.product_type,
        category=row.category,
        brand=row.brand,
        price=row.price,
        currency=row.currency,
        rating=row.rating,
        rating_count=row.rating_count,
        in_stock=row.in_stock,
        attributes=dict(row.attributes or {}),
        image_url=row.image_url,
        image_path=row.image_path,
    )


def _resolve_image(p: Product, base: Path) -> Product:
    if p.image_path and not Path(p.image_path).is_absolute():
        return p.model_copy(update={"image_path": str((base / p.image_path).resolve())})
    return p


def _row_values(p: Product, chash: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "product_type": p.product_type,
        "category": p.category,
        "brand": p.brand,
        "price": p.price,
        "currency": p.currency,
        "rating": p.rating,
        "rating_count": p.rating_count,
        "in_stock": p.in_stock,
        "attributes": dict(p.attributes),
        "image_url": p.image_url,
        "image_path": p.image_path,
        "content_hash": chash,
        "active": True,
    }


def _store_rows(db: Database, products: Sequence[Product], *, source: str) -> int:
    """Insert or update product rows; price changes (and first prices) go to price history.

    Bulk INSERT/UPDATE statements (one round of ``executemany`` each) rather than
    one ORM object per product: the writer thread shares the cores with the encoder.
    """
    changes = 0
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    with db.session() as s:
        existing = {
            pid: (price, currency)
            for pid, price, currency in s.execute(
                select(ProductRow.id, ProductRow.price, ProductRow.currency).where(
                    ProductRow.id.in_([p.id for p in products])
                )
            )
        }
        for p in products:
            values = _row_values(p, content_hash(p))
            values["updated_at"] = now
            old = existing.get(p.id)
            point = {"product_id": p.id, "price": p.price, "currency": p.currency, "observed_at": now}
            if old is None:
                values["created_at"] = now
                inserts.append(values)
                history.append(point | {"source": source})
                continue
            if abs(old[0] - p.price) > 1e-9 or old[1] != p.currency:
                history.append(point | {"source": source})
                changes += 1
            updates.append(values)
        # product rows first, or the price rows break the foreign key
        if inserts:
            s.execute(insert(ProductRow), inserts)
        if updates:
            s.execute(update(ProductRow), updates)
        if history:
            s.execute(insert(PriceHistoryRow), history)
    return changes


# threads of the Chroma client's Rust runtime: the vector store's writes run there, not in the caller
_STORE_THREAD_NAMES = ("tokio-rt-worker", "sqlx-sqlite-wor")


def _store_thread_ids() -> list[int]:
    ids: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as fh:
                if fh.read().strip() in _STORE_THREAD_NAMES:
                    ids.append(int(tid))
    return ids


def _set_idle(tids: Sequence[int], idle: bool) -> None:
    """Put threads in (or take them out of) Linux's SCHED_IDLE class; a no-op elsewhere."""
    policy = getattr(os, "SCHED_IDLE" if idle else "SCHED_OTHER", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return
    for tid in tids:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(tid, policy, os.sched_param(0))


class _StorageInBackground:
    """While encoding, storing runs only on a core the encoder leaves idle.

    The encoder's threads meet at a barrier after every operation, so any thread
    that takes one of the two cores stalls all of them; in the idle class the
    storing threads (ours and Chroma's runtime) fill the gaps instead.  Chroma may
    start runtime threads while the ingest runs, so ``refresh`` (before each batch)
    idles those too.  Restored afterwards: queries in this process must not wait
    behind anything.
    """

    def __init__(self) -> None:
        self._idled: set[int] = set()

    def refresh(self) -> None:
        new = [t for t in _store_thread_ids() if t not in self._idled]
        _set_idle(new, True)
        self._idled.update(new)

    def __enter__(self) -> _StorageInBackground:
        self.refresh()
        return self

    def __exit__(self, *exc: object) -> None:
        _set_idle(sorted(self._idled | set(_store_thread_ids())), False)


def ingest_catalog(
    *,
    path: Path,
    db: Database,
    index: HybridIndex,
    fmt: str | None = None,
    full: bool = False,
    batch_size: int = 256,
    max_errors_listed: int = 10,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Ingest one catalog file; raises :class:`CatalogFormatError` when it is not a catalog."""
    t_start = time.perf_counter()
    fmt = fmt or detect_format(path)
    report = IngestReport(path=str(path), format=fmt)
    base = path.resolve().parent
    products: list[Product] = []
    for item in iter_catalog(path, fmt):
        report.n_rows += 1
        if isinstance(item, RowError):
            report.n_errors += 1
            if len(report.errors) < max_errors_listed:
                report.errors.append(item.reason)
            continue
        products.append(_resolve_image(item, base))
    report.n_valid = len(products)

    with db.session() as s:
        known = {
            r.id: (r.content_hash, r.price, r.currency, r.in_stock, r.rating, r.rating_count, r.active)
            for r in s.execute(
                select(
                    ProductRow.id,
                    ProductRow.content_hash,
                    ProductRow.price,
                    ProductRow.currency,
                    ProductRow.in_stock,
                    ProductRow.rating,
                    ProductRow.rating_count,
                    ProductRow.active,
                )
            )
        }
    to_embed: list[Product] = []
    to_update: list[Product] = []
    for p in products:
        old = known.get(p.id)
        if old is None:
            report.n_new += 1
            to_embed.append(p)
            continue
        chash, price, currency, in_stock, rating, rating_count, active = old
        if chash != content_hash(p):
            report.n_updated += 1
            to_embed.append(p)
        elif p.id not in index:  # the index was rebuilt or lost: embed again, nothing changed for the shopper
            to_embed.append(p)
        elif (
            (price, currency, in_stock, rating, rating_count)
            != (
                p.price,
                p.currency,
                p.in_stock,
                p.rating,
                p.rating_count,
            )
            or not active
            or not index.is_active(p.id)
        ):
            report.n_updated += 1
            report.n_reactivated += int(not active)
            to_update.append(p)
        else:
            report.n_unchanged += 1

    # similar lengths batch together: far less padding for the encoder (the raw rate sorts the same way);
    # equal texts end up side by side, so each distinct text is encoded once (variants of one product
    # often share a title: 28 % of the 44,446 fashion products do) and its vector reused
    texts = {p.id: p.embedding_text() for p in to_embed}
    to_embed.sort(key=lambda p: (len(texts[p.id]), texts[p.id]))
    total_work = len(to_embed) + len(to_update)
    done = 0
    if progress:
        progress(0, total_work)

    # writer thread: stores batch i while the encoder works on batch i + 1
    work: queue.Queue[tuple[list[Product], Any] | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []
    price_changes = [0]

    def writer() -> None:
        _set_idle([threading.get_native_id()], True)  # see _StorageInBackground
        try:
            while (item := work.get()) is not None:
                batch, vectors = item
                price_changes[0] += _store_rows(db, batch, source="ingest")
                if vectors is None:
                    index.update_products(batch, active=True)
                else:
                    index.upsert(batch, vectors)
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)
            while work.get() is not None:
                pass

    thread = threading.Thread(target=writer, name="ingest-writer", daemon=True)
    thread.start()
    try:
        with _StorageInBackground() as background:
            previous: dict[str, Any] = {}  # the last batch's vectors by text (equal texts are adjacent)
            for start in range(0, len(to_embed), batch_size):
                if failure:
                    break
                batch = to_embed[start : start + batch_size]
                background.refresh()
                distinct = [t for t in dict.fromkeys(texts[p.id] for p in batch) if t not in previous]
                t0 = time.perf_counter()
                encoded = (
                    np.asarray(index.encoder.encode(distinct, batch_size=64), dtype=np.float32)
                    if distinct
                    else np.zeros((0, index.encoder.dim), np.float32)
                )
                report.encode_s += time.perf_counter() - t0
                report.n_encoded += len(distinct)
                by_text = {t: previous[t] for p in batch if (t := texts[p.id]) in previous}
                by_text.update(zip(distinct, encoded, strict=True))
                work.put((batch, np.stack([by_text[texts[p.id]] for p in batch])))
                previous = by_text
                report.n_reembedded += len(batch)
                done += len(batch)
                if progress:
                    progress(done, total_work)
        for start in range(0, len(to_update), batch_size):
            if failure:
                break
            batch = to_update[start : start + batch_size]
            work.put((batch, None))
            done += len(batch)
            if progress:
                progress(done, total_work)
    finally:
        work.put(None)
        thread.join()
    if failure:
        raise failure[0]
    report.n_price_changes = price_changes[0]

    if full:
        present = {p.id for p in products}
        missing = [pid for pid, rec in known.items() if rec[-1] and pid not in present]
        if missing:
            with db.session() as s:
                for row in s.scalars(select(ProductRow).where(ProductRow.id.in_(missing))):
                    row.active = False
                    row.updated_at = utcnow()
            index.set_active(missing, False)
            report.n_deactivated = len(missing)

    if total_work or report.n_deactivated:
        report.catalog_version = index.commit()
    else:
        report.catalog_version = index.version or None
    report.wall_s = time.perf_counter() - t_start
    report.products_per_s = report.n_reembedded / report.wall_s if report.wall_s > 0 else 0.0
    with db.session() as s:
        s.add(
            IngestRunRow(path=str(path), format=fmt, full=full, finished_at=utcnow(), report=report.as_dict())
        )
    return report
