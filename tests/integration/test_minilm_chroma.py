"""The real thing: all-MiniLM-L6-v2 from its PyPI package (offline) + a real Chroma PersistentClient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.runtime import Runtime
from retrieval import (
    HybridIndex,
    MiniLMEncoder,
    SearchFilters,
    ShopAssistEmbeddingFunction,
    open_chroma_client,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "data" / "demo"


@pytest.fixture(scope="session")
def minilm() -> MiniLMEncoder:
    """The real encoder, loaded once for the session (a few seconds)."""
    return MiniLMEncoder()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, demo_rows: list[dict[str, Any]], minilm: MiniLMEncoder
) -> Iterator[dict[str, Any]]:
    """~150 demo products (5 per type, 10 watches) ingested into a temp data dir."""
    root = tmp_path_factory.mktemp("minilm")
    per_type: dict[str, int] = {}
    rows = []
    for row in demo_rows:
        t = str(row["product_type"])
        if per_type.get(t, 0) < (10 if t == "watch" else 5):
            per_type[t] = per_type.get(t, 0) + 1
            rows.append({**row, "image_path": str(DEMO_DIR / str(row["image_path"]))})
    path = root / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SHOPASSIST_")]:
            mp.delenv(key)
        settings = Settings(data_dir=root / "var", encoder="minilm")
    rt = Runtime(settings, encoder=minilm)
    try:
        report = ingest_catalog(path=path, db=rt.db, index=rt.index)
        yield {"rt": rt, "rows": rows, "report": report, "settings": settings}
    finally:
        rt.close()


def is_black(hit: Any) -> bool:
    p = hit.product
    return "black" in p.title.lower() or p.attributes.get("color") == "black"


def test_ingest_with_the_real_encoder(world: dict[str, Any]) -> None:
    report, rt = world["report"], world["rt"]
    assert report.n_new == report.n_reembedded == len(world["rows"]) >= 150
    assert report.n_errors == 0
    assert rt.index.n_active == len(world["rows"])
    v = rt.index.vector(world["rows"][0]["id"])
    assert v.shape == (384,) and v.dtype == np.float32
    assert float(np.linalg.norm(v)) == pytest.approx(1.0, abs=1e-4)


def test_black_watch_returns_black_watches_first(world: dict[str, Any]) -> None:
    index: HybridIndex = world["rt"].index
    res = index.search("black watch", limit=10)
    assert res.total >= 5
    assert all(h.product.product_type == "watch" for h in res.hits[:5])
    black = [is_black(h) for h in res.hits if h.product.product_type == "watch"]
    n_black_watches = sum(
        1
        for r in world["rows"]
        if r["product_type"] == "watch"
        and ("black" in r["title"].lower() or r["attributes"].get("color") == "black")
    )
    assert n_black_watches >= 2
    # every black watch, then the other watches: no non-black watch above a black one
    assert black == sorted(black, reverse=True)
    assert sum(black) == n_black_watches
    # a filter narrows without emptying the page
    cheap = index.search("black watch", SearchFilters(product_type="watch", price_max=100), limit=10)
    assert cheap.hits
    assert all(h.product.price <= 100 and h.product.product_type == "watch" for h in cheap.hits)


def test_paraphrase_finds_watches_through_the_dense_side(world: dict[str, Any]) -> None:
    index: HybridIndex = world["rt"].index
    res = index.search("wristwatch", limit=5)
    assert len(res.hits) >= 3
    assert all(h.product.product_type == "watch" for h in res.hits)
    # no product contains the word: the matches are the encoder's
    assert all(h.matched_terms == 0 and h.dense >= index.dense_floor for h in res.hits)
    assert index.search("wristwatch", mode="bm25").total == 0
    top = index.rank("wristwatch", k=5, mode="dense")
    assert all(index.get(pid).product_type == "watch" for pid, _ in top)


def test_reopening_gives_the_same_results(
    world: dict[str, Any], minilm: MiniLMEncoder, tmp_path: Path
) -> None:
    settings: Settings = world["settings"]
    index: HybridIndex = world["rt"].index
    queries = ["black watch", "wristwatch", "running shoes for women", "leather wallet"]

    def results(ix: HybridIndex) -> list[list[str]]:
        return [[h.product.id for h in ix.search(q, limit=10).hits] for q in queries]

    expected = results(index)
    client = open_chroma_client(path=settings.resolved_chroma_path)
    # from the local snapshot, then (another folder) rebuilt from Chroma
    for index_dir in (settings.index_dir, tmp_path / "fresh-index"):
        reopened = HybridIndex(
            encoder=minilm, client=client, collection=settings.chroma_collection, index_dir=index_dir
        )
        assert reopened.version == index.version
        assert results(reopened) == expected

    col = client.get_collection(settings.chroma_collection)  # no embedding function named
    ef = col.configuration["embedding_function"]
    assert isinstance(ef, ShopAssistEmbeddingFunction)
    assert ef.get_config() == {"encoder": "minilm", "dim": 384}
    assert col.metadata["encoder"] == "all-MiniLM-L6-v2"
    assert col.metadata["catalog_version"] == index.version


def test_a_new_process_reopens_the_collection_with_our_embedding_function(world: dict[str, Any]) -> None:
    """Chroma rebuilds ``ShopAssistEmbeddingFunction`` from its stored config: query by text works offline."""
    settings: Settings = world["settings"]
    index: HybridIndex = world["rt"].index
    script = textwrap.dedent(
        f"""
        import json
        from pathlib import Path
        from retrieval import ShopAssistEmbeddingFunction, open_chroma_client
        col = open_chroma_client(path=Path({str(settings.resolved_chroma_path)!r})).get_collection(
            {settings.chroma_collection!r})
        ef = col.configuration["embedding_function"]
        res = col.query(query_texts=["wristwatch"], n_results=3, include=[])
        print(json.dumps({{"ef": type(ef).__name__, "config": ef.get_config(), "ids": res["ids"][0]}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ef"] == "ShopAssistEmbeddingFunction"
    assert out["config"] == {"encoder": "minilm", "dim": 384}
    # the same neighbours as our own query vector gives
    col = open_chroma_client(path=settings.resolved_chroma_path).get_collection(settings.chroma_collection)
    mine = col.query(query_embeddings=[index.encoder.encode_query("wristwatch")], n_results=3, include=[])
    assert out["ids"] == mine["ids"][0]
    assert all(index.get(pid).product_type == "watch" for pid in out["ids"])


def test_embedding_function_config_round_trips(minilm: MiniLMEncoder) -> None:
    ef = ShopAssistEmbeddingFunction(encoder="minilm", dim=384, _instance=minilm)
    config = ef.get_config()
    again = ShopAssistEmbeddingFunction.build_from_config(config)
    assert again.get_config() == config == {"encoder": "minilm", "dim": 384}
    assert ShopAssistEmbeddingFunction.name() == "shopassist"
    assert again.default_space() == "cosine"
    vectors = ef(["black watch", "red dress"])
    assert len(vectors) == 2
    np.testing.assert_allclose(vectors[0], minilm.encode_query("black watch"), atol=1e-5)
