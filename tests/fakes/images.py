"""Small, valid JPEG and PNG images made with Pillow, for tests.

``jpeg_bytes(with_exif_gps=True)`` embeds real EXIF data with a GPS IFD (coordinates in
Hanoi by default), so that a test can check that the bot strips it; ``exif_gps`` reads it
back.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import ExifTags, Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

HANOI = (21.028511, 105.854165)
"""Default (latitude, longitude) written by ``jpeg_bytes(with_exif_gps=True)``."""


def _picture(width: int, height: int, color: tuple[int, int, int]) -> Image.Image:
    """An RGB image with a contrasting rectangle, so that it is not a single flat colour."""
    image = Image.new("RGB", (width, height), color)
    inverse = (255 - color[0], 255 - color[1], 255 - color[2])
    ImageDraw.Draw(image).rectangle(
        (width // 4, height // 4, max(width // 4, 3 * width // 4 - 1), 3 * height // 4),
        fill=inverse,
    )
    return image


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Degrees, minutes and seconds of an absolute coordinate, as EXIF rationals."""
    value = abs(value)
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * 1000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 1000)


def _exif_with_gps(latitude: float, longitude: float) -> Image.Exif:
    """EXIF data naming a camera, a capture time and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PaknTestCam"
    exif[ExifTags.Base.Model] = "Model 1"
    exif[ExifTags.Base.DateTime] = "2025:05:01 08:30:00"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N" if latitude >= 0 else "S",
        ExifTags.GPS.GPSLatitude: _dms(latitude),
        ExifTags.GPS.GPSLongitudeRef: "E" if longitude >= 0 else "W",
        ExifTags.GPS.GPSLongitude: _dms(longitude),
    }
    return exif


def jpeg_bytes(
    width: int = 64,
    height: int = 48,
    *,
    with_exif_gps: bool = False,
    gps: tuple[float, float] = HANOI,
    color: tuple[int, int, int] = (34, 139, 34),
    quality: int = 85,
) -> bytes:
    """A valid JPEG of the given size; with ``with_exif_gps`` it carries EXIF incl. a GPS IFD
    at ``gps`` (latitude, longitude)."""
    buffer = io.BytesIO()
    image = _picture(width, height, color)
    if with_exif_gps:
        image.save(buffer, "JPEG", quality=quality, exif=_exif_with_gps(*gps))
    else:
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(
    width: int = 64, height: int = 48, *, color: tuple[int, int, int] = (30, 90, 200)
) -> bytes:
    """A valid PNG of the given size."""
    buffer = io.BytesIO()
    _picture(width, height, color).save(buffer, "PNG")
    return buffer.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image; raises PIL.UnidentifiedImageError if not one."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def exif_gps(data: bytes) -> dict[int, Any]:
    """The GPS IFD of an encoded image (tag number -> value), empty when it has none."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def has_exif(data: bytes) -> bool:
    """Whether an encoded image carries any EXIF tag at all."""
    with Image.open(io.BytesIO(data)) as image:
        return len(image.getexif()) > 0
