"""The bot's own web server (Starlette under uvicorn, inside the ``pakn run`` process).

Routes:

* ``POST /telegram/webhook`` and ``POST /zalo/webhook``: updates pushed by the platforms.
  The secret header (``X-Telegram-Bot-Api-Secret-Token`` / ``X-Bot-Api-Secret-Token``) is
  compared in constant time; a wrong or missing one is answered 403 before the body is read.
  Bodies over ``web.max_body_bytes`` get 413, bodies that are not a JSON object 400. The
  update is processed *before* answering: 200 means what the person sent is committed to
  the database; any failure answers 500 so that the platform delivers it again (repeats are
  dropped by the processor on the update id / Zalo message id). Zalo's empty probe body
  gets 200.
* ``GET /healthz``: ``{"database": "ok"|"error", "outbox_backlog": N, "last_sweep": iso|null}``,
  200, or 503 when the database cannot be reached.
* ``GET /files/{token}``: a stored attachment (or a file under the data directory) behind a
  signed, expiring link from ``bot.links``; 404 for anything invalid or expired. Tokens are a
  single path segment and are checked before any path is built, and the final path must lie
  inside its root, so there is no way to reach other files.

Polling stays the default: the server runs only when ``web.public_base_url`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.zalo_client import WEBHOOK_SECRET_HEADER, secret_matches
from bot.links import LinkSigner
from storage import outbox
from storage.attachments import AttachmentStore
from storage.db import Database
from storage.models import Attachment, OutboxMessage

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT = 5.0


@dataclass
class WebContext:
    """What the routes need; built from the runtime by ``bot.app``."""

    db: Database
    store: AttachmentStore
    data_dir: Path
    max_body_bytes: int
    links: LinkSigner | None = None
    telegram: TelegramChannel | None = None
    telegram_secret: str | None = None
    zalo: ZaloChannel | None = None
    zalo_secret: str | None = None
    last_sweep: Callable[[], datetime | None] = lambda: None


class _BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _BodyTooLarge
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _plain(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


def create_app(ctx: WebContext) -> Starlette:
    async def telegram_webhook(request: Request) -> Response:
        channel = ctx.telegram
        if channel is None:
            return _plain(404, "Not Found")
        received = request.headers.get(TELEGRAM_SECRET_HEADER)
        if not secret_matches(received, ctx.telegram_secret or ""):
            return _plain(403, "Unauthorized")
        try:
            body = await _read_body(request, ctx.max_body_bytes)
        except _BodyTooLarge:
            return _plain(413, "Payload Too Large")
        data = _json_object(body)
        if data is None:
            return _plain(400, "Bad Request: a JSON object is expected")
        from telegram import Update

        try:
            update = Update.de_json(data, channel.bot)
        except Exception:
            log.warning("a Telegram webhook body is not an update", exc_info=True)
            return _plain(400, "Bad Request: not a Telegram update")
        try:
            await channel.feed(update)
        except Exception:
            log.exception("Telegram update %s could not be processed", data.get("update_id"))
            return _plain(500, "Internal Server Error")
        return Response(status_code=200)

    async def zalo_webhook(request: Request) -> Response:
        channel = ctx.zalo
        if channel is None:
            return _plain(404, "Not Found")
        if not secret_matches(request.headers.get(WEBHOOK_SECRET_HEADER), ctx.zalo_secret or ""):
            return _plain(403, "Unauthorized")
        try:
            body = await _read_body(request, ctx.max_body_bytes)
        except _BodyTooLarge:
            return _plain(413, "Payload Too Large")
        if not body.strip():
            return _plain(200, "Success")  # a probe
        data = _json_object(body)
        if data is None:
            return _plain(400, "Bad Request: a JSON object is expected")
        try:
            await channel.handle_webhook_body(data)
        except Exception:
            log.exception("a Zalo webhook update could not be processed")
            return _plain(500, "Internal Server Error")
        return _plain(200, "Success")

    async def healthz(request: Request) -> Response:
        last = ctx.last_sweep()
        report: dict[str, Any] = {
            "database": "ok",
            "outbox_backlog": None,
            "last_sweep": last.isoformat() if last is not None else None,
        }
        try:
            report["outbox_backlog"] = await asyncio.wait_for(
                ctx.db.run(_backlog), timeout=HEALTH_TIMEOUT
            )
        except Exception as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            report["database"] = "error"
            return JSONResponse(report, status_code=503)
        return JSONResponse(report)

    async def files(request: Request) -> Response:
        token = str(request.path_params["token"])
        target = ctx.links.verify(token) if ctx.links is not None else None
        if target is None:
            return _plain(404, "Not Found")
        path: Path | None
        media_type: str | None
        if target.attachment_id is not None:
            try:
                row = await ctx.db.run(_attachment, target.attachment_id)
            except Exception:
                log.exception("looking up attachment %s failed", target.attachment_id)
                return _plain(503, "Service Unavailable")
            if row is None:
                return _plain(404, "Not Found")
            relative, media_type = row
            try:
                path = ctx.store.absolute(relative)
            except ValueError:
                path = None
        else:
            path = _inside(ctx.data_dir, target.document_path or "")
            media_type = None
            if path is not None:
                media_type = mimetypes.guess_type(path.name)[0]
        if path is None or not path.is_file():
            return _plain(404, "Not Found")
        return FileResponse(
            path,
            media_type=media_type or "application/octet-stream",
            headers={
                "Cache-Control": "private, max-age=300",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return Starlette(
        routes=[
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/zalo/webhook", zalo_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/files/{token}", files, methods=["GET", "HEAD"]),
        ]
    )


def _backlog(session: Session) -> int:
    session.execute(text("SELECT 1"))
    count = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_([outbox.PENDING, outbox.SENDING]))
    )
    return int(count or 0)


def _attachment(session: Session, attachment_id: int) -> tuple[str, str] | None:
    row = session.get(Attachment, attachment_id)
    return (row.path, row.mime_type) if row is not None else None


# Only these kinds of file are served from the data directory: never the database, its
# journal or the link secret that live there too, even under a validly signed link.
DOCUMENT_SUFFIXES = frozenset({".xlsx", ".csv", ".pdf", ".png", ".jpg", ".jpeg", ".docx"})


def _inside(root: Path, relative: str) -> Path | None:
    if not relative:
        return None
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or path == base:
        return None
    if path.suffix.lower() not in DOCUMENT_SUFFIXES or path.name.startswith("."):
        return None
    return path


# --------------------------------------------------------------------------- the server


class _Server(uvicorn.Server):
    """uvicorn in the current loop: readiness as an event, signals left to ``pakn run``."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves: an address in use raises ``OSError`` here
    instead of uvicorn calling ``sys.exit`` inside a task."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class WebServer:
    """Serves ``app`` on ``host:port`` (0 picks a free port; see :attr:`url`)."""

    def __init__(self, app: Starlette, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The local address actually listened on, e.g. ``http://127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("web server already started")
        self._socket = _bind(self.host, self.port)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="web-server"
        )
        ready = asyncio.create_task(self._server.ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise RuntimeError("the web server did not start")
        log.info("web server listening on %s", self.url)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is not None and task is not None:
            server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            except TimeoutError:
                server.force_exit = True
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            except Exception:
                log.exception("the web server stopped with an error")
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def build_web_server(runtime: Runtime) -> WebServer:
    """The web server of a runtime: its channels' webhooks, /healthz and file links."""
    config = runtime.config
    ctx = WebContext(
        db=runtime.db,
        store=runtime.store,
        data_dir=config.storage.data_dir,
        max_body_bytes=config.web.max_body_bytes,
        links=runtime.links,
        telegram=runtime.telegram,
        telegram_secret=config.secrets.telegram_webhook_secret,
        zalo=runtime.zalo,
        zalo_secret=config.secrets.zalo_webhook_secret,
        last_sweep=lambda: runtime.last_sweep,
    )
    return WebServer(create_app(ctx), host=config.web.listen_host, port=config.web.listen_port)
