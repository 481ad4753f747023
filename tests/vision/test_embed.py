"""Embedders: the real EfficientNet from its package, the histogram, head save/load, default choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.vision.conftest import encode, shape_image
from vision import (
    CnnEmbedder,
    FinetunedEmbedder,
    HeadConfig,
    HistogramEmbedder,
    ImageEmbedder,
    ImageRejected,
    ProjectionHead,
    default_head_dir,
    load_default_embedder,
)


def test_efficientnet_loads_from_the_package_and_gives_unit_1280_vectors(
    backbone: object, rng: np.random.Generator
) -> None:
    emb = CnnEmbedder()
    images = [
        shape_image("circle", "red", rng),
        shape_image("bar", "blue", rng),
        shape_image("square", "green", rng),
    ]
    out = emb.embed(images)
    assert isinstance(emb, ImageEmbedder)
    assert out.shape == (3, 1280) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(out).all()
    # batching does not change the vectors
    np.testing.assert_allclose(np.concatenate([emb.embed(images[:1]), emb.embed(images[1:])]), out, atol=1e-4)


def _square(colour: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (60, 80), (250, 250, 250))
    img.paste(colour, (10, 20, 50, 60))
    return img


def test_histogram_embedder_is_unit_and_sees_colour() -> None:
    hist = HistogramEmbedder()
    red1, red2, blue = hist.embed([_square((200, 30, 30)), _square((215, 40, 35)), _square((30, 40, 200))])
    assert red1.shape == (hist.dim,)
    assert abs(float(np.linalg.norm(red1)) - 1) < 1e-5
    assert float(red1 @ red2) > float(red1 @ blue)


def test_embed_bytes_rejects_bad_uploads_and_embeds_good_ones(rng: np.random.Generator) -> None:
    hist = HistogramEmbedder()
    with pytest.raises(ImageRejected) as info:
        hist.embed_bytes(b"%PDF-1.4 not a photo")
    assert info.value.code == "unsupported_type"
    vec = hist.embed_bytes(encode(shape_image("square", "green", rng), "JPEG"))
    assert vec.shape == (hist.dim,)


def _head(resolution: int = 96) -> ProjectionHead:
    import torch

    torch.manual_seed(0)
    return ProjectionHead(HeadConfig(in_dim=1280, hidden_dim=32, out_dim=16, resolution=resolution))


def test_head_save_and_load_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    head = _head()
    feats = rng.normal(size=(5, 1280)).astype(np.float32)
    head.save(tmp_path / "head")
    loaded = ProjectionHead.load(tmp_path / "head")
    assert loaded.config == head.config
    assert loaded.digest == head.digest
    np.testing.assert_allclose(loaded(feats), head(feats), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(head(feats), axis=1), 1.0, rtol=1e-5)
    assert {p.name for p in (tmp_path / "head").iterdir()} == {"config.json", "head.safetensors"}


def test_loading_a_missing_head_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no trained image head"):
        ProjectionHead.load(tmp_path)


def test_finetuned_embedder_uses_the_heads_backbone_settings() -> None:
    emb = FinetunedEmbedder(_head(resolution=96))
    assert emb.backbone.resolution == 96 and emb.dim == 16 and emb.name == "cnn-finetuned"
    assert emb.feature_key == CnnEmbedder(resolution=96).feature_key  # shares the cached stage
    with pytest.raises(ValueError, match="backbone settings"):
        FinetunedEmbedder(_head(resolution=96), backbone=CnnEmbedder(resolution=160))


def test_default_embedder_is_imagenet_until_a_head_is_trained(tmp_path: Path) -> None:
    assert isinstance(load_default_embedder(tmp_path), CnnEmbedder)
    _head().save(default_head_dir(tmp_path))
    emb = load_default_embedder(tmp_path)
    assert isinstance(emb, FinetunedEmbedder) and emb.dim == 16
