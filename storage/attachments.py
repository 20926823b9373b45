"""Attachment files on disk: checked, cleaned of metadata, stored under unguessable names.

Photos are decoded and re-encoded with Pillow. That proves the bytes are really an image
of a supported type and drops every metadata block (EXIF, GPS, XMP, comments): location is
sensitive personal data and citizens rarely know their phone wrote it into the photo.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

SUPPORTED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/jpeg"}
MAX_IMAGE_PIXELS = 40_000_000


class ImageRejected(ValueError):
    """The bytes are not an image we accept. ``reason`` is one of the constants below."""

    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int
    mime_type: str


def clean_image(data: bytes) -> tuple[bytes, str]:
    """Re-encode ``data`` without metadata; returns the new bytes and their MIME type."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image: Image.Image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            if image_format not in SUPPORTED_IMAGE_FORMATS:
                raise ImageRejected(ImageRejected.UNSUPPORTED_FORMAT)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageRejected(ImageRejected.UNSUPPORTED_FORMAT)
            # Apply the orientation tag before it is dropped, so the photo stays upright.
            image = ImageOps.exif_transpose(image) or image
            image.load()
        except ImageRejected:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
            raise ImageRejected(ImageRejected.NOT_AN_IMAGE) from exc
    out = io.BytesIO()
    mime = SUPPORTED_IMAGE_FORMATS[image_format]
    if mime == "image/png":
        clean = Image.new(image.mode, image.size)
        clean.paste(image)
        clean.save(out, format="PNG", optimize=False)
    else:
        rgb = image.convert("RGB")
        rgb.save(out, format="JPEG", quality=88, exif=b"")
    return out.getvalue(), mime


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def store_image(self, data: bytes, *, now: datetime | None = None) -> StoredFile:
        cleaned, mime = clean_image(data)
        return self._write(cleaned, mime, now or datetime.now(UTC))

    def store_file(self, data: bytes, mime_type: str, *, now: datetime | None = None) -> StoredFile:
        """Store bytes made by the bot itself (charts, reports) as they are."""
        return self._write(data, mime_type, now or datetime.now(UTC))

    def _write(self, data: bytes, mime: str, now: datetime) -> StoredFile:
        suffix = {"image/jpeg": ".jpg", "image/png": ".png"}.get(mime, ".bin")
        relative = Path(f"{now:%Y}") / f"{now:%m}" / f"{secrets.token_hex(16)}{suffix}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return StoredFile(
            path=relative.as_posix(),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            mime_type=mime,
        )

    def absolute(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("attachment path outside the attachments directory")
        return path

    def read(self, relative: str) -> bytes:
        return self.absolute(relative).read_bytes()

    def delete(self, relative: str) -> None:
        self.absolute(relative).unlink(missing_ok=True)


def record_attachment(
    session: Session,
    stored: StoredFile,
    *,
    person_id: int,
    kind: str,
    channel: str,
    now: datetime,
    case_id: int | None = None,
) -> int:
    """The database row of a stored file; outgoing messages refer to files by this id."""
    from storage.models import Attachment

    attachment = Attachment(
        person_id=person_id,
        case_id=case_id,
        kind=kind,
        mime_type=stored.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        path=stored.path,
        created_at=now,
        channel=channel,
    )
    session.add(attachment)
    session.flush()
    return attachment.id
