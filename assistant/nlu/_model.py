"""The joint intent + slot model (JointBERT style) on the MiniLM encoder, and its artifact.

Artifact directory (``save`` / ``load``): ``config.json`` holds the constructor arguments
(label lists, encoder config, max length, temperature, threshold, catalog vocabulary, version,
training summary, metrics) — ``load`` does ``cls(**config)`` — plus ``model.safetensors`` and
the tokenizer files.  No pickle anywhere.

Inference: words (``_text.split_words``) -> WordPiece with ``is_split_into_words`` -> encoder
-> mean-pooled sentence vector -> intent softmax (temperature-scaled); token vectors joined
with the sentence vector -> BIO emissions at each word's first sub-token -> Viterbi decoding
where ``I-x`` may only follow ``B-x``/``I-x`` -> spans -> ``_normalize.assemble_slots``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.nlu._normalize import Lexicon, assemble_slots
from assistant.nlu._schema import INTENTS, TAGS
from assistant.nlu._spans import resolve_spans
from assistant.nlu._text import MAX_CHARS, MAX_WORDS, Word, split_words
from assistant.nlu._vocab import CatalogVocabulary, builtin_vocabulary

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["NLUResult", "NLUModel", "NLUModelError", "FORMAT_VERSION", "build_network", "viterbi_bio"]

FORMAT_VERSION = 1
logger = logging.getLogger(__name__)
_CONFIG = "config.json"
_WEIGHTS = "model.safetensors"
#: slots that only mean something for some intents (DESIGN.md: quantity counts cart units only)
_SLOT_INTENTS = {"quantity": {"add_to_cart", "remove_from_cart"}}


class NLUModelError(RuntimeError):
    """The artifact is missing or unreadable."""


@dataclass
class NLUResult:
    """One parsed message."""

    intent: str
    confidence: float
    unclear: bool
    slots: dict[str, Any] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_network(encoder_config: dict[str, Any], n_intents: int, n_tags: int, dropout: float) -> nn.Module:
    """The torch module: BERT encoder, intent head on the mean-pooled vector, BIO head per token."""
    import torch
    from torch import nn
    from transformers import BertConfig, BertModel

    class JointNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            cfg = BertConfig.from_dict(dict(encoder_config))
            self.encoder = BertModel(cfg, add_pooling_layer=False)
            hidden = int(cfg.hidden_size)
            self.dropout = nn.Dropout(dropout)
            self.intent_head = nn.Linear(hidden, n_intents)
            self.slot_head = nn.Linear(2 * hidden, n_tags)

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            intent_logits = self.intent_head(self.dropout(pooled))
            joined = torch.cat([h, pooled.unsqueeze(1).expand_as(h)], dim=-1)
            slot_logits = self.slot_head(self.dropout(joined))
            return intent_logits, slot_logits

    return JointNet()


def _transition_mask(tags: list[str]) -> tuple[np.ndarray, np.ndarray]:
    n = len(tags)
    allowed = np.zeros((n, n), dtype=np.float32)
    start = np.zeros(n, dtype=np.float32)
    for j, cur in enumerate(tags):
        if cur.startswith("I-"):
            start[j] = -np.inf
            slot = cur[2:]
            for i, prev in enumerate(tags):
                if prev not in (f"B-{slot}", f"I-{slot}"):
                    allowed[i, j] = -np.inf
    return allowed, start


def viterbi_bio(emissions: np.ndarray, trans: np.ndarray, start: np.ndarray) -> list[int]:
    """Best tag sequence under the BIO constraint (``emissions``: words x tags log-probs)."""
    n = emissions.shape[0]
    if n == 0:
        return []
    score = emissions[0] + start
    back = np.zeros(emissions.shape, dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + emissions[t]
    best = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    best.reverse()
    return best


def _is_foreign_script(text: str) -> bool:
    """Mostly letters outside the Latin script (Chinese, Cyrillic, Arabic…): not English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    return latin / len(letters) < 0.5


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ENGLISH = _wordset(
    "the a an i you me my is are do does for to in on of and with what where how show want need have it this "
    "that please can any some find looking get"
)
_FOREIGN = _wordset(
    # Spanish, French, German, Portuguese, Italian function words that English messages do not use
    "el los las del que por para con mis está esta estoy quiero necesito dónde donde cómo una unos unas pero "
    "muy hola gracias les des une je tu vous nous et ou mais avec pour dans sur mon ma mes bonjour merci "
    "voudrais cherche où très der die das den dem und ist ich du sie wir ein eine mit für auf nicht wo mein "
    "meine bitte danke hallo suche eu você não obrigado obrigada onde meu minha quero il gli sono dove "
    "grazie voglio cerco mio qué zapatos rojos pedido camisa"
)


def _looks_foreign(words: list[str]) -> bool:
    """Latin-script text in another language ("¿dónde está mi pedido?"): its function words give it away."""
    low = [w.lower() for w in words]
    foreign = sum(1 for w in low if w in _FOREIGN)
    english = sum(1 for w in low if w in _ENGLISH)
    return foreign >= 2 and foreign > english


class NLUModel:
    """Joint intent classifier + slot tagger.  Build with :meth:`load` (or ``train_nlu``)."""

    def __init__(
        self,
        *,
        intents: list[str],
        tags: list[str],
        encoder_config: dict[str, Any],
        max_length: int = 48,
        dropout: float = 0.1,
        temperature: float = 1.0,
        threshold: float = 0.5,
        vocabulary: dict[str, list[str]] | None = None,
        version: str = "",
        format_version: int = FORMAT_VERSION,
        training: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        if format_version != FORMAT_VERSION:
            raise NLUModelError(
                f"artifact format {format_version} is not supported (expected {FORMAT_VERSION})"
            )
        self.intents = list(intents)
        self.tags = list(tags)
        self.encoder_config = dict(encoder_config)
        self.max_length = int(max_length)
        self.dropout = float(dropout)
        self.temperature = float(temperature)
        self.threshold = float(threshold)
        self.vocabulary = {k: list(v) for k, v in (vocabulary or {}).items()}
        self.version = version
        self.format_version = format_version
        self.training = dict(training or {})
        self.metrics = dict(metrics or {})
        self.net = build_network(self.encoder_config, len(self.intents), len(self.tags), self.dropout)
        self.net.eval()
        self._runner: Any = self.net
        self.tokenizer: Any = None
        self.quantized = False
        catalog = CatalogVocabulary.from_json(self.vocabulary) if self.vocabulary else CatalogVocabulary()
        self.lexicon = Lexicon(builtin_vocabulary().merged(catalog))
        self._trans, self._start = _transition_mask(self.tags)
        self._oos = "out_of_scope" if "out_of_scope" in self.intents else self.intents[-1]

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict[str, Any]:
        """Constructor arguments: what ``config.json`` holds."""
        return {
            "format_version": self.format_version,
            "version": self.version,
            "intents": self.intents,
            "tags": self.tags,
            "encoder_config": self.encoder_config,
            "max_length": self.max_length,
            "dropout": self.dropout,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "vocabulary": self.vocabulary,
            "training": self.training,
            "metrics": self.metrics,
        }

    def save(self, path: Path) -> Path:
        """Write the artifact directory (config.json, model.safetensors, tokenizer files)."""
        from safetensors.torch import save_file

        if self.quantized:
            raise NLUModelError("a quantised model cannot be saved; save the float model")
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(path / _WEIGHTS), metadata={"format": "pt", "version": self.version})
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(str(path))
        (path / _CONFIG).write_text(
            json.dumps(self.config(), indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def load(
        cls, path: Path, *, quantize: bool = True, trace: bool = True, threads: int | None = None
    ) -> NLUModel:
        """Load an artifact directory.

        ``quantize``: dynamic int8 quantisation of the Linear layers; ``trace``: run the network as a
        frozen TorchScript trace (same outputs, a fraction of eager PyTorch's per-call overhead on
        one short utterance); ``threads``: ``torch.set_num_threads`` for this process.
        """
        path = Path(path)
        cfg_path = path / _CONFIG
        if not cfg_path.is_file() or not (path / _WEIGHTS).is_file():
            raise NLUModelError(f"no NLU model at {path} (train one with `shopassist train nlu`)")
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NLUModelError(f"cannot read {cfg_path}: {exc}") from exc
        if not isinstance(config, dict):
            raise NLUModelError(f"{cfg_path} is not a JSON object")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        if threads is not None:
            torch.set_num_threads(max(1, threads))
        try:
            model = cls(**config)
        except TypeError as exc:
            raise NLUModelError(f"{cfg_path} does not describe an NLU model: {exc}") from exc
        try:
            state = load_file(str(path / _WEIGHTS))
            model.net.load_state_dict(state)
            model.tokenizer = AutoTokenizer.from_pretrained(str(path))
        except (OSError, RuntimeError, ValueError) as exc:
            raise NLUModelError(f"cannot load the NLU model at {path}: {exc}") from exc
        model.net.eval()
        if quantize:
            model.quantize()
        if trace:
            model.trace()
        return model

    def trace(self) -> None:
        """Run the network as a frozen TorchScript trace (outputs identical; eager on failure)."""
        import torch
        from transformers.utils import logging as hf_logging

        batch, _ = self.encode_words(["show", "me", "grey", "sofas", "under", "800"])
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        try:
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")  # TracerWarnings about Python values in the graph
                traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                    self.net, (batch["input_ids"], batch["attention_mask"]), check_trace=False, strict=False
                )
                self._runner = torch.jit.freeze(traced.eval())
                for _ in range(3):  # the profiling executor optimises the graph on its first calls
                    self._runner(batch["input_ids"], batch["attention_mask"])
        except (RuntimeError, TypeError, ValueError) as exc:  # pragma: no cover - depends on the torch build
            logger.warning("NLU model runs eagerly: tracing failed (%s)", exc)
            self._runner = self.net
        finally:
            hf_logging.set_verbosity(verbosity)

    def quantize(self) -> None:
        """Dynamic int8 quantisation of every Linear layer (CPU inference)."""
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
            self.net = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                self.net, {torch.nn.Linear}, dtype=torch.qint8
            )
        self.net.eval()
        self._runner = self.net
        self.quantized = True

    # ------------------------------------------------------------------ inference
    def _empty(self, t0: float, tokens: list[str] | None = None) -> NLUResult:
        toks = tokens or []
        return NLUResult(
            intent=self._oos,
            confidence=0.0,
            unclear=True,
            slots={},
            tokens=toks,
            tags=["O"] * len(toks),
            latency_ms=(time.perf_counter() - t0) * 1000,
        )

    def encode_words(self, words: list[str]) -> tuple[dict[str, Any], list[int]]:
        """Token ids for ``words`` and, per word, the index of its first sub-token (-1 if cut off)."""
        enc = self.tokenizer(
            words, is_split_into_words=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        first: list[int] = [-1] * len(words)
        for pos, wid in enumerate(enc.word_ids(0)):
            if wid is not None and first[wid] < 0:
                first[wid] = pos
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, first

    def parse(self, text: str) -> NLUResult:
        """Intent, confidence, slots of one message.  Never raises on odd input."""
        import torch

        t0 = time.perf_counter()
        if not isinstance(text, str):
            return self._empty(t0)
        text = text[:MAX_CHARS]
        if not any(c.isalnum() for c in text):
            return self._empty(t0)
        words: list[Word] = split_words(text, max_words=MAX_WORDS)
        tokens = [w.text for w in words]
        if not words or _is_foreign_script(text) or _looks_foreign(tokens):
            return self._empty(t0, tokens)
        if self.tokenizer is None:
            raise NLUModelError("the model has no tokenizer; load it with NLUModel.load")
        batch, first = self.encode_words(tokens)
        with torch.inference_mode():
            intent_logits, slot_logits = self._runner(batch["input_ids"], batch["attention_mask"])
        logits = intent_logits[0].float().numpy() / max(self.temperature, 1e-3)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        intent = self.intents[best]
        confidence = float(probs[best])
        kept = [i for i, p in enumerate(first) if p >= 0]
        tags = ["O"] * len(words)
        if kept:
            em = slot_logits[0, [first[i] for i in kept]].float()
            em = torch.log_softmax(em, dim=-1).numpy()
            path = viterbi_bio(em, self._trans, self._start)
            for i, tag_id in zip(kept, path, strict=True):
                tags[i] = self.tags[tag_id]
        slots = self.slots_from_tags(text, words, tags, intent) if intent != self._oos else {}
        unclear = confidence < self.threshold or not math.isfinite(confidence)
        return NLUResult(
            intent=intent,
            confidence=round(confidence, 4),
            unclear=unclear,
            slots=slots,
            tokens=tokens,
            tags=tags,
            latency_ms=(time.perf_counter() - t0) * 1000,
        )

    def slots_from_tags(self, text: str, words: list[Word], tags: list[str], intent: str) -> dict[str, Any]:
        """BIO tags -> spans -> repaired spans (``_spans``) -> normalised slots."""
        spans: list[tuple[str, int, int]] = []
        for w, tag in zip(words, tags, strict=False):
            if tag.startswith("B-") or (tag.startswith("I-") and (not spans or spans[-1][0] != tag[2:])):
                spans.append((tag[2:], w.start, w.end))
            elif tag.startswith("I-"):
                slot, start, _ = spans[-1]
                spans[-1] = (slot, start, w.end)
        spans = resolve_spans(text, spans, self.lexicon, intent=intent)
        slots = assemble_slots(((s, text[a:b]) for s, a, b in spans), self.lexicon)
        for slot, allowed in _SLOT_INTENTS.items():
            if slot in slots and intent not in allowed:
                del slots[slot]
        return slots

    def predict_logits(self, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, list[list[str]]]:
        """Raw intent logits and word tags for many texts (calibration and batch evaluation)."""
        import torch

        all_logits: list[np.ndarray] = []
        all_tags: list[list[str]] = []
        for i in range(0, len(texts), batch_size):
            chunk = [split_words(t[:MAX_CHARS], max_words=MAX_WORDS) for t in texts[i : i + batch_size]]
            words = [[w.text for w in ws] or ["."] for ws in chunk]
            enc = self.tokenizer(
                words,
                is_split_into_words=True,
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            with torch.inference_mode():
                il, sl = self._runner(enc["input_ids"], enc["attention_mask"])
            all_logits.append(il.float().numpy())
            for b, ws in enumerate(words):
                first: list[int] = [-1] * len(ws)
                for pos, wid in enumerate(enc.word_ids(b)):
                    if wid is not None and first[wid] < 0:
                        first[wid] = pos
                kept = [j for j, p in enumerate(first) if p >= 0]
                tags = ["O"] * len(ws)
                if kept:
                    em = torch.log_softmax(sl[b, [first[j] for j in kept]].float(), dim=-1).numpy()
                    for j, tag_id in zip(kept, viterbi_bio(em, self._trans, self._start), strict=True):
                        tags[j] = self.tags[tag_id]
                all_tags.append(tags)
        return (np.concatenate(all_logits) if all_logits else np.zeros((0, len(self.intents)))), all_tags


def default_labels() -> tuple[list[str], list[str]]:
    return list(INTENTS), list(TAGS)
