"""``shopassist nlu …``, ``shopassist train nlu`` and ``shopassist eval nlu`` (NLU issue).

Thin commands over :mod:`assistant.nlu`; torch and transformers load inside the commands only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli._common import fail, quiet_libraries, settings

__all__ = ["app", "train_nlu", "eval_nlu", "parse"]

app = typer.Typer(no_args_is_help=True)

#: the Bitext customer-service sample, mixed into training when it is at hand (never shipped)
BITEXT_DEFAULT = Path("../shared/data/dialogue/bitext_customer_service.csv")
#: inference threads for the CLI's measurements: one utterance at a time gains nothing from more
INFERENCE_THREADS = 1


def _model_dir(model: Path | None) -> Path:
    return model if model is not None else settings().models_dir / "nlu"


def _load(model: Path | None, *, quantize: bool = True) -> Any:
    quiet_libraries()
    from assistant.nlu import NLUModel, NLUModelError

    path = _model_dir(model)
    try:
        return NLUModel.load(path, quantize=quantize, threads=INFERENCE_THREADS)
    except NLUModelError as exc:
        raise fail(str(exc)) from None


def train_nlu(
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="catalog file (JSONL/CSV) whose words the training data uses; default: the demo catalog"
        ),
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option("--extra", help="staff-corrected examples, eval format JSONL (repeatable; oversampled)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="artifact directory (default: <data dir>/models/nlu)")
    ] = None,
    epochs: Annotated[
        float | None, typer.Option(min=0.05, help="passes over the training set (default 1.5)")
    ] = None,
    layers: Annotated[int | None, typer.Option(min=1, max=6, help="encoder layers kept (default 6)")] = None,
    max_examples: Annotated[int | None, typer.Option(min=1, help="cap the training set (quick runs)")] = None,
    seed: Annotated[int, typer.Option(help="data and training seed")] = 0,
    bitext: Annotated[
        Path | None, typer.Option(help=f"Bitext CSV to mix in (default: {BITEXT_DEFAULT} when it exists)")
    ] = None,
    no_bitext: Annotated[bool, typer.Option("--no-bitext", help="train on generated data only")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Fine-tune the intent + slot model and write a versioned artifact."""
    quiet_libraries()
    from assistant.nlu import CatalogVocabulary, EvalFormatError, vocabulary_from_catalog_file
    from assistant.nlu import train_nlu as _train

    cfg = settings()
    catalog_path = catalog if catalog is not None else cfg.demo_catalog
    vocabulary = CatalogVocabulary()
    if catalog is not None and not catalog.is_file():
        raise fail(f"{catalog}: no such file")
    if catalog_path.is_file():
        try:
            vocabulary = vocabulary_from_catalog_file(catalog_path)
        except (OSError, ValueError) as exc:
            raise fail(f"{catalog_path}: {exc}") from None
    extras = list(extra or [])
    for path in extras:
        if not path.is_file():
            raise fail(f"{path}: no such file")
    bitext_path: Path | None = None
    if not no_bitext:
        if bitext is not None and not bitext.is_file():
            raise fail(f"{bitext}: no such file")
        bitext_path = bitext or (BITEXT_DEFAULT if BITEXT_DEFAULT.is_file() else None)
    kwargs: dict[str, Any] = {}
    if epochs is not None:
        kwargs["epochs"] = epochs
    if layers is not None:
        kwargs["layers"] = layers
    out_dir = out or cfg.models_dir / "nlu"
    try:
        path = _train(
            vocabulary=vocabulary,
            out_dir=out_dir,
            extra=extras,
            seed=seed,
            progress=not quiet,
            max_examples=max_examples,
            bitext_path=bitext_path,
            log=(lambda _m: None) if quiet else (lambda m: typer.echo(m, err=True)),
            **kwargs,
        )
    except EvalFormatError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out_dir}: {exc}") from None
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    training = config.get("training", {})
    typer.echo(
        f"NLU model {config.get('version')} -> {path} "
        f"({training.get('examples')} examples, {training.get('layers')} layers, "
        f"{training.get('total_seconds')} s)"
    )


def eval_nlu(
    file: Annotated[Path, typer.Argument(help='JSONL lines {"text", "intent", "slots"}')],
    model: Annotated[
        Path | None, typer.Option(help="artifact directory (default: <data dir>/models/nlu)")
    ] = None,
    no_quantize: Annotated[
        bool, typer.Option("--no-quantize", help="run the float model (default: dynamic int8 Linear layers)")
    ] = False,
) -> None:
    """Intent accuracy, slot F1 and per-utterance latency; prints one JSON line."""
    from assistant.nlu import EvalFormatError, evaluate_nlu, read_eval_file

    if not file.is_file():
        raise fail(f"{file}: no such file")
    try:
        read_eval_file(file)  # a bad line fails before the model loads
    except EvalFormatError as exc:
        raise fail(str(exc)) from None
    nlu = _load(model, quantize=not no_quantize)
    try:
        metrics = evaluate_nlu(nlu, file)
    except EvalFormatError as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps(metrics))


@app.command("parse")
def parse(
    text: Annotated[str, typer.Argument(help="the shopper's message")],
    model: Annotated[
        Path | None, typer.Option(help="artifact directory (default: <data dir>/models/nlu)")
    ] = None,
) -> None:
    """Parse one message; prints intent, confidence, unclear, slots (and the word tags) as JSON."""
    nlu = _load(model)
    result = nlu.parse(text)
    typer.echo(
        json.dumps(
            {
                "intent": result.intent,
                "confidence": result.confidence,
                "unclear": result.unclear,
                "slots": result.slots,
                "tokens": result.tokens,
                "tags": result.tags,
                "latency_ms": round(result.latency_ms, 2),
            }
        )
    )
