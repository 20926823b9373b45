"""Greetings and thanks typed as a whole message ("chào buổi sáng", "cảm ơn ad nhiều nha").

They are no question: the FAQ would match them by their words ("buổi sáng" is in the office
hours), so they are recognised first and answered politely with the menu.
"""

from __future__ import annotations

from typing import Literal

from bot.rules.textnorm import tokens

SmallTalk = Literal["greeting", "thanks"]

# Folded words. A message is small talk when all its words are in these sets and it has a
# greeting or thanks word.
_GREETING = frozenset({"chao", "hi", "hello", "helo", "hey", "alo", "xin"})
_THANKS = frozenset({"cam", "on", "thank", "thanks", "you", "cm"})
_AROUND = frozenset(
    {
        # forms of address
        "ban", "bot", "anh", "chi", "em", "chau", "bac", "co", "chu", "cau", "ong", "ba",
        "moi", "nguoi", "ca", "nha", "ad", "admin", "xa", "can", "bo",
        # time of day, politeness, emphasis
        "buoi", "sang", "trua", "chieu", "toi", "tot", "lanh", "nhe", "a", "da", "vang",
        "nhieu", "rat", "lam", "oi", "ah", "nhen", "nghen", "kinh",
    }
)  # fmt: skip
_LONGEST = 8


def small_talk(text: str) -> SmallTalk | None:
    """``"greeting"`` or ``"thanks"`` when the whole message is one, else None."""
    words = tokens(text, drop_fillers=False)
    if not words or len(words) > _LONGEST:
        return None
    if any(w not in _GREETING and w not in _THANKS and w not in _AROUND for w in words):
        return None
    if ("cam" in words and "on" in words) or "thank" in words or "thanks" in words:
        return "thanks"
    if any(w in _GREETING - {"xin"} for w in words):
        return "greeting"
    return None
