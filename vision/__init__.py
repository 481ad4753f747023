"""Image matching: upload checks, CNN embedders, a trained projection head, feature cache, evaluation.

The service's calls (nothing here imports ``assistant`` or ``api``; torch loads on first use)::

    from vision import ImageRejected, decode_image, load_default_embedder

    embedder = load_default_embedder(settings.data_dir)   # cnn-finetuned if trained, else cnn-imagenet
    try:
        image = decode_image(upload_bytes)                # validated, upright RGB PIL image
    except ImageRejected as exc:                          # exc.code, exc.message, exc.status_code
        ...
    vector = embedder.embed([image])[0]                   # (embedder.dim,) float32 unit vector
    # or in one step: embedder.embed_bytes(upload_bytes)

An image index must store ``embedder.name``, ``embedder.dim``, ``embedder.feature_key`` and (for
``cnn-finetuned``) ``embedder.head_digest`` and rebuild when they change.
"""

from vision.cache import FeatureCache, file_key, path_features
from vision.embed import (
    CNN_RESOLUTION,
    VARIANTS,
    CnnEmbedder,
    FinetunedEmbedder,
    HeadConfig,
    HistogramEmbedder,
    ImageEmbedder,
    ProjectionHead,
    augment,
    default_head_dir,
    l2_normalize,
    load_backbone,
    load_default_embedder,
)
from vision.evaluate import (
    RetrievalScores,
    evaluate_embedders,
    exclusion_mask,
    measure_latency,
    retrieval_scores,
)
from vision.preprocess import (
    MAX_BYTES,
    MAX_PIXELS,
    ImageRejected,
    decode_image,
    load_image,
    pad_to_square,
    sniff_image_format,
    to_array,
    to_rgb,
)
from vision.train import LabelledImage, TrainConfig, read_labelled_catalog, train_head, train_head_on_features

__all__ = [
    "CNN_RESOLUTION",
    "MAX_BYTES",
    "MAX_PIXELS",
    "VARIANTS",
    "CnnEmbedder",
    "FeatureCache",
    "FinetunedEmbedder",
    "HeadConfig",
    "HistogramEmbedder",
    "ImageEmbedder",
    "ImageRejected",
    "LabelledImage",
    "ProjectionHead",
    "RetrievalScores",
    "TrainConfig",
    "augment",
    "decode_image",
    "default_head_dir",
    "evaluate_embedders",
    "exclusion_mask",
    "file_key",
    "l2_normalize",
    "load_backbone",
    "load_default_embedder",
    "load_image",
    "measure_latency",
    "pad_to_square",
    "path_features",
    "read_labelled_catalog",
    "retrieval_scores",
    "sniff_image_format",
    "to_array",
    "to_rgb",
    "train_head",
    "train_head_on_features",
]
