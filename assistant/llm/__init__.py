"""LangChain interop and the optional LLM responder (``pip install shopassist[llm]``).

* :func:`make_tools` — the assistant's capabilities as LangChain tools bound to a runtime and a
  session (``search_products``, ``get_product``, ``compare_products``, ``add_to_cart``,
  ``view_cart``, ``price_advice``, ``find_similar_by_image``, ``order_status``);
* :class:`ShopAssistEmbeddings` — a LangChain ``Embeddings`` over the runtime's text encoder;
* :class:`ShopAssistRetriever` — a LangChain retriever over the hybrid search (+ re-ranker);
* :class:`LLMResponder` / :func:`build_responder` — with ``SHOPASSIST_LLM`` set, an LLM words the
  reply from the policy's structured result (see ``docs/langchain.md``).

Importing this package imports nothing from LangChain: each name loads its module on first use,
so a service without ``SHOPASSIST_LLM`` never loads (or needs) ``langchain-core``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.llm.embeddings import ShopAssistEmbeddings
    from assistant.llm.models import load_chat_model
    from assistant.llm.responder import (
        PHRASED_ACTIONS,
        READ_ONLY_TOOLS,
        LLMResponder,
        build_responder,
    )
    from assistant.llm.retriever import ShopAssistRetriever
    from assistant.llm.tools import TOOL_NAMES, make_tools

__all__ = [
    "PHRASED_ACTIONS",
    "READ_ONLY_TOOLS",
    "TOOL_NAMES",
    "LLMResponder",
    "ShopAssistEmbeddings",
    "ShopAssistRetriever",
    "build_responder",
    "load_chat_model",
    "make_tools",
]

_MODULES = {
    "ShopAssistEmbeddings": "assistant.llm.embeddings",
    "load_chat_model": "assistant.llm.models",
    "PHRASED_ACTIONS": "assistant.llm.responder",
    "READ_ONLY_TOOLS": "assistant.llm.responder",
    "LLMResponder": "assistant.llm.responder",
    "build_responder": "assistant.llm.responder",
    "ShopAssistRetriever": "assistant.llm.retriever",
    "TOOL_NAMES": "assistant.llm.tools",
    "make_tools": "assistant.llm.tools",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant.llm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
