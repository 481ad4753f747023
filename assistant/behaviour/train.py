"""Training the abandonment model and its logistic-regression baseline (PyTorch, CPU, seeded).

1. Sessions are split by session (seeded): training, validation (early stopping, thresholds, the
   baseline's regularisation) and test (the metrics stored with the model).
2. Continuous features are standardised with the training split's statistics.
3. The baseline, an L2-regularised logistic regression over the prefix features (current row and
   running mean), is fitted with L-BFGS for each strength in ``baseline_l2`` and the one with the
   lowest validation loss is kept.
4. The GRU is trained with Adam on the mean binary cross-entropy over every prediction (each turn
   before the first order, labelled with the session's outcome).  With fewer than
   ``RESIDUAL_BELOW`` sessions it is *residual*: its logit is added to the (frozen) baseline's and
   its head starts at zero, so training starts from the baseline and keeps it unless the sequence
   adds something that holds on validation (on simulated logs a GRU alone only ties the baseline
   below ~1,000 sessions, and beats it above).
   The validation loss decides: the starting point and each epoch are candidates, the best one's
   weights are kept, and training stops after ``patience`` epochs without improvement (or at
   ``max_seconds``).
5. Each gets the threshold with the best F1 on the validation predictions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.behaviour.dataset import Sequences, build_sequences, evaluate, split_by_session
from assistant.behaviour.features import BINARY, FEATURES, SessionLog
from assistant.behaviour.metrics import best_f1_threshold
from assistant.behaviour.model import AbandonmentModel, new_version, prefix_rows

__all__ = ["TrainConfig", "TooFewSessions", "train_abandonment", "early_stop", "RESIDUAL_BELOW"]

#: below this many sessions the GRU is trained as a correction of the baseline (see TrainConfig)
RESIDUAL_BELOW = 1000


class TooFewSessions(ValueError):
    """The log has too few finished sessions (or only one outcome) to learn from."""


@dataclass(frozen=True)
class TrainConfig:
    hidden: int = 32
    epochs: int = 80
    patience: int = 15
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    val_share: float = 0.15
    test_share: float = 0.15
    seed: int = 0
    #: sessions longer than this are cut (their first turns are the ones that matter)
    max_turns: int = 60
    #: stop training the GRU after this long (the best epoch so far is kept)
    max_seconds: float | None = None
    baseline_l2: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
    min_sessions: int = 20
    #: the GRU's logit is added to the (frozen) baseline's: it learns what the order-free view misses.
    #: None: residual below ``RESIDUAL_BELOW`` sessions, where a GRU alone does no better than the
    #: baseline on held-out sessions, and a plain GRU from there on (it does better)
    residual: bool | None = None


def early_stop(losses: Sequence[float], patience: int) -> tuple[int, bool]:
    """Index of the best (lowest) validation loss so far, and whether to stop: the last ``patience``
    epochs did not improve on it."""
    best = int(np.argmin(losses))
    return best, len(losses) - 1 - best >= patience


def _stats(x: list[npt.NDArray[np.float32]]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    rows = np.concatenate(x, axis=0).astype(np.float64)
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    binary = np.array([f in BINARY for f in FEATURES])
    mean = np.where(binary, 0.0, mean)
    std = np.where(binary | (std < 1e-6), 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def _batches(
    data: Sequences, model: AbandonmentModel, order: Sequence[int], size: int
) -> list[tuple[Any, Any, Any, Any]]:
    """Padded batches: standardised rows, labels, mask, and the baseline's logits (the GRU's offset
    when the model is residual, else zeros)."""
    import torch

    out = []
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        t_max = max(len(data.x[i]) for i in idx)
        xb = np.zeros((len(idx), t_max, len(FEATURES)), np.float32)
        mask = np.zeros((len(idx), t_max), np.float32)
        yb = np.zeros((len(idx), t_max), np.float32)
        offset = np.zeros((len(idx), t_max), np.float32)
        for row, i in enumerate(idx):
            n = len(data.x[i])
            xb[row, :n] = model.standardise(data.x[i])
            mask[row, :n] = 1.0
            yb[row, :n] = data.labels[i]
            if model.residual:
                offset[row, :n] = model.baseline_logits(data.x[i])
        out.append(
            (torch.from_numpy(xb), torch.from_numpy(yb), torch.from_numpy(mask), torch.from_numpy(offset))
        )
    return out


def _collate(parts: Sequence[tuple[Any, Any, Any, Any]]) -> tuple[Any, Any, Any, Any]:
    """One padded batch from single-sequence ones."""
    import torch
    from torch.nn import functional

    t_max = max(p[0].shape[1] for p in parts)

    def pad(t: Any) -> Any:
        return functional.pad(t, (0, 0, 0, t_max - t.shape[1]) if t.dim() == 3 else (0, t_max - t.shape[1]))

    return tuple(torch.cat([pad(p[k]) for p in parts]) for k in range(4))  # type: ignore[return-value]


def _fit_gru(
    model: AbandonmentModel,
    train: Sequences,
    val: Sequences,
    cfg: TrainConfig,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.manual_seed(cfg.seed)
    gru = nn.GRU(len(FEATURES), cfg.hidden, batch_first=True)
    head = nn.Linear(cfg.hidden, 1)
    if model.residual:  # start from the baseline exactly
        nn.init.zeros_(head.weight)
        nn.init.zeros_(head.bias)
    params = [*gru.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    val_batches = _batches(val, model, list(range(len(val))), 256)

    def loss_of(batch: tuple[Any, Any, Any, Any]) -> Any:
        xb, yb, mask, offset = batch
        out, _ = gru(xb)
        logits = head(out).squeeze(-1) + offset
        per = nn.functional.binary_cross_entropy_with_logits(logits, yb, reduction="none")
        return (per * mask).sum(), mask.sum()

    def val_loss() -> float:
        gru.eval()
        head.eval()
        with torch.no_grad():
            sums = [loss_of(b) for b in val_batches]
        gru.train()
        head.train()
        return float(sum(s for s, _ in sums) / max(1.0, float(sum(n for _, n in sums))))

    # epoch 0 is the starting point (the baseline itself when residual): kept unless training beats it
    losses: list[float] = [val_loss()]
    best_state: dict[str, Any] = {}
    t0 = time.perf_counter()
    stopped = "epochs"
    train_batches = _batches(train, model, list(range(len(train))), 1)
    for epoch in range(cfg.epochs + 1):
        if epoch:
            order = rng.permutation(len(train)).tolist()
            for start in range(0, len(order), cfg.batch_size):
                batch = _collate([train_batches[i] for i in order[start : start + cfg.batch_size]])
                total, n = loss_of(batch)
                opt.zero_grad()
                (total / n).backward()
                nn.utils.clip_grad_norm_(params, 5.0)
                opt.step()
            losses.append(val_loss())
        best, stop = early_stop(losses, cfg.patience)
        if best == epoch:
            weights = {k: v.detach().numpy().copy() for k, v in gru.state_dict().items()}
            best_state = {
                "gru.weight_ih": weights["weight_ih_l0"],
                "gru.weight_hh": weights["weight_hh_l0"],
                "gru.bias_ih": weights["bias_ih_l0"],
                "gru.bias_hh": weights["bias_hh_l0"],
                "head.weight": head.weight.detach().numpy()[0].copy(),
                "head.bias": head.bias.detach().numpy().copy(),
            }
        if progress is not None:
            progress(epoch, cfg.epochs)
        if stop:
            stopped = "early stopping"
            break
        if cfg.max_seconds is not None and time.perf_counter() - t0 > cfg.max_seconds:
            stopped = "time budget"
            break
    model.arrays.update(best_state)
    best, _ = early_stop(losses, cfg.patience)
    return {
        "epochs": len(losses) - 1,
        "best_epoch": best,
        "start_val_loss": round(losses[0], 4),
        "val_loss": round(losses[best], 4),
        "stopped_by": stopped,
        "gru_s": round(time.perf_counter() - t0, 1),
    }


def _fit_baseline(
    model: AbandonmentModel, train: Sequences, val: Sequences, cfg: TrainConfig
) -> dict[str, Any]:
    import torch

    def rows(data: Sequences) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        xs = [prefix_rows(x) for x in data.x]
        ys = [np.full(len(x), y, np.float64) for x, y in zip(data.x, data.labels, strict=True)]
        return np.concatenate(xs).astype(np.float64), np.concatenate(ys)

    xt, yt = rows(train)
    xv, yv = rows(val)
    mean = xt.mean(axis=0)
    std = xt.std(axis=0)
    std = np.where(std < 1e-6, 1.0, std)
    xt_t = torch.from_numpy((xt - mean) / std)
    xv_t = torch.from_numpy((xv - mean) / std)
    yt_t, yv_t = torch.from_numpy(yt), torch.from_numpy(yv)
    best: tuple[float, float, Any, Any] | None = None
    for l2 in cfg.baseline_l2:
        torch.manual_seed(cfg.seed)
        w = torch.zeros(xt.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

        def closure(w: Any = w, b: Any = b, opt: Any = opt, l2: float = l2) -> Any:
            opt.zero_grad()
            loss = (
                torch.nn.functional.binary_cross_entropy_with_logits(xt_t @ w + b, yt_t) + l2 * (w * w).sum()
            )
            loss.backward()
            return loss

        opt.step(closure)  # type: ignore[no-untyped-call]
        with torch.no_grad():
            vloss = float(torch.nn.functional.binary_cross_entropy_with_logits(xv_t @ w + b, yv_t))
        if best is None or vloss < best[1]:
            best = (l2, vloss, w.detach().numpy().copy(), b.detach().numpy().copy())
    assert best is not None
    l2, vloss, w_np, b_np = best
    model.arrays.update(
        {
            "baseline.mean": mean.astype(np.float32),
            "baseline.std": std.astype(np.float32),
            "baseline.weight": w_np.astype(np.float32),
            "baseline.bias": b_np.astype(np.float32),
        }
    )
    return {"baseline_l2": l2, "baseline_val_loss": round(vloss, 4)}


def _thresholds(model: AbandonmentModel, val: Sequences) -> None:
    labels = [y for x, y in zip(val.x, val.labels, strict=True) for _ in range(len(x))]
    scores = np.concatenate([model.risks(x) for x in val.x])
    base = np.concatenate([model.baseline_risks(x) for x in val.x])
    model.threshold, _ = best_f1_threshold(labels, scores)
    model.baseline_threshold, _ = best_f1_threshold(labels, base)


def train_abandonment(
    sessions: Sequence[SessionLog],
    config: TrainConfig | None = None,
    *,
    description: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AbandonmentModel:
    """Train the GRU and its baseline on finished sessions; the model's ``metrics`` hold the
    validation and test figures (:func:`~assistant.behaviour.dataset.evaluate`)."""
    cfg = config or TrainConfig()
    t0 = time.perf_counter()
    data = build_sequences(sessions, max_turns=cfg.max_turns)
    if len(data) < cfg.min_sessions:
        raise TooFewSessions(
            f"{len(data)} sessions with turns to learn from; at least {cfg.min_sessions} needed"
        )
    if len(set(data.labels)) < 2:
        raise TooFewSessions("every session has the same outcome (all ordered or none did); nothing to learn")
    train_idx, val_idx, test_idx = split_by_session(
        data.ids, val_share=cfg.val_share, test_share=cfg.test_share, seed=cfg.seed
    )
    train, val, test = data.subset(train_idx), data.subset(val_idx), data.subset(test_idx)
    residual = len(data) < RESIDUAL_BELOW if cfg.residual is None else cfg.residual
    model = AbandonmentModel(hidden=cfg.hidden, residual=residual, version=new_version())
    mean, std = _stats(train.x)
    model.arrays["feature_mean"], model.arrays["feature_std"] = mean, std
    fit = _fit_baseline(model, train, val, cfg)
    fit.update(_fit_gru(model, train, val, cfg, progress))
    _thresholds(model, val)
    model.metrics = {"validation": evaluate(model, val), "test": evaluate(model, test) if len(test) else None}
    channels: dict[str, int] = {}
    for s in sessions:
        channels[s.channel] = channels.get(s.channel, 0) + 1
    model.training = {
        **(description or {}),
        "sessions": len(data),
        "channels": channels,
        "train_sessions": len(train),
        "val_sessions": len(val),
        "test_sessions": len(test),
        "predictions": data.n_predictions,
        "abandon_rate": round(sum(data.labels) / len(data), 4),
        "config": {k: v for k, v in asdict(cfg).items() if k != "baseline_l2"},
        **fit,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    return model
