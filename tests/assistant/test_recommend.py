"""The shop's recommender: log → sequences, similarity fallback, ``train recommender --from-log``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from api.cli import app
from assistant import commerce
from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.recommend import HistoryItem, Recommender, log_sequences, session_history
from assistant.runtime import Runtime

runner = CliRunner()


def _shop(settings: Settings, catalog: Path) -> Runtime:
    rt = Runtime(settings)
    ingest_catalog(path=catalog, db=rt.db, index=rt.index)
    return rt


def _sessions(rt: Runtime, journeys: list[list[tuple[str, str]]]) -> list[str]:
    ids = []
    with rt.db.session() as s:
        for events in journeys:
            sid = commerce.create_session(s, channel="web").id
            for kind, pid in events:
                commerce.add_event(s, session_id=sid, type=kind, product_id=pid)
            ids.append(sid)
    return ids


def test_history_collapses_repeats_and_keeps_choices(settings: Settings, small_catalog: Path) -> None:
    rt = _shop(settings, small_catalog)
    a, b, c = [p.id for p in rt.index.products()[:3]]
    (sid,) = _sessions(
        rt, [[("view", a), ("click", a), ("cart_add", a), ("view", b), ("cart_remove", b), ("view", c)]]
    )
    with rt.db.session() as s:
        assert session_history(s, sid) == [HistoryItem(a, True), HistoryItem(b, False), HistoryItem(c, False)]
    assert log_sequences(rt.db) == [[a, b, c]]
    rt.close()


def test_without_a_model_recommendations_are_similar_in_stock_products_with_reasons(
    settings: Settings, small_catalog: Path
) -> None:
    rt = _shop(settings, small_catalog)
    products = rt.index.products()
    anchor = products[0]
    rec = Recommender(rt.index, settings.models_dir / "recommender" / "live")
    assert rec.model() is None
    picks = rec.recommend([HistoryItem(anchor.id, False)], k=5, exclude={products[1].id})
    assert len(picks) == 5
    assert all(p.source == "similar" and p.why == f"similar to {anchor.title}" for p in picks)
    ids = [p.product.id for p in picks]
    assert anchor.id not in ids and products[1].id not in ids
    assert all(p.product.in_stock for p in picks)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    # unknown history: nothing to go on, no error
    assert rec.recommend([HistoryItem("no-such-product", True)], k=5) == []
    rt.close()


def test_train_from_log_cli_refuses_a_small_log_then_trains_the_model_the_service_loads(
    env_settings: Settings, small_catalog: Path
) -> None:
    rt = _shop(env_settings, small_catalog)
    ids = [p.id for p in rt.index.products()]
    rt.close()

    result = runner.invoke(app, ["train", "recommender", "--from-log", "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the interaction log has 0 sessions")
    assert len(result.stderr.strip().splitlines()) == 1

    rt = Runtime(env_settings)
    journeys = [
        [("view", ids[i % 40]), ("cart_add", ids[40 + i % 40]), ("view", ids[80 + i % 7])] for i in range(60)
    ]
    _sessions(rt, journeys)
    rt.close()
    result = runner.invoke(app, ["train", "recommender", "--from-log", "--quiet", "--epochs", "5"])
    assert result.exit_code == 0, result.stderr
    line: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["source"] == "interaction log" and line["n_items"] >= 80

    rt = Runtime(env_settings)
    assert rt.recommender.model() is not None
    picks = rt.recommender.recommend([HistoryItem(ids[0], False)], k=3)
    assert picks and picks[0].source == "sequential" and picks[0].why.startswith("often ")
    rt.close()

    result = runner.invoke(app, ["train", "recommender"])
    assert (result.exit_code, result.stderr) == (1, "error: give either --data FILE or --from-log\n")
