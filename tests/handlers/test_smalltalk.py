"""Greetings and thanks typed as a whole message are recognised; anything more is not."""

from __future__ import annotations

import pytest

from handlers.smalltalk import small_talk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chào buổi sáng", "greeting"),
        ("chao buoi sang", "greeting"),
        ("xin chào bạn", "greeting"),
        ("Kính chào cán bộ xã", "greeting"),
        ("alo alo", "greeting"),
        ("hi", "greeting"),
        ("cảm ơn ad nhiều nha", "thanks"),
        ("tks", "thanks"),
        ("thank you", "thanks"),
        ("chào ad, cho hỏi lịch tiếp dân", None),
        ("cảm ơn nhưng tôi chưa hiểu", None),
        ("ok", None),
        ("xin", None),
        ("", None),
    ],
)
def test_small_talk(text, expected):
    assert small_talk(text) == expected
