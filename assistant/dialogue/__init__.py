"""The conversation engine: dialogue state, reference resolution, policy, responses."""

from assistant.dialogue._engine import MAX_MESSAGE_CHARS, Assistant, TurnRecord, Understander
from assistant.dialogue._policy import Outcome, Policy, TurnContext
from assistant.dialogue._response import ACTIONS, ChatResponse, IntentOut, ProductCardOut
from assistant.dialogue._state import PAGE_SIZE, DialogueState

__all__ = [
    "ACTIONS",
    "MAX_MESSAGE_CHARS",
    "PAGE_SIZE",
    "Assistant",
    "ChatResponse",
    "DialogueState",
    "IntentOut",
    "Outcome",
    "Policy",
    "ProductCardOut",
    "TurnContext",
    "TurnRecord",
    "Understander",
]
