"""Database engine, transactions and migrations.

Storage code is synchronous SQLAlchemy; the asyncio side calls ``await db.run(fn, ...)``,
which runs ``fn(session, ...)`` in a worker thread inside one transaction. On SQLite a single
worker thread is the single writer (no "database is locked" between our own steps); on
PostgreSQL a small pool runs transactions in parallel and rows are claimed with
``FOR UPDATE SKIP LOCKED``. See docs/ARCHITECTURE.md for why this shape was chosen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_P = ParamSpec("_P")
_R = TypeVar("_R")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Pick our drivers: pysqlite for SQLite, psycopg 3 for PostgreSQL."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event below open transactions itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a process crash (the SIGKILL test); only a power
    # loss may drop the last transactions.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at the start: two processes (the bot and `pakn chat`, or two
    # dispatchers) then queue on busy_timeout instead of failing to upgrade a stale read.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str, *, workers: int | None = None, echo: bool = False) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=max(workers or 4, 1), max_overflow=4, pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1 if self.is_sqlite else (workers or 4),
            thread_name_prefix="pakn-db",
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def call(
        self, fn: Callable[Concatenate[Session, _P], _R], *args: _P.args, **kwargs: _P.kwargs
    ) -> _R:
        """Run ``fn(session, ...)`` in one transaction in the calling thread."""
        with self.transaction() as session:
            return fn(session, *args, **kwargs)

    async def run(
        self, fn: Callable[Concatenate[Session, _P], _R], *args: _P.args, **kwargs: _P.kwargs
    ) -> _R:
        """Run ``fn(session, ...)`` in one transaction on a database worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(self.call, fn, *args, **kwargs)
        )

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        from alembic import command

        command.upgrade(alembic_config(self.url, self.engine), "head")

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def alembic_config(url: str, engine: Engine | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config
