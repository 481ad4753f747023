"""Text ingest throughput vs the raw MiniLM encode rate, measured in the same run.

Usage: python benchmarks/ingest_throughput.py [--catalog data/demo/catalog.jsonl] [--n 2010]
Raw rate = encoder.encode(the same search texts) alone, measured before and after the ingest
(their mean is the reference).  Ingest = read + validate + SQLite upsert + price history +
Chroma upsert + BM25 build + snapshot, on a fresh data dir.  Prints one JSON line.
Ingest encodes each distinct text once (products sharing a text share its vector), so the line
also gives the ratio per encoded text: the pipeline's overhead alone, without that saving.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.catalog import ingest_catalog  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.runtime import Runtime  # noqa: E402
from retrieval import Product, make_encoder  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", type=Path, default=Path("data/demo/catalog.jsonl"))
    ap.add_argument("--n", type=int, default=0, help="use only the first N products (0 = all)")
    ap.add_argument(
        "--fashion",
        type=Path,
        default=None,
        help="styles_all.csv: use the full Myntra label file as the catalog",
    )
    args = ap.parse_args()
    if args.fashion is not None:
        from benchmarks._fashion import load_fashion_catalog

        lines = [p.model_dump_json() for p in load_fashion_catalog(args.fashion)]
    else:
        lines = [ln for ln in args.catalog.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if args.n:
        lines = lines[: args.n]
    texts = [Product.model_validate_json(ln).embedding_text() for ln in lines]
    encoder = make_encoder("minilm")
    encoder.encode(texts[:64])  # warm up

    def raw_rate() -> float:
        t0 = time.perf_counter()
        encoder.encode(texts, batch_size=64)
        return len(texts) / (time.perf_counter() - t0)

    before = raw_rate()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog.jsonl"
        catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rt = Runtime(Settings(data_dir=Path(tmp) / "var"), encoder=encoder)
        report = ingest_catalog(path=catalog, db=rt.db, index=rt.index)
        rt.close()
    after = raw_rate()
    raw = (before + after) / 2
    print(
        json.dumps(
            {
                "products": len(texts),
                "raw_encode_per_s": round(raw, 1),
                "raw_encode_before_after": [round(before, 1), round(after, 1)],
                "ingest_per_s": round(report.products_per_s, 1),
                "ingest_wall_s": round(report.wall_s, 2),
                "encoder_busy_s": round(report.encode_s, 2),
                "ratio": round(report.products_per_s / raw, 3),
                # ingest encodes each distinct text once; this ratio leaves that saving out and
                # compares only the rest of the pipeline's cost with raw encoding of the same texts
                "distinct_texts_encoded": report.n_encoded,
                "ratio_per_encoded_text": round(report.n_encoded / report.wall_s / raw, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
