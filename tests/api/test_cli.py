"""The ``shopassist`` CLI through Typer's CliRunner: exit codes and the lines a user reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.runtime import Runtime

runner = CliRunner()
N_SMALL = 300
EVAL_KEYS = {"mode", "pool", "n_queries", "ndcg@10", "mrr@10", "recall@100", "p50_ms", "p95_ms"}


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def ingest_directly(settings: Settings, path: Path) -> None:
    rt = Runtime(settings)
    try:
        ingest_catalog(path=path, db=rt.db, index=rt.index)
    finally:
        rt.close()


# ----------------------------------------------------------------------------- ingest


def test_ingest_prints_the_summary(env_settings: Settings, small_catalog: Path) -> None:
    result = invoke("ingest", str(small_catalog))
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[-3] == (
        "jsonl: 300 rows, 300 new, 0 updated (0 price changes), 0 unchanged, 0 deactivated, "
        "0 bad rows skipped"
    )
    assert re.fullmatch(
        r"embedded 300 products in \d+\.\d s \(\d+ products/s; encoder busy \d+\.\d s\)", out[-2]
    )
    assert re.fullmatch(
        r"photos: 300 embedded \(\d+\.\d/s\), 0 unchanged, 0 without a photo, 0 unreadable or unreachable",
        out[-1],
    )
    assert result.stderr == ""

    again = invoke("ingest", str(small_catalog))
    assert again.exit_code == 0
    assert lines(again.stdout)[-2] == (
        "jsonl: 300 rows, 0 new, 0 updated (0 price changes), 300 unchanged, 0 deactivated, "
        "0 bad rows skipped"
    )
    assert lines(again.stdout)[-1].startswith("photos: 0 embedded")
    assert "300 unchanged" in lines(again.stdout)[-1]
    assert not any(x.startswith("embedded") for x in lines(again.stdout))

    as_json = invoke("ingest", str(small_catalog), "--json")
    assert as_json.exit_code == 0
    report = json.loads(lines(as_json.stdout)[-1])
    assert (report["n_rows"], report["n_unchanged"], report["format"]) == (N_SMALL, N_SMALL, "jsonl")


def test_ingest_reports_skipped_rows(env_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text(
        "id,title,price\na1,Black Watch,10\na2,,5\na3,Red Shoe,cheap\na4,Blue Bag,20\n",
        encoding="utf-8",
    )
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[-5] == (
        "csv: 4 rows, 2 new, 0 updated (0 price changes), 0 unchanged, 0 deactivated, 2 bad rows skipped"
    )
    assert re.fullmatch(r"embedded 2 products in .*", out[-4])
    assert out[-3].startswith("photos: 0 embedded") and "2 without a photo" in out[-3]
    assert out[-2:] == [
        "  skipped: row 2 (id 'a2'): missing title",
        "  skipped: row 3 (id 'a3'): price 'cheap' is not a number",
    ]


def test_ingest_reports_unreachable_and_broken_photos_and_indexes_the_rest(
    env_settings: Settings, tmp_path: Path, demo_rows: list[dict[str, Any]]
) -> None:
    from tests.conftest import DEMO_CATALOG

    good = demo_rows[0]
    (tmp_path / "broken.jpg").write_bytes(b"%PDF-1.4 not a photo")
    rows = [
        {**good, "image_path": str(DEMO_CATALOG.parent / str(good["image_path"]))},
        {"id": "u1", "title": "Far Away Hat", "price": 5, "image_url": "http://127.0.0.1:9/hat.jpg"},
        {"id": "b1", "title": "Broken Photo Bag", "price": 7, "image_path": "broken.jpg"},
    ]
    path = tmp_path / "shop.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    photos = next(x for x in out if x.startswith("photos:"))
    assert photos.startswith("photos: 1 embedded") and "2 unreadable or unreachable" in photos
    skipped = [x for x in out if x.startswith("  photo skipped:")]
    assert len(skipped) == 2 and any("u1" in x for x in skipped) and any("b1" in x for x in skipped)
    rt = Runtime(env_settings)
    try:
        assert rt.images.n_images == 1 and str(good["id"]) in rt.images
        assert rt.index.n_active == 3  # the products themselves are all searchable
    finally:
        rt.close()


def test_ingest_missing_file_is_one_error_line(env_settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = invoke("ingest", str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {missing}: no such file\n"


def test_ingest_unknown_format_is_one_error_line(env_settings: Settings, small_catalog: Path) -> None:
    result = invoke("ingest", str(small_catalog), "--format", "xml")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown format 'xml'; choose one of csv, jsonl, gmc, shopify\n"


def test_ingest_a_pdf_is_one_error_line(env_settings: Settings, tmp_path: Path) -> None:
    pdf = tmp_path / "notacatalog.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
    result = invoke("ingest", str(pdf))
    assert result.exit_code == 1
    err = lines(result.stderr)
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert err[0].endswith("notacatalog.pdf: a PDF document, not a catalog (expected CSV, TSV or JSON Lines)")
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


# ----------------------------------------------------------------------------- search


def test_search_json_respects_the_price_filter(env_settings: Settings, small_catalog: Path) -> None:
    ingest_directly(env_settings, small_catalog)
    result = invoke("search", "black watch", "--price-max", "200", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"total", "filters", "products"}
    assert body["filters"] == {"price_max": 200.0}
    assert 1 <= len(body["products"]) <= 10 and body["total"] >= len(body["products"])
    assert all(p["price"] <= 200 for p in body["products"])
    top = body["products"][0]["title"].lower()
    assert "black" in top and "watch" in top

    cheap = json.loads(
        invoke("search", "", "--price-max", "20", "--sort", "price_asc", "--json", "--limit", "100").stdout
    )
    prices = [p["price"] for p in cheap["products"]]
    assert prices and prices == sorted(prices) and max(prices) <= 20

    table = invoke("search", "black watch", "--price-max", "200")
    assert table.exit_code == 0
    assert f"{body['total']} match(es) for 'black watch'" in table.stdout


def test_search_bad_options_are_one_error_line(env_settings: Settings, small_catalog: Path) -> None:
    ingest_directly(env_settings, small_catalog)
    result = invoke("search", "watch", "--price-min", "50", "--price-max", "10")
    assert (result.exit_code, result.stderr) == (1, "error: price_min must not be greater than price_max\n")
    result = invoke("search", "watch", "--sort", "cheapest")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown sort 'cheapest'; choose one of relevance, price_asc, price_desc, rating_desc\n"
    )
    result = invoke("search", "watch", "--gender", "aliens")
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "error: unknown gender 'aliens'; choose men, women, boys, girls or unisex"
    ]


def test_search_on_an_empty_catalog_says_what_to_do(env_settings: Settings) -> None:
    result = invoke("search", "black watch")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: the catalog is empty; run `shopassist ingest FILE` (or `make run`) first\n"
    )


# ----------------------------------------------------------------------------- eval retrieval

EVAL_TITLES = [
    "Black Leather Strap Watch",
    "Steel Chronograph Watch",
    "Gold Plated Dress Watch",
    "Digital Sports Watch",
    "Red Running Shoe",
    "White Canvas Sneaker",
    "Brown Leather Boot",
    "Blue Suede Loafer",
    "Cotton Crew Neck T-Shirt",
    "Linen Summer Shirt",
    "Wool Winter Sweater",
    "Denim Trucker Jacket",
    "Canvas Tote Bag",
    "Leather Laptop Backpack",
    "Nylon Travel Duffel",
    "Silk Floral Scarf",
    "Aviator Sunglasses",
    "Bamboo Cutting Board",
    "Ceramic Coffee Mug",
    "Cast Iron Skillet",
]
EVAL_QUERIES = {
    "q1": "black leather strap watch",
    "q2": "running shoe",
    "q3": "leather backpack for laptop",
    "q4": "coffee mug",
    "q5": "winter sweater wool",
}
# relevance 1..3 (gain = relevance − 1); p-ids are 1-based positions in EVAL_TITLES
EVAL_LABELS = [
    ("q1", "p01", 3),
    ("q1", "p02", 2),
    ("q1", "p07", 1),
    ("q2", "p05", 3),
    ("q2", "p06", 2),
    ("q2", "p08", 1),
    ("q3", "p14", 3),
    ("q3", "p13", 2),
    ("q3", "p15", 2),
    ("q4", "p19", 3),
    ("q4", "p20", 1),
    ("q5", "p11", 3),
    ("q5", "p12", 1),
]


@pytest.fixture
def relevance_files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "relevance"
    d.mkdir()
    files = {name: d / f"{name}.tsv" for name in ("products", "queries", "labels", "exact", "exact_labels")}
    files["products"].write_text(
        "product_id\ttitle\n" + "".join(f"p{i:02d}\t{t}\n" for i, t in enumerate(EVAL_TITLES, 1)),
        encoding="utf-8",
    )
    files["queries"].write_text(
        "query_id\tquery\n" + "".join(f"{q}\t{t}\n" for q, t in EVAL_QUERIES.items()), encoding="utf-8"
    )
    files["labels"].write_text(
        "query_id\tproduct_id\trelevance\n" + "".join(f"{q}\t{p}\t{r}\n" for q, p, r in EVAL_LABELS),
        encoding="utf-8",
    )
    # one query that is exactly a product's title; a look-alike is judged not relevant (relevance 1)
    files["exact"].write_text("query_id\tquery\nx1\tGold Plated Dress Watch\n", encoding="utf-8")
    files["exact_labels"].write_text(
        "query_id\tproduct_id\trelevance\nx1\tp03\t3\nx1\tp02\t1\n", encoding="utf-8"
    )
    return files


def run_eval(files: dict[str, Path], *extra: str, queries: str = "queries", labels: str = "labels") -> Any:
    return invoke(
        "eval",
        "retrieval",
        "--products",
        str(files["products"]),
        "--queries",
        str(files[queries]),
        "--labels",
        str(files[labels]),
        *extra,
    )


def json_line(stdout: str) -> dict[str, Any]:
    """The one JSON line of the output (a progress bar may come before it)."""
    candidates = [line for line in lines(stdout) if line.startswith("{")]
    assert len(candidates) == 1, stdout
    assert lines(stdout)[-1] == candidates[0]
    out: dict[str, Any] = json.loads(candidates[0])
    return out


def test_eval_retrieval_prints_one_json_line_per_mode_and_pool(
    env_settings: Settings, relevance_files: dict[str, Path]
) -> None:
    for mode in ("bm25", "dense", "hybrid"):
        for pool in ("all", "judged"):
            result = run_eval(relevance_files, "--mode", mode, "--pool", pool)
            assert result.exit_code == 0, result.output
            row = json_line(result.stdout)
            assert set(row) == EVAL_KEYS
            assert (row["mode"], row["pool"], row["n_queries"]) == (mode, pool, 5)
            for key in ("ndcg@10", "mrr@10", "recall@100"):
                assert 0.0 <= row[key] <= 1.0, (mode, pool, key, row[key])
            assert 0.0 <= row["p50_ms"] <= row["p95_ms"]
            # 20 products: recall@100 covers every product, whatever the order
            assert row["recall@100"] == 1.0
            if mode == "bm25":
                # every query shares words with its best product only among relevant ones → ranked first
                assert row["mrr@10"] == 1.0


def test_eval_retrieval_exact_title_query_is_perfect_for_bm25(
    env_settings: Settings, relevance_files: dict[str, Path]
) -> None:
    for pool in ("all", "judged"):
        result = run_eval(
            relevance_files, "--mode", "bm25", "--pool", pool, queries="exact", labels="exact_labels"
        )
        assert result.exit_code == 0, result.output
        row = json_line(result.stdout)
        assert row["n_queries"] == 1
        assert (row["ndcg@10"], row["mrr@10"], row["recall@100"]) == (1.0, 1.0, 1.0)


def test_eval_retrieval_bad_options(env_settings: Settings, relevance_files: dict[str, Path]) -> None:
    result = run_eval(relevance_files, "--mode", "sparse")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown mode 'sparse'; choose bm25, dense, hybrid or rerank\n"
    result = run_eval(relevance_files, "--pool", "some")
    assert (result.exit_code, result.stderr) == (1, "error: unknown pool 'some'; choose all or judged\n")
    gone = relevance_files["labels"].with_name("gone.tsv")
    result = invoke(
        "eval",
        "retrieval",
        "--products",
        str(relevance_files["products"]),
        "--queries",
        str(relevance_files["queries"]),
        "--labels",
        str(gone),
    )
    assert (result.exit_code, result.stderr) == (1, f"error: {gone}: no such file\n")


# ----------------------------------------------------------------------------- privacy


def test_sessions_erase_and_purge(env_settings: Settings) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from assistant.commerce import create_session
    from assistant.models import SessionRow, utcnow

    rt = Runtime(env_settings)
    try:
        with rt.db.session() as s:
            sids = [create_session(s).id for _ in range(3)]
            s.execute(
                update(SessionRow)
                .where(SessionRow.id.in_(sids[1:]))
                .values(updated_at=utcnow() - timedelta(days=100))
            )
    finally:
        rt.close()
    erased = invoke("sessions", "erase", sids[0])
    assert erased.exit_code == 0, erased.output
    assert json.loads(lines(erased.stdout)[-1])["sessions"] == 1
    # Ids issued before session ids always began with a letter or digit can start with '-':
    # the help says to put `--` first, and that works.
    rt = Runtime(env_settings)
    try:
        with rt.db.session() as s:
            old = create_session(s)
            s.execute(update(SessionRow).where(SessionRow.id == old.id).values(id="-Y" + old.id[2:]))
    finally:
        rt.close()
    assert "put -- before" in " ".join(invoke("sessions", "erase", "--help").stdout.split())
    dashed = invoke("sessions", "erase", "--", "-Y" + old.id[2:])
    assert dashed.exit_code == 0, dashed.output
    assert json.loads(lines(dashed.stdout)[-1])["sessions"] == 1
    again = invoke("sessions", "erase", sids[0])
    assert again.exit_code == 1
    assert again.stderr.strip() == f"error: no session {sids[0]!r}"
    no_days = invoke("sessions", "purge")
    assert no_days.exit_code == 1 and "SHOPASSIST_RETENTION_DAYS" in no_days.stderr
    purged = invoke("sessions", "purge", "--days", "30")
    assert purged.exit_code == 0, purged.output
    assert json.loads(lines(purged.stdout)[-1]) == {
        "days": 30.0,
        "sessions": 2,
        "turns": 0,
        "orders_scrubbed": 0,
        "images": 0,
    }
