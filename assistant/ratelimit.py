"""Rate limits: chat turns per session and requests per client IP, through the ``limits`` library.

Storage is in-process by default (``memory://``); with several replicas serving one store set
``SHOPASSIST_RATE_LIMIT_STORAGE_URI`` to a shared store such as ``redis://host:6379``.  A refused
request is a 429 with ``Retry-After`` (whole seconds until the window lets one more through).
"""

from __future__ import annotations

import math
import time
from typing import Any

from assistant.errors import ShopAssistError

__all__ = ["RateLimited", "RateLimits"]


class RateLimited(ShopAssistError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class RateLimits:
    """``check_ip`` for every API request, ``check_session`` for every chat or voice turn."""

    def __init__(self, *, per_ip: str, per_session: str, storage_uri: str = "memory://") -> None:
        from limits import parse, storage, strategies

        try:
            self.per_ip = parse(per_ip)
            self.per_session = parse(per_session)
        except ValueError as exc:
            raise ValueError(f"rate limit setting: {exc}") from None
        self._limiter: Any = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def _hit(self, item: Any, scope: str, key: str, what: str) -> None:
        if self._limiter.hit(item, scope, key):
            return
        stats = self._limiter.get_window_stats(item, scope, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"too many {what}; try again in {retry} s", retry_after=retry)

    def check_ip(self, ip: str) -> None:
        self._hit(self.per_ip, "ip", ip or "unknown", "requests from this address")

    def check_session(self, session_id: str) -> None:
        self._hit(self.per_session, "session", session_id, "messages in this conversation")
