"""The LangChain tools, embeddings and retriever against a real runtime over the demo catalog."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from assistant import commerce
from assistant.llm import TOOL_NAMES, ShopAssistEmbeddings, ShopAssistRetriever, make_tools
from assistant.products import ranked_search, search_products
from retrieval import SearchFilters
from tests.llm.support import INJECTED_ID


def tools_of(rt: Any, session_id: str) -> dict[str, BaseTool]:
    return {t.name: t for t in make_tools(rt, session_id)}


def test_the_eight_tools_have_typed_schemas(rt: Any, session_id: str) -> None:
    tools = tools_of(rt, session_id)
    assert tuple(tools) == TOOL_NAMES
    search = tools["search_products"].tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    props = search["properties"]
    assert {"query", "price_max", "color", "sort", "limit"} <= set(props)
    assert props["limit"]["maximum"] == 20
    assert "rating_desc" in json.dumps(props["sort"])
    add = tools["add_to_cart"].tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    assert add["required"] == ["product_id"] and add["properties"]["quantity"]["maximum"] == 99
    assert tools["view_cart"].tool_call_schema.model_json_schema()["properties"] == {}  # type: ignore[union-attr]


def test_search_products_answers_what_the_search_api_answers(rt: Any, session_id: str) -> None:
    out = tools_of(rt, session_id)["search_products"].invoke(
        {"query": "watch", "color": "black", "price_max": 200, "limit": 4}
    )
    json.dumps(out)  # JSON-serialisable as it stands
    filters = SearchFilters(color="black", price_max=200)
    page = search_products(rt.index, query="watch", filters=filters, limit=4, reranker=rt.reranker)
    assert [p["id"] for p in out["products"]] == [c.product.id for c in page.cards]
    assert out["total"] == page.total > 0
    assert out["filters"] == {"color": "black", "price_max": 200.0}
    assert all(p["price"] <= 200 and p["attributes"]["color"] == "black" for p in out["products"])
    assert all(p["why"] for p in out["products"])


def test_domain_errors_come_back_as_the_tools_message(rt: Any, session_id: str) -> None:
    tools = tools_of(rt, session_id)
    assert (
        tools["get_product"].invoke({"product_id": "no-such"})
        == "product_not_found: no product with id 'no-such'"
    )
    assert tools["view_cart"].invoke({}) == "cart_empty: the cart is empty"
    assert tools["order_status"].invoke({}).startswith("order_not_found:")
    assert tools["order_status"].invoke({"order_id": "K7M2Q9XD"}).startswith("order_not_found:")
    bad_range = tools["search_products"].invoke({"query": "shirt", "price_min": 50, "price_max": 10})
    assert bad_range.startswith("invalid_request: price_min")
    too_many = tools["add_to_cart"].invoke({"product_id": INJECTED_ID, "quantity": 100})
    assert too_many.startswith("invalid_arguments: quantity")
    # as an agent calls it: a ToolMessage with status "error", not an exception
    msg = tools["get_product"].invoke(
        {"type": "tool_call", "name": "get_product", "args": {"product_id": "no-such"}, "id": "c1"}
    )
    assert isinstance(msg, ToolMessage) and msg.status == "error" and "product_not_found" in str(msg.content)


def test_get_product_and_compare(rt: Any, session_id: str) -> None:
    tools = tools_of(rt, session_id)
    detail = tools["get_product"].invoke({"product_id": INJECTED_ID})["product"]
    assert detail["id"] == INJECTED_ID and detail["active"] is True
    assert detail["description"].startswith("Soft lounge socks.")
    cheap, dear = sorted(rt.index.products()[:2], key=lambda p: p.price)
    out = tools["compare_products"].invoke({"product_ids": [dear.id, cheap.id]})
    assert [p["id"] for p in out["products"]] == [dear.id, cheap.id]
    assert out["cheapest"] == cheap.id
    for key, values in out["differences"].items():
        assert values[dear.id] != values[cheap.id], key
    assert tools["compare_products"].invoke({"product_ids": [cheap.id]}).startswith("invalid_arguments")


def test_cart_tools_act_for_their_session_only(rt: Any, session_id: str) -> None:
    tools = tools_of(rt, session_id)
    out = tools["add_to_cart"].invoke({"product_id": INJECTED_ID, "quantity": 2})
    assert out["added"] == {"product_id": INJECTED_ID, "quantity": 2}
    assert out["cart"]["items"][0]["quantity"] == 2 and out["cart"]["total"] == 25.0
    seen = tools["view_cart"].invoke({})
    assert seen["units"] == 2
    with rt.db.session() as s:  # the same cart the API's GET /v1/sessions/{id}/cart reads
        assert seen["cart"] == commerce.get_cart(s, session_id=session_id).to_public()
        other = commerce.create_session(s, channel="web").id
    assert tools_of(rt, other)["view_cart"].invoke({}).startswith("cart_empty")
    assert tools["add_to_cart"].invoke({"product_id": "nope"}).startswith("product_not_found")


def test_price_advice_and_order_status(rt: Any, session_id: str) -> None:
    tools = tools_of(rt, session_id)
    out = tools["price_advice"].invoke({"product_id": INJECTED_ID})
    assert out["price_advice"]["product_id"] == INJECTED_ID
    assert out["price_advice"]["verdict"] in ("buy_now", "wait", "not_enough_history")
    assert out["currency"] == "USD" and out["recent_weekly_prices"][-1]["price"] == 12.5
    assert tools["price_advice"].invoke({"product_id": "nope"}).startswith("product_not_found")


def test_find_similar_by_image(rt: Any, session_id: str) -> None:
    tool = tools_of(rt, session_id)["find_similar_by_image"]
    anchor = next(p for p in rt.index.products() if p.id in rt.images)
    out = tool.invoke({"product_id": anchor.id, "limit": 3})
    assert 0 < len(out["products"]) <= 3 and anchor.id not in [p["id"] for p in out["products"]]
    assert all(p["why"] == "looks similar" for p in out["products"])
    capped = tool.invoke({"product_id": anchor.id, "price_max": 40, "limit": 5})
    assert all(p["price"] <= 40 for p in capped["products"])
    assert tool.invoke({}).startswith("invalid_arguments")
    assert tool.invoke({"product_id": INJECTED_ID}).startswith("image_not_found")


def test_embeddings_are_the_encoders_vectors(rt: Any) -> None:
    emb = ShopAssistEmbeddings.from_runtime(rt)
    q = emb.embed_query("black leather watch")
    assert len(q) == emb.dim and all(isinstance(x, float) for x in q)
    np.testing.assert_allclose(q, rt.encoder.encode_query("black leather watch"), rtol=1e-6)
    docs = emb.embed_documents(["red dress", "blue jeans"])
    assert len(docs) == 2 and np.linalg.norm(docs[0]) == pytest.approx(1.0, abs=1e-5)
    assert emb.embed_documents([]) == []


def test_retriever_returns_products_as_documents(rt: Any) -> None:
    retriever = ShopAssistRetriever.from_runtime(rt, k=3, filters=SearchFilters(color="black"))
    docs = retriever.invoke("watch")
    expected, _ = ranked_search(rt.index, "watch", SearchFilters(color="black"), limit=3)
    assert [d.id for d in docs] == [h.product.id for h in expected.hits]
    assert all(d.metadata["attributes"]["color"] == "black" and d.metadata["why"] for d in docs)
    assert docs[0].page_content.startswith(docs[0].metadata["title"])
    narrowed = retriever.invoke("watch", filters={"price_max": 60}, k=5)
    assert 0 < len(narrowed) <= 5
    assert all(d.metadata["price"] <= 60 and d.metadata["attributes"]["color"] == "black" for d in narrowed)


def test_the_agent_loop_of_the_docs_runs_the_tools(rt: Any, session_id: str) -> None:
    """docs/langchain.md's agent, with a scripted model in place of a real one: an agent of the
    shop's own may change the cart through ``add_to_cart`` (the chat responder may not)."""
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

    from tests.llm.fakes import ScriptedChatModel, tool_call

    model = ScriptedChatModel().script(
        tool_call("search_products", {"query": "socks", "brand": "zephyrine", "limit": 1}, "c1"),
        tool_call("add_to_cart", {"product_id": INJECTED_ID, "quantity": 2}, "c2"),
        AIMessage("I added two pairs of Zephyrine Lounge Socks to your cart."),
    )
    tools = {t.name: t for t in make_tools(rt, session_id)}
    llm = model.bind_tools(list(tools.values()))
    messages: list[BaseMessage] = [HumanMessage("Add two pairs of Zephyrine socks to my cart")]
    while (ai := llm.invoke(messages)).tool_calls:
        messages.append(ai)
        messages += [tools[c["name"]].invoke(c) for c in ai.tool_calls]
    assert ai.content == "I added two pairs of Zephyrine Lounge Socks to your cart."
    assert [m.name for m in messages if isinstance(m, ToolMessage)] == ["search_products", "add_to_cart"]
    assert INJECTED_ID in str(messages[2].content)
    with rt.db.session() as s:
        cart = commerce.get_cart(s, session_id=session_id)
    assert [(line.product_id, line.quantity) for line in cart.items] == [(INJECTED_ID, 2)]
