"""Helpers shared by the CLI groups: settings, runtime, one-line errors, progress bars."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from assistant.config import Settings, get_settings

__all__ = ["fail", "settings", "runtime", "progress_bar", "quiet_libraries", "save_atomically"]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one readable line on stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def settings() -> Settings:
    return get_settings()


def quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bm25s", "chromadb", "httpx", "transformers", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with contextlib.suppress(ImportError):
        import transformers

        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def runtime() -> Iterator[Any]:
    """A :class:`assistant.runtime.Runtime` for one command; heavy imports happen here, not at import."""
    quiet_libraries()
    from assistant.runtime import Runtime

    rt = Runtime(settings())
    try:
        yield rt
    finally:
        rt.close()


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar driven by ``update(done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def file_digest(path: Path, length: int = 16) -> str:
    """Leading hex digits of the file's SHA-256 (names the models and indexes built from it)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def save_atomically(model: Any, out: Path) -> None:
    """``model.save`` into a sibling folder, then swap it in: a running server never loads half a model."""
    from assistant._artifacts import replace_dir

    replace_dir(out, model.save)
