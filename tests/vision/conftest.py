"""Tiny synthetic photos for the vision tests (no shared data needed)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "bar")
COLOURS = {"red": (210, 30, 30), "green": (30, 160, 40), "blue": (30, 60, 200)}


def shape_image(
    shape: str, colour: str, rng: np.random.Generator, size: tuple[int, int] = (60, 80)
) -> Image.Image:
    """A product-like photo: one coloured shape on a near-white background, jittered in place and size."""
    w, h = size
    bg = tuple(int(v) for v in rng.integers(235, 256, size=3))
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    s = int(rng.integers(int(w * 0.45), int(w * 0.8)))
    x0 = int(rng.integers(2, max(3, w - s - 2)))
    y0 = int(rng.integers(2, max(3, h - s - 2)))
    base = np.array(COLOURS[colour])
    fill = tuple(int(v) for v in np.clip(base + rng.integers(-25, 26, size=3), 0, 255))
    if shape == "circle":
        draw.ellipse((x0, y0, x0 + s, y0 + s), fill=fill)
    elif shape == "square":
        draw.rectangle((x0, y0, x0 + s, y0 + s), fill=fill)
    elif shape == "triangle":
        draw.polygon([(x0, y0 + s), (x0 + s, y0 + s), (x0 + s // 2, y0)], fill=fill)
    else:
        draw.rectangle((x0, y0 + s // 2 - 4, x0 + s, y0 + s // 2 + 4), fill=fill)
    return img


def encode(img: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def write_shape_set(folder: Path, per_class: int, seed: int = 0) -> list[tuple[str, str, str, Path]]:
    """``per_class`` JPEGs per (shape, colour) under ``folder/images``: (id, shape, colour, path) rows."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    n = 0
    for shape in SHAPES:
        for colour in COLOURS:
            for _ in range(per_class):
                n += 1
                path = folder / "images" / f"{n}.jpg"
                shape_image(shape, colour, rng).save(path, "JPEG", quality=92)
                rows.append((str(n), shape, colour, path))
    return rows


def write_csv(folder: Path, rows: list[tuple[str, str, str, Path]], name: str = "catalog.csv") -> Path:
    out = folder / name
    lines = ["id,articleType,baseColour,image"]
    lines += [f"{i},{shape},{colour},{p.relative_to(folder).as_posix()}" for i, shape, colour, p in rows]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def backbone() -> object:
    """The real EfficientNet-Lite0 from its PyPI package, loaded once for the session."""
    from vision import load_backbone

    return load_backbone()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
