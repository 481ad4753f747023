"""The global neural forecaster: one small MLP trained across all series.

Inputs are :func:`pricing.features.origin_features` (recent log-price ratios, time since the last
change / markdown, where today's price sits in its 52-week range, how often and how regularly the item
was marked down, price endings, season, calendar events, competitor ratios).  Outputs, for each
horizon h = 1..``horizon``: the 10th / 50th / 90th percentile of log(price[t+h] / price[t]) (pinball
loss; the three are ordered by construction), the probability that a ≥ 5 % drop happened by h, and the
probabilities that price[t+h] is below / above price[t] at all (sigmoids, binary cross-entropy; the
rest is the atom at today's price that shelf prices mostly sit on, which the backtest's coverage needs).

Point forecast: most shelf prices do not move in a month, so a learned median rarely beats "same as
today" on absolute error.  ``point="auto"`` keeps the naive point unless the learned median beats it on
held-out series of the training data (MAE guard); what was chosen is saved in the config.
Saved as ``config.json`` + ``model.safetensors`` (well under 1 MB).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pricing.features import FEATURE_NAMES, GroupRates, origin_features, origin_targets
from pricing.models import MOVE_EPS, ForecastBatch, Forecaster, PanelStats, Progress, _valid_until
from pricing.series import PriceSeries

if TYPE_CHECKING:
    import torch

__all__ = ["NeuralConfig", "NeuralForecaster"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
WEIGHTS_FILE = "model.safetensors"
QUANTILES = (0.1, 0.5, 0.9)
#: log ratios are learned ×10 so the pinball and BCE terms have similar scale
TARGET_SCALE = 10.0
MIN_STD = 0.05
#: fewest optimiser steps per network, whatever the panel size (a small panel gets more epochs)
MIN_STEPS = 150
CLIP = 8.0
#: outputs per horizon: three quantiles, the drop logit, the below and above logits
HEADS = 6


DEFAULT_EXCLUDED = ("doy_sin", "doy_cos", "log_age", "log_drop4_windows", "has_year")


@dataclass
class NeuralConfig:
    """Hyper-parameters (the constructor arguments are the saved config)."""

    horizon: int = 12  # periods forecast; longer requests repeat the last one
    hidden: int = 32  # small and strongly regularised: drops are ~1 % of windows and bigger nets overfit
    layers: int = 2
    dropout: float = 0.3
    epochs: int = 4
    batch_size: int = 1024
    lr: float = 2e-3
    weight_decay: float = 0.05
    max_samples: int = 250_000  # training windows per fit (uniform sample) to bound the time
    min_origin: int = 3  # origins with fewer earlier periods are not trained on
    drop_weight: float = 1.0
    #: weight of the below / above heads' loss (they only describe the forecast distribution)
    move_weight: float = 0.5
    point: str = "auto"  # "naive" | "median" | "auto" (chosen on held-out training series)
    seed: int = 0
    threads: int = 1
    skip: bool = False
    #: networks trained with different seeds and averaged: drops are rare and single nets vary (M5
    #: CA_1 drop AUC 0.662 / 0.682 for seeds 0 / 1 alone, 0.664 / 0.671 as ensembles of three)
    ensemble: int = 3
    #: inputs left out.  Week of year and series age are computed but not used by default: with a few
    #: years of history they let the net memorise *which weeks* of the training years had store-wide
    #: repricing, which does not carry over (held-out M5 items: drop AUC 0.59 with them, 0.65 without)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDED

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NeuralConfig:
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in values.items() if k in known}
        if "exclude" in kept:
            kept["exclude"] = tuple(kept["exclude"])
        return cls(**kept)

    def columns(self) -> IntArray:
        """Indices of the feature columns the network reads."""
        unknown = set(self.exclude) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown features to exclude: {', '.join(sorted(unknown))}")
        return np.array([i for i, n in enumerate(FEATURE_NAMES) if n not in self.exclude], dtype=np.int64)


def _build_net(n_in: int, config: NeuralConfig) -> torch.nn.Module:
    """MLP plus (``skip``) a linear path from the inputs: the linear part carries the robust
    "items that change often drop often" signal, the hidden layers the interactions."""
    import torch

    class WideDeep(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[torch.nn.Module] = []
            width = n_in
            for _ in range(config.layers):
                layers += [
                    torch.nn.Linear(width, config.hidden),
                    torch.nn.GELU(),
                    torch.nn.Dropout(config.dropout),
                ]
                width = config.hidden
            layers.append(torch.nn.Linear(width, config.horizon * HEADS))
            self.deep = torch.nn.Sequential(*layers)
            self.wide = torch.nn.Linear(n_in, config.horizon * HEADS) if config.skip else None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.deep(x)
            return out + self.wide(x) if self.wide is not None else out

    return WideDeep()


def _split_outputs(out: torch.Tensor, horizon: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ordered quantiles (batch, horizon, 3) in scaled log-ratio units, and logits (batch, 3, horizon):
    drop by h, below at h, above at h."""
    import torch

    raw = out[:, : horizon * 3].reshape(-1, horizon, 3)
    mid = raw[:, :, 1]
    low = mid - torch.nn.functional.softplus(raw[:, :, 0])
    high = mid + torch.nn.functional.softplus(raw[:, :, 2])
    return torch.stack([low, mid, high], dim=2), out[:, horizon * 3 :].reshape(-1, 3, horizon)


@dataclass
class _Windows:
    x: FloatArray
    ratio: FloatArray
    drop: FloatArray
    mask: FloatArray
    #: which item (``PriceSeries.item``, else the series itself) and which origin day each window is
    item: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    day: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def take(self, keep: IntArray) -> _Windows:
        return _Windows(
            self.x[keep], self.ratio[keep], self.drop[keep], self.mask[keep], self.item[keep], self.day[keep]
        )

    def distinct(self, rows: IntArray) -> int:
        """How many different (item, origin day) windows ``rows`` hold: one item's copies in several
        stores are one window of evidence, however many stores repeat it."""
        return len(np.unique(self.item[rows] * (1 << 32) + self.day[rows]))


def _windows(
    series: Sequence[PriceSeries],
    until: np.datetime64 | None,
    config: NeuralConfig,
    groups: GroupRates,
    rng: np.random.Generator,
) -> _Windows:
    """Training windows of every series up to ``until``.  A big panel (all of M5 is 30,490 series ×
    280 weeks) is thinned at random *before* its features are stacked, to about 1.5 × ``max_samples``
    windows, so memory stays bounded; ``fit`` then draws exactly ``max_samples`` uniformly."""
    xs, rs, ds, ms, its, days = [], [], [], [], [], []
    cols = config.columns()
    items: dict[tuple[str, str], int] = {}
    lasts = [_valid_until(s, until) for s in series]
    total = sum(max(last - config.min_origin, 0) for last in lasts)
    keep_share = min(1.0, 1.5 * config.max_samples / max(total, 1))
    for s, last in zip(series, lasts, strict=True):
        item = items.setdefault((s.item, "") if s.item else ("", s.key), len(items))
        if last - 1 < config.min_origin:
            continue
        origins = np.arange(config.min_origin, last, dtype=np.int64)  # each has at least its h=1 target
        if keep_share < 1.0:
            origins = origins[rng.random(len(origins)) < keep_share]
            if not len(origins):
                continue
        ratio, drop, mask = origin_targets(s, origins, config.horizon, last=last)
        xs.append(origin_features(s, origins, groups)[:, cols])
        rs.append(ratio)
        ds.append(drop)
        ms.append(mask)
        its.append(np.full(len(origins), item, dtype=np.int64))
        days.append(s.dates[origins].astype("datetime64[D]").astype(np.int64))
    if not xs:
        return _Windows(np.zeros((0, len(cols))), *(np.zeros((0, config.horizon)),) * 3)
    return _Windows(
        np.concatenate(xs),
        np.concatenate(rs),
        np.concatenate(ds),
        np.concatenate(ms),
        np.concatenate(its),
        np.concatenate(days),
    )


class NeuralForecaster(Forecaster):
    """Global MLP of quantiles and drop probability (see the module docstring)."""

    name = "mlp"

    def __init__(self, config: NeuralConfig | None = None) -> None:
        super().__init__()
        self.config = config or NeuralConfig()
        self.point_mode = "naive" if self.config.point == "auto" else self.config.point
        self.columns = self.config.columns()
        self.mean = np.zeros(len(self.columns))
        self.std = np.ones(len(self.columns))
        self.net: torch.nn.ModuleList | None = None
        self.groups = GroupRates.fit([])
        self.metrics: dict[str, float] = {}

    # ------------------------------------------------------------------------------------- training
    def fit(
        self,
        series: Sequence[PriceSeries],
        *,
        until: np.datetime64 | None = None,
        progress: Progress | None = None,
    ) -> NeuralForecaster:
        import torch

        torch.set_num_threads(self.config.threads)
        torch.manual_seed(self.config.seed)
        rng = np.random.default_rng(self.config.seed)
        t0 = time.perf_counter()
        self.panel = PanelStats.fit(series, until)
        self.groups = GroupRates.fit(series, until)
        data = _windows(series, until, self.config, self.groups, rng)
        if len(data.x) == 0:
            raise ValueError("not enough price history to train on (need series with 5+ periods)")
        if len(data.x) > self.config.max_samples:
            data = data.take(np.sort(rng.choice(len(data.x), self.config.max_samples, replace=False)))
        held = np.zeros(len(data.x), dtype=bool)
        if self.config.point == "auto":
            items = np.unique(data.item)  # an item's copies in several stores are held out together
            if len(items) >= 10:
                held = np.isin(data.item, rng.choice(items, len(items) // 10, replace=False))
        self.mean = data.x[~held].mean(axis=0)
        self.std = np.maximum(data.x[~held].std(axis=0), MIN_STD)
        x = torch.tensor(self._standardise(data.x), dtype=torch.float32)
        y = torch.tensor(data.ratio * TARGET_SCALE, dtype=torch.float32)
        events = np.stack([data.drop, data.ratio < -MOVE_EPS, data.ratio > MOVE_EPS], axis=1)
        d = torch.tensor(events, dtype=torch.float32)  # (windows, 3, horizon)
        head_w = torch.tensor(
            [self.config.drop_weight, self.config.move_weight, self.config.move_weight], dtype=torch.float32
        )[None, :, None]
        m = torch.tensor(data.mask, dtype=torch.float32)
        train_idx = np.flatnonzero(~held)
        q = torch.tensor(QUANTILES, dtype=torch.float32)
        bs = self.config.batch_size
        # An epoch is one pass over the *distinct* windows: the same item in ten stores would otherwise
        # be trained on ten times as long and overfit (M5 CA_1 items copied into 3 stores: drop AUC
        # 0.639 with plain epochs, as with 12 epochs on one store, against 0.665)
        per_epoch = data.distinct(train_idx)
        batches = math.ceil(per_epoch / bs)
        epochs = max(self.config.epochs, math.ceil(MIN_STEPS / max(batches, 1)))  # small panels: enough steps
        per_member = epochs * batches
        masked = events * data.mask[:, None, :]
        rate = masked[~held].sum(axis=0) / np.maximum(data.mask[~held].sum(axis=0), 1.0)[None, :]
        prior = np.log(np.clip(rate, 1e-4, 0.5) / (1 - np.clip(rate, 1e-4, 0.5))).reshape(-1)
        steps = per_member * self.config.ensemble
        done = 0
        members = []
        for member in range(self.config.ensemble):
            torch.manual_seed(self.config.seed + 1000 * member)
            net = _build_net(x.shape[1], self.config)
            with torch.no_grad():  # start the event heads at their base rates: drops are ~1 %, not 50 %
                deep = net.get_submodule("deep")
                assert isinstance(deep, torch.nn.Sequential)
                last = deep[-1]
                assert isinstance(last, torch.nn.Linear)
                last.bias[self.config.horizon * 3 :] = torch.tensor(prior, dtype=torch.float32)
            opt = torch.optim.AdamW(
                net.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay
            )
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=self.config.lr, total_steps=max(per_member, 1)
            )
            net.train()
            for _ in range(epochs):
                order = torch.from_numpy(rng.permutation(train_idx)[:per_epoch])
                for start in range(0, len(order), bs):
                    idx = order[start : start + bs]
                    quant, logits = _split_outputs(net(x[idx]), self.config.horizon)
                    err = y[idx].unsqueeze(2) - quant
                    pinball = torch.maximum(q * err, (q - 1) * err).mean(dim=2)
                    bce = torch.nn.functional.binary_cross_entropy_with_logits(
                        logits, d[idx], reduction="none"
                    )
                    mask = m[idx]
                    loss = ((pinball + (head_w * bce).sum(dim=1)) * mask).sum() / mask.sum().clamp(min=1.0)
                    opt.zero_grad()
                    loss.backward()  # type: ignore[no-untyped-call]
                    opt.step()
                    sched.step()
                    done += 1
                    if progress is not None and done % 20 == 0:
                        progress(done, steps)
            net.eval()
            members.append(net)
        self.net = torch.nn.ModuleList(members)
        if progress is not None:
            progress(steps, steps)
        self.point_mode = self.config.point
        if self.config.point == "auto":
            self.point_mode = self._choose_point(x[torch.from_numpy(np.flatnonzero(held))], data, held)
        self.metrics["train_s"] = round(time.perf_counter() - t0, 1)
        self.metrics["windows"] = float(len(train_idx))
        self.metrics["epoch_windows"] = float(per_epoch)
        return self

    def _choose_point(self, x_held: torch.Tensor, data: _Windows, held: npt.NDArray[np.bool_]) -> str:
        """MAE guard: the learned median only if it beats "same as today" on held-out series."""
        if len(x_held) == 0:
            return "naive"
        quant, _ = self._raw(x_held)
        mid = quant[:, :, 1] / TARGET_SCALE
        ratio, mask = data.ratio[held], data.mask[held]
        mae_model = float((np.abs(np.exp(ratio) - np.exp(mid)) * mask).sum())
        mae_naive = float((np.abs(np.exp(ratio) - 1.0) * mask).sum())
        self.metrics["val_mae_ratio_model"] = mae_model / max(mask.sum(), 1)
        self.metrics["val_mae_ratio_naive"] = mae_naive / max(mask.sum(), 1)
        return "median" if mae_model < 0.99 * mae_naive else "naive"

    def _standardise(self, features: FloatArray) -> FloatArray:
        """z-scores clipped to ±``CLIP``: a feature that was constant in training cannot explode later."""
        return np.clip((features - self.mean) / self.std, -CLIP, CLIP)

    def _raw(self, x: torch.Tensor) -> tuple[FloatArray, FloatArray]:
        import torch

        if self.net is None:
            raise ValueError("the neural forecaster is not trained")
        quants, probs = [], []
        with torch.no_grad():
            for member in self.net:  # the ensemble's mean quantiles (still ordered) and mean probability
                quant, logits = _split_outputs(member(x), self.config.horizon)
                quants.append(quant.double().numpy())
                probs.append(torch.sigmoid(logits).double().numpy())
        return np.mean(quants, axis=0), np.mean(probs, axis=0)

    # ------------------------------------------------------------------------------------ inference
    def predict_origins(
        self, series: PriceSeries, origins: IntArray, horizon: int, drop_horizon: int | None = None
    ) -> ForecastBatch:
        import torch

        feats = self._standardise(origin_features(series, origins, self.groups)[:, self.columns])
        quant, probs = self._raw(torch.tensor(feats, dtype=torch.float32))
        cols = np.minimum(np.arange(horizon), self.config.horizon - 1)
        log_q = quant[:, cols, :] / TARGET_SCALE
        p0 = series.prices[origins][:, None]
        median = p0 * np.exp(log_q[:, :, 1])
        point = median if self.point_mode == "median" else np.repeat(p0, horizon, axis=1)
        low = np.minimum(p0 * np.exp(log_q[:, :, 0]), point)
        high = np.maximum(p0 * np.exp(log_q[:, :, 2]), point)
        dh = min(max(drop_horizon or horizon, 1), self.config.horizon)
        below, above = probs[:, 1, cols], probs[:, 2, cols]
        return ForecastBatch(point, low, high, np.clip(probs[:, 0, dh - 1], 0.0, 1.0), below, above)

    # ---------------------------------------------------------------------------------- persistence
    def to_config(self) -> dict[str, Any]:
        return {
            **super().to_config(),
            "neural": asdict(self.config),
            "point_mode": self.point_mode,
            "heads": HEADS,
            "groups": self.groups.to_dict(),
            "features": [FEATURE_NAMES[i] for i in self.columns],
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "metrics": self.metrics,
        }

    def save(self, directory: Path | str) -> Path:
        from safetensors.torch import save_file

        if self.net is None:
            raise ValueError("the neural forecaster is not trained")
        directory = super().save(directory)
        state = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        return directory

    @classmethod
    def from_config(cls, config: dict[str, Any], directory: Path) -> NeuralForecaster:
        import torch
        from safetensors.torch import load_file

        model = cls(NeuralConfig.from_dict(config["neural"]))
        features = [FEATURE_NAMES[i] for i in model.columns]
        if config.get("features") != features or config.get("heads") != HEADS:
            raise ValueError(
                f"{directory}: saved with other features or outputs; retrain (shopassist train pricing)"
            )
        model.panel = PanelStats(**config["panel"])
        model.groups = GroupRates.from_dict(config["groups"])
        model.point_mode = config["point_mode"]
        model.mean = np.array(config["mean"], dtype=np.float64)
        model.std = np.array(config["std"], dtype=np.float64)
        model.metrics = dict(config.get("metrics", {}))
        model.validation = dict(config.get("validation", {}))
        net = torch.nn.ModuleList(
            _build_net(len(model.columns), model.config) for _ in range(model.config.ensemble)
        )
        weights = directory / WEIGHTS_FILE
        if not weights.is_file():
            raise ValueError(f"{directory}: {WEIGHTS_FILE} missing")
        net.load_state_dict(load_file(str(weights)))
        net.eval()
        model.net = net
        return model
