"""``SHOPASSIST_LLM`` → a LangChain chat model; provider packages are imported only when named.

Accepted forms:

* ``ollama:MODEL`` or ``ollama:MODEL@http://host:11434`` — ``langchain-ollama``'s ``ChatOllama``;
* ``openai:MODEL`` or ``openai:MODEL@http://host:port/v1`` — ``langchain-openai``'s ``ChatOpenAI``
  (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio; the key comes from
  ``OPENAI_API_KEY`` as that package reads it — any value for a local server);
* ``package.module:factory`` — ``factory()`` returns a ``BaseChatModel`` (a model of your own
  set-up, or a fake one in tests).

Anything that cannot give a chat model (a missing package, a bad spec, a factory returning
something else) is :class:`~assistant.errors.ServiceUnavailable` with code ``llm_unavailable``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from langchain_core.language_models import BaseChatModel

from assistant.errors import ServiceUnavailable

__all__ = ["PROVIDERS", "load_chat_model", "parse_spec"]

#: provider → (module, class, pip package)
PROVIDERS: dict[str, tuple[str, str, str]] = {
    "ollama": ("langchain_ollama", "ChatOllama", "langchain-ollama"),
    "openai": ("langchain_openai", "ChatOpenAI", "langchain-openai"),
}

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _unavailable(message: str) -> ServiceUnavailable:
    return ServiceUnavailable(message, code="llm_unavailable")


def parse_spec(spec: str) -> tuple[str, str, str | None]:
    """``("provider", model, base_url)`` or ``("factory", "package.module", "factory")``."""
    head, sep, rest = spec.strip().partition(":")
    if head in PROVIDERS and rest:
        model, at, url = rest.partition("@")
        if model.strip():
            return head, model.strip(), (url.strip() or None) if at else None
    elif sep and _MODULE.match(head) and _NAME.match(rest):
        return "factory", head, rest
    raise _unavailable(
        f"SHOPASSIST_LLM={spec!r} names no chat model: use 'ollama:MODEL[@URL]', "
        "'openai:MODEL[@BASE_URL]' or 'package.module:factory'"
    )


def load_chat_model(spec: str, *, timeout_s: float | None = None) -> BaseChatModel:
    """The chat model ``spec`` names (see the module notes); :class:`ServiceUnavailable` if none."""
    kind, first, second = parse_spec(spec)
    if kind == "factory":
        try:
            factory = getattr(importlib.import_module(first), str(second))
        except (ImportError, AttributeError) as exc:
            raise _unavailable(f"SHOPASSIST_LLM={spec!r}: cannot import {first}:{second} ({exc})") from exc
        try:
            model: Any = factory()
        except Exception as exc:
            raise _unavailable(f"SHOPASSIST_LLM={spec!r}: the factory failed ({exc!r})") from exc
    else:
        module_name, class_name, package = PROVIDERS[kind]
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError as exc:
            raise _unavailable(
                f"SHOPASSIST_LLM={spec!r} needs the {package} package: pip install {package}"
            ) from exc
        kwargs: dict[str, Any] = {"model": first}
        if second:
            kwargs["base_url"] = second
        if timeout_s is not None:
            if kind == "openai":
                kwargs.update(timeout=timeout_s, max_retries=0)
            else:
                kwargs["client_kwargs"] = {"timeout": timeout_s}
        try:
            model = cls(**kwargs)
        except Exception as exc:
            raise _unavailable(f"SHOPASSIST_LLM={spec!r}: {class_name} could not be set up ({exc})") from exc
    if not isinstance(model, BaseChatModel):
        raise _unavailable(f"SHOPASSIST_LLM={spec!r} gave {type(model).__name__}, not a LangChain chat model")
    return model
