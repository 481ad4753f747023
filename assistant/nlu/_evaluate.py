"""The NLU metric of DESIGN.md and the evaluation loop.

``{"n", "intent_accuracy", "slot_f1", "p50_ms", "p95_ms"}``: intent accuracy over lines; slot
F1 is micro-averaged over (slot, value) pairs — strings compared lower-cased, product types also
without a plural "s"/"es", numbers within 0.01, list slots element by element (each element is
one pair); latency is the wall time of one ``parse`` call (batch of one), after a short warm-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.nlu._schema import Example

if TYPE_CHECKING:
    from assistant.nlu._model import NLUResult

__all__ = [
    "EvalFormatError",
    "SlotCounts",
    "slot_pairs",
    "values_match",
    "count_slot_matches",
    "slot_f1",
    "percentile",
    "read_eval_file",
    "evaluate_nlu",
    "evaluate_examples",
]


class EvalFormatError(ValueError):
    """A line of an eval file is not ``{"text": str, "intent": str, "slots": {...}}``."""


class _Parser(Protocol):
    def parse(self, text: str) -> NLUResult: ...


def slot_pairs(slots: dict[str, Any]) -> list[tuple[str, Any]]:
    """(slot, value) pairs; a list value gives one pair per element."""
    out: list[tuple[str, Any]] = []
    for name, value in slots.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((name, v) for v in value)
        else:
            out.append((name, value))
    return out


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def values_match(slot: str, gold: Any, pred: Any) -> bool:
    """Whether a predicted value counts as the gold one (the comparison rules of DESIGN.md)."""
    g_num, p_num = _as_number(gold), _as_number(pred)
    if g_num is not None and p_num is not None and (not isinstance(gold, str) or not isinstance(pred, str)):
        return abs(g_num - p_num) <= 0.01
    g = " ".join(str(gold).lower().split())
    p = " ".join(str(pred).lower().split())
    if g == p:
        return True
    if g_num is not None and p_num is not None:
        return abs(g_num - p_num) <= 0.01
    if slot == "product_type":
        return g in (p + "s", p + "es") or p in (g + "s", g + "es")
    return False


@dataclass
class SlotCounts:
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    def add(self, other: SlotCounts) -> None:
        self.tp += other.tp
        self.n_pred += other.n_pred
        self.n_gold += other.n_gold

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 1.0

    @property
    def f1(self) -> float:
        if self.n_pred == 0 and self.n_gold == 0:
            return 1.0
        denom = self.n_pred + self.n_gold
        return 2 * self.tp / denom if denom else 0.0


def count_slot_matches(gold: dict[str, Any], pred: dict[str, Any]) -> SlotCounts:
    """True positives and pair counts of one utterance (each gold pair matched at most once)."""
    g_pairs = slot_pairs(gold)
    p_pairs = slot_pairs(pred)
    used = [False] * len(g_pairs)
    tp = 0
    for p_slot, p_val in p_pairs:
        for i, (g_slot, g_val) in enumerate(g_pairs):
            if not used[i] and g_slot == p_slot and values_match(g_slot, g_val, p_val):
                used[i] = True
                tp += 1
                break
    return SlotCounts(tp=tp, n_pred=len(p_pairs), n_gold=len(g_pairs))


def slot_f1(golds: Sequence[dict[str, Any]], preds: Sequence[dict[str, Any]]) -> float:
    """Micro F1 over (slot, value) pairs of many utterances (1.0 when neither side has any)."""
    total = SlotCounts()
    for g, p in zip(golds, preds, strict=True):
        total.add(count_slot_matches(g, p))
    return total.f1


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in 0..100."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _iter_eval_lines(path: Path) -> Iterator[Example]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvalFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalFormatError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise EvalFormatError(f"{path}:{lineno}: expected an object")
            text, intent, slots = record.get("text"), record.get("intent"), record.get("slots", {})
            if not isinstance(text, str) or not isinstance(intent, str):
                raise EvalFormatError(f'{path}:{lineno}: needs "text" and "intent" strings')
            if slots is None:
                slots = {}
            if not isinstance(slots, dict):
                raise EvalFormatError(f'{path}:{lineno}: "slots" must be an object')
            yield Example(text=text, intent=intent, slots=slots, source=str(path))


def read_eval_file(path: Path) -> list[Example]:
    """All lines of an eval-format JSONL file; :class:`EvalFormatError` on the first bad one."""
    return list(_iter_eval_lines(path))


def evaluate_examples(
    model: _Parser, examples: Iterable[Example], *, warmup: int = 5
) -> dict[str, float | int]:
    """The metric over in-memory examples."""
    items = list(examples)
    for ex in items[:warmup]:
        model.parse(ex.text)
    golds: list[dict[str, Any]] = []
    preds: list[dict[str, Any]] = []
    latencies: list[float] = []
    correct = 0
    for ex in items:
        result = model.parse(ex.text)
        latencies.append(result.latency_ms)
        correct += int(result.intent == ex.intent)
        golds.append(ex.slots)
        preds.append(result.slots)
    n = len(items)
    return {
        "n": n,
        "intent_accuracy": round(correct / n, 4) if n else 0.0,
        "slot_f1": round(slot_f1(golds, preds), 4),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
    }


def evaluate_nlu(model: _Parser, path: Path) -> dict[str, float | int]:
    """Read an eval JSONL file and measure ``model`` on it (DESIGN.md, "NLU schema")."""
    return evaluate_examples(model, read_eval_file(path))
