"""Expiring signed links to stored files, checked directly and through the web server."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.clock import FakeClock
from bot.links import LinkSigner, load_secret
from storage.models import Attachment, Person
from tests.conftest import MONDAY_MORNING
from tests.fakes.images import jpeg_bytes, png_bytes
from tests.stories.zalo_harness import channel_runtime

SECRET = b"s" * 32


@pytest.fixture
def signer(clock: FakeClock) -> LinkSigner:
    return LinkSigner(SECRET, clock, base_url="https://pakn.example/")


def test_a_valid_link_points_to_its_attachment(signer: LinkSigner):
    url = signer.attachment_url(42, mime_type="image/jpeg")
    assert url.startswith("https://pakn.example/files/a42.")
    assert url.endswith(".jpg")
    token = url.rsplit("/", 1)[1]
    target = signer.verify(token)
    assert target is not None and target.attachment_id == 42
    # The file suffix is decoration: the token without it is the same link.
    target = signer.verify(token.removesuffix(".jpg"))
    assert target is not None and target.attachment_id == 42


def test_links_expire(signer: LinkSigner, clock: FakeClock):
    token = signer.attachment_token(7)
    short = signer.attachment_token(7, lifetime=timedelta(minutes=5))
    clock.advance(timedelta(minutes=6))
    assert signer.verify(short) is None
    assert signer.verify(token) is not None
    clock.advance(timedelta(hours=24))
    assert signer.verify(token) is None


def test_tampered_or_foreign_links_are_refused(signer: LinkSigner, clock: FakeClock):
    token = signer.attachment_token(7, mime_type="image/png")
    subject, expires, signature = token.removesuffix(".png").split(".")
    forged = [
        f"a8.{expires}.{signature}",  # another attachment
        f"{subject}.{int(expires) + 3600}.{signature}",  # a longer life
        f"{subject}.{expires}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{subject}.{expires}",
        "",
        "a7..",
        "../../etc/passwd",
        token + ".extra",
        "x" * 5000,
    ]
    for candidate in forged:
        assert signer.verify(candidate) is None, candidate
    other = LinkSigner(b"t" * 32, clock)
    assert other.verify(token) is None


def test_document_links(signer: LinkSigner):
    token = signer.document_token("reports/2026/tuần-47.xlsx")
    target = signer.verify(token)
    assert target is not None and target.document_path == "reports/2026/tuần-47.xlsx"
    for bad in ("/etc/passwd", "../secret", "reports/../../x"):
        with pytest.raises(ValueError):
            signer.document_token(bad)


def test_the_secret_is_created_once_with_private_permissions(tmp_path: Path):
    data = tmp_path / "data"
    first = load_secret(data)
    assert load_secret(data) == first
    mode = stat.S_IMODE(os.stat(data / "link_secret").st_mode)
    assert mode == 0o600
    assert load_secret(data, "an-operator-chosen-secret") == b"an-operator-chosen-secret"
    with pytest.raises(ValueError):
        load_secret(data, "short")


# ----------------------------------------------------------------------------- served files


@pytest.fixture
async def web(config, clock) -> AsyncIterator:
    async with channel_runtime(config, clock, web=True, attachment_link_hours=2) as runtime:
        yield runtime


def store_photo(runtime, data: bytes, *, path: str | None = None) -> int:
    stored = runtime.store.store_image(data, now=MONDAY_MORNING)

    def add(session) -> int:
        person = Person(commune="ha_bac", display_name="Lan", created_at=MONDAY_MORNING)
        session.add(person)
        session.flush()
        row = Attachment(
            person_id=person.id,
            case_id=None,
            kind="photo",
            mime_type=stored.mime_type,
            size=stored.size,
            sha256=stored.sha256,
            path=path or stored.path,
            created_at=MONDAY_MORNING,
            channel="zalo",
        )
        session.add(row)
        session.flush()
        return row.id

    return runtime.db.call(add)


async def test_files_are_served_until_the_link_expires(web, clock):
    jpeg_id = store_photo(web, jpeg_bytes(80, 60))
    png_id = store_photo(web, png_bytes())
    stored_jpeg = web.store.read(web.db.call(lambda s: s.get(Attachment, jpeg_id).path))
    links = web.links
    jpeg_url = links.attachment_url(jpeg_id, mime_type="image/jpeg")
    png_url = links.attachment_url(png_id, mime_type="image/png")
    async with httpx.AsyncClient() as http:
        response = await http.get(jpeg_url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content == stored_jpeg
        response = await http.get(png_url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert (await http.head(jpeg_url)).status_code == 200
        # web.attachment_link_hours = 2
        clock.advance(timedelta(hours=2, seconds=1))
        assert (await http.get(jpeg_url)).status_code == 404


async def test_invalid_links_and_traversal_get_404(web, clock, tmp_path):
    photo = store_photo(web, jpeg_bytes())
    # A row whose path leaves the attachments directory (damaged or malicious data).
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(jpeg_bytes())
    escaping = store_photo(web, jpeg_bytes(), path="../../secret.jpg")
    links = web.links
    good = links.attachment_token(photo)
    base = web.web.url
    async with httpx.AsyncClient(base_url=base) as http:
        for path in [
            f"/files/{good[:-2]}xx",
            f"/files/{links.attachment_token(999_999)}",  # no such attachment
            f"/files/{links.attachment_token(escaping)}",
            # Signed, inside the data directory, but not a kind of file that is served.
            f"/files/{links.document_token('link_secret')}",
            f"/files/{links.document_token('pakn.db')}",
            "/files/..%2F..%2Fetc%2Fpasswd",
            "/files/../../etc/passwd",
            "/files/",
            "/files/a1.99999999999.AAAA",
        ]:
            response = await http.get(path)
            assert response.status_code == 404, path
        assert (await http.get(f"/files/{good}")).status_code == 200


async def test_document_links_stay_inside_the_data_directory(web):
    data_dir: Path = web.config.storage.data_dir
    report = data_dir / "reports" / "tuan.csv"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("ma;trang thai\n", encoding="utf-8")
    async with httpx.AsyncClient() as http:
        response = await http.get(web.links.document_url("reports/tuan.csv"))
        assert response.status_code == 200
        assert response.text == "ma;trang thai\n"
        assert response.headers["content-type"].startswith("text/csv")
        # Even a validly signed link cannot leave the data directory (here by a symlink).
        outside = data_dir.parent / "outside.csv"
        outside.write_text("secret", encoding="utf-8")
        (report.parent / "link.csv").symlink_to(outside)
        response = await http.get(web.links.document_url("reports/link.csv"))
        assert response.status_code == 404
