"""Sequential recommender: "what comes next" from a shopper's item history (SASRec, GRU4Rec baseline).

Items are strings (product ids); the model keeps its own vocabulary.  Training uses a softmax
cross-entropy over the item catalogue at every real (non-padding) position of each sequence: the full
softmax when the catalogue is small (≤ ``negatives`` items); otherwise the target against 2,048
uniform negatives shared by the batch plus the position's own history (exact negatives: the model
learns not to recommend what was just bought, which the full softmax would teach and a sparse sample
misses).  On Amazon Beauty the history negatives lifted test NDCG@10 from .0316 to .0377 (all items
ranked); scaling the sampled logits by log(n/M) towards the full softmax made it worse (.0343).
Evaluation ranks the whole vocabulary (no sampled candidates).

Torch loads inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import random
import time
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from torch import Tensor

    from rankers._seq_nets import SequenceNet

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MODEL_DEFAULTS",
    "ProgressFn",
    "SequentialConfig",
    "SequentialRecommender",
    "evaluate_full_ranking",
    "metrics_from_ranks",
    "read_sequences",
    "target_ranks",
    "train_sequential",
]

#: what a damaged or mismatched ``model.pt`` raises in ``torch.load`` / ``load_state_dict``
_LOAD_ERRORS = (
    OSError,
    RuntimeError,
    EOFError,
    KeyError,
    ValueError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)

FORMAT_NAME = "shopassist.sequential-recommender"
FORMAT_VERSION = 1
MODELS = ("sasrec", "gru4rec")
KS = (10, 20)

#: ``update(done, total)``, the shape of ``api.cli._common.progress_bar``'s callback
ProgressFn = Callable[[int, int], None]


class _TqdmLike(Protocol):
    total: Any

    def update(self, n: float | None = ...) -> Any: ...


@dataclass(frozen=True)
class SequentialConfig:
    """Hyper-parameters; the defaults are the ones measured on Amazon Beauty (see the module tests)."""

    model: Literal["sasrec", "gru4rec"] = "sasrec"
    dim: int = 64
    layers: int = 2
    heads: int = 1
    dropout: float = 0.5
    #: the last ``max_len`` items of a history are read
    max_len: int = 50
    #: upper bound on passes over the data; early stopping usually ends sooner
    epochs: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    #: validate every ``eval_every`` epochs; stop after ``patience`` validations without a better NDCG@10
    eval_every: int = 3
    patience: int = 8
    #: halve the learning rate after this many validations in a row without a better NDCG@10
    lr_halve_after: int = 2
    #: shared uniform negatives per batch; the full softmax when the vocabulary is no larger
    negatives: int = 2048
    #: with sampled negatives, also each position's own history (exact, cheap: B×T×T scores)
    history_negatives: bool = True
    seed: int = 0
    #: stop (keeping the best validated state) once training has run this long
    max_train_s: float | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose sasrec or gru4rec")
        positive = {
            "dim": self.dim,
            "layers": self.layers,
            "heads": self.heads,
            "max_len": self.max_len,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "eval_every": self.eval_every,
            "patience": self.patience,
            "lr_halve_after": self.lr_halve_after,
            "negatives": self.negatives,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not a multiple of heads {self.heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")

    @classmethod
    def for_model(cls, model: str, **overrides: Any) -> SequentialConfig:
        """The defaults of ``model`` (see :data:`MODEL_DEFAULTS`) with ``overrides`` on top."""
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; choose sasrec or gru4rec")
        return cls(**{"model": model, **MODEL_DEFAULTS[model], **overrides})


#: per-model settings that differ from the dataclass defaults (chosen on Amazon Beauty's validation split)
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    # the dataclass defaults: dim 64, 2 blocks, 1 head, dropout 0.5 (Beauty is sparse: ~9 items a user),
    # Adam 1e-3 halved after 2 checks without gain.  Validation NDCG@10 plateaus from epoch ~15 at a
    # constant lr (patience 4 stopped one run there: test R@10 .0738); the halving lets it climb
    # to .0452 by epoch ~60 (test R@10 .0808), patience 8 checks x 3 epochs
    "sasrec": {},
    # at lr 1e-3 / dropout 0.5 the GRU was still improving after 100 epochs (valid NDCG@10 .035);
    # 3e-3 / 0.3 with the halving reaches .0426 at epoch 111 (~16 min on 1 busy core; test R@10 .0585)
    "gru4rec": {"lr": 3e-3, "dropout": 0.3},
}


# ----------------------------------------------------------------------------- data


def read_sequences(path: Path | str) -> list[list[str]]:
    """Read ``user item item …`` lines (chronological items, the Beauty.txt format of S3-Rec/ICLRec).

    Returns the item sequences in file order (user ids dropped).  Blank lines are skipped; a line with
    no item, an unreadable file or one with no sequence raises :class:`ValueError` naming the problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    sequences: list[list[str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) < 2:
            raise ValueError(f"{path}:{number}: expected 'user_id item_id [item_id …]', got {line.strip()!r}")
        sequences.append(tokens[1:])
    if not sequences:
        raise ValueError(f"{path}: no sequences")
    return sequences


# ----------------------------------------------------------------------------- metrics


def target_ranks(
    scores: NDArray[np.floating[Any]],
    targets: NDArray[np.integer[Any]],
    exclude: Sequence[Collection[int]] | None = None,
) -> NDArray[np.int64]:
    """0-based rank of each row's target column among all columns (ties count against the target).

    ``targets[i] < 0`` marks a target the model cannot score (rank = number of columns, a miss).
    ``exclude[i]`` are columns removed from row i's ranking (the user's history), the target included.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    n_rows, n_cols = scores.shape
    if exclude is not None:
        for row, columns in enumerate(exclude):
            scores[row, list(columns)] = -np.inf
    ranks = np.full(n_rows, n_cols, dtype=np.int64)
    known = targets >= 0
    rows = np.flatnonzero(known)
    target_scores = scores[rows, targets[known]]
    ranks[rows] = np.where(
        np.isneginf(target_scores), n_cols, (scores[rows] >= target_scores[:, None]).sum(axis=1) - 1
    )
    return ranks


def metrics_from_ranks(ranks: NDArray[np.integer[Any]], ks: Iterable[int] = KS) -> dict[str, float]:
    """Recall@k and NDCG@k for one relevant item per user, from its 0-based rank."""
    ranks = np.asarray(ranks)
    out: dict[str, float] = {}
    if ranks.size == 0:
        return {f"{name}@{k}": 0.0 for k in ks for name in ("recall", "ndcg")}
    for k in ks:
        hit = ranks < k
        out[f"recall@{k}"] = float(hit.mean())
        out[f"ndcg@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean())
    return out


# ----------------------------------------------------------------------------- the model


@dataclass
class SequentialRecommender:
    """A trained sequential recommender over a vocabulary of item ids (strings)."""

    config: SequentialConfig
    items: list[str] = field(repr=False)
    network: SequenceNet = field(repr=False)
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        self.index = {item: i + 1 for i, item in enumerate(self.items)}
        self.network.eval()

    @property
    def n_items(self) -> int:
        return len(self.items)

    # -- scoring ------------------------------------------------------------------------------

    def _indices(self, history: Iterable[str]) -> list[int]:
        known = [self.index[item] for item in history if item in self.index]
        return known[-self.config.max_len :]

    def _logits(self, histories: Sequence[Sequence[int]]) -> Tensor:
        """Scores of every item after each (non-empty) index history, [len(histories), n_items]."""
        import torch

        with torch.no_grad():
            items, lengths = _pad(histories)
            hidden = self.network.last_hidden(items, lengths)
            return hidden @ self.network.item_weights().T

    def score(self, history: Sequence[str]) -> NDArray[np.float32] | None:
        """Probability of each vocabulary item (``self.items`` order) coming next; ``None`` when no item
        of ``history`` is known to the model."""
        import torch

        indices = self._indices(history)
        if not indices:
            return None
        probs = torch.softmax(self._logits([indices])[0], dim=0)
        return probs.numpy().astype(np.float32)

    def recommend(
        self, history: Sequence[str], k: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` likeliest next items with their probabilities, best first; items in ``exclude`` are
        skipped, unknown items of ``history`` ignored, an empty or unknown history gives ``[]``."""
        probs = self.score(history)
        if probs is None or k < 1:
            return []
        for item in exclude:
            column = self.index.get(item)
            if column is not None:
                probs[column - 1] = -1.0
        k = min(k, int((probs >= 0).sum()))
        if k < 1:
            return []
        top = np.argpartition(-probs, k - 1)[:k] if k < probs.size else np.arange(probs.size)
        top = top[np.argsort(-probs[top], kind="stable")][:k]
        return [(self.items[i], float(probs[i])) for i in top]

    def explain(self, history: Sequence[str], item_id: str) -> str | None:
        """The history item that most supports recommending ``item_id``, or ``None``.

        Leave-one-out: the item whose removal from the history lowers ``item_id``'s log-probability the
        most (one batched forward pass over the variants).  ``None`` when ``item_id`` or the whole
        history is unknown, or when no removal lowers it.  A one-item history is its own support.
        """
        import torch

        target = self.index.get(item_id)
        indices = self._indices(history)
        if target is None or not indices:
            return None
        candidates = list(dict.fromkeys(i for i in indices if i != target))
        if not candidates:
            return None
        if len(set(indices)) == 1:
            return self.items[indices[0] - 1]
        variants = [indices] + [[i for i in indices if i != c] for c in candidates]
        usable = [v for v in variants if v]
        logp = torch.log_softmax(self._logits(usable), dim=1)[:, target - 1]
        drops: list[float] = []
        position = 1
        for variant in variants[1:]:
            if variant:
                drops.append(float(logp[0] - logp[position]))
                position += 1
            else:
                drops.append(-math.inf)
        best = int(np.argmax(drops))
        return self.items[candidates[best] - 1] if drops[best] > 0 else None

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write ``model.pt`` (state dict) and ``meta.json`` (format, config, vocabulary, metrics)."""
        import torch

        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.network.state_dict(), directory / "model.pt")
        meta = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "config": dataclasses.asdict(self.config),
            "metrics": self.metrics,
            "items": self.items,
        }
        (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> SequentialRecommender:
        """Read an artifact written by :meth:`save`; a missing, foreign or damaged one raises ValueError."""
        import torch

        meta_path, weights_path = directory / "meta.json", directory / "model.pt"
        for path in (meta_path, weights_path):
            if not path.is_file():
                raise ValueError(f"{directory}: not a sequential recommender ({path.name} missing)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{meta_path}: not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise ValueError(f"{meta_path}: not a sequential recommender artifact")
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_path}: format version {meta.get('format_version')!r}, "
                f"this code reads {FORMAT_VERSION}"
            )
        items = meta.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{meta_path}: 'items' must be a non-empty list of strings")
        try:
            config = SequentialConfig(**meta["config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{meta_path}: bad config ({exc})") from None
        network = _network(config, len(items))
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            network.load_state_dict(state)
        except (
            OSError,
            RuntimeError,
            EOFError,
            KeyError,
            ValueError,
            pickle.UnpicklingError,
            zipfile.BadZipFile,
        ) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{weights_path}: weights do not match meta.json ({first})") from None
        metrics = meta.get("metrics") or {}
        created = str(meta.get("created_at", ""))
        return cls(config=config, items=list(items), network=network, metrics=metrics, created_at=created)


# ----------------------------------------------------------------------------- evaluation


def evaluate_full_ranking(
    model: SequentialRecommender,
    sequences: Sequence[Sequence[str]],
    split: Literal["test", "valid"] = "test",
    *,
    exclude_history: bool = True,
    batch_size: int = 1024,
) -> dict[str, float | int]:
    """Leave-one-out full ranking: Recall@10/20 and NDCG@10/20 over the model's whole vocabulary.

    ``test``: history = all but the last item, target = the last item; ``valid``: history = all but
    the last two, target = the second last.  Sequences too short for the split are skipped; a target or
    a whole history unknown to the model counts as a miss.  ``exclude_history`` removes the user's
    history items from their ranking, as the S3-Rec/ICLRec/DuoRec evaluation code does
    (``rating_pred[train_matrix > 0] = 0``); ``False`` ranks every item.
    """
    drop = 1 if split == "test" else 2
    if split not in ("test", "valid"):
        raise ValueError(f"unknown split {split!r}; choose test or valid")
    histories: list[list[int]] = []
    targets: list[int] = []
    for sequence in sequences:
        if len(sequence) <= drop:
            continue
        histories.append([model.index[i] for i in sequence[:-drop] if i in model.index])
        targets.append(model.index.get(sequence[-drop], 0))
    ranks = _ranks(model, histories, targets, exclude_history=exclude_history, batch_size=batch_size)
    return {**metrics_from_ranks(ranks), "n_users": len(ranks)}


def _ranks(
    model: SequentialRecommender,
    histories: Sequence[Sequence[int]],
    targets: Sequence[int],
    *,
    exclude_history: bool,
    batch_size: int,
) -> NDArray[np.int64]:
    """0-based full-ranking ranks of each target (item index, 0 = unknown) after each index history."""
    import torch

    n = model.n_items
    ranks = np.full(len(targets), n, dtype=np.int64)
    rows = [r for r, (h, t) in enumerate(zip(histories, targets, strict=True)) if h and t]
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        batch_histories = [list(histories[r])[-model.config.max_len :] for r in chunk]
        logits = model._logits(batch_histories)
        if exclude_history:
            row_ids = [r for r, h in enumerate(histories[i] for i in chunk) for _ in h]
            col_ids = [c - 1 for i in chunk for c in histories[i]]
            logits[row_ids, col_ids] = -torch.inf
        tgt = torch.tensor([targets[r] - 1 for r in chunk])
        target_scores = logits[torch.arange(len(chunk)), tgt]
        better = (logits >= target_scores[:, None]).sum(dim=1) - 1
        better = torch.where(torch.isneginf(target_scores), torch.full_like(better, n), better)
        ranks[chunk] = better.numpy()
    return ranks


# ----------------------------------------------------------------------------- training


def _network(config: SequentialConfig, n_items: int) -> SequenceNet:
    from rankers._seq_nets import build_network

    return build_network(
        config.model,
        n_items=n_items,
        dim=config.dim,
        layers=config.layers,
        heads=config.heads,
        dropout=config.dropout,
        max_len=config.max_len,
    )


def _pad(histories: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    import torch

    lengths = [len(h) for h in histories]
    items = np.zeros((len(histories), max(lengths)), dtype=np.int64)
    for row, history in enumerate(histories):
        items[row, : len(history)] = history
    return torch.from_numpy(items), torch.tensor(lengths)


def _progress_fn(progress: ProgressFn | _TqdmLike | None) -> ProgressFn:
    if progress is None:
        return lambda done, total: None
    if hasattr(progress, "update") and hasattr(progress, "total"):
        bar = progress
        state = {"done": 0}

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - state["done"])
            state["done"] = done

        return update
    return progress  # type: ignore[return-value]


def _next_item_loss(
    hidden: Tensor, x: Tensor, y: Tensor, weights: Tensor, *, negatives: SequentialConfig | None
) -> Tensor:
    """Softmax cross-entropy of each real position's next item.

    Full softmax when ``negatives`` is None.  Otherwise the candidates are the target, the position's
    own history (the items it has read: exact negatives, so the model learns not to recommend what was
    just bought) and ``negatives.negatives`` uniform items shared by the batch.
    """
    import torch
    import torch.nn.functional as F

    mask = y > 0
    h, tgt = hidden[mask], y[mask] - 1
    if negatives is None:
        return F.cross_entropy(h @ weights.T, tgt)
    n_items = weights.shape[0]
    parts = [(h * weights[tgt]).sum(dim=1, keepdim=True)]
    if negatives.history_negatives:
        t = x.shape[1]
        own = hidden @ weights[(x - 1).clamp(min=0)].transpose(1, 2)  # [B, query, key]
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        usable = causal[None] & (x[:, None, :] > 0) & (x[:, None, :] != y[:, :, None])
        parts.append(own.masked_fill(~usable, -torch.inf)[mask])
    sample = torch.randint(0, n_items, (negatives.negatives,))
    neg = h @ weights[sample].T
    parts.append(neg.masked_fill(sample[None, :] == tgt[:, None], -torch.inf))
    return F.cross_entropy(torch.cat(parts, dim=1), torch.zeros_like(tgt))


def train_sequential(
    sequences: Sequence[Sequence[str]],
    config: SequentialConfig | None = None,
    *,
    items: Iterable[str] | None = None,
    progress: ProgressFn | _TqdmLike | None = None,
    log: Callable[[str], None] | None = None,
    valid: bool = True,
) -> SequentialRecommender:
    """Train a next-item model on chronological item sequences (one per shopper).

    ``valid=True`` holds out each sequence's last item: training reads the rest, NDCG@10 on the held-out
    items is measured every ``eval_every`` epochs, training stops after ``patience`` measurements without
    a gain and the best state is kept.  ``valid=False`` trains on everything for ``config.epochs``.
    ``items`` adds ids to the vocabulary (e.g. the whole catalogue; those never seen stay untrained).
    ``progress`` is ``update(done, total)`` in optimiser steps, or a tqdm-like bar.
    """
    import torch

    config = config or SequentialConfig()
    say = log or (lambda _message: None)
    update = _progress_fn(progress)
    vocabulary = list(dict.fromkeys([*(i for s in sequences for i in s), *(items or ())]))
    if not vocabulary:
        raise ValueError("no items to learn from")
    index = {item: i + 1 for i, item in enumerate(vocabulary)}
    encoded = [[index[i] for i in s] for s in sequences]
    train_part = [s[:-1] for s in encoded] if valid else encoded
    windows = [s[-(config.max_len + 1) :] for s in train_part if len(s) >= 2]
    if not windows:
        raise ValueError("need at least one sequence with two items to train on (three with validation)")
    valid_histories = [s[:-1][-config.max_len :] for s in encoded if len(s) >= 2] if valid else []
    valid_targets = [s[-1] for s in encoded if len(s) >= 2] if valid else []

    lengths = np.array([len(w) - 1 for w in windows], dtype=np.int64)
    inputs = np.zeros((len(windows), config.max_len), dtype=np.int64)
    targets = np.zeros((len(windows), config.max_len), dtype=np.int64)
    for row, window in enumerate(windows):
        inputs[row, : len(window) - 1] = window[:-1]
        targets[row, : len(window) - 1] = window[1:]
    n_items = len(vocabulary)
    full_softmax = n_items <= config.negatives
    steps_per_epoch = math.ceil(len(windows) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        random.seed(config.seed)
        network = _network(config, n_items)
        model = SequentialRecommender(config=config, items=vocabulary, network=network)
        optimiser = torch.optim.Adam(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        best: tuple[float, int, dict[str, float], dict[str, Tensor]] | None = None
        bad_checks = 0
        started = time.perf_counter()
        epoch = 0
        step = 0
        update(0, total_steps)
        for epoch in range(1, config.epochs + 1):
            network.train()
            # batches of similar length (padding stays small), in random order
            order = np.lexsort((rng.random(len(windows)), lengths))
            batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            total_loss = 0.0
            for b in rng.permutation(len(batches)):
                rows = batches[b]
                t = int(lengths[rows].max())
                x = torch.from_numpy(inputs[rows, :t])
                y = torch.from_numpy(targets[rows, :t])
                hidden = network.encode(x, torch.from_numpy(lengths[rows]))
                loss = _next_item_loss(
                    hidden, x, y, network.item_weights(), negatives=None if full_softmax else config
                )
                optimiser.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
                total_loss += float(loss.detach())
                step += 1
                update(step, total_steps)
            out_of_time = (
                config.max_train_s is not None and time.perf_counter() - started > config.max_train_s
            )
            if valid_targets and (epoch % config.eval_every == 0 or epoch == config.epochs or out_of_time):
                network.eval()
                ranks = _ranks(model, valid_histories, valid_targets, exclude_history=False, batch_size=1024)
                scores = metrics_from_ranks(ranks)
                say(
                    f"epoch {epoch}: loss {total_loss / len(batches):.4f}, valid ndcg@10 "
                    f"{scores['ndcg@10']:.4f}, recall@10 {scores['recall@10']:.4f}"
                )
                improved = best is None or scores["ndcg@10"] > best[0]
                if best is None or scores["ndcg@10"] >= best[0]:  # of equal states, keep the later one
                    state = {k: v.detach().clone() for k, v in network.state_dict().items()}
                    best = (scores["ndcg@10"], epoch, scores, state)
                bad_checks = 0 if improved else bad_checks + 1
                if bad_checks and bad_checks % config.lr_halve_after == 0:
                    for group in optimiser.param_groups:
                        group["lr"] *= 0.5
                    say(f"learning rate halved to {optimiser.param_groups[0]['lr']:.2e}")
                if bad_checks >= config.patience:
                    say(f"early stop after epoch {epoch}; best epoch {best[1]}")
                    break
            if out_of_time:
                say(f"time budget of {config.max_train_s} s spent after epoch {epoch}")
                break
        update(step, step)
    train_s = time.perf_counter() - started
    network.eval()
    model.metrics = {
        "epochs_run": epoch,
        "train_s": round(train_s, 1),
        "n_sequences": len(sequences),
        "n_training_windows": len(windows),
        "n_items": n_items,
        "loss": "full softmax" if full_softmax else f"sampled softmax, {config.negatives} uniform negatives",
    }
    if best is not None:
        network.load_state_dict(best[3])
        model.metrics.update(
            best_epoch=best[1],
            **{f"valid_{k}": round(v, 5) for k, v in best[2].items()},
            n_valid=len(valid_targets),
        )
    return model
