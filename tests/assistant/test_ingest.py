"""Catalog ingest: counts, idempotence, price history, re-embedding only what changed, --full, bad input."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from assistant.catalog import CatalogFormatError, ingest_catalog
from assistant.config import Settings
from assistant.models import IngestRunRow, PriceHistoryRow, ProductRow
from assistant.products import get_product, search_products
from assistant.runtime import Runtime
from retrieval import HashingEncoder, Product, SearchFilters

N_SMALL = 300  # products in the ``small_catalog`` fixture


class CountingEncoder:
    """The tests' hashing encoder, counting the product texts it embeds."""

    name = "hashing"
    dim = 64

    def __init__(self) -> None:
        self._inner = HashingEncoder(self.dim)
        self.n_texts = 0

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> Any:
        self.n_texts += len(texts)
        return self._inner.encode(texts, batch_size=batch_size, progress=progress)

    def encode_query(self, text: str) -> Any:
        return self._inner.encode_query(text)


@pytest.fixture
def counted(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings, encoder=CountingEncoder())
    yield rt
    rt.close()


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def ingest(rt: Runtime, path: Path, **kwargs: Any) -> Any:
    return ingest_catalog(path=path, db=rt.db, index=rt.index, **kwargs)


def price_history(rt: Runtime, product_id: str | None = None) -> list[float]:
    with rt.db.session() as s:
        q = select(PriceHistoryRow.price).order_by(PriceHistoryRow.id)
        if product_id is not None:
            q = q.where(PriceHistoryRow.product_id == product_id)
        return list(s.scalars(q))


def count(rt: Runtime, model: Any, *where: Any) -> int:
    with rt.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def listed(rt: Runtime, filters: SearchFilters, query: str = "") -> list[str]:
    page = search_products(rt.index, query=query, filters=filters, limit=100)
    return [c.product.id for c in page.cards]


def counts(report: Any) -> dict[str, int]:
    return {
        k: getattr(report, k)
        for k in (
            "n_rows",
            "n_valid",
            "n_new",
            "n_updated",
            "n_reembedded",
            "n_price_changes",
            "n_unchanged",
            "n_deactivated",
            "n_reactivated",
            "n_errors",
        )
    }


ZERO = dict.fromkeys(
    (
        "n_rows",
        "n_valid",
        "n_new",
        "n_updated",
        "n_reembedded",
        "n_price_changes",
        "n_unchanged",
        "n_deactivated",
        "n_reactivated",
        "n_errors",
    ),
    0,
)


# ----------------------------------------------------------------------------- first ingest


def test_first_ingest_counts_and_stores_everything(counted: Runtime, small_catalog: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = ingest(counted, small_catalog, progress=lambda done, total: calls.append((done, total)))

    assert report.format == "jsonl"
    assert counts(report) == {
        **ZERO,
        "n_rows": N_SMALL,
        "n_valid": N_SMALL,
        "n_new": N_SMALL,
        "n_reembedded": N_SMALL,
    }
    assert report.errors == []
    assert report.catalog_version and report.catalog_version == counted.index.version
    assert counted.encoder.n_texts == N_SMALL  # type: ignore[attr-defined]
    assert calls[0] == (0, N_SMALL) and calls[-1] == (N_SMALL, N_SMALL)

    # database: every product, active, with its first price in the history
    assert count(counted, ProductRow) == count(counted, ProductRow, ProductRow.active) == N_SMALL
    assert count(counted, PriceHistoryRow) == N_SMALL
    rows = read_rows(small_catalog)
    first = Product.model_validate(rows[0])
    stored, active = get_product(counted.db, first.id)
    assert stored == first and active
    assert price_history(counted, first.id) == [first.price]
    with counted.db.session() as s:
        run = s.scalars(select(IngestRunRow)).one()
        assert run.path == str(small_catalog) and run.format == "jsonl" and not run.full
        assert run.report["n_new"] == N_SMALL

    # index: every product searchable
    assert counted.index.n_active == N_SMALL
    assert search_products(counted.index, query="", filters=SearchFilters()).total == N_SMALL
    hits = listed(counted, SearchFilters(), query=first.title)
    assert hits[0] == first.id


def test_reingesting_the_same_file_changes_nothing(counted: Runtime, small_catalog: Path) -> None:
    first = ingest(counted, small_catalog)
    embedded = counted.encoder.n_texts  # type: ignore[attr-defined]

    again = ingest(counted, small_catalog)
    assert counts(again) == {**ZERO, "n_rows": N_SMALL, "n_valid": N_SMALL, "n_unchanged": N_SMALL}
    assert again.catalog_version == first.catalog_version == counted.index.version
    assert counted.encoder.n_texts == embedded  # type: ignore[attr-defined]
    assert count(counted, PriceHistoryRow) == N_SMALL
    assert count(counted, ProductRow) == N_SMALL

    # a new process (fresh runtime on the same data dir) sees the same catalog and changes nothing either
    other = Runtime(counted.settings, encoder=CountingEncoder())
    try:
        assert other.index.version == first.catalog_version
        third = ingest(other, small_catalog)
        assert third.n_unchanged == N_SMALL and third.catalog_version == first.catalog_version
        assert other.encoder.n_texts == 0  # type: ignore[attr-defined]
    finally:
        other.close()


# ----------------------------------------------------------------------------- changes


def test_changed_price_appends_history_and_moves_the_product_across_a_price_filter(
    counted: Runtime, small_catalog: Path, tmp_path: Path
) -> None:
    first = ingest(counted, small_catalog)
    embedded = counted.encoder.n_texts  # type: ignore[attr-defined]
    rows = read_rows(small_catalog)
    target = rows[5]
    old, new = float(target["price"]), round(float(target["price"]) + 1000.0, 2)
    ptype = target["product_type"]
    dearer = SearchFilters(product_type=ptype, price_min=old + 500)
    assert target["id"] not in listed(counted, dearer)

    target["price"] = new
    changed = write_rows(tmp_path / "changed.jsonl", rows)
    report = ingest(counted, changed)
    assert counts(report) == {
        **ZERO,
        "n_rows": N_SMALL,
        "n_valid": N_SMALL,
        "n_updated": 1,
        "n_price_changes": 1,
        "n_unchanged": N_SMALL - 1,
    }
    assert counted.encoder.n_texts == embedded  # type: ignore[attr-defined]  # a price needs no new vector
    assert report.catalog_version != first.catalog_version
    assert report.catalog_version == counted.index.version

    assert price_history(counted, target["id"]) == [old, new]
    assert count(counted, PriceHistoryRow) == N_SMALL + 1
    assert get_product(counted.db, target["id"])[0].price == new
    assert listed(counted, dearer) == [target["id"]]
    assert target["id"] not in listed(counted, SearchFilters(product_type=ptype, price_max=old + 500))

    # back to the old price: one more history row, and the filter follows again
    target["price"] = old
    back = ingest(counted, write_rows(tmp_path / "back.jsonl", rows))
    assert back.n_price_changes == 1
    assert price_history(counted, target["id"]) == [old, new, old]
    assert target["id"] not in listed(counted, dearer)


def test_changed_title_reembeds_only_that_product(
    counted: Runtime, small_catalog: Path, tmp_path: Path
) -> None:
    ingest(counted, small_catalog)
    rows = read_rows(small_catalog)
    ids = [r["id"] for r in rows]
    before = {pid: counted.index.vector(pid).copy() for pid in ids}
    embedded = counted.encoder.n_texts  # type: ignore[attr-defined]

    target = rows[7]
    target["title"] = "Zyzzyva Quokka Limited Edition"
    report = ingest(counted, write_rows(tmp_path / "retitled.jsonl", rows))
    assert counts(report) == {
        **ZERO,
        "n_rows": N_SMALL,
        "n_valid": N_SMALL,
        "n_updated": 1,
        "n_reembedded": 1,
        "n_unchanged": N_SMALL - 1,
    }
    assert counted.encoder.n_texts == embedded + 1  # type: ignore[attr-defined]
    changed = [pid for pid in ids if not np.array_equal(counted.index.vector(pid), before[pid])]
    assert changed == [target["id"]]
    assert count(counted, PriceHistoryRow) == N_SMALL  # same price: no history row
    assert get_product(counted.db, target["id"])[0].title == "Zyzzyva Quokka Limited Edition"
    assert listed(counted, SearchFilters(), query="zyzzyva quokka") == [target["id"]]


def test_variants_sharing_a_text_are_encoded_once_and_each_one_is_stored_and_found(
    counted: Runtime, small_catalog: Path, tmp_path: Path
) -> None:
    rows = read_rows(small_catalog)
    base = rows[0]
    # nine size/price variants with the same title and facets, across several encoder batches
    variants = [{**base, "id": f"variant-{i}", "price": 10.0 + i} for i in range(9)]
    report = ingest(counted, write_rows(tmp_path / "variants.jsonl", rows + variants), batch_size=4)

    assert report.n_new == report.n_reembedded == N_SMALL + 9
    texts = {Product.model_validate(r).embedding_text() for r in rows}
    assert report.n_encoded == counted.encoder.n_texts == len(texts)  # type: ignore[attr-defined]
    for v in variants:
        assert np.array_equal(counted.index.vector(v["id"]), counted.index.vector(base["id"]))
        assert get_product(counted.db, v["id"])[0].price == v["price"]
    hits = listed(counted, SearchFilters(price_min=12.5, price_max=14.5), query=base["title"])
    assert set(hits[:2]) == {"variant-3", "variant-4"}


def test_full_ingest_deactivates_missing_products_and_reingest_brings_them_back(
    counted: Runtime, small_catalog: Path, tmp_path: Path
) -> None:
    ingest(counted, small_catalog)
    rows = read_rows(small_catalog)
    missing = [r["id"] for r in rows[-10:]]
    partial = write_rows(tmp_path / "partial.jsonl", rows[:-10])

    # without --full, products absent from the file are left alone
    assert ingest(counted, partial).n_deactivated == 0
    assert counted.index.n_active == N_SMALL

    report = ingest(counted, partial, full=True)
    assert counts(report) == {
        **ZERO,
        "n_rows": N_SMALL - 10,
        "n_valid": N_SMALL - 10,
        "n_unchanged": N_SMALL - 10,
        "n_deactivated": 10,
    }
    assert count(counted, ProductRow) == N_SMALL  # never deleted
    assert count(counted, ProductRow, ProductRow.active.is_(False)) == 10
    for pid in missing:
        assert get_product(counted.db, pid)[1] is False
        assert not counted.index.is_active(pid)
    assert counted.index.n_active == N_SMALL - 10
    assert search_products(counted.index, query="", filters=SearchFilters()).total == N_SMALL - 10
    gone = rows[-1]
    assert gone["id"] not in listed(counted, SearchFilters(), query=gone["title"])
    # a second --full run has nothing left to deactivate
    assert ingest(counted, partial, full=True).n_deactivated == 0

    back = ingest(counted, small_catalog)
    assert counts(back) == {
        **ZERO,
        "n_rows": N_SMALL,
        "n_valid": N_SMALL,
        "n_updated": 10,
        "n_reactivated": 10,
        "n_unchanged": N_SMALL - 10,
    }
    assert back.n_reembedded == 0  # the stored vectors are reused
    assert count(counted, ProductRow, ProductRow.active) == N_SMALL
    assert all(counted.index.is_active(pid) for pid in missing)
    assert listed(counted, SearchFilters(), query=gone["title"])[0] == gone["id"]


# ----------------------------------------------------------------------------- bad input

BROKEN_CSV = """id,title,price,product_type,brand,in_stock,rating,attr_color,attributes
c1,Black Leather Watch,120.00,watch,Acme,yes,4.5,black,"{""material"": ""leather""}"
c2,"Red Running Shoe, Lightweight",$89.99,running shoe,Stride,true,,red,
c3,,10,bag,Acme,yes,,,
c4,Blue Bag,abc,bag,Acme,yes,,blue,
c5,Steel Watch,"1,299.00",watch,Nova,no,3,silver,
c6,Green Cap,12,cap,Acme,maybe,,green,
c7,Pink Scarf,15,scarf,Acme,yes,7,pink,
c8,Grey Sofa,499,sofa,Home,yes,,grey,{oops
c1,Duplicate Watch,99,watch,Acme,yes,,black,
c9,Wide Row,10,bag,Acme,yes,,black,,extra
c10,Negative,-5,bag,Acme,yes,,,
"""


def test_csv_with_broken_rows_ingests_the_good_ones_and_reports_the_rest(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    report = ingest(runtime, path, max_errors_listed=5)
    assert report.format == "csv"
    assert (report.n_rows, report.n_valid, report.n_new, report.n_errors) == (11, 3, 3, 8)
    # the first five reasons, each with its row, the id and why
    assert report.errors == [
        "row 3 (id 'c3'): missing title",
        "row 4 (id 'c4'): price 'abc' is not a number",
        "row 6 (id 'c6'): in_stock 'maybe' is not one of true/false, yes/no, 1/0, in stock/out of stock",
        "row 7 (id 'c7'): rating '7' is out of range 0..5",
        "row 8 (id 'c8'): attributes is not valid JSON (Expecting property name enclosed in double quotes"
        " at column 2)",
    ]

    assert count(runtime, ProductRow) == 3
    watch, _ = get_product(runtime.db, "c1")
    assert (watch.title, watch.price, watch.rating) == ("Black Leather Watch", 120.0, 4.5)
    assert watch.in_stock is True
    assert watch.attributes == {"color": "black", "material": "leather"}
    assert get_product(runtime.db, "c2")[0].price == 89.99
    steel, _ = get_product(runtime.db, "c5")
    assert (steel.price, steel.in_stock) == (1299.0, False)
    assert listed(runtime, SearchFilters(color="black")) == ["c1"]
    assert set(listed(runtime, SearchFilters())) == {"c1", "c2", "c5"}


def test_pdf_renamed_csv_is_one_line_error_and_stores_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    with pytest.raises(CatalogFormatError) as err:
        ingest(runtime, path)
    message = str(err.value)
    assert "\n" not in message
    assert message == "catalog.csv: a PDF document, not a catalog (expected CSV, TSV or JSON Lines)"
    assert count(runtime, ProductRow) == 0
    assert runtime.index.n_products == 0 and runtime.index.version == ""


def test_relative_image_path_is_resolved_against_the_catalog_folder(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    absolute = tmp_path / "elsewhere" / "z.jpg"
    write_rows(
        shop / "catalog.jsonl",
        [
            {"id": "a", "title": "Alpha", "price": 1, "image_path": "images/a.jpg"},
            {"id": "b", "title": "Beta", "price": 2, "image_path": "../pics/b.png"},
            {"id": "c", "title": "Gamma", "price": 3, "image_path": str(absolute)},
            {"id": "d", "title": "Delta", "price": 4, "image_url": "https://example.com/d.jpg"},
        ],
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative to the file, not to the working directory
    report = ingest(runtime, Path("../shop/catalog.jsonl"))
    assert report.n_new == 4

    expected = {
        "a": str((shop / "images" / "a.jpg").resolve()),
        "b": str((tmp_path / "pics" / "b.png").resolve()),
        "c": str(absolute),
        "d": None,
    }
    for pid, path in expected.items():
        assert get_product(runtime.db, pid)[0].image_path == path
        assert runtime.index.get(pid).image_path == path
    assert get_product(runtime.db, "d")[0].image_url == "https://example.com/d.jpg"


# ----------------------------------------------------------------------------- scheduling


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling classes")
def test_storage_threads_yield_to_the_encoder_during_ingest_and_get_full_priority_back(
    runtime: Runtime, small_catalog: Path
) -> None:
    from assistant.catalog import _store_thread_ids

    store_threads = _store_thread_ids()
    assert store_threads, "the Chroma client runs its writes on runtime threads of its own"
    seen: list[set[int]] = []

    def policies() -> set[int]:
        # threads of Chroma clients that earlier tests closed may end meanwhile: skip those
        out = set()
        for t in _store_thread_ids():
            with contextlib.suppress(ProcessLookupError):
                out.add(os.sched_getscheduler(t))
        return out

    class Watching(HashingEncoder):
        def encode(self, texts: Sequence[str], **kw: Any) -> Any:
            seen.append(policies())
            return super().encode(texts, **kw)

    runtime.index.encoder = Watching(dim=runtime.index.encoder.dim)
    ingest(runtime, small_catalog)

    assert seen and all(policies == {os.SCHED_IDLE} for policies in seen)
    # afterwards a shopper's query through the same client is not queued behind anything
    assert policies() == {os.SCHED_OTHER}
    assert search_products(runtime.index, query="", filters=SearchFilters()).total == N_SMALL
