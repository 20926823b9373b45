"""Logs never carry a phone number or a bot token."""

from __future__ import annotations

import logging

from bot.logging_setup import RedactingFilter, redact


def test_phone_numbers_and_tokens_are_removed():
    text = redact(
        "gọi 0912 345 678 hoặc +84912345678; token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    )
    assert "0912" not in text and "84912345678" not in text
    assert "AAHdq" not in text
    assert text.count("<số điện thoại>") == 2 and "<token>" in text


def test_the_filter_cleans_messages_and_tracebacks(caplog):
    logger = logging.getLogger("pakn.test")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="pakn.test"):
            logger.info("citizen phone %s", "0987654321")
            try:
                raise ValueError("bad phone 0987654321")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert "0987654321" not in caplog.records[0].getMessage()
    assert "0987654321" not in (caplog.records[1].exc_text or "")
