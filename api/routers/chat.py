"""``/v1/chat``, ``/v1/chat/stream`` and ``GET /v1/sessions/{id}`` (conversation history)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from assistant.dialogue import MAX_MESSAGE_CHARS, ChatResponse
from assistant.errors import ShopAssistError

router = APIRouter(tags=["chat"], responses=ERROR_RESPONSES)

SESSION_ID = r"^[A-Za-z0-9_-]{16,64}$"
SessionId = Annotated[str, PathParam(pattern=SESSION_ID, description="session id")]


class ChatRequest(BaseModel):
    session_id: str | None = Field(default=None, pattern=SESSION_ID)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    image_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


@router.post("/v1/chat", operation_id="chat", response_model=ChatResponse)
def chat(body: ChatRequest, runtime: RuntimeDep) -> ChatResponse:
    if body.session_id:
        runtime.rate_limits.check_session(body.session_id)
    return runtime.assistant.turn(session_id=body.session_id, message=body.message, image_id=body.image_id)


def _chunks(text: str, size: int = 24) -> list[str]:
    words = re.findall(r"\S+\s*", text)
    out, cur = [], ""
    for w in words:
        cur += w
        if len(cur) >= size:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


@router.post(
    "/v1/chat/stream",
    operation_id="chat_stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "SSE: meta, products, delta, done"}
    },
)
async def chat_stream(body: ChatRequest, runtime: RuntimeDep) -> EventSourceResponse:
    if body.session_id:  # refused as a plain 429 before the stream opens
        runtime.rate_limits.check_session(body.session_id)

    async def events() -> AsyncIterator[dict[str, Any]]:
        try:
            resp: ChatResponse = await run_in_threadpool(
                runtime.assistant.turn,
                session_id=body.session_id,
                message=body.message,
                image_id=body.image_id,
            )
        except ShopAssistError as exc:
            yield {
                "event": "error",
                "data": json.dumps({"error": {"code": exc.code, "message": exc.message}}),
            }
            return
        full = resp.model_dump(mode="json")
        meta = {k: full[k] for k in ("session_id", "turn_id", "intent", "slots", "filters", "action")}
        yield {"event": "meta", "data": json.dumps(meta)}
        yield {"event": "products", "data": json.dumps({"products": full["products"]})}
        for chunk in _chunks(resp.reply):
            yield {"event": "delta", "data": json.dumps({"text": chunk})}
        yield {"event": "done", "data": json.dumps(full)}

    return EventSourceResponse(events(), ping=15)


@router.get("/v1/sessions/{session_id}", operation_id="get_session_history")
def session_history(session_id: SessionId, runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.assistant.history(session_id)


class Transcript(BaseModel):
    text: str = Field(max_length=MAX_MESSAGE_CHARS)
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)


class VoiceRequest(BaseModel):
    session_id: str | None = Field(default=None, pattern=SESSION_ID)
    transcripts: list[Transcript] = Field(min_length=1, max_length=10, description="the recogniser's n-best")


@router.post("/v1/voice", operation_id="voice", response_model=ChatResponse)
def voice(body: VoiceRequest, runtime: RuntimeDep) -> ChatResponse:
    """A spoken turn: the n-best hypothesis with the best ASR × NLU confidence is answered; ``speech``
    is short plain text with prices in words and at most three products read out."""
    if body.session_id:
        runtime.rate_limits.check_session(body.session_id)
    return runtime.assistant.voice_turn(
        session_id=body.session_id, transcripts=[(t.text, t.confidence) for t in body.transcripts]
    )
