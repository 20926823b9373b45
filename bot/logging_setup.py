"""Logging that never writes a phone number or a bot token.

Handlers do not log personal data on purpose; this filter is the safety net for what slips
through (an exception message quoting user input, a library logging a URL with the token).
"""

from __future__ import annotations

import logging
import re

# Vietnamese phone numbers in any common spelling, and Telegram/Zalo bot tokens.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_\-]{20,}\b")


def redact(text: str) -> str:
    return _TOKEN.sub("<token>", _PHONE.sub("<số điện thoại>", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(exc_text)
        return True


def setup_logging(*, verbose: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs every request URL at INFO, and bot URLs contain the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
