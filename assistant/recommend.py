"""Recommendations from a shopper's session: what to show next, and why.

Two sources, one interface:

* the **sequential model** (SASRec, ``rankers``) trained on the shop's own
  interaction log (``shopassist train recommender --from-log``): "often bought
  after …", explained by the history item that supports the pick most;
* **item-to-item similarity** (product embeddings, nudged by a Bayesian-average
  rating) while the log is too small to train on, or for a history the model
  does not know: "similar to …".

The log is the ``events`` table: views, clicks and image opens the widget
reports, and cart adds and orders the server records.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant._artifacts import ReloadingArtifact
from assistant.db import Database
from assistant.models import EventRow
from retrieval import HybridIndex, Product, SearchFilters

__all__ = [
    "HISTORY_EVENT_TYPES",
    "HistoryItem",
    "Recommendation",
    "Recommender",
    "log_sequences",
    "session_history",
]

#: events that say "the shopper was interested in this product", in the order they happened
HISTORY_EVENT_TYPES = ("view", "click", "image_open", "cart_add", "order")
#: the ones that say "they chose it"
CHOICE_EVENT_TYPES = frozenset({"cart_add", "order"})
MAX_HISTORY = 50


@dataclass(frozen=True)
class HistoryItem:
    product_id: str
    chose: bool  # carted or ordered, not only looked at


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    why: str
    source: str  # "sequential" | "similar"


def _collapse(events: Sequence[tuple[str, str]]) -> list[HistoryItem]:
    """Consecutive events on one product are one step; a choice anywhere in the run marks it chosen."""
    out: list[HistoryItem] = []
    for pid, kind in events:
        chose = kind in CHOICE_EVENT_TYPES
        if out and out[-1].product_id == pid:
            if chose and not out[-1].chose:
                out[-1] = HistoryItem(pid, True)
            continue
        out.append(HistoryItem(pid, chose))
    return out


def session_history(s: Session, session_id: str, *, limit: int = MAX_HISTORY) -> list[HistoryItem]:
    """The session's products in the order the shopper met them (oldest first), at most ``limit``."""
    rows = s.execute(
        select(EventRow.product_id, EventRow.type)
        .where(EventRow.session_id == session_id, EventRow.type.in_(HISTORY_EVENT_TYPES))
        .order_by(EventRow.created_at.desc(), EventRow.id.desc())
        .limit(limit * 3)
    ).all()
    return _collapse([(pid, kind) for pid, kind in reversed(rows)])[-limit:]


def log_sequences(db: Database, *, min_length: int = 2) -> list[list[str]]:
    """Every session's product sequence from the log (training data for the sequential model)."""
    by_session: dict[str, list[tuple[str, str]]] = {}
    with db.session() as s:
        for sid, pid, kind in s.execute(
            select(EventRow.session_id, EventRow.product_id, EventRow.type)
            .where(EventRow.type.in_(HISTORY_EVENT_TYPES))
            .order_by(EventRow.session_id, EventRow.created_at, EventRow.id)
        ):
            by_session.setdefault(sid, []).append((pid, kind))
    sequences = [[h.product_id for h in _collapse(ev)] for ev in by_session.values()]
    return [seq for seq in sequences if len(seq) >= min_length]


def _load_sequential(directory: Path) -> Any:
    from rankers import SequentialRecommender

    return SequentialRecommender.load(directory)


def _rating_prior(p: Product, *, mean: float = 4.0, weight: float = 10.0) -> float:
    """Bayesian-average rating centred on 0: a few 5-star reviews count less than many."""
    if p.rating is None:
        return 0.0
    avg = (p.rating * p.rating_count + mean * weight) / (p.rating_count + weight)
    return (avg - mean) / 1.0


class Recommender:
    """Recommendations for a history, from the trained model when there is one, else by similarity."""

    #: how much the rating prior moves a similarity score (cosine units per rating star)
    RATING_WEIGHT = 0.03
    #: older history counts less: weight of the n-th most recent product is DECAY ** n
    DECAY = 0.6

    def __init__(self, index: HybridIndex, model_dir: Path | None) -> None:
        self.index = index
        self.model_dir = model_dir
        self._artifact: ReloadingArtifact[Any] = ReloadingArtifact(model_dir, _load_sequential)

    def model(self) -> Any:
        """The sequential model trained on the log (reloaded when retrained), or None."""
        return self._artifact.get()

    # ------------------------------------------------------------------ recommend
    def recommend(
        self,
        history: Sequence[HistoryItem],
        *,
        k: int = 5,
        exclude: Collection[str] = (),
        filters: SearchFilters | None = None,
    ) -> list[Recommendation]:
        """Up to ``k`` active products that match ``filters``, best first, none from ``exclude``."""
        filters = filters or SearchFilters()
        known = [h for h in history if h.product_id in self.index]
        if not known:
            return []
        skip = set(exclude) | {h.product_id for h in known}
        picks = self._sequential(known, k=k, skip=skip, filters=filters)
        if len(picks) < k:
            have = {r.product.id for r in picks}
            picks += self._similar(known, k=k - len(picks), skip=skip | have, filters=filters)
        return picks

    def _because(self, history_item: str | None, chose: Collection[str]) -> str | None:
        """The card's reason: the history item the model leans on, or None when it names none we know."""
        if not history_item or history_item not in self.index:
            return None
        verb = "often bought after" if history_item in chose else "often chosen after"
        return f"{verb} {self.index.get(history_item).title}"

    def _sequential(
        self, history: Sequence[HistoryItem], *, k: int, skip: set[str], filters: SearchFilters
    ) -> list[Recommendation]:
        model = self.model()
        if model is None:
            return []
        ids = [h.product_id for h in history]
        chose = {h.product_id for h in history if h.chose}
        out: list[Recommendation] = []
        for pid, score in model.recommend(ids, k=max(4 * k, 20), exclude=skip):
            if pid not in self.index or not self.index.is_active(pid):
                continue
            product = self.index.get(pid)
            if not filters.matches(product):
                continue
            why = self._because(model.explain(ids, pid), chose) or "often chosen by shoppers like you"
            out.append(Recommendation(product, float(score), why, "sequential"))
            if len(out) >= k:
                break
        return out

    def _similar(
        self, history: Sequence[HistoryItem], *, k: int, skip: set[str], filters: SearchFilters
    ) -> list[Recommendation]:
        anchors: list[tuple[str, float]] = []
        for age, h in enumerate(reversed(history[-5:])):
            anchors.append((h.product_id, self.DECAY**age * (1.5 if h.chose else 1.0)))
        best: dict[str, tuple[float, str, Product]] = {}
        wanted = SearchFilters.model_validate({**filters.model_dump(), "in_stock": True})
        for anchor, weight in anchors:
            for product, sim in self.index.similar(anchor, wanted, k=k + len(skip) + 10):
                if product.id in skip:
                    continue
                score = weight * sim + self.RATING_WEIGHT * _rating_prior(product)
                if product.id not in best or score > best[product.id][0]:
                    best[product.id] = (score, anchor, product)
        ranked = sorted(best.values(), key=lambda t: -t[0])[:k]
        return [
            Recommendation(p, s, f"similar to {self.index.get(a).title}", "similar") for s, a, p in ranked
        ]

    # ------------------------------------------------------------------ personalise search
    def personal_boosts(
        self, history: Sequence[HistoryItem], candidate_ids: Sequence[str]
    ) -> dict[str, tuple[float, str]]:
        """For search results: product id → (boost in 0..1, reason) from the sequential model.

        Empty without a trained model or a history it knows: similarity to what
        the shopper looked at already shapes the query's own results.
        """
        model = self.model()
        ids = [h.product_id for h in history if h.product_id in self.index]
        if model is None or not ids or not candidate_ids:
            return {}
        probs = model.score(ids)
        if probs is None:
            return {}
        column = model.index  # item id → 1-based column of ``probs``
        cand = [(pid, float(probs[column[pid] - 1])) for pid in candidate_ids if pid in column]
        if not cand:
            return {}
        ranked = sorted(cand, key=lambda t: -t[1])
        n = len(ranked)
        chose = {h.product_id for h in history if h.chose}
        out: dict[str, tuple[float, str]] = {}
        for pos, (pid, _) in enumerate(ranked[: max(1, n // 5)]):  # the model's top fifth
            why = self._because(model.explain(ids, pid), chose)
            if why:
                out[pid] = (1.0 - pos / n, why)
        return out


#: sessions with two or more products the log needs before the sequential model is worth training
MIN_LOG_SESSIONS = 50


def train_from_log(
    db: Database,
    index: HybridIndex,
    out_dir: Path,
    *,
    min_sessions: int = MIN_LOG_SESSIONS,
    config: Any = None,
    progress: Any = None,
) -> Any:
    """Train the sequential model on the shop's interaction log and save it where the service looks.

    Raises ``ValueError`` (with the counts) when the log is still too small: item-to-item
    similarity keeps serving until then.
    """
    from rankers import SequentialConfig, train_sequential

    sequences = [[pid for pid in seq if pid in index] for seq in log_sequences(db)]
    sequences = [seq for seq in sequences if len(seq) >= 2]
    if len(sequences) < max(1, min_sessions):
        raise ValueError(
            f"the interaction log has {len(sequences)} sessions with two or more products; "
            f"at least {min_sessions} are needed (item-to-item similarity serves until then)"
        )
    model = train_sequential(
        sequences,
        config or SequentialConfig(),
        progress=progress,
        # early stopping on held-out last items once there are enough longer sessions to hold out from
        valid=sum(len(s) >= 3 for s in sequences) >= 200,
    )
    model.save(out_dir)
    return model
