"""Outbound pacing for a bot token: at most N messages in any rolling second overall, and a
minimum gap between two messages to the same chat (Telegram: 30/s and 1/s per private chat).

The platform counts when requests *arrive*, which is somewhere between when we start a
request and when its answer comes back. So a request counts from its start until its end:
the next message to a chat starts only ``per_chat_interval`` after the previous one was
answered, and a new request starts only while fewer than N requests are in flight or were
answered within the last second. That bound holds whatever the network jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager

SAFETY_MARGIN = 0.02


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
        self._chat_free_at: dict[Hashable, float] = {}
        self._busy_chats: set[Hashable] = set()
        # Request id -> end time (None while in flight).
        self._requests: dict[int, float | None] = {}
        self._ids = itertools.count()
        self._changed = asyncio.Event()
        self.waited = 0.0

    def _delay(self, chat: Hashable, now: float) -> float | None:
        """Seconds to wait before ``chat`` may start a request; None: wait for a change."""
        if chat in self._busy_chats:
            return None
        delay = 0.0
        if self.per_chat_interval > 0 and chat in self._chat_free_at:
            delay = self._chat_free_at[chat] - now
        if self.overall:
            window = 1.0 + SAFETY_MARGIN
            for request_id, ended in list(self._requests.items()):
                if ended is not None and ended <= now - window:
                    del self._requests[request_id]
            if len(self._requests) >= self.overall:
                ended_times = [t for t in self._requests.values() if t is not None]
                if not ended_times:
                    return None
                delay = max(delay, min(ended_times) + window - now)
        return delay

    @asynccontextmanager
    async def slot(self, chat: Hashable) -> AsyncIterator[None]:
        """Hold this around one API request that sends a message to ``chat``."""
        while True:
            now = self.clock()
            delay = self._delay(chat, now)
            if delay is not None and delay <= 0:
                break
            self._changed.clear()
            started = self.clock()
            if delay is None:
                await self._changed.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=delay)
            self.waited += self.clock() - started
        request_id = next(self._ids)
        self._requests[request_id] = None
        self._busy_chats.add(chat)
        try:
            yield
        finally:
            ended = self.clock()
            if self.overall:
                self._requests[request_id] = ended
            else:
                self._requests.pop(request_id, None)
            self._busy_chats.discard(chat)
            if self.per_chat_interval > 0:
                self._chat_free_at[chat] = ended + self.per_chat_interval + SAFETY_MARGIN
                if len(self._chat_free_at) > 10_000:
                    self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > ended}
            self._changed.set()
