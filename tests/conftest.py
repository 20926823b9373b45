"""Shared fixtures: configuration in a temporary directory, SQLite and PostgreSQL databases,
and a fixed clock.

PostgreSQL tests run when a server answers on 127.0.0.1:5432 (trust auth, database
``test``; override with ``PAKN_TEST_POSTGRES_URL``). Outside CI they are skipped when none is
reachable; with ``PAKN_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from bot.clock import FakeClock
from bot.config import AppConfig, load_config

REPO = Path(__file__).resolve().parent.parent
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
POSTGRES_URL = os.environ.get(
    "PAKN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("PAKN_REQUIRE_POSTGRES") == "1"

_postgres_checked: bool | None = None


def postgres_available() -> bool:
    global _postgres_checked
    if _postgres_checked is None:
        try:
            engine = sqlalchemy.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT 1"))
            engine.dispose()
            _postgres_checked = True
        except Exception:
            _postgres_checked = False
    return _postgres_checked


def require_postgres() -> None:
    if postgres_available():
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (PAKN_REQUIRE_POSTGRES=1) but {POSTGRES_URL} is down")
    pytest.skip("no PostgreSQL reachable on 127.0.0.1:5432")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'pakn.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'pakn.db'}"


def make_config(directory: Path, database_url: str, **env: str) -> AppConfig:
    """The sample config.toml, copied into ``directory`` so data files land there."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config.toml", directory / "config.toml")
    return load_config(directory / "config.toml", env={"PAKN_DATABASE_URL": database_url, **env})


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> AppConfig:
    return make_config(tmp_path, database_url)


@pytest.fixture
def sqlite_config(tmp_path: Path, sqlite_url: str) -> AppConfig:
    return make_config(tmp_path, sqlite_url)


# Monday 23 November 2026, 09:00 in Hà Nội: a working day before the 24/11 holiday.
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=HCM)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_MORNING)
