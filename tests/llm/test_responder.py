"""The optional LLM responder in a real chat turn, with LangChain's fake chat models: the tool-calling
path, the fallback on errors, timeouts and empty answers, and injected instructions in catalog text."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from assistant import commerce
from assistant.config import Settings
from assistant.dialogue import ChatResponse, IntentOut
from assistant.dialogue._text import speech_text
from assistant.errors import ServiceUnavailable
from assistant.llm import READ_ONLY_TOOLS, LLMResponder, build_responder, load_chat_model
from assistant.llm.models import parse_spec
from assistant.models import TurnRow
from tests.llm.fakes import ScriptedChatModel, slow_model, tool_call
from tests.llm.support import INJECTED_ID, INJECTION, plain_assistant

WATCHES = "show me black watches for men"
OFFERED = ["search_products", "get_product", "compare_products", "view_cart", "price_advice", "order_status"]


@pytest.fixture
def model(rt: Any) -> ScriptedChatModel:
    """The fake that ``SHOPASSIST_LLM=tests.llm.fakes:scripted_model`` gave the runtime's engine."""
    responder = rt.assistant.responder
    assert isinstance(responder, LLMResponder) and isinstance(responder.model, ScriptedChatModel)
    return responder.model.script()


@pytest.fixture
def client(rt: Any) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(runtime=rt)) as c:
        yield c


def baseline(rt: Any, message: str) -> ChatResponse:
    """The deterministic turn: the same engine pieces, no responder, a fresh session."""
    response: ChatResponse = plain_assistant(rt).turn(session_id=None, message=message)
    return response


def logged_turn(rt: Any, turn_id: str) -> TurnRow:
    with rt.db.session() as s:
        row: TurnRow | None = s.get(TurnRow, turn_id)
        assert row is not None
        s.expunge(row)
        return row


def data_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each ``<<<DATA nonce>>> … <<<END DATA nonce>>>`` block in ``text``."""
    return [
        (m.start(), m.end())
        for m in re.finditer(r"<<<DATA ([0-9a-f]{16})>>>\n.*?\n<<<END DATA \1>>>", text, re.S)
    ]


def inside_data(text: str, needle: str) -> bool:
    at = text.find(needle)
    return at >= 0 and any(a < at and at + len(needle) < b for a, b in data_blocks(text))


def test_settings_name_the_model_and_the_engine_gets_the_responder(rt: Any, model: ScriptedChatModel) -> None:
    responder = rt.assistant.responder
    assert responder.timeout_s == rt.settings.llm_timeout_s == 20
    assert rt.settings.llm == "tests.llm.fakes:scripted_model"


def test_the_llm_calls_a_tool_and_its_answer_is_the_reply(
    rt: Any, model: ScriptedChatModel, client: TestClient
) -> None:
    final = "Here are black watches for men; the first one is a classic digital Casio."
    model.script(
        tool_call("search_products", {"query": "watch", "color": "black", "limit": 2}), AIMessage(final)
    )
    expected = baseline(rt, WATCHES)

    r = client.post("/v1/chat", json={"session_id": None, "message": WATCHES})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reply"] == final and body["speech"] == speech_text(final)
    # everything but the wording is the policy's
    assert body["action"] == expected.action == "show_products"
    assert [p["id"] for p in body["products"]] == [p.id for p in expected.products]
    assert body["cart"] == expected.cart and body["suggestions"] == expected.suggestions

    # the tool ran: its result came back to the model as a ToolMessage of quoted data
    assert model.tools_seen[0] == OFFERED and set(OFFERED) == READ_ONLY_TOOLS
    asked, answered = model.prompts[1][-2], model.prompts[1][-1]
    assert isinstance(asked, AIMessage) and asked.tool_calls[0]["name"] == "search_products"
    assert (
        isinstance(answered, ToolMessage)
        and answered.name == "search_products"
        and answered.status == "success"
    )
    content = str(answered.content)
    assert data_blocks(content) and '"products"' in content and '"color": "black"' in content

    # the turn log and the widget's history hold the reply that was sent, and the LLM's time
    row = logged_turn(rt, body["turn_id"])
    assert row.reply == final and row.response["reply"] == final
    assert row.latency_ms["llm_ms"] > 0 and row.total_ms >= row.latency_ms["llm_ms"]
    history = client.get(f"/v1/sessions/{body['session_id']}").json()
    assert history["turns"][-1]["response"]["reply"] == final


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("connection refused"), AIMessage("   "), AIMessage("<<<DATA 00>>> echo")],
    ids=["error", "empty", "echoes-data"],
)
def test_an_llm_failure_keeps_the_policy_reply(
    rt: Any, model: ScriptedChatModel, caplog: pytest.LogCaptureFixture, failure: Any
) -> None:
    model.script(failure)
    expected = baseline(rt, WATCHES)
    with caplog.at_level(logging.WARNING, logger="shopassist.llm"):
        r = rt.assistant.turn(session_id=None, message=WATCHES)
    assert len(model.prompts) == 1
    assert r.reply == expected.reply and r.speech == expected.speech
    assert r.action == expected.action and [p.id for p in r.products] == [p.id for p in expected.products]
    assert any("policy's reply is sent" in rec.getMessage() for rec in caplog.records)
    row = logged_turn(rt, r.turn_id)
    assert row.reply == expected.reply and "llm_ms" in row.latency_ms


def test_an_llm_past_its_timeout_keeps_the_policy_reply(rt: Any, caplog: pytest.LogCaptureFixture) -> None:
    expected = baseline(rt, WATCHES)
    engine = plain_assistant(rt, LLMResponder(slow_model(sleep=5.0), timeout_s=0.3))
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="shopassist.llm"):
        r = engine.turn(session_id=None, message=WATCHES)
    assert time.perf_counter() - t0 < 4.0  # the turn did not wait for the model (5 s)
    assert r.reply == expected.reply and r.action == expected.action
    assert any("timed out" in rec.getMessage() for rec in caplog.records)
    assert 250 < logged_turn(rt, r.turn_id).latency_ms["llm_ms"] < 4000


def test_injected_instructions_in_product_text_are_quoted_and_not_obeyed(
    rt: Any, model: ScriptedChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    final = "The Zephyrine Lounge Socks are $12.50. Shall I add a pair to your cart?"
    model.script(
        tool_call("get_product", {"product_id": INJECTED_ID}, "c1"),
        # the model "obeys" the product text: the tool is not offered, and the call is refused
        tool_call("add_to_cart", {"product_id": INJECTED_ID, "quantity": 99}, "c2"),
        AIMessage(final),
    )
    message = "show me zephyrine socks"
    expected = baseline(rt, message)
    assert INJECTED_ID in [p.id for p in expected.products]

    with caplog.at_level(logging.WARNING, logger="shopassist.llm"):
        r = rt.assistant.turn(session_id=None, message=message)

    # the policy's action, products and (empty) cart stand; nothing was added
    assert r.action == expected.action == "show_products"
    assert [p.id for p in r.products] == [p.id for p in expected.products]
    assert r.cart == expected.cart and r.cart["items"] == []
    with rt.db.session() as s:
        assert commerce.get_cart(s, session_id=r.session_id).is_empty
    assert r.reply == final

    # the prompt: a system rule that data is no instruction, the catalog text inside the data block
    system, human = model.prompts[0]
    assert isinstance(system, SystemMessage) and "never an instruction" in str(system.content)
    assert isinstance(human, HumanMessage)
    prompt = str(human.content)
    assert inside_data(prompt, INJECTION) and inside_data(prompt, message)
    assert INJECTION not in str(system.content)
    assert "add_to_cart" not in model.tools_seen[0]
    product_result = model.prompts[1][-1]
    assert isinstance(product_result, ToolMessage) and inside_data(str(product_result.content), "admin mode")
    refused = model.prompts[2][-1]
    assert isinstance(refused, ToolMessage) and refused.name == "add_to_cart" and refused.status == "error"
    assert "not available" in str(refused.content)
    assert any(
        "'add_to_cart'" in rec.getMessage() and "refused" in rec.getMessage() for rec in caplog.records
    )


def test_checkout_wording_is_never_handed_to_the_llm() -> None:
    model = ScriptedChatModel().script(AIMessage("Sure, done!"))
    responder = LLMResponder(model, timeout_s=5)
    confirm = ChatResponse(
        session_id="s" * 22,
        turn_id="t",
        reply="Your order: 2 items, total $25. Shall I place it?",
        speech="",
        intent=IntentOut(name="checkout", confidence=1.0),
        action="confirm_order",
        cart={"items": [], "total": 0.0, "currency": "USD"},
    )
    assert responder("checkout", confirm) is None and model.prompts == []
    assert responder("hello", confirm.model_copy(update={"action": "greet"})) == "Sure, done!"


def test_spec_forms() -> None:
    assert parse_spec("ollama:llama3.1") == ("ollama", "llama3.1", None)
    assert parse_spec("ollama:llama3.1@http://gpu:11434") == ("ollama", "llama3.1", "http://gpu:11434")
    assert parse_spec("openai:gpt-4o-mini@http://host:8000/v1") == (
        "openai",
        "gpt-4o-mini",
        "http://host:8000/v1",
    )
    assert parse_spec("tests.llm.fakes:scripted_model") == ("factory", "tests.llm.fakes", "scripted_model")
    for bad in ("llama3", "ollama:", "openai:@http://x", "not a module:f"):
        with pytest.raises(ServiceUnavailable) as err:
            parse_spec(bad)
        assert err.value.code == "llm_unavailable"


def test_models_that_cannot_be_had_are_service_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    import importlib.util

    assert isinstance(load_chat_model("tests.llm.fakes:scripted_model"), ScriptedChatModel)
    with pytest.raises(ServiceUnavailable, match="not a LangChain chat model"):
        load_chat_model("tests.llm.fakes:not_a_model")
    with pytest.raises(ServiceUnavailable, match="cannot import"):
        load_chat_model("tests.llm.fakes:no_such_factory")
    if importlib.util.find_spec("langchain_ollama") is not None:
        pytest.skip("langchain-ollama is installed here")
    with pytest.raises(ServiceUnavailable, match="pip install langchain-ollama"):
        load_chat_model("ollama:llama3.1")
    # the service then keeps its deterministic replies, and says why
    runtime = SimpleNamespace(settings=Settings(llm="ollama:llama3.1"))
    with caplog.at_level(logging.ERROR, logger="shopassist.llm"):
        assert build_responder(runtime) is None  # type: ignore[arg-type]
    assert any("pip install langchain-ollama" in rec.getMessage() for rec in caplog.records)
