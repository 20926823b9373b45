"""Tracking codes: short, typable, unique per commune and year (HB-2026-00042)."""

from __future__ import annotations

import re

_CODE = re.compile(r"^\s*([A-Za-z]{1,5})\s*[-_ ]?\s*(\d{4})\s*[-_ ]?\s*(\d{1,7})\s*$")


def format_code(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:05d}"


def parse_code(text: str) -> str | None:
    """The canonical code for what a person typed ("hb 2026 42", "HB-2026-00042"), or None."""
    match = _CODE.match(text)
    if not match:
        return None
    return format_code(match[1].upper(), int(match[2]), int(match[3]))
