"""Unguessable, expiring links to files the bot serves (stored photos, chart images, reports).

Zalo's ``sendPhoto`` takes only a public URL: Zalo's servers fetch the image themselves. The
bot's web server therefore serves stored files under ``{public_base_url}/files/{token}``,
where the token carries what to serve and until when, signed with HMAC-SHA256:

    a12.1790000000.<signature>.jpg      attachment 12, valid until that epoch second
    d<base64url path>.1790000000.<sig>  a file under the data directory (reports)

Nothing is stored per link: the signature proves the bot made it, the expiry is checked
against the injected clock, and a link cannot be turned into another file's link without
the secret. The secret comes from ``PAKN_LINK_SECRET`` or, when that is unset, from a random
secret created once in the data directory (``link_secret``, permissions 0600), so links
survive restarts and several processes sharing the data directory agree on them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath

from bot.clock import Clock

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "link_secret"
SECRET_ENV = "PAKN_LINK_SECRET"
# 128 bits of HMAC output: far beyond guessing, short enough for a URL.
_SIGNATURE_BYTES = 16
_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class LinkTarget:
    """What a valid token points to: an attachment id or a path under the data directory."""

    attachment_id: int | None = None
    document_path: str | None = None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(data_dir: Path, env_value: str | None = None) -> bytes:
    """The link secret: ``env_value`` (``PAKN_LINK_SECRET``) when given, else the secret
    stored in ``data_dir/link_secret``, created with 0600 permissions on first use."""
    if env_value:
        if len(env_value) < 16:
            raise ValueError(f"{SECRET_ENV} must be at least 16 characters")
        return env_value.encode("utf-8")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise ValueError(f"{path} is damaged: delete it to create a new link secret") from None
        return value.encode("ascii")
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    log.info("created a new link secret in %s", path)
    return value.encode("ascii")


class LinkSigner:
    """Makes and checks file links. ``base_url`` is the public address of the web server
    (``web.public_base_url``); it may be set after construction (tests bind port 0)."""

    def __init__(
        self,
        secret: bytes,
        clock: Clock,
        *,
        base_url: str = "",
        lifetime: timedelta = timedelta(hours=24),
    ) -> None:
        if len(secret) < 16:
            raise ValueError("link secret too short")
        self._secret = secret
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.lifetime = lifetime

    def _sign(self, subject: str, expires: int) -> str:
        message = f"pakn-file|{subject}|{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return _b64encode(digest[:_SIGNATURE_BYTES])

    def _expiry(self, lifetime: timedelta | None) -> int:
        moment = self.clock.now() + (lifetime if lifetime is not None else self.lifetime)
        return int(moment.timestamp())

    # ------------------------------------------------------------------ making

    def attachment_token(
        self, attachment_id: int, *, mime_type: str | None = None, lifetime: timedelta | None = None
    ) -> str:
        subject = f"a{int(attachment_id)}"
        expires = self._expiry(lifetime)
        suffix = _SUFFIXES.get(mime_type or "", "")
        return f"{subject}.{expires}.{self._sign(subject, expires)}{suffix}"

    def document_token(self, relative_path: str, *, lifetime: timedelta | None = None) -> str:
        """A token for a file under the data directory, given by its relative path."""
        path = PurePosixPath(relative_path)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("document links take a path relative to the data directory")
        subject = "d" + _b64encode(path.as_posix().encode("utf-8"))
        expires = self._expiry(lifetime)
        suffix = path.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", path.suffix) else ""
        return f"{subject}.{expires}.{self._sign(subject, expires)}{suffix}"

    def attachment_url(
        self, attachment_id: int, *, mime_type: str | None = None, lifetime: timedelta | None = None
    ) -> str:
        if not self.base_url:
            raise RuntimeError("no public base URL for file links")
        token = self.attachment_token(attachment_id, mime_type=mime_type, lifetime=lifetime)
        return f"{self.base_url}/files/{token}"

    def document_url(self, relative_path: str, *, lifetime: timedelta | None = None) -> str:
        if not self.base_url:
            raise RuntimeError("no public base URL for file links")
        return f"{self.base_url}/files/{self.document_token(relative_path, lifetime=lifetime)}"

    # ------------------------------------------------------------------ checking

    def verify(self, token: str) -> LinkTarget | None:
        """What ``token`` points to, or None when it is malformed, forged or expired."""
        if len(token) > 1024:
            return None
        # subject.expires.signature, plus an optional file suffix (".jpg") for the
        # platforms that look at it; base64url never contains a dot.
        parts = token.split(".")
        if len(parts) == 4 and re.fullmatch(r"[A-Za-z0-9]{1,8}", parts[3]):
            parts = parts[:3]
        if len(parts) != 3:
            return None
        subject, expires_text, signature = parts
        if not expires_text.isdigit() or len(expires_text) > 12 or not subject:
            return None
        expires = int(expires_text)
        if not hmac.compare_digest(signature.encode(), self._sign(subject, expires).encode()):
            return None
        if expires <= self.clock.now().timestamp():
            return None
        kind, value = subject[0], subject[1:]
        if kind == "a" and value.isdigit():
            return LinkTarget(attachment_id=int(value))
        if kind == "d":
            try:
                path = _b64decode(value).decode("utf-8")
            except (binascii.Error, ValueError):
                return None
            return LinkTarget(document_path=path)
        return None
