"""``shopassist eval vision`` and ``shopassist train vision`` (vision issue #8).

Thin commands over :mod:`vision`; torch loads inside the commands only.  Backbone features are
cached under ``<data dir>/cache/vision`` (keyed by file path, size and mtime), so a second run
re-embeds nothing.  The trained head goes to ``<data dir>/models/vision/head`` (git-ignored), where
the service's :func:`vision.load_default_embedder` finds it.

Which head does ``cnn-finetuned`` use in ``eval vision``?  ``--head DIR`` if given.  Else, with a
``--gallery``: a head trained on the gallery's labels, as a shop trains it on its own catalog
(``shopassist train vision --catalog``); the query photos are never seen, so the figure is honest.
Without a gallery (leave-one-out): the default head in the data dir (``shopassist train vision``
trains it on the demo catalog), else one trained on the queries' labels, which the output marks as
optimistic.  Gallery photos that are also queries (same file or product id) are left out of that
training.  Heads trained here are saved under ``<data dir>/models/vision/eval-<file>-<digests>-<n>``
and reused by the next run.  Why not always the demo head: trained on 2,010 photos it reaches
article-type P@5 0.851 on unseen fashion-small photos, a gallery-sized head ~0.89.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli._common import fail, file_digest, progress_bar, quiet_libraries, settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from vision import FeatureCache, FinetunedEmbedder, LabelledImage, TrainConfig

__all__ = ["eval_vision", "train_vision"]

EMBEDDER_CHOICES = ("cnn-finetuned", "cnn-imagenet", "histogram")
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "data" / "demo" / "catalog.jsonl"


def _vision_dir() -> Path:
    return settings().data_dir / "models" / "vision"


def _cache() -> FeatureCache:
    from vision import FeatureCache

    return FeatureCache(settings().data_dir / "cache" / "vision")


def _read(path: Path, what: str) -> list[LabelledImage]:
    from vision import read_labelled_catalog

    try:
        return read_labelled_catalog(path)
    except ValueError as exc:
        raise fail(f"{what}: {exc}") from None


class _Bars:
    """One rich progress bar per stage (or none with ``--quiet``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._stack: list[Any] = []

    def __call__(self, stage: str) -> Callable[[int, int], None] | None:
        if self.quiet:
            return None
        self.close()
        ctx = progress_bar(stage)
        update = ctx.__enter__()
        self._stack.append(ctx)
        return update

    def close(self) -> None:
        while self._stack:
            self._stack.pop().__exit__(None, None, None)


@contextlib.contextmanager
def _bars(quiet: bool) -> Iterator[_Bars]:
    bars = _Bars(quiet)
    try:
        yield bars
    finally:
        bars.close()


def _train(
    items: list[LabelledImage], config: TrainConfig, out: Path, *, source: str, quiet: bool
) -> FinetunedEmbedder:
    from vision import ImageRejected, train_head

    cache = _cache()
    with _bars(quiet) as bars:
        try:
            embedder = train_head(
                items,
                config,
                cache=cache,
                source=source,
                progress=bars,
                log=None if quiet else (lambda m: typer.echo(m, err=True)),
            )
        except ImageRejected as exc:
            raise fail(f"{exc.code}: {exc.message}") from None
        except ValueError as exc:
            raise fail(str(exc)) from None
    try:
        embedder.head.save(out)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    return embedder


def train_vision(
    catalog: Annotated[
        Path,
        typer.Option(
            help="catalog.jsonl (product_type, attributes.color, image_path) or a fashion-small style "
            "catalog.csv (articleType, baseColour, image); image paths relative to the file"
        ),
    ] = DEMO_CATALOG,
    out: Annotated[
        Path | None, typer.Option(help="head directory (default: <data dir>/models/vision/head)")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="training epochs over the cached features")
    ] = None,
    seed: Annotated[int, typer.Option(help="training seed")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
) -> None:
    """Train the image embedder's projection head (cnn-finetuned) and save it where the service loads it.

    Prints one JSON line: where the head went, how many photos, and the embed / train seconds.
    """
    quiet_libraries()
    import time

    from vision import TrainConfig, default_head_dir

    items = _read(catalog, "catalog")
    config = TrainConfig(seed=seed) if epochs is None else TrainConfig(seed=seed, epochs=epochs)
    out_dir = out or default_head_dir(settings().data_dir)
    t0 = time.perf_counter()
    embedder = _train(items, config, out_dir, source=str(catalog), quiet=quiet)
    info = embedder.head.config.info
    indexed = None
    if out is None:  # the service's head changed: its product photo index is re-embedded with it
        from api.cli._common import runtime

        with runtime() as rt:
            if rt.index.n_active:
                indexed = rt.images.embed_catalog(rt.index.products()).n_embedded
    typer.echo(
        json.dumps(
            {
                "photos_reindexed": indexed,
                "out": str(out_dir),
                "catalog": str(catalog),
                "n_images": len(items),
                "n_types": len(info["types"]),
                "views": list(config.variants),
                "epochs": config.epochs,
                "embed_s": info["embed_s"],
                "train_s": info["train_s"],
                "total_s": round(time.perf_counter() - t0, 1),
                "head_digest": embedder.head_digest,
            }
        )
    )


def _finetuned(
    head: Path | None,
    queries: list[LabelledImage],
    all_queries: list[LabelledImage],
    gallery: list[LabelledImage] | None,
    files: tuple[Path, Path | None],
    *,
    quiet: bool,
) -> tuple[FinetunedEmbedder, str]:
    """The head for ``cnn-finetuned`` and a note on where it came from (see the module docstring)."""
    from vision import FinetunedEmbedder, TrainConfig, default_head_dir

    leave_one_out = gallery is None
    default = default_head_dir(settings().data_dir)
    chosen = head or (default if leave_one_out and (default / "config.json").is_file() else None)
    if chosen is not None:
        try:
            return FinetunedEmbedder.load(chosen), str(chosen)
        except ValueError as exc:
            raise fail(str(exc)) from None
    queries_file, gallery_file = files
    if gallery is None:
        train_items, note = list(all_queries), "trained on the queries' labels (optimistic)"
    else:
        # a query photo or product in the gallery never reaches training: its label stays unseen
        q_paths = {q.path.resolve() for q in queries}
        q_ids = {q.id for q in queries}
        train_items = [g for g in gallery if g.path.resolve() not in q_paths and g.id not in q_ids]
        note = f"trained on the {len(train_items)} gallery photos that are not queries"
    source = gallery_file or queries_file
    digest = file_digest(queries_file, 8) + (f"-{file_digest(gallery_file, 8)}" if gallery_file else "")
    out = _vision_dir() / f"eval-{source.stem}-{digest}-{len(train_items)}"
    if (out / "config.json").is_file():
        try:
            return FinetunedEmbedder.load(out), f"{out} ({note})"
        except ValueError:
            pass  # retrain below
    if not quiet:
        typer.echo(f"training an image head on {source} ({note})", err=True)
    return _train(train_items, TrainConfig(), out, source=str(source), quiet=quiet), f"{out} ({note})"


def eval_vision(
    queries: Annotated[
        Path,
        typer.Option(help="query photos, fashion-small catalog.csv layout (image relative to the CSV)"),
    ],
    gallery: Annotated[
        Path | None,
        typer.Option(help="gallery CSV, same layout (default: leave-one-out within the queries)"),
    ] = None,
    head: Annotated[
        Path | None,
        typer.Option(
            help="trained head for cnn-finetuned (default: one trained on the gallery's labels; "
            "leave-one-out: <data dir>/models/vision/head, else one trained on the queries)"
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="use only the first N queries")] = None,
    embedders: Annotated[
        str, typer.Option(help="comma-separated: cnn-finetuned, cnn-imagenet, histogram")
    ] = ",".join(EMBEDDER_CHOICES),
    latency_samples: Annotated[
        int, typer.Option(min=1, help="query photos timed one by one for p50/p95_ms")
    ] = 100,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
) -> None:
    """Image retrieval quality and speed per embedder; one JSON line per embedder.

    Keys: embedder, p@1, p@5 (article type), p@5_type_colour, map (article type, whole ranking),
    p50_ms / p95_ms (one photo from bytes, batch of 1), n_queries, n_gallery (and head, for
    cnn-finetuned).  A query's own photo or product id never counts as a match.
    """
    names = [n.strip() for n in embedders.split(",") if n.strip()]
    unknown = [n for n in names if n not in EMBEDDER_CHOICES]
    if unknown or not names:
        raise fail(
            f"unknown embedder {', '.join(unknown) or '(none)'}; choose from {', '.join(EMBEDDER_CHOICES)}"
        )
    quiet_libraries()
    from vision import CnnEmbedder, HistogramEmbedder, ImageEmbedder, ImageRejected, evaluate_embedders

    q_all = _read(queries, "queries")
    q_items = q_all[:limit] if limit is not None else q_all
    g_items = _read(gallery, "gallery") if gallery is not None else None
    chosen: list[ImageEmbedder] = []
    head_note: str | None = None
    for name in names:
        if name == "cnn-finetuned":
            emb, head_note = _finetuned(head, q_items, q_all, g_items, (queries, gallery), quiet=quiet)
            chosen.append(emb)
        elif name == "cnn-imagenet":
            chosen.append(CnnEmbedder())
        else:
            chosen.append(HistogramEmbedder())
    cache = _cache()
    with _bars(quiet) as bars:
        try:
            results = evaluate_embedders(
                chosen, q_items, g_items, cache=cache, latency_samples=latency_samples, progress=bars
            )
        except ImageRejected as exc:
            raise fail(f"{exc.code}: {exc.message}") from None
    for row in results:
        if row["embedder"] == "cnn-finetuned" and head_note is not None:
            row["head"] = head_note
        typer.echo(json.dumps(row))
