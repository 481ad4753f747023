"""Train the projection head of ``cnn-finetuned`` on cached EfficientNet features.

Fine-tuning the whole backbone is out of reach on a 2-core CPU, but a small MLP on frozen pooled
features trains in seconds once the features are cached, and it is what moves article-type
precision from ImageNet's "looks similar" to the catalog's "same kind of product".

Loss: normalised-softmax classification ("classification is a strong baseline for deep metric
learning", Zhai & Wu 2018): the unit embedding is scored against unit class vectors with a fixed
temperature, once for the product type and once for the colour.  Because both are cosine
classifiers on the same unit vector, same-type same-colour photos end up closest and same-type
photos next, which is exactly the ranking the shopper wants.  Augmented views (mirror, tighter crop)
are extra cached feature rows with the same labels.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vision.cache import FeatureCache, path_features
from vision.embed import (
    CNN_RESOLUTION,
    CnnEmbedder,
    FinetunedEmbedder,
    HeadConfig,
    Normalization,
    ProjectionHead,
    Variant,
    _head_module,
)
from vision.preprocess import PadFill

__all__ = ["LabelledImage", "TrainConfig", "read_labelled_catalog", "train_head", "train_head_on_features"]

Progress = Callable[[int, int], None]
#: TrainConfig fields recorded elsewhere (the head config) or irrelevant to the result
_NOT_TRAINING = ("resolution", "fill", "normalization", "threads")
Log = Callable[[str], None]


@dataclass(frozen=True)
class LabelledImage:
    """One catalog photo with the labels retrieval is judged on."""

    id: str
    path: Path
    type: str
    colour: str


def _norm_label(value: object) -> str:
    return " ".join(str(value or "").strip().lower().split())


def read_labelled_catalog(path: Path) -> list[LabelledImage]:
    """Photos and labels from either catalog layout; image paths are relative to the file's folder.

    * ``.csv`` in the fashion-small layout: ``id``, ``articleType``, ``baseColour``, ``image``;
    * ``.jsonl`` in the repo's catalog layout: ``id``, ``product_type``, ``attributes.color``,
      ``image_path``.

    Rows without an image or a type are skipped (a catalog may list products without photos).

    Raises:
        ValueError: unreadable file, missing columns, or no usable row (one readable line).
    """
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    base = path.parent
    items: list[LabelledImage] = []
    try:
        if path.suffix.lower() == ".jsonl":
            with path.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        raise ValueError(f"{path}:{n}: not a JSON object") from None
                    if not isinstance(row, dict):
                        raise ValueError(f"{path}:{n}: not a JSON object")
                    image, ptype = row.get("image_path"), _norm_label(row.get("product_type"))
                    if not image or not ptype:
                        continue
                    attrs = row.get("attributes") or {}
                    colour = _norm_label(attrs.get("color") if isinstance(attrs, dict) else "")
                    items.append(LabelledImage(str(row.get("id", n)), base / str(image), ptype, colour))
        else:
            with path.open(encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                needed = {"articleType", "baseColour", "image"}
                missing = needed - set(reader.fieldnames or [])
                if missing:
                    raise ValueError(
                        f"{path}: missing column(s) {', '.join(sorted(missing))} "
                        "(expected the fashion-small layout: id, articleType, baseColour, image)"
                    )
                for n, row in enumerate(reader, 2):
                    image, ptype = row.get("image"), _norm_label(row.get("articleType"))
                    if not image or not ptype:
                        continue
                    items.append(
                        LabelledImage(
                            str(row.get("id") or n), base / image, ptype, _norm_label(row.get("baseColour"))
                        )
                    )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if not items:
        raise ValueError(f"{path}: no rows with an image and a product type")
    absent = [it.path for it in items if not it.path.is_file()]
    if absent:
        raise ValueError(f"{path}: {len(absent)} image file(s) not found, e.g. {absent[0]}")
    return items


@dataclass(frozen=True)
class TrainConfig:
    """Head and training hyper-parameters (defaults chosen on a fashion-small 80/20 split)."""

    epochs: int = 40
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    hidden_dim: int = 512
    out_dim: int = 256
    dropout: float = 0.2
    #: temperature of the cosine classifiers (logits = scale · cos)
    scale: float = 8.0
    #: weight of the colour loss next to the type loss
    colour_weight: float = 0.25
    variants: tuple[Variant, ...] = ("orig", "flip")
    resolution: int = CNN_RESOLUTION
    fill: PadFill = "edge"
    normalization: Normalization = "lite"
    seed: int = 0
    #: torch threads while training (process-wide); 1 because two threads on a shared 2-core machine
    #: ran several times slower than one (see :class:`vision.CnnEmbedder`)
    threads: int | None = 1

    def head_config(self, info: dict[str, Any]) -> HeadConfig:
        return HeadConfig(
            hidden_dim=self.hidden_dim,
            out_dim=self.out_dim,
            dropout=self.dropout,
            resolution=self.resolution,
            fill=self.fill,
            normalization=self.normalization,
            info=info,
        )


def _codes(labels: Sequence[str]) -> tuple[NDArray[np.int64], list[str]]:
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[x] for x in labels], dtype=np.int64), classes


def train_head_on_features(
    features: Sequence[NDArray[np.float32]],
    types: Sequence[str],
    colours: Sequence[str],
    config: TrainConfig,
    *,
    info: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ProjectionHead:
    """Fit a head on backbone features: ``features[v]`` is one ``(n, in_dim)`` array per view.

    All views share the labels ``types``/``colours`` (length ``n``).  Deterministic for a seed.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    if not features or any(f.shape[0] != len(types) for f in features) or len(colours) != len(types):
        raise ValueError("every view needs one feature row per labelled image")
    if len(set(types)) < 2:
        raise ValueError("training needs at least two product types")
    if config.threads is not None and torch.get_num_threads() != config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    x = torch.from_numpy(np.concatenate(features).astype(np.float32))
    t_codes, t_classes = _codes(types)
    c_codes, c_classes = _codes(colours)
    y_type = torch.from_numpy(np.tile(t_codes, len(features)))
    y_col = torch.from_numpy(np.tile(c_codes, len(features)))
    head_cfg = config.head_config(info or {})
    head_cfg = replace(head_cfg, in_dim=int(x.shape[1]))
    module = _head_module(head_cfg)
    w_type = nn.Parameter(torch.randn(len(t_classes), head_cfg.out_dim) * 0.01)
    w_col = nn.Parameter(torch.randn(len(c_classes), head_cfg.out_dim) * 0.01)
    params = [*module.parameters(), w_type, w_col]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    n = int(x.shape[0])
    steps_per_epoch = max(1, -(-n // config.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.1
    )
    module.train()
    for epoch in range(config.epochs):
        order = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:
                continue  # BatchNorm needs two rows
            z = F.normalize(module(x[idx]), dim=1)
            loss = F.cross_entropy(config.scale * z @ F.normalize(w_type, dim=1).T, y_type[idx])
            if config.colour_weight > 0 and len(c_classes) > 1:
                logits_c = config.scale * z @ F.normalize(w_col, dim=1).T
                loss = loss + config.colour_weight * F.cross_entropy(logits_c, y_col[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
        if progress is not None:
            progress(epoch + 1, config.epochs)
    module.eval()
    return ProjectionHead(head_cfg, module)


def train_head(
    items: Sequence[LabelledImage],
    config: TrainConfig,
    *,
    cache: FeatureCache,
    source: str = "",
    progress: Callable[[str], Progress | None] | None = None,
    log: Log | None = None,
) -> FinetunedEmbedder:
    """Embed the catalog photos (cached, one pass per view), train the head, return the embedder.

    ``progress(stage)`` may return an ``update(done, total)`` callback per stage (the CLI's bars).
    The head's ``config.info`` records the source, the class lists, the sizes and the timings.
    """
    backbone = CnnEmbedder(resolution=config.resolution, fill=config.fill, normalization=config.normalization)
    paths = [str(it.path) for it in items]
    t0 = time.perf_counter()
    feats = []
    for variant in config.variants:
        bar = progress(f"embed {variant}") if progress else None
        feats.append(path_features(backbone, paths, cache, variant=variant, progress=bar))
    embed_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    types = [it.type for it in items]
    colours = [it.colour for it in items]
    info: dict[str, Any] = {
        "source": source,
        "n_images": len(items),
        "types": sorted(set(types)),
        "colours": sorted(set(colours)),
        "train": {k: v for k, v in asdict(config).items() if k not in _NOT_TRAINING},
    }
    bar = progress("train head") if progress else None
    head = train_head_on_features(feats, types, colours, config, info=info, progress=bar)
    train_s = time.perf_counter() - t1
    head.config.info.update({"embed_s": round(embed_s, 1), "train_s": round(train_s, 1)})
    if log is not None:
        log(
            f"embedded {len(items)} photos × {len(config.variants)} views in {embed_s:.0f}s, "
            f"head {train_s:.0f}s"
        )
    return FinetunedEmbedder(head, backbone=backbone)
