"""Telegram's flood limits kept on our side: per chat and overall."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.channels.pacing import SendPacer


async def send_all(
    pacer: SendPacer, chats: list[int], latency: float = 0.01
) -> list[tuple[int, float, float]]:
    """(chat, start, end) of each simulated request."""
    log: list[tuple[int, float, float]] = []

    async def one(chat: int) -> None:
        async with pacer.slot(chat):
            start = time.monotonic()
            await asyncio.sleep(latency)
            log.append((chat, start, time.monotonic()))

    await asyncio.gather(*(one(chat) for chat in chats))
    return log


async def test_one_chat_waits_the_interval_after_the_previous_answer():
    pacer = SendPacer(per_chat_interval=0.1, overall_per_second=0)
    log = await send_all(pacer, [1, 1, 1, 2])
    ones = sorted((start, end) for chat, start, end in log if chat == 1)
    for (_s1, end1), (start2, _e2) in itertools.pairwise(ones):
        assert start2 - end1 >= 0.1
    two = next(start for chat, start, _ in log if chat == 2)
    assert two - min(s for s, _ in ones) < 0.1, "other chats are not held up"


async def test_no_more_than_n_requests_in_any_second():
    pacer = SendPacer(per_chat_interval=0, overall_per_second=5)
    log = await send_all(pacer, list(range(12)), latency=0.005)
    starts = sorted(start for _chat, start, _end in log)
    # Whatever the network delay, six requests never reach the platform within one second:
    # the sixth starts a second after the first one was answered.
    for first, sixth in zip(starts, starts[5:], strict=False):
        assert sixth - first >= 1.0
