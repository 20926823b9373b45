"""Storage on SQLite and PostgreSQL: schema, tracking codes, outbox, times, attachments."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot.app import build_services
from bot.config import AppConfig
from bot.messages import OutgoingMessage
from storage import outbox
from storage.attachments import AttachmentStore, ImageRejected, clean_image
from storage.db import Database
from storage.models import Base, OutboxMessage, Person
from storage.people import Sender, identify
from tests.fakes.images import exif_gps, has_exif, image_size, jpeg_bytes, png_bytes

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(config: AppConfig):
    database = Database(config.storage.database_url)
    database.migrate()
    yield database
    database.close()


def test_migrations_create_exactly_the_models(db: Database):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_times_come_back_as_aware_utc(db: Database):
    local = datetime(2026, 11, 23, 23, 30, tzinfo=UTC) + timedelta(hours=0)
    person_id = db.call(lambda s: _person(s, local))
    created = db.call(lambda s: s.get_one(Person, person_id).created_at)
    assert created == local and created.tzinfo is not None


def _person(session, moment) -> int:
    person = Person(commune="ha_bac", created_at=moment)
    session.add(person)
    session.flush()
    return person.id


def test_tracking_codes_are_sequential_per_year(db: Database, config: AppConfig, tmp_path: Path):
    cases = build_services(config, AttachmentStore(tmp_path)).cases
    codes = [db.call(cases.next_code, 2026) for _ in range(3)] + [db.call(cases.next_code, 2027)]
    assert codes == ["HB-2026-00001", "HB-2026-00002", "HB-2026-00003", "HB-2027-00001"]


def test_tracking_codes_stay_unique_under_concurrency(config: AppConfig, tmp_path: Path):
    """Many transactions at once (threads, and on PostgreSQL real parallel sessions)."""
    first = Database(config.storage.database_url, workers=4)
    first.migrate()
    cases = build_services(config, AttachmentStore(tmp_path)).cases
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            codes = list(pool.map(lambda _: first.call(cases.next_code, 2026), range(40)))
    finally:
        first.close()
    assert len(set(codes)) == 40
    assert sorted(codes)[-1] == "HB-2026-00040"


def test_a_dedupe_key_is_queued_once(db: Database):
    def queue(session) -> int | None:
        _person, identity = identify(
            session, Sender("telegram", "1", "1", None), commune="ha_bac", now=NOW
        )
        return outbox.enqueue(
            session,
            identity,
            OutgoingMessage(text="Nhắc việc"),
            purpose="reminder",
            now=NOW,
            dedupe_key="rem:2026-11-23:due:1:1",
        )

    assert db.call(queue) is not None
    assert db.call(queue) is None
    assert len(db.call(lambda s: list(s.scalars(select(OutboxMessage))))) == 1


def test_rows_of_a_dead_process_are_taken_back(db: Database):
    def claimed_by_dead(session) -> None:
        _person, identity = identify(
            session, Sender("telegram", "1", "1", None), commune="ha_bac", now=NOW
        )
        message_id = outbox.enqueue(
            session, identity, OutgoingMessage(text="x"), purpose="t", now=NOW
        )
        row = session.get_one(OutboxMessage, message_id)
        row.status, row.claimed_by, row.claimed_until = (
            "sending",
            "host-a:999999:1",
            NOW + timedelta(hours=1),
        )

    db.call(claimed_by_dead)
    assert db.call(outbox.release_abandoned, host="host-b", is_alive=lambda pid: False) == 0
    assert db.call(outbox.release_abandoned, host="host-a", is_alive=lambda pid: True) == 0
    assert db.call(outbox.release_abandoned, host="host-a", is_alive=lambda pid: False) == 1
    claimed = db.call(
        outbox.claim, worker="w", now=NOW, channels=["telegram"], lease=timedelta(seconds=30)
    )
    assert len(claimed) == 1


def test_photos_lose_their_location_and_keep_their_picture(tmp_path: Path):
    photo = jpeg_bytes(320, 200, with_exif_gps=True)
    assert exif_gps(photo)
    cleaned, mime = clean_image(photo)
    assert mime == "image/jpeg"
    assert not has_exif(cleaned)
    assert image_size(cleaned) == (320, 200)
    png, png_mime = clean_image(png_bytes(40, 30))
    assert png_mime == "image/png" and image_size(png) == (40, 30)
    with pytest.raises(ImageRejected) as rejected:
        clean_image(b"%PDF-1.4 not an image")
    assert rejected.value.reason == ImageRejected.NOT_AN_IMAGE
    gif = tmp_path / "a.gif"
    from PIL import Image

    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(ImageRejected) as unsupported:
        clean_image(gif.read_bytes())
    assert unsupported.value.reason == ImageRejected.UNSUPPORTED_FORMAT
    stored = AttachmentStore(tmp_path / "att").store_image(photo, now=NOW)
    assert stored.path.startswith("2026/11/") and len(Path(stored.path).stem) == 32
    with pytest.raises(ValueError):
        AttachmentStore(tmp_path / "att").absolute("../../etc/passwd")
