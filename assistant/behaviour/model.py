"""The abandonment model: a GRU over a session's per-turn features, served with numpy.

After every turn the model reads the session's feature rows so far (:mod:`.features`) and gives the
probability that the session ends without an order.  Network: the rows are standardised (flags
stay 0/1), go through a one-layer GRU (``hidden`` units), and a linear head turns each hidden state
into a logit.  Trained with PyTorch (:mod:`.train`); served here with numpy, no torch on the turn
path: a 20-turn session costs well under a millisecond.

The artifact also holds the **baseline** it is measured against: an L2-regularised logistic
regression over each turn's *prefix features*, the current row next to the mean of the rows so far
(the same information, without the order of the turns).  A ``residual`` model (trained so when the
log is small) adds the GRU's logit to the baseline's — a linear skip path, as in wide-and-deep
models: the GRU learns what the order-free view misses, and where it learns nothing that holds on
the validation split the model stays the baseline.  Both have an operating threshold chosen on the
validation split (best F1); ``risk >= threshold`` counts as "at risk".

Artifact directory (:meth:`AbandonmentModel.save` / :meth:`AbandonmentModel.load`): ``config.json``
holds the constructor arguments (format version, feature list, sizes, thresholds, what it was
trained on, its metrics; ``load`` does ``cls(**config)``) and ``model.safetensors`` the arrays.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.behaviour.features import BINARY, FEATURES, EventLog, TurnLog, turn_features

__all__ = ["AbandonmentModel", "FORMAT_VERSION", "CONFIG_FILE", "WEIGHTS_FILE", "prefix_rows", "new_version"]

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
Array = npt.NDArray[np.float32]


def new_version() -> str:
    return f"abandonment-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


def prefix_rows(x: Array) -> Array:
    """The baseline's inputs: ``[x_t, mean(x_1..x_t)]`` for every turn t."""
    if len(x) == 0:
        return np.zeros((0, 2 * x.shape[1]), np.float32)
    means = np.cumsum(x, axis=0, dtype=np.float64) / np.arange(1, len(x) + 1)[:, None]
    return np.concatenate([x, means.astype(np.float32)], axis=1)


def _sigmoid(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * v))  # stable for large |v|
    return out


class AbandonmentModel:
    """Risk that a session ends without an order, after each of its turns."""

    def __init__(
        self,
        *,
        features: Sequence[str] = FEATURES,
        hidden: int = 32,
        threshold: float = 0.5,
        baseline_threshold: float = 0.5,
        residual: bool = True,
        version: str = "",
        format_version: int = FORMAT_VERSION,
        training: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        if format_version != FORMAT_VERSION:
            raise ValueError(f"abandonment model format {format_version} is not supported ({FORMAT_VERSION})")
        if list(features) != list(FEATURES):
            raise ValueError(
                f"abandonment model features do not match this code's ({len(list(features))} in the "
                f"artifact, {len(FEATURES)} here); retrain it with `shopassist train abandonment`"
            )
        if int(hidden) < 1:
            raise ValueError(f"hidden size must be positive, got {hidden}")
        self.features = list(features)
        self.hidden = int(hidden)
        self.threshold = float(threshold)
        self.baseline_threshold = float(baseline_threshold)
        self.residual = bool(residual)
        self.version = version
        self.format_version = format_version
        self.training = dict(training or {})
        self.metrics = dict(metrics or {})
        d, h = len(self.features), self.hidden
        self.arrays: dict[str, Array] = {
            "feature_mean": np.zeros(d, np.float32),
            "feature_std": np.ones(d, np.float32),
            "gru.weight_ih": np.zeros((3 * h, d), np.float32),
            "gru.weight_hh": np.zeros((3 * h, h), np.float32),
            "gru.bias_ih": np.zeros(3 * h, np.float32),
            "gru.bias_hh": np.zeros(3 * h, np.float32),
            "head.weight": np.zeros(h, np.float32),
            "head.bias": np.zeros(1, np.float32),
            "baseline.mean": np.zeros(2 * d, np.float32),
            "baseline.std": np.ones(2 * d, np.float32),
            "baseline.weight": np.zeros(2 * d, np.float32),
            "baseline.bias": np.zeros(1, np.float32),
        }
        self._binary = np.array([f in BINARY for f in self.features])

    # ------------------------------------------------------------------ weights
    def load_state(self, state: Mapping[str, Any]) -> None:
        """Install arrays named as in :attr:`arrays`; ``ValueError`` on a missing, extra or misshapen one."""
        missing = sorted(set(self.arrays) - set(state))
        extra = sorted(set(state) - set(self.arrays))
        if missing or extra:
            raise ValueError(f"weights do not fit the network (missing {missing}, unexpected {extra})")
        for key, arr in self.arrays.items():
            got = np.asarray(state[key], np.float32)
            if got.shape != arr.shape:
                raise ValueError(
                    f"weights do not fit the network: {key} is {got.shape}, expected {arr.shape}"
                )
            self.arrays[key] = np.ascontiguousarray(got)

    def standardise(self, x: Array) -> Array:
        """Continuous features to zero mean and unit variance (training statistics); flags kept."""
        z = (x - self.arrays["feature_mean"]) / self.arrays["feature_std"]
        out: Array = np.where(self._binary, x, z).astype(np.float32)
        return out

    # ------------------------------------------------------------------ inference
    def risks(self, x: Array) -> npt.NDArray[np.float64]:
        """The risk after each turn, from the feature rows ``x`` (``[turns, features]``)."""
        logits = self.gru_logits(x)
        if self.residual:
            logits = logits + self.baseline_logits(x)
        return _sigmoid(logits)

    def gru_logits(self, x: Array) -> npt.NDArray[np.float64]:
        """The GRU's part of each turn's logit."""
        a = self.arrays
        h_size = self.hidden
        xs = self.standardise(np.asarray(x, np.float32)).astype(np.float64)
        gi = xs @ a["gru.weight_ih"].T.astype(np.float64) + a["gru.bias_ih"]
        w_hh = a["gru.weight_hh"].astype(np.float64)
        b_hh = a["gru.bias_hh"].astype(np.float64)
        w_head = a["head.weight"].astype(np.float64)
        h = np.zeros(h_size, np.float64)
        logits = np.empty(len(xs), np.float64)
        for t in range(len(xs)):
            gh = w_hh @ h + b_hh
            r = _sigmoid(gi[t, :h_size] + gh[:h_size])
            z = _sigmoid(gi[t, h_size : 2 * h_size] + gh[h_size : 2 * h_size])
            n = np.tanh(gi[t, 2 * h_size :] + r * gh[2 * h_size :])
            h = (1.0 - z) * n + z * h
            logits[t] = float(w_head @ h) + float(a["head.bias"][0])
        return logits

    def baseline_logits(self, x: Array) -> npt.NDArray[np.float64]:
        a = self.arrays
        rows = prefix_rows(np.asarray(x, np.float32)).astype(np.float64)
        z = (rows - a["baseline.mean"]) / a["baseline.std"]
        w = a["baseline.weight"].astype(np.float64)
        out: npt.NDArray[np.float64] = z @ w + float(a["baseline.bias"][0])
        return out

    def baseline_risks(self, x: Array) -> npt.NDArray[np.float64]:
        """The logistic-regression baseline's risk after each turn."""
        return _sigmoid(self.baseline_logits(x))

    def risk(self, turns: Sequence[TurnLog], events: Sequence[EventLog] = ()) -> float:
        """The risk after the last of ``turns`` (0 without turns)."""
        if not turns:
            return 0.0
        return float(self.risks(turn_features(turns, events))[-1])

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict[str, Any]:
        """Constructor arguments: what ``config.json`` holds."""
        return {
            "format_version": self.format_version,
            "version": self.version,
            "features": self.features,
            "hidden": self.hidden,
            "threshold": self.threshold,
            "baseline_threshold": self.baseline_threshold,
            "residual": self.residual,
            "training": self.training,
            "metrics": self.metrics,
        }

    def save(self, path: Path) -> Path:
        """Write the artifact directory (config.json, model.safetensors)."""
        from safetensors.numpy import save_file

        path.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: np.ascontiguousarray(v, np.float32) for k, v in self.arrays.items()}, str(path / WEIGHTS_FILE)
        )
        (path / CONFIG_FILE).write_text(json.dumps(self.config(), indent=2, sort_keys=True), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> AbandonmentModel:
        """Read an artifact; ``ValueError`` if it is unreadable, of another format or feature set."""
        from safetensors.numpy import load_file

        try:
            config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: no readable {CONFIG_FILE} ({exc})") from None
        if not isinstance(config, dict):
            raise ValueError(f"{path / CONFIG_FILE}: not a JSON object")
        model = cls(**config)
        try:
            state = load_file(str(path / WEIGHTS_FILE))
        except Exception as exc:  # safetensors raises its own error types for a bad file
            raise ValueError(f"{path / WEIGHTS_FILE}: {exc}") from None
        model.load_state(state)
        return model

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "hidden": self.hidden,
            "threshold": round(self.threshold, 4),
            "baseline_threshold": round(self.baseline_threshold, 4),
            "residual": self.residual,
            "training": self.training,
            "metrics": self.metrics,
        }
