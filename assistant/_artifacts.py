"""A trained model on disk that the service loads once and reloads when it is retrained."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["ReloadingArtifact", "replace_dir"]

log = logging.getLogger("shopassist")
T = TypeVar("T")


class ReloadingArtifact(Generic[T]):
    """``get()`` → the model in ``directory`` (``None`` while there is none or it does not load).

    A new ``marker`` file (``meta.json``: ``shopassist train …`` finished) is noticed within
    ``check_every_s`` and loaded; a broken artifact is logged and served as absent,
    never raised into a shopper's request.
    """

    def __init__(
        self,
        directory: Path | None,
        loader: Callable[[Path], T],
        *,
        check_every_s: float = 2.0,
        marker: str = "meta.json",
    ):
        self.directory = directory
        self.marker = marker
        self._loader = loader
        self._check_every_s = check_every_s
        self._value: T | None = None
        self._stamp: float | None = None
        self._checked = -float("inf")
        self._lock = threading.Lock()

    def get(self) -> T | None:
        if self.directory is None:
            return None
        if time.monotonic() - self._checked < self._check_every_s:
            return self._value
        with self._lock:
            self._checked = time.monotonic()
            try:
                stamp: float | None = (self.directory / self.marker).stat().st_mtime
            except OSError:
                stamp = None
            if stamp != self._stamp:
                self._stamp = stamp
                self._value = None
                if stamp is not None:
                    try:
                        self._value = self._loader(self.directory)
                    except (ValueError, OSError) as exc:
                        log.warning("model at %s not loaded: %s", self.directory, exc)
        return self._value


def replace_dir(out: Path, write: Callable[[Path], object]) -> None:
    """Fill a fresh folder beside ``out`` with ``write(folder)``, then swap it in place of ``out``:
    a reader (a running server, another replica) never sees half of it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.with_name(f".{out.name}-old-{uuid.uuid4().hex[:8]}")
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
