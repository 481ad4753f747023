"""Shopper behaviour: the abandonment model, its features, training, evaluation and live use.

``features`` turns a session's logged turns, events and orders into one row per turn; ``model``
is the GRU (served with numpy) and its logistic-regression baseline; ``train`` fits both (PyTorch,
imported only there); ``dataset`` holds the splits and the metrics; ``offers`` decides which help
to offer a shopper at risk; ``live`` computes the risk inside a turn and lists the live sessions at
risk; ``logs`` reads sessions from the database.
"""

from assistant.behaviour.dataset import Sequences, build_sequences, evaluate, split_by_session
from assistant.behaviour.features import FEATURES, EventLog, SessionLog, TurnLog, order_cut, turn_features
from assistant.behaviour.live import OFFER_KEY, RISK_KEY, at_risk_sessions, session_risk, watch_turn
from assistant.behaviour.logs import SIMULATED_CHANNEL, count_finished, finished_session_ids, load_sessions
from assistant.behaviour.model import AbandonmentModel
from assistant.behaviour.offers import HelpOffer, offer_help

__all__ = [
    "FEATURES",
    "OFFER_KEY",
    "RISK_KEY",
    "SIMULATED_CHANNEL",
    "AbandonmentModel",
    "EventLog",
    "HelpOffer",
    "Sequences",
    "SessionLog",
    "TurnLog",
    "at_risk_sessions",
    "build_sequences",
    "count_finished",
    "evaluate",
    "finished_session_ids",
    "load_sessions",
    "offer_help",
    "order_cut",
    "session_risk",
    "split_by_session",
    "turn_features",
    "watch_turn",
]
