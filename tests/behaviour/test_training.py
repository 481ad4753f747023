"""The simulator's logs (seeded, on a virtual timeline, through the real API), a small model trained
on them.  The GRU against the logistic-regression baseline on held-out simulated sessions is
measured by ``python benchmarks/abandonment.py`` (``make bench``): it needs ~3,000 simulated
sessions, minutes of simulation that do not fit the test budget."""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.behaviour import (
    FEATURES,
    SIMULATED_CHANNEL,
    AbandonmentModel,
    build_sequences,
    evaluate,
    finished_session_ids,
    turn_features,
)
from assistant.behaviour.train import TooFewSessions, TrainConfig, early_stop, train_abandonment
from assistant.journeys import JOURNEYS
from assistant.models import SessionRow, TurnRow
from tests.behaviour.conftest import SMALL_SESSIONS

COL = {name: i for i, name in enumerate(FEATURES)}


def test_a_simulated_shopper_is_repeatable(sim_runtime: Any) -> None:
    from api.cli.behaviour import in_process_connect
    from assistant.simulator import catalog_words, simulate_session

    types, colours, missing = catalog_words(sim_runtime.db)
    assert "snowboards" not in missing and "yoga mats" in missing
    connect = in_process_connect(sim_runtime)

    def run(seed: str) -> tuple[Any, list[str]]:
        sim = simulate_session(
            connect("10.9.9.9"), random.Random(seed), types=types, colours=colours, missing=missing
        )
        with sim_runtime.db.session() as s:
            q = select(TurnRow.message).where(TurnRow.session_id == sim.session_id).order_by(TurnRow.idx)
            return sim, list(s.scalars(q))

    for seed in ("a", "b", "c"):
        first, messages = run(seed)
        again, messages_again = run(seed)
        assert first.session_id != again.session_id
        assert (first.persona, first.gaps, first.ending, messages) == (
            again.persona,
            again.gaps,
            again.ending,
            messages_again,
        )


def test_simulated_sessions_sit_on_their_timeline(sim_runtime: Any, small_simulated: dict[str, Any]) -> None:
    report = small_simulated["report"]
    assert len(report.sessions) == SMALL_SESSIONS and report.errors == 0
    assert {s.persona for s in report.sessions} == {j.name for j in JOURNEYS}
    assert 0.15 < report.conversion < 0.6
    endings = Counter(s.ending for s in report.sessions)
    assert endings["ordered"] == sum(s.ordered for s in report.sessions)
    assert endings["left"] and endings["left at checkout"]
    logs = {log.session_id: log for log in small_simulated["logs"]}
    now = datetime.now(UTC)
    with sim_runtime.db.session() as s:
        finished = set(finished_session_ids(s, source="simulated"))
        for sim in report.sessions[:60]:
            log = logs[sim.session_id]
            assert log.channel == SIMULATED_CHANNEL and sim.session_id in finished
            assert log.ordered == sim.ordered
            gaps = [b.at - a.at for a, b in zip(log.turns, log.turns[1:], strict=False)]
            assert gaps == pytest.approx(list(sim.gaps[1:]), abs=1e-3)  # the drawn think times
            row = s.get(SessionRow, sim.session_id)
            assert row is not None
            start = row.created_at.replace(tzinfo=UTC)
            assert log.turns[0].at - start.timestamp() == pytest.approx(sim.gaps[0], abs=1e-3)
            assert log.turns[-1].at < (now - timedelta(hours=2)).timestamp()
            # every cart change is owned by the turn that made it
            x = turn_features(log.turns, log.events)
            for i, turn in enumerate(log.turns):
                if turn.action == "cart_updated":
                    assert x[i, COL["cart_adds"]] + x[i, COL["cart_removes"]] >= 1
            assert all(x[i, COL["log_dwell"]] > 0 for i in range(1, len(x)))


def test_too_few_sessions_are_refused(small_simulated: dict[str, Any]) -> None:
    with pytest.raises(TooFewSessions, match="at least 20"):
        train_abandonment(small_simulated["logs"][:10])
    ordered = [s for s in small_simulated["logs"] if s.ordered][:30]
    with pytest.raises(TooFewSessions, match="same outcome"):
        train_abandonment(ordered)


def test_early_stopping_is_a_pure_rule() -> None:
    assert early_stop([0.6, 0.5, 0.55, 0.56], patience=2) == (1, True)
    assert early_stop([0.6, 0.5, 0.55], patience=2) == (1, False)
    assert early_stop([0.6], patience=1) == (0, False)


def test_a_small_model_trains_quickly_and_learns(small_simulated: dict[str, Any], tmp_path: Path) -> None:
    from api.cli._common import save_atomically

    logs = small_simulated["logs"]
    t0 = time.perf_counter()
    model = train_abandonment(logs[:250], TrainConfig(hidden=8, epochs=12, patience=4, seed=3))
    assert time.perf_counter() - t0 < 60
    t = model.training
    assert t["sessions"] == t["train_sessions"] + t["val_sessions"] + t["test_sessions"] <= 250
    assert 0 <= t["best_epoch"] <= t["epochs"] <= 12
    assert t["val_loss"] < math.log(2)  # better than a coin
    assert 0.3 < t["abandon_rate"] < 0.9
    assert model.arrays["gru.weight_ih"].shape == (3 * 8, len(FEATURES))
    assert 0.0 < model.threshold < 1.0 and 0.0 < model.baseline_threshold < 1.0
    test = model.metrics["test"]
    assert test["auc"] > 0.7 and test["baseline_auc"] > 0.7 and 0 < test["f1"] <= 1
    save_atomically(model, tmp_path / "abandonment")
    loaded = AbandonmentModel.load(tmp_path / "abandonment")
    config = json.loads((tmp_path / "abandonment" / "config.json").read_text())
    assert config["version"] == model.version == loaded.version
    held = build_sequences(logs[250:])
    assert evaluate(loaded, held) == evaluate(model, held)
