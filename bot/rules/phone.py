"""Vietnamese mobile numbers: accept what people type, store one canonical form."""

from __future__ import annotations

import re

# Mobile prefixes after the 2018 renumbering: 03x, 05x, 07x, 08x, 09x (10 digits in all).
_MOBILE = re.compile(r"^0[35789]\d{8}$")
_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_mobile(text: str) -> str | None:
    """``0912345678`` for any of "0912 345 678", "+84 912-345-678", "84912345678";
    ``None`` when the text is not a Vietnamese mobile number."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.match(digits) else None


def mask(phone: str) -> str:
    """For showing or logging: keep the last 3 digits only."""
    return "*" * max(len(phone) - 3, 0) + phone[-3:]
