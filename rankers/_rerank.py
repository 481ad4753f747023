"""The search re-ranker: a feed-forward net over (query, candidate) features, served with numpy.

It re-scores the top-k (50) candidates of one hybrid search.  Each candidate's
row of :data:`~rankers._rerank_features.FEATURES` (BM25, cosine, fused score and
rank, also relative to the rest of the list; how the query's words, rare words and
character trigrams meet the title; brand/type/colour/gender/attribute matches and
conflicts; rating, popularity, price) is standardised and goes through a ReLU MLP
(``hidden`` units per layer) to one score.  Trained listwise (see
``rankers._rerank_train``); inference is a few small matrix products in numpy —
no torch at serving time, well under a millisecond for 50 candidates once the
features are computed.

Artifact directory (:meth:`Reranker.save` / :meth:`Reranker.load`): ``meta.json``
holds the constructor arguments — format version, feature list, layer sizes,
field vocabulary, training data description and metrics; ``load`` does
``cls(**meta)`` — plus ``model.safetensors`` (the layers and the feature
standardisation).  No pickle anywhere.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from rankers._rerank_features import FEATURES, CandidateScores, FieldVocabulary, candidate_features
from retrieval import Product

__all__ = ["Reranker", "FORMAT_VERSION", "new_version"]

FORMAT_VERSION = 1
_META = "meta.json"
_WEIGHTS = "model.safetensors"
_C = TypeVar("_C")
Array = npt.NDArray[np.float32]


def new_version(prefix: str = "reranker") -> str:
    return f"{prefix}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


class Reranker:
    """Re-scores one search's top candidates.  Build with :meth:`load` (or ``train_reranker``)."""

    def __init__(
        self,
        *,
        features: Sequence[str] = FEATURES,
        hidden: Sequence[int] = (64, 32),
        top_k: int = 50,
        vocabulary: Mapping[str, Sequence[str]] | None = None,
        version: str = "",
        format_version: int = FORMAT_VERSION,
        training: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        if format_version != FORMAT_VERSION:
            raise ValueError(
                f"re-ranker format {format_version} is not supported (expected {FORMAT_VERSION})"
            )
        if list(features) != list(FEATURES):
            raise ValueError(
                f"re-ranker features do not match this code's ({len(list(features))} in the artifact, "
                f"{len(FEATURES)} here); retrain it"
            )
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden layer sizes must be positive, got {list(hidden)}")
        self.features = list(features)
        self.hidden = [int(h) for h in hidden]
        self.top_k = int(top_k)
        self.vocabulary = FieldVocabulary(vocabulary or {})
        self.version = version
        self.format_version = format_version
        self.training = dict(training or {})
        self.metrics = dict(metrics or {})
        sizes = [len(self.features), *self.hidden, 1]
        #: (weight [out, in], bias [out]) per layer; ReLU between them
        self.layers: list[tuple[Array, Array]] = [
            (np.zeros((o, i), np.float32), np.zeros(o, np.float32))
            for i, o in zip(sizes, sizes[1:], strict=False)
        ]
        self.feature_mean: Array = np.zeros(len(self.features), np.float32)
        self.feature_std: Array = np.ones(len(self.features), np.float32)

    # ------------------------------------------------------------------ weights
    def state(self) -> dict[str, Array]:
        """The arrays ``model.safetensors`` holds."""
        out = {"feature_mean": self.feature_mean, "feature_std": self.feature_std}
        for n, (w, b) in enumerate(self.layers):
            out[f"layer{n}.weight"] = w
            out[f"layer{n}.bias"] = b
        return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Install arrays named as in :meth:`state`; ``ValueError`` on a missing, extra or misshapen one."""
        want = self.state()
        missing = sorted(set(want) - set(state))
        extra = sorted(set(state) - set(want))
        if missing or extra:
            raise ValueError(f"weights do not fit the network (missing {missing}, unexpected {extra})")
        for key, arr in want.items():
            got = np.asarray(state[key], dtype=np.float32)
            if got.shape != arr.shape:
                raise ValueError(
                    f"weights do not fit the network: {key} is {got.shape}, expected {arr.shape}"
                )
        self.feature_mean = np.asarray(state["feature_mean"], np.float32)
        self.feature_std = np.asarray(state["feature_std"], np.float32)
        self.layers = [
            (
                np.asarray(state[f"layer{n}.weight"], np.float32),
                np.asarray(state[f"layer{n}.bias"], np.float32),
            )
            for n in range(len(self.layers))
        ]

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict[str, Any]:
        """Constructor arguments: what ``meta.json`` holds."""
        return {
            "format_version": self.format_version,
            "version": self.version,
            "features": self.features,
            "hidden": self.hidden,
            "top_k": self.top_k,
            "vocabulary": self.vocabulary.to_json(),
            "training": self.training,
            "metrics": self.metrics,
        }

    def save(self, path: Path) -> Path:
        """Write the artifact directory (meta.json, model.safetensors)."""
        from safetensors.numpy import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_file(self.state(), str(path / _WEIGHTS), metadata={"format": "np", "version": self.version})
        (path / _META).write_text(json.dumps(self.config(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Reranker:
        """Load an artifact directory; ``ValueError`` (one readable line) when it is missing or bad."""
        path = Path(path)
        meta_path = path / _META
        if not meta_path.is_file() or not (path / _WEIGHTS).is_file():
            raise ValueError(f"no re-ranker at {path} (train one with `shopassist train reranker`)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {meta_path}: {exc}") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_path} is not a JSON object")
        try:
            model = cls(**meta)
        except TypeError as exc:
            raise ValueError(f"{meta_path} does not describe a re-ranker: {exc}") from None
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            model.load_state(load_file(str(path / _WEIGHTS)))
        except (OSError, ValueError, SafetensorError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"cannot load the re-ranker at {path}: {first}") from None
        return model

    # ------------------------------------------------------------------ inference
    def features_of(
        self, query: str, products: Sequence[Product], base: Sequence[CandidateScores]
    ) -> npt.NDArray[np.float32]:
        return candidate_features(query, products, base, self.vocabulary)

    def score_features(self, features: Array) -> Array:
        """Scores of feature rows (``n × len(FEATURES)``)."""
        x = (features - self.feature_mean) / self.feature_std
        last = len(self.layers) - 1
        for n, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if n < last:
                x = np.maximum(x, 0.0)
        out: Array = x[:, 0].astype(np.float32, copy=False)
        return out

    def rerank(self, query: str, products: Sequence[Product], base: Sequence[CandidateScores]) -> list[float]:
        """A new score per candidate (higher is better), aligned with ``products``.

        ``base[i]`` holds the hybrid retrieval's fused, BM25 and cosine scores and 0-based rank
        of ``products[i]`` (``retrieval.Candidate`` or :class:`BaseScores`).  A blank query keeps
        the retrieval order (scores ``-rank``).
        """
        if len(products) != len(base):
            raise ValueError(f"{len(products)} products but {len(base)} retrieval scores")
        if not products:
            return []
        if not query.strip():
            return [-float(b.rank) for b in base]
        return [float(s) for s in self.score_features(self.features_of(query, products, base))]

    def rerank_candidates(self, query: str, candidates: Sequence[_C]) -> list[tuple[_C, float]]:
        """``retrieval.Candidate`` objects (anything with ``.product`` and the scores), best first."""
        products = [c.product for c in candidates]  # type: ignore[attr-defined]
        scores = self.rerank(query, products, candidates)  # type: ignore[arg-type]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [(candidates[i], scores[i]) for i in order]

    def describe(self) -> dict[str, Any]:
        """Version, training data and metrics (for logs and the admin API)."""
        return {"version": self.version, "training": self.training, "metrics": self.metrics}
