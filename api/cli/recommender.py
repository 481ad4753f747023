"""``shopassist train recommender`` and ``shopassist eval recommender`` (sequential recommender issue).

Thin commands over :mod:`rankers.sequential`; torch loads inside the commands only.  A file in the
Beauty.txt format (``user item item …``) is split leave-one-out: the last item of each line is the
test target and never reaches training, the second last drives early stopping.  Models go under
``<data dir>/models/recommender/<file stem>-<digest>-<model>`` (git-ignored).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli._common import fail, file_digest, progress_bar, quiet_libraries, settings

if TYPE_CHECKING:
    from rankers.sequential import SequentialConfig, SequentialRecommender

__all__ = ["eval_recommender", "train_recommender"]

MODEL_CHOICES = ("sasrec", "gru4rec")

ModelOption = Annotated[str, typer.Option("--model", help="sasrec | gru4rec")]
DataOption = Annotated[Path, typer.Option("--data", help="sequences, one line per user: user_id item item …")]
OutOption = Annotated[
    Path | None,
    typer.Option(help="artifact directory (default: <data dir>/models/recommender/<file>-<digest>-<model>)"),
]
KeepHistoryOption = Annotated[
    bool,
    typer.Option(
        "--keep-history",
        help="rank the user's history items too (default: excluded, as the S3-Rec/ICLRec/DuoRec code does)",
    ),
]


def _check_model(model: str) -> None:
    if model not in MODEL_CHOICES:
        raise fail(f"unknown model {model!r}; choose sasrec or gru4rec")


def _read(data: Path) -> list[list[str]]:
    from rankers.sequential import read_sequences

    if not data.is_file():
        raise fail(f"{data}: no such file")
    try:
        return read_sequences(data)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None


def _default_dir(data: Path, model: str) -> Path:
    return settings().models_dir / "recommender" / f"{data.stem}-{file_digest(data, 12)}-{model}"


def _train_and_save(
    sequences: Sequence[Sequence[str]],
    config: SequentialConfig,
    out_dir: Path,
    *,
    items: Sequence[str] = (),
    quiet: bool = False,
) -> SequentialRecommender:
    """Train on ``sequences`` (their last items are the validation targets), save, return the model."""
    from rankers.sequential import train_sequential

    log = (lambda _m: None) if quiet else (lambda m: typer.echo(m, err=True))
    try:
        if quiet:
            model = train_sequential(sequences, config, items=items, log=log)
        else:
            with progress_bar(f"train {config.model}") as update:
                model = train_sequential(sequences, config, items=items, progress=update, log=log)
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        model.save(out_dir)
    except OSError as exc:
        raise fail(f"cannot write {out_dir}: {exc}") from None
    return model


def _report(
    model: SequentialRecommender, sequences: Sequence[Sequence[str]], *, keep_history: bool
) -> dict[str, Any]:
    from rankers.sequential import evaluate_full_ranking

    metrics = evaluate_full_ranking(model, sequences, "test", exclude_history=not keep_history)
    return {
        "model": model.config.model,
        "n_users": metrics["n_users"],
        **{k: round(float(metrics[k]), 5) for k in ("recall@10", "recall@20", "ndcg@10", "ndcg@20")},
        "train_s": model.metrics.get("train_s"),
        "history_excluded": not keep_history,
    }


def _train_from_log(
    *, model: str, epochs: int | None, seed: int, min_sessions: int, out: Path | None, quiet: bool
) -> None:
    import time

    from api.cli._common import runtime
    from assistant.recommend import train_from_log
    from rankers.sequential import SequentialConfig

    overrides: dict[str, Any] = {"seed": seed}
    if epochs is not None:
        overrides["epochs"] = epochs
    config = SequentialConfig.for_model(model, **overrides)
    with runtime() as rt:
        out_dir = out or rt.recommender_path
        t0 = time.perf_counter()
        try:
            if quiet:
                trained = train_from_log(rt.db, rt.index, out_dir, min_sessions=min_sessions, config=config)
            else:
                with progress_bar(f"train {model} on the interaction log") as update:
                    trained = train_from_log(
                        rt.db, rt.index, out_dir, min_sessions=min_sessions, config=config, progress=update
                    )
        except ValueError as exc:
            raise fail(str(exc)) from None
        typer.echo(
            json.dumps(
                {
                    "model": model,
                    "source": "interaction log",
                    "n_items": trained.n_items,
                    "train_s": round(time.perf_counter() - t0, 1),
                    "out": str(out_dir),
                }
            )
        )


def train_recommender(
    data: Annotated[
        Path | None, typer.Option("--data", help="sequences, one line per user: user_id item item …")
    ] = None,
    from_log: Annotated[
        bool,
        typer.Option(
            "--from-log",
            help="train on this shop's interaction log (views, cart adds, orders); the service uses it",
        ),
    ] = False,
    min_sessions: Annotated[
        int, typer.Option(min=1, help="--from-log: sessions with 2+ products the log must have")
    ] = 50,
    model: ModelOption = "sasrec",
    epochs: Annotated[int | None, typer.Option(min=1, help="most epochs (early stopping on)")] = None,
    out: OutOption = None,
    seed: Annotated[int, typer.Option(help="training seed")] = 0,
    keep_history: KeepHistoryOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar or epoch log")] = False,
) -> None:
    """Train a sequential recommender, save it and print the test-split full-ranking metrics as JSON.

    ``--from-log`` trains the live shop's model from its own interaction log instead (saved where the
    service loads it; until then recommendations come from item-to-item similarity).
    """
    _check_model(model)
    if from_log == (data is not None):
        raise fail("give either --data FILE or --from-log")
    quiet_libraries()
    from rankers.sequential import SequentialConfig

    if from_log:
        _train_from_log(
            model=model, epochs=epochs, seed=seed, min_sessions=min_sessions, out=out, quiet=quiet
        )
        return
    assert data is not None
    sequences = _read(data)
    overrides: dict[str, Any] = {"seed": seed}
    if epochs is not None:
        overrides["epochs"] = epochs
    config = SequentialConfig.for_model(model, **overrides)
    items = list(dict.fromkeys(i for s in sequences for i in s))  # rank every item, test-only ones too
    held_out = [s[:-1] for s in sequences]  # the test item never reaches training
    out_dir = out or _default_dir(data, model)
    trained = _train_and_save(held_out, config, out_dir, items=items, quiet=quiet)
    typer.echo(json.dumps(_report(trained, sequences, keep_history=keep_history)))


def eval_recommender(
    data: DataOption,
    model: ModelOption = "sasrec",
    out: OutOption = None,
    keep_history: KeepHistoryOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar if training is needed")] = False,
) -> None:
    """Test-split full-ranking metrics of the model trained on ``--data`` (trained first if missing)."""
    _check_model(model)
    quiet_libraries()
    from rankers.sequential import SequentialConfig, SequentialRecommender

    sequences = _read(data)
    out_dir = out or _default_dir(data, model)
    if (out_dir / "meta.json").is_file():
        try:
            trained = SequentialRecommender.load(out_dir)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if trained.config.model != model:
            raise fail(f"{out_dir} holds a {trained.config.model} model, not {model}")
    else:
        items = list(dict.fromkeys(i for s in sequences for i in s))
        config = SequentialConfig.for_model(model)
        trained = _train_and_save([s[:-1] for s in sequences], config, out_dir, items=items, quiet=quiet)
    typer.echo(json.dumps(_report(trained, sequences, keep_history=keep_history)))
