"""``Assistant.turn()``: one shopper message in, one response out, everything persisted.

A turn runs in one database transaction: the session row (locked ``FOR UPDATE``
where the database supports it, and by an in-process lock per session), the
cart/order changes the policy made, and the turn log commit together.  A crash
mid-turn leaves nothing half-written; a restart continues from the stored state.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from assistant import commerce
from assistant.behaviour.live import watch_turn
from assistant.db import Database
from assistant.dialogue._policy import Policy, TurnContext
from assistant.dialogue._quotes import parse_heeding_quotes
from assistant.dialogue._response import ChatResponse, IntentOut, ProductCardOut
from assistant.dialogue._state import DialogueState
from assistant.dialogue._text import speech_text, voice_speech
from assistant.errors import InvalidRequest
from assistant.models import TurnRow, utcnow
from assistant.pii import redact_card_numbers
from assistant.products import image_url
from assistant.recommend import Recommender
from retrieval import HybridIndex, Product

__all__ = ["Assistant", "Understander", "MAX_MESSAGE_CHARS", "TurnRecord"]

MAX_MESSAGE_CHARS = 2000


log = logging.getLogger("shopassist.dialogue")


@dataclass(frozen=True)
class TurnRecord:
    """What a finished turn tells the metrics (no text: nothing personal)."""

    channel: str
    intent: str
    action: str
    unclear: bool
    n_results: int | None
    timings_ms: dict[str, float]
    total_ms: float


class _Parse(Protocol):
    intent: str
    confidence: float
    unclear: bool
    slots: dict[str, Any]


class Understander(Protocol):
    """What the engine needs from the NLU model."""

    def parse(self, text: str) -> _Parse: ...


def card(p: Product, why: str, score: float | None) -> ProductCardOut:
    return ProductCardOut(
        id=p.id,
        title=p.title,
        price=p.price,
        currency=p.currency,
        product_type=p.product_type,
        category=p.category,
        brand=p.brand,
        rating=p.rating,
        rating_count=p.rating_count,
        in_stock=p.in_stock,
        image_url=image_url(p),
        attributes=dict(p.attributes),
        score=None if score is None else round(float(score), 4),
        why=why,
    )


class Assistant:
    """The conversation engine (NLU → state → policy → commerce → response → turn log)."""

    def __init__(
        self,
        *,
        db: Database,
        index: HybridIndex,
        nlu: Understander,
        order_webhook: Any = None,
        recommender: Recommender | None = None,
        reranker: Callable[[], Any] | None = None,
        abandonment: Callable[[], Any] | None = None,
        prices: Any = None,
        images: Any = None,
        uploads: Any = None,
        on_turn: Callable[[TurnRecord], None] | None = None,
        responder: Callable[[str, ChatResponse], str | None] | None = None,
    ) -> None:
        self.db = db
        self.on_turn = on_turn
        self.abandonment = abandonment  # the abandonment model's getter (assistant.behaviour); None = off
        self.responder = responder  # optional LLM wording of the reply (assistant.llm); None = the policy's
        self.index = index
        self.nlu = nlu
        self.policy = Policy(
            index,
            order_webhook=order_webhook,
            recommender=recommender,
            reranker=reranker,
            prices=prices,
            images=images,
            uploads=uploads,
        )
        self.uploads = uploads
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def _notify(self, record: TurnRecord) -> None:
        try:
            self.on_turn(record)  # type: ignore[misc]
        except Exception:  # metrics never fail a turn that is already committed
            log.exception("turn observer failed")

    def _phrase(
        self, text: str, response: ChatResponse, timings: dict[str, float], t_start: float
    ) -> ChatResponse:
        """The responder rewords the committed turn's reply (``reply`` and ``speech`` only).

        It runs after the commit, so a slow model never holds the session row or SQLite's write
        lock; the turn log then gets the reply sent and ``llm_ms``.  Any failure keeps the policy's.
        """
        t0 = time.perf_counter()
        try:
            reply = self.responder(text, response)  # type: ignore[misc]
        except Exception:
            log.warning("llm responder failed; the policy's reply is sent", exc_info=True)
            reply = None
        timings["llm_ms"] = (time.perf_counter() - t0) * 1000
        if reply and reply.strip() and reply != response.reply:
            response = response.model_copy(update={"reply": reply, "speech": speech_text(reply)})
        try:
            with self.db.session() as s:
                row = s.get(TurnRow, response.turn_id)
                if row is not None:
                    row.reply = response.reply
                    row.response = response.model_dump(mode="json")
                    row.latency_ms = dict(row.latency_ms or {}) | {k: round(v, 2) for k, v in timings.items()}
                    row.total_ms = round((time.perf_counter() - t_start) * 1000, 2)
        except Exception:  # the turn is committed: its log keeps the policy's reply
            log.exception("could not record the llm reply in the turn log")
        return response

    @contextmanager
    def _session_lock(self, session_id: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.get(session_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[session_id] = lock
        with lock:
            yield

    def start_session(self, *, channel: str = "web") -> str:
        with self.db.session() as s:
            return commerce.create_session(s, channel=channel).id

    def voice_turn(self, *, session_id: str | None, transcripts: Sequence[tuple[str, float]]) -> ChatResponse:
        """One spoken turn from the recogniser's n-best list.

        Each hypothesis is rewritten to written form ("under two hundred dollars" → "under $200",
        "size ten and a half" → "size 10.5") and parsed; the one with the highest ASR confidence ×
        NLU confidence is the turn (so a likelier-sounding but meaningless top hypothesis loses to
        a second one the assistant understands).  The NLU confidence here is the intent's times the
        share of product words the catalog knows ("black washes" → no such product type; "black
        watches" → a catalog type and colour): a misheard word still parses as a confident search.
        The reply's ``speech`` reads at most three products.
        """
        from assistant.nlu import normalize_spoken

        if not transcripts:
            raise InvalidRequest("transcripts must hold at least one hypothesis")
        best: tuple[float, int, str, Any] | None = None
        for i, (raw, asr_confidence) in enumerate(transcripts):
            # card numbers go before the NLU reads a hypothesis, as in turn(): its slots are stored
            text = redact_card_numbers(normalize_spoken(raw.strip()).strip()) if raw.strip() else ""
            if not text or len(text) > MAX_MESSAGE_CHARS:
                continue
            parse = self.nlu.parse(text)
            understood = float(parse.confidence) * (0.5 if parse.unclear else 1.0) * self._grounding(parse)
            score = float(asr_confidence) * understood
            if best is None or score > best[0] + 1e-12:
                best = (score, i, text, parse)
        if best is None:
            raise InvalidRequest("no transcript has any words")
        _, _, text, parse = best
        response = self.turn(session_id=session_id, message=text, channel="voice", nlu_result=parse)
        return response.model_copy(update={"speech": voice_speech(response)})

    def _grounding(self, parse: Any) -> float:
        """0.4 … 1: how many of the parse's product slot values are catalog values."""
        from assistant.dialogue._policy import SEARCH_SLOTS

        wanted = {k: v for k, v in parse.slots.items() if k in SEARCH_SLOTS}
        if not wanted:
            return 1.0
        _, unknown = self.policy.terms.split(wanted)
        return 0.4 + 0.6 * (len(wanted) - len(unknown)) / len(wanted)

    def turn(
        self,
        *,
        session_id: str | None,
        message: str,
        image_id: str | None = None,
        channel: str = "web",
        nlu_result: _Parse | None = None,
    ) -> ChatResponse:
        """Handle one message; ``session_id=None`` starts a session."""
        t_start = time.perf_counter()
        text = redact_card_numbers(message.strip())  # never parsed, stored or logged
        if not text or len(message) > MAX_MESSAGE_CHARS:
            raise InvalidRequest(f"message must be 1 to {MAX_MESSAGE_CHARS} characters")
        if session_id is None:
            session_id = self.start_session(channel=channel)
        else:
            with self.db.session() as s:
                commerce.get_session(s, session_id=session_id)  # 404 before any work
        if image_id is not None and self.uploads is not None:
            self.uploads.path(image_id)  # 404 image_not_found before any work
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        parse = nlu_result or parse_heeding_quotes(self.nlu, text)
        timings["nlu_ms"] = (time.perf_counter() - t0) * 1000
        self.index.reload_if_changed()
        if self.policy.images is not None:
            self.policy.images.reload_if_changed()
        with self._session_lock(session_id), self.db.session() as s:
            row = commerce.get_session(s, session_id=session_id, for_update=True)
            state = DialogueState.model_validate(row.state or {})
            ctx = TurnContext(
                s=s,
                session_id=session_id,
                state=state,
                text=text,
                intent=parse.intent,
                confidence=float(parse.confidence),
                unclear=bool(parse.unclear),
                slots=dict(parse.slots),
                image_id=image_id,
                timings=timings,
            )
            t0 = time.perf_counter()
            # finding or starting the session, the reload checks, the session lock and the row's load
            timings["session_ms"] = (t0 - t_start) * 1000 - timings["nlu_ms"]
            outcome = self.policy.respond(ctx)
            # the policy's own time: the stages it timed separately are taken out
            timings["policy_ms"] = (time.perf_counter() - t0) * 1000 - sum(
                timings.get(k, 0.0) for k in ("retrieval_ms", "rerank_ms", "pricing_ms", "image_embed_ms")
            )
            # risk that the session ends without an order; at risk, an offer of help joins the reply
            watched = watch_turn(self.abandonment, ctx, outcome)
            t0 = time.perf_counter()
            state.last_action = outcome.action
            cart = commerce.get_cart(s, session_id=session_id).to_public()
            notices = [n.to_public() for n in commerce.take_notices(s, session_id=session_id)]
            turn_id = uuid.uuid4().hex
            response = ChatResponse(
                session_id=session_id,
                turn_id=turn_id,
                reply=outcome.reply,
                speech=speech_text(outcome.reply),
                intent=IntentOut(name=parse.intent, confidence=round(float(parse.confidence), 4)),
                slots=dict(parse.slots),
                filters=dict(state.filters),
                action=outcome.action,
                products=[card(p, why, score) for p, why, score in outcome.products],
                cart=cart,
                order=outcome.order,
                price_advice=outcome.price_advice,
                notices=notices,
                suggestions=outcome.suggestions,
            )
            row.turn_count += 1
            row.state = state.model_dump(mode="json")
            row.updated_at = utcnow()
            row.version += 1
            timings["persist_ms"] = (time.perf_counter() - t0) * 1000
            total_ms = (time.perf_counter() - t_start) * 1000
            s.add(
                TurnRow(
                    id=turn_id,
                    session_id=session_id,
                    idx=row.turn_count,
                    channel=channel,
                    message=text,
                    image_id=image_id,
                    intent=parse.intent,
                    confidence=float(parse.confidence),
                    slots=dict(parse.slots),
                    filters=dict(state.filters),
                    action=outcome.action,
                    product_ids=[p.id for p in response.products],
                    n_results=outcome.n_results,
                    reply=outcome.reply,
                    response=response.model_dump(mode="json"),
                    latency_ms={**{k: round(v, 2) for k, v in timings.items()}, **watched},
                    total_ms=round(total_ms, 2),
                )
            )
        if self.responder is not None:
            response = self._phrase(text, response, timings, t_start)
            total_ms = (time.perf_counter() - t_start) * 1000
        if self.on_turn is not None:
            self._notify(
                TurnRecord(
                    channel=channel,
                    intent=parse.intent,
                    action=outcome.action,
                    unclear=bool(parse.unclear),
                    n_results=outcome.n_results,
                    timings_ms=dict(timings),
                    total_ms=total_ms,
                )
            )
        return response

    def history(self, session_id: str) -> dict[str, Any]:
        """The conversation so far, for the widget to restore after a reload."""
        with self.db.session() as s:
            row = commerce.get_session(s, session_id=session_id)
            turns = s.scalars(
                select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.idx)
            ).all()
            state = DialogueState.model_validate(row.state or {})
            return {
                "session_id": session_id,
                "created_at": row.created_at.isoformat(),
                "filters": dict(state.filters),
                "cart": commerce.get_cart(s, session_id=session_id).to_public(),
                "handoff": row.handoff,
                "turns": [
                    {
                        "turn_id": t.id,
                        "created_at": t.created_at.isoformat(),
                        "message": t.message,
                        "response": t.response,
                    }
                    for t in turns
                ],
            }
