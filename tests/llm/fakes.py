"""Fake chat models for the LLM tests (LangChain's fake models, made to call tools and record prompts)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

#: one scripted step: an answer, an error to raise, or a function of the prompt giving the answer
Step = AIMessage | Exception | Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """Answers the scripted steps in order (then empty answers) and records every prompt and the
    names of the tools bound on each call, as a real tool-calling model would see them."""

    steps: list[Any] = []
    prompts: list[list[BaseMessage]] = []
    tools_seen: list[list[str]] = []

    def script(self, *steps: Step) -> ScriptedChatModel:
        self.steps = list(steps)
        self.prompts = []
        self.tools_seen = []
        return self

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        self.tools_seen.append([t["function"]["name"] for t in kwargs.get("tools", [])])
        step = self.steps.pop(0) if self.steps else AIMessage("")
        if isinstance(step, Exception):
            raise step
        message = step(messages) if callable(step) else step
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"


class SlowChatModel(FakeMessagesListChatModel):
    """LangChain's list fake with a delay: each answer takes ``sleep`` seconds."""


def tool_call(name: str, args: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def scripted_model() -> ScriptedChatModel:
    """The factory ``SHOPASSIST_LLM=tests.llm.fakes:scripted_model`` names."""
    return ScriptedChatModel()


def not_a_model() -> object:
    return object()


def slow_model(sleep: float = 3.0) -> SlowChatModel:
    return SlowChatModel(responses=[AIMessage("too late")], sleep=sleep)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
