"""Other training sources: the Bitext customer-service sample and staff-corrected labels.

Bitext (CDLA-Sharing: models trained on it may ship, the data stays outside the repo) has
27 customer-service intents; the ones that mean the same as ours are mapped, the rest left out:
track_order -> order_status, contact_human_agent / contact_customer_service / complaint ->
human_handoff, place_order -> checkout, account / password / newsletter / invoice / review
requests -> out_of_scope.  Its utterances carry no slot values, so every word is tagged O.

Staff labels come in the eval format (``{"text", "intent", "slots"}``) without word tags; the
tags are recovered by finding, for every slot value, the words that normalise to it.  When a
value cannot be found the example still trains the intent, and its slot loss is masked.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant.nlu._evaluate import read_eval_file, values_match
from assistant.nlu._normalize import Lexicon, normalize_value
from assistant.nlu._numbers import ORDINAL_WORDS, is_number_token
from assistant.nlu._schema import INTENTS, SLOTS, Example
from assistant.nlu._text import split_words

__all__ = ["BITEXT_INTENT_MAP", "load_bitext", "load_labelled", "align_slots"]

BITEXT_INTENT_MAP: dict[str, str] = {
    "track_order": "order_status",
    "contact_human_agent": "human_handoff",
    "contact_customer_service": "human_handoff",
    "complaint": "human_handoff",
    "place_order": "checkout",
    "create_account": "out_of_scope",
    "delete_account": "out_of_scope",
    "edit_account": "out_of_scope",
    "switch_account": "out_of_scope",
    "recover_password": "out_of_scope",
    "registration_problems": "out_of_scope",
    "newsletter_subscription": "out_of_scope",
    "review": "out_of_scope",
    "check_invoice": "out_of_scope",
    "get_invoice": "out_of_scope",
}


def load_bitext(path: Path, *, per_intent: int = 120, seed: int = 0) -> list[Example]:
    """Mapped Bitext utterances (at most ``per_intent`` of each Bitext intent), all words tagged O."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            src = (row.get("intent") or "").strip()
            text = (row.get("utterance") or "").strip()
            if src in BITEXT_INTENT_MAP and text and "{{" not in text:
                by_intent[src].append(text)
    rng = random.Random(seed)
    out: list[Example] = []
    for src in sorted(by_intent):
        texts = sorted(set(by_intent[src]))
        rng.shuffle(texts)
        limit = per_intent if BITEXT_INTENT_MAP[src] != "out_of_scope" else max(10, per_intent // 3)
        for text in texts[:limit]:
            words = [w.text for w in split_words(text)]
            out.append(
                Example(
                    text=text,
                    intent=BITEXT_INTENT_MAP[src],
                    slots={},
                    tokens=words,
                    tags=["O"] * len(words),
                    source="bitext",
                )
            )
    return out


_CURRENCY = {"$", "dollars", "dollar", "bucks", "buck", "usd", "€", "£", "+", "k", "grand"}
_ORDINAL_EXTRA = {"last", "final", "to", "top", "first", "penultimate", "#", "bottom"}


def _span_ok(slot: str, toks: list[str]) -> bool:
    low = [t.lower() for t in toks]
    if slot in {"price_min", "price_max", "quantity", "rating_min"}:
        return all(
            is_number_token(t) or t in _CURRENCY or t in {"and", "a", "half", "point", "couple", "pair"}
            for t in low
        )
    if slot == "ordinal":
        return all(
            t in ORDINAL_WORDS or t in _ORDINAL_EXTRA or is_number_token(t) or t[:-2].isdigit() for t in low
        )
    return True


def align_slots(text: str, slots: dict[str, Any], lexicon: Lexicon | None = None) -> list[str] | None:
    """Word BIO tags that produce ``slots`` from ``text``, or None when a value is not found."""
    words = split_words(text)
    n = len(words)
    tags = ["O"] * n
    used = [False] * n
    wanted: list[tuple[str, Any]] = []
    for slot, value in slots.items():
        if slot not in SLOTS or value is None:
            continue
        if isinstance(value, list):
            wanted.append((slot, value))
        else:
            wanted.append((slot, value))
    for slot, value in wanted:
        targets: list[Any] = [value] if not isinstance(value, list) else [value]
        if isinstance(value, list) and len(value) > 1:
            targets = [value] + [[v] for v in value]
        found_all = True
        remaining = list(value) if isinstance(value, list) else None
        for target in targets:
            if remaining is not None and not remaining:
                break
            if remaining is not None and isinstance(target, list) and not all(t in remaining for t in target):
                continue
            best: tuple[int, int] | None = None
            for i in range(n):
                for j in range(min(n, i + 6), i, -1):
                    if any(used[i:j]):
                        continue
                    toks = [w.text for w in words[i:j]]
                    if not _span_ok(slot, toks):
                        continue
                    got = normalize_value(slot, text[words[i].start : words[j - 1].end], lexicon)
                    if got is None:
                        continue
                    if isinstance(target, list):
                        ok = isinstance(got, list) and got == target
                    else:
                        ok = values_match(slot, target, got)
                    # prices take their currency words along; an ordinal is its word alone
                    longer = best is None or (
                        j - i < best[1] - best[0] if slot == "ordinal" else j - i > best[1] - best[0]
                    )
                    if ok and longer:
                        best = (i, j)
                if best is not None:
                    break
            if best is None:
                if remaining is None:
                    found_all = False
                continue
            i, j = best
            for k in range(i, j):
                used[k] = True
                tags[k] = ("B-" if k == i else "I-") + slot
            if remaining is not None and isinstance(target, list):
                remaining = [v for v in remaining if v not in target]
        if remaining:
            found_all = False
        if not found_all:
            return None
    return tags


def load_labelled(path: Path, lexicon: Lexicon | None = None) -> list[Example]:
    """Eval-format examples with word tags recovered (``tags == []`` when the slots could not be aligned)."""
    out: list[Example] = []
    for ex in read_eval_file(path):
        if ex.intent not in INTENTS:
            continue
        words = [w.text for w in split_words(ex.text)]
        tags = align_slots(ex.text, ex.slots, lexicon)
        out.append(
            Example(
                text=ex.text,
                intent=ex.intent,
                slots=ex.slots,
                tokens=words,
                tags=tags or [],
                source=str(path),
            )
        )
    return out
