"""Outbound pacing for a bot token: at most N messages in any rolling second overall, and a
minimum gap between two messages to the same chat (Telegram: 30/s and 1/s per private chat).

A small safety margin is added to both, because the platform measures arrival times and
network jitter can bring two requests closer together than they were sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable

SAFETY_MARGIN = 0.05


class SendPacer:
    def __init__(
        self,
        *,
        per_chat_interval: float,
        overall_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat_interval = per_chat_interval
        self.overall = int(overall_per_second) if overall_per_second > 0 else 0
        self.clock = clock
        self._last: dict[Hashable, float] = {}
        self._recent: deque[float] = deque()
        self.waited = 0.0

    async def wait(self, chat: Hashable) -> None:
        """Return when one more message to ``chat`` may be sent now (and count it)."""
        while True:
            now = self.clock()
            delay = 0.0
            if self.per_chat_interval > 0 and chat in self._last:
                delay = self._last[chat] + self.per_chat_interval + SAFETY_MARGIN - now
            if self.overall:
                window = 1.0 + SAFETY_MARGIN
                while self._recent and self._recent[0] <= now - window:
                    self._recent.popleft()
                if len(self._recent) >= self.overall:
                    delay = max(delay, self._recent[0] + window - now)
            if delay <= 0:
                self._last[chat] = now
                if self.overall:
                    self._recent.append(now)
                if len(self._last) > 10_000:
                    self._forget_idle(now)
                return
            self.waited += delay
            await asyncio.sleep(delay)

    def _forget_idle(self, now: float) -> None:
        idle = now - self.per_chat_interval - SAFETY_MARGIN
        self._last = {chat: at for chat, at in self._last.items() if at > idle}
