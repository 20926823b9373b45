"""A fake Zalo Bot Platform API server for tests.

It runs Starlette under uvicorn as a task of the *current* asyncio loop, on
127.0.0.1 and a free port, and imitates the behaviour described in
``shared/api/zalo-bot-api.md``::

    async with FakeZaloServer() as zalo:
        client = ZaloBotClient(zalo.token, base_url=zalo.base_url)
        zalo.add_text("u1", "Xin chào")
        update = await client.get_update(timeout=1)
        await client.send_message("u1", "Chào bạn")
        [reply] = await zalo.wait_for(chat_id="u1")

What it does, per method (``/bot{token}/{method}``, GET or POST, JSON, form or query
parameters; a wrong token answers HTTP 401 ``{ok:false,error_code:401}``):

* ``getMe``: a fixed bot (``id`` = the token's part before ``:``).
* ``getUpdates``: ONE update per call, no offsets; the update leaves the queue as soon
  as it is handed out (even if the client has gone away meanwhile, like Zalo's
  at-most-once delivery). With nothing queued it waits up to ``timeout`` seconds
  (string or number, default 30) and answers HTTP 200
  ``{ok:false,error_code:408,description:"Request timeout"}``. While a webhook is
  set it answers HTTP 409 ``{ok:false,error_code:409}``.
* ``sendMessage``: ``chat_id`` and ``text`` of 1-2000 characters counted in UTF-16
  code units (the strictest reading of the limit); else HTTP 400 envelope.
* ``sendPhoto``: ``photo`` must be an http(s) URL; like Zalo, the fake downloads it
  (only from 127.0.0.1 / localhost, the tests have no other network) and records the
  bytes and HTTP status; a failed download answers 400 "The photo URL is invalid".
  ``caption`` up to 2000 UTF-16 units.
* ``sendSticker`` (``sticker`` required), ``sendChatAction`` (``action`` "typing" or
  "upload_photo"; answers ``{ok:true}`` without ``result``).
* ``setWebhook``: ``url`` (http(s)) and ``secret_token`` of 8-256 characters. From
  then on (and for updates still queued) updates are POSTed to the URL with header
  ``X-Bot-Api-Secret-Token``, in the body style of :attr:`webhook_body_style`, one
  at a time in order, without retries; each attempt is recorded in
  :attr:`webhook_deliveries`.
* ``deleteWebhook``: ``{url:"",updated_at}``; ``getWebhookInfo``: ``{url,updated_at}``
  (never the secret).
* Unknown methods: HTTP 400 envelope. Dates are epoch milliseconds.

Successful ``sendMessage``/``sendPhoto``/``sendSticker`` calls are recorded in
:attr:`sent`, chat actions in :attr:`actions`, refused send calls (validation errors
and injected failures) in :attr:`rejected`; :attr:`calls` counts every call by method.
Nothing here sleeps for a fixed time: waits are on events, and delays injected with
:meth:`delay` end early when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeZaloServer", "WebhookDelivery", "ZaloSent", "serve_asgi"]

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker"})
TEXT_LIMIT = 2000
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_HEADER = "X-Bot-Api-Secret-Token"

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_local_url(value: str) -> bool:
    return (urlsplit(value).hostname or "") in LOCAL_HOSTS


@dataclass
class ZaloSent:
    """One send call the fake received.

    ``method`` is "sendMessage", "sendPhoto", "sendSticker" (or "sendChatAction" in
    :attr:`FakeZaloServer.actions`). ``text`` is the message text or the photo caption.
    ``photo_url`` is the ``photo`` parameter of sendPhoto; ``fetched_photo`` and
    ``fetched_status`` are the body and HTTP status the fake got when it downloaded
    it (``fetched_status`` None if no download was attempted or it failed at the
    connection level). ``params`` are all parameters as received; ``at`` is
    ``time.monotonic()`` when the call was handled. For entries of
    :attr:`FakeZaloServer.rejected`, ``error`` is the description answered.
    """

    method: str
    chat_id: str
    text: str | None
    photo_url: str | None
    fetched_photo: bytes | None
    fetched_status: int | None
    params: dict[str, Any]
    at: float
    fetched_content_type: str | None = None
    message_id: str | None = None
    error: str | None = None


@dataclass
class WebhookDelivery:
    """One attempt to POST an update to the webhook URL.

    ``status`` is the receiver's HTTP status (None if the request failed, then
    ``error`` says why); ``response_text`` the receiver's response body.
    """

    url: str
    body: dict[str, Any]
    secret_token: str | None
    status: int | None
    response_text: str | None
    error: str | None
    at: float


@dataclass
class _Failure:
    error_code: int
    http_status: int
    description: str
    times: int


@dataclass
class _Delay:
    seconds: float
    times: int


class _Server(uvicorn.Server):
    """uvicorn server that signals readiness with an event and leaves signals alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI ``app`` on 127.0.0.1 (free port) in the current loop; yields its
    base URL (``http://127.0.0.1:PORT``). Used for tiny webhook receivers in tests."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name="asgi-test-server")
    ready = asyncio.create_task(server.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            raise RuntimeError("ASGI test server did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        ready.cancel()
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


@dataclass
class _State:
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    delays: dict[str, deque[_Delay]] = field(default_factory=dict)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)


class FakeZaloServer:
    """Fake Zalo Bot API; see the module docstring for the behaviour.

    ``image_field`` is where :meth:`add_image` puts the image URL ("photo_url" as in
    real traffic, or "photo" as in the docs); ``name_field`` where the sender's name
    goes ("display_name", "name" or "first_name").
    """

    def __init__(
        self,
        *,
        token: str = "1234567890:zalo-test-secret",
        image_field: str = "photo_url",
        name_field: str = "display_name",
    ) -> None:
        if image_field not in ("photo_url", "photo"):
            raise ValueError("image_field must be 'photo_url' or 'photo'")
        if name_field not in ("display_name", "name", "first_name"):
            raise ValueError("name_field must be 'display_name', 'name' or 'first_name'")
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.image_field = image_field
        self.name_field = name_field
        #: Body style of webhook deliveries: "unwrapped" ``{event_name, message}`` as in
        #: real traffic, or "wrapped" ``{ok: true, result: {...}}`` as in the docs.
        self.webhook_body_style: Literal["wrapped", "unwrapped"] = "unwrapped"
        #: Successful sendMessage / sendPhoto / sendSticker calls, in order.
        self.sent: list[ZaloSent] = []
        #: Successful sendChatAction calls.
        self.actions: list[ZaloSent] = []
        #: Send calls answered with an error (validation or injected by :meth:`fail`).
        self.rejected: list[ZaloSent] = []
        #: Every API call by method name (including failed ones and wrong tokens).
        self.calls: Counter[str] = Counter()
        #: Every webhook delivery attempt, in order.
        self.webhook_deliveries: list[WebhookDelivery] = []
        #: Current webhook (``""`` when none) and its secret.
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_updated_at = 0
        self._state = _State()
        self._waiters: set[asyncio.Event] = set()
        self._deliveries: asyncio.Queue[dict[str, Any]] | None = None
        self._closing = False
        self._base_url: str | None = None
        self._server: _Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._delivery_task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/media/{name}", self._media, methods=["GET", "HEAD"]),
            ]
        )
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (only after :meth:`start`)."""
        if self._base_url is None:
            raise RuntimeError("FakeZaloServer is not started")
        return self._base_url

    async def start(self) -> None:
        """Start serving; returns once the socket is listening."""
        if self._serve_task is not None:
            raise RuntimeError("FakeZaloServer already started")
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
        self._server = _Server(config)
        self._closing = False
        self._http = httpx.AsyncClient(trust_env=False, timeout=5.0)
        self._deliveries = asyncio.Queue()
        self._serve_task = asyncio.create_task(self._server.serve(), name="fake-zalo-server")
        ready = asyncio.create_task(self._server.ready.wait())
        done, _ = await asyncio.wait(
            {self._serve_task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await self._abort_start()
            raise RuntimeError("FakeZaloServer did not start")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self._base_url = f"http://127.0.0.1:{port}"
        self._delivery_task = asyncio.create_task(self._deliver_loop(), name="fake-zalo-webhook")
        if self.webhook_url:  # updates added before start while a webhook was set
            self._flush_to_webhook()

    async def _abort_start(self) -> None:
        task = self._serve_task
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            with contextlib.suppress(BaseException):
                await task
        if self._http is not None:
            await self._http.aclose()
        self._serve_task = None

    async def stop(self) -> None:
        """Stop serving: pending long polls answer 408 at once, delays end, the
        webhook sender stops; returns when uvicorn has shut down."""
        if self._serve_task is None:
            return
        self._closing = True
        self._broadcast()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
            self._delivery_task = None
        assert self._server is not None
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._serve_task), timeout=10)
        except TimeoutError:
            self._server.force_exit = True
            self._serve_task.cancel()
            with contextlib.suppress(BaseException):
                await self._serve_task
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        self._serve_task = None
        self._server = None

    async def __aenter__(self) -> FakeZaloServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ injecting updates

    def _new_message(self, user_id: str, display_name: str) -> dict[str, Any]:
        return {
            "message_id": secrets.token_hex(10),
            "date": _now_ms(),
            "from": {"id": user_id, self.name_field: display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
        }

    def add_text(self, user_id: str, text: str, *, display_name: str = "Lan") -> str:
        """Queue a ``message.text.received`` from ``user_id`` (private chat).
        Returns the message_id (20 hex characters)."""
        message = self._new_message(user_id, display_name)
        message["text"] = text
        self.add_raw({"event_name": "message.text.received", "message": message})
        return str(message["message_id"])

    def add_image(
        self,
        user_id: str,
        data: bytes,
        *,
        caption: str | None = None,
        display_name: str = "Lan",
    ) -> str:
        """Queue a ``message.image.received``. ``data`` is served by this fake at
        ``/media/<random>.jpg`` (until :meth:`expire_media`) and referenced by the
        ``photo_url`` field (or ``photo``, see ``image_field``). Needs :meth:`start`."""
        message = self._new_message(user_id, display_name)
        message["message_type"] = "CHAT_PHOTO"
        message[self.image_field] = self.add_media(data)
        if caption is not None:
            message["caption"] = caption
        self.add_raw({"event_name": "message.image.received", "message": message})
        return str(message["message_id"])

    def add_sticker(self, user_id: str, *, display_name: str = "Lan") -> str:
        """Queue a ``message.sticker.received`` (sticker id and its image url)."""
        message = self._new_message(user_id, display_name)
        message["sticker"] = "0e078a2fb66a5f34067b"
        message["url"] = "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=1"
        self.add_raw({"event_name": "message.sticker.received", "message": message})
        return str(message["message_id"])

    def add_unsupported(self, user_id: str, *, display_name: str = "Lan") -> str:
        """Queue a ``message.unsupported.received``: sender, chat, id and date only,
        no content (what Zalo sends for users in protected groups)."""
        message = self._new_message(user_id, display_name)
        self.add_raw({"event_name": "message.unsupported.received", "message": message})
        return str(message["message_id"])

    def add_raw(self, update: dict[str, Any]) -> None:
        """Queue an update object exactly as given (the *unwrapped* form, i.e. what
        getUpdates returns as ``result``; ``{}`` makes an empty webhook probe)."""
        if self.webhook_url and self._deliveries is not None:
            self._deliveries.put_nowait(update)
        else:
            self._state.updates.append(update)
            self._broadcast()

    @property
    def pending_updates(self) -> int:
        """Updates queued for getUpdates and not handed out yet."""
        return len(self._state.updates)

    # ------------------------------------------------------------------ media

    def add_media(self, data: bytes, *, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` at a fresh ``/media/<random>.jpg`` URL; returns the URL."""
        name = f"{secrets.token_urlsafe(12)}.jpg"
        self._state.media[name] = (data, content_type)
        return f"{self.base_url}/media/{name}"

    def expire_media(self) -> None:
        """Make every media URL handed out so far answer 404 (expired Zalo links)."""
        self._state.media.clear()

    async def _media(self, request: Request) -> Response:
        item = self._state.media.get(request.path_params["name"])
        if item is None:
            return Response("expired", status_code=404, media_type="text/plain")
        data, content_type = item
        return Response(data, media_type=content_type)

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        *,
        error_code: int,
        times: int = 1,
        http_status: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer
        ``{ok:false,error_code,description}`` with HTTP ``http_status`` (default:
        ``error_code``; pass 200 to imitate the 408 style). Injected failures are
        consumed in order, after any :meth:`delay`."""
        failure = _Failure(
            error_code=error_code,
            http_status=error_code if http_status is None else http_status,
            description=description or _DEFAULT_DESCRIPTIONS.get(error_code, "Error"),
            times=times,
        )
        self._state.failures.setdefault(method, deque()).append(failure)

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before handling
        them (to cause client timeouts). The call is still processed afterwards, as a
        real server would after the client gave up."""
        self._state.delays.setdefault(method, deque()).append(_Delay(seconds, times))

    def _take(self, table: dict[str, deque[Any]], method: str) -> Any:
        queue = table.get(method)
        if not queue:
            return None
        item = queue[0]
        item.times -= 1
        if item.times <= 0:
            queue.popleft()
        return item

    # ------------------------------------------------------------------ waiting

    def _broadcast(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            waiter = asyncio.Event()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._waiters.discard(waiter)
        return True

    async def wait_for(
        self,
        predicate: Callable[[ZaloSent], bool] | None = None,
        *,
        chat_id: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[ZaloSent]:
        """Wait until at least ``count`` entries of :attr:`sent` match ``predicate``
        (and ``chat_id``); return all matching entries. Raises AssertionError listing
        everything sent (and rejected) on timeout."""

        def matches() -> list[ZaloSent]:
            return [
                s
                for s in self.sent
                if (chat_id is None or s.chat_id == chat_id) and (predicate is None or predicate(s))
            ]

        if await self._wait_until(lambda: len(matches()) >= count, timeout):
            return matches()
        raise AssertionError(
            f"expected {count} matching sent message(s) "
            f"(chat_id={chat_id!r}) within {timeout}s, got {len(matches())}.\n"
            f"{self.describe()}"
        )

    async def wait_for_deliveries(
        self,
        count: int = 1,
        *,
        timeout: float = 10.0,
    ) -> list[WebhookDelivery]:
        """Wait until at least ``count`` webhook delivery attempts were made."""
        if await self._wait_until(lambda: len(self.webhook_deliveries) >= count, timeout):
            return list(self.webhook_deliveries)
        raise AssertionError(
            f"expected {count} webhook deliveries within {timeout}s, "
            f"got {len(self.webhook_deliveries)}: {self.webhook_deliveries!r}"
        )

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
    ) -> None:
        """Wait until ``method`` has been called ``count`` times (counted when a
        request arrives, e.g. while a long poll is still waiting)."""
        if not await self._wait_until(lambda: self.calls[method] >= count, timeout):
            raise AssertionError(
                f"expected {count} call(s) of {method} within {timeout}s, got {self.calls[method]}"
            )

    def texts(self, chat_id: str | None = None) -> list[str]:
        """Texts (and photo captions) sent so far, optionally to one chat."""
        return [
            s.text
            for s in self.sent
            if s.text is not None and (chat_id is None or s.chat_id == chat_id)
        ]

    def describe(self) -> str:
        """Human-readable list of what was sent and rejected (for assertion messages)."""

        def line(s: ZaloSent) -> str:
            content = s.text if s.text is not None else s.photo_url or s.params.get("sticker")
            if isinstance(content, str) and len(content) > 120:
                content = content[:117] + "..."
            extra = f" error={s.error!r}" if s.error else ""
            return f"  {s.method} chat={s.chat_id!r}: {content!r}{extra}"

        sent = "\n".join(line(s) for s in self.sent) or "  (nothing)"
        rejected = "\n".join(line(s) for s in self.rejected) or "  (nothing)"
        return f"sent:\n{sent}\nrejected:\n{rejected}\ncalls: {dict(self.calls)}"

    # ------------------------------------------------------------------ HTTP API

    @staticmethod
    def _ok(result: Any = None, *, with_result: bool = True) -> JSONResponse:
        body: dict[str, Any] = {"ok": True}
        if with_result:
            body["result"] = result
        return JSONResponse(body)

    @staticmethod
    def _error(code: int, description: str, *, http_status: int | None = None) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error_code": code, "description": description},
            status_code=code if http_status is None else http_status,
        )

    async def _read_params(self, request: Request) -> dict[str, Any] | None:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            async with request.form() as form:
                for key, value in form.multi_items():
                    if not isinstance(value, UploadFile):  # uploads are not supported
                        params[key] = value
            return params
        body = await request.body()
        if not body.strip():
            return params
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        params.update(data)
        return params

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        self.calls[method] += 1
        self._broadcast()
        if not hmac.compare_digest(str(request.path_params["token"]).encode(), self.token.encode()):
            return self._error(401, "Unauthorized")
        params = await self._read_params(request)
        if params is None:
            return self._error(400, "Bad Request: invalid JSON body")
        delay = self._take(self._state.delays, method)
        if delay is not None:
            await self._wait_until(lambda: self._closing, delay.seconds)
        failure = self._take(self._state.failures, method)
        if failure is not None:
            if method in SEND_METHODS:
                self._reject(method, params, failure.description)
            return self._error(
                failure.error_code, failure.description, http_status=failure.http_status
            )
        handler = self._handlers.get(method)
        if handler is None:
            return self._error(400, f"Bad Request: unknown method {method}")
        response: Response = await handler(params)
        return response

    def _record(
        self, target: list[ZaloSent], method: str, params: dict[str, Any], **kw: Any
    ) -> ZaloSent:
        entry = ZaloSent(
            method=method,
            chat_id=str(params.get("chat_id", "")),
            text=kw.pop("text", None),
            photo_url=kw.pop("photo_url", None),
            fetched_photo=kw.pop("fetched_photo", None),
            fetched_status=kw.pop("fetched_status", None),
            params=dict(params),
            at=time.monotonic(),
            **kw,
        )
        target.append(entry)
        self._broadcast()
        return entry

    def _reject(self, method: str, params: dict[str, Any], error: str, **kw: Any) -> JSONResponse:
        text = params.get("caption") if method == "sendPhoto" else params.get("text")
        self._record(
            self.rejected,
            method,
            params,
            text=text if isinstance(text, str) else None,
            photo_url=params.get("photo") if isinstance(params.get("photo"), str) else None,
            error=error,
            **kw,
        )
        return self._error(400, error)

    def _sent_result(self) -> tuple[str, dict[str, Any]]:
        message_id = secrets.token_hex(10)
        return message_id, {"message_id": message_id, "date": _now_ms()}

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> str | None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat_id = str(chat_id)
        return chat_id if isinstance(chat_id, str) and chat_id else None

    async def _get_me(self, params: dict[str, Any]) -> Response:
        return self._ok(
            {
                "id": self.bot_id,
                "account_name": "bot.PaknFake",
                "account_type": "BASIC",
                "can_join_groups": False,
                "display_name": "PAKN fake bot",
            }
        )

    async def _get_updates(self, params: dict[str, Any]) -> Response:
        if self.webhook_url:
            return self._error(409, "Conflict: webhook is active, call deleteWebhook first")
        raw_timeout = params.get("timeout", 30)
        try:
            timeout = max(0.0, float(raw_timeout))
        except (TypeError, ValueError):
            return self._error(400, "Bad Request: invalid timeout")
        await self._wait_until(
            lambda: bool(self._state.updates) or self._closing or bool(self.webhook_url),
            timeout,
        )
        if self._state.updates and not self.webhook_url and not self._closing:
            update = self._state.updates.popleft()
            self._broadcast()
            return self._ok(update)
        return self._error(408, "Request timeout", http_status=200)

    async def _send_message(self, params: dict[str, Any]) -> Response:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if chat_id is None:
            return self._reject("sendMessage", params, "Bad Request: chat_id is required")
        if not isinstance(text, str) or not text:
            return self._reject("sendMessage", params, "Bad Request: text must not be empty")
        if _utf16_len(text) > TEXT_LIMIT:
            return self._reject(
                "sendMessage", params, "Bad Request: text must be at most 2000 characters"
            )
        message_id, result = self._sent_result()
        self._record(self.sent, "sendMessage", params, text=text, message_id=message_id)
        return self._ok(result)

    async def _send_photo(self, params: dict[str, Any]) -> Response:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        caption = params.get("caption")
        if chat_id is None:
            return self._reject("sendPhoto", params, "Bad Request: chat_id is required")
        if not isinstance(photo, str) or not photo:
            return self._reject("sendPhoto", params, "The photo must not be empty")
        if not _is_http_url(photo):
            return self._reject(
                "sendPhoto", params, "The photo must start with http:// or https://"
            )
        if caption is not None and (
            not isinstance(caption, str) or _utf16_len(caption) > TEXT_LIMIT
        ):
            return self._reject(
                "sendPhoto", params, "Bad Request: caption must be at most 2000 characters"
            )
        if not _is_local_url(photo):
            return self._reject("sendPhoto", params, "The photo URL is invalid")
        assert self._http is not None
        try:
            fetched = await self._http.get(photo)
        except httpx.HTTPError as exc:
            return self._reject(
                "sendPhoto", params, f"The photo URL is invalid ({type(exc).__name__})"
            )
        content_type = fetched.headers.get("content-type")
        if fetched.status_code != 200 or not fetched.content:
            return self._reject(
                "sendPhoto",
                params,
                "The photo URL is invalid",
                fetched_photo=fetched.content,
                fetched_status=fetched.status_code,
                fetched_content_type=content_type,
            )
        message_id, result = self._sent_result()
        self._record(
            self.sent,
            "sendPhoto",
            params,
            text=caption or None,
            photo_url=photo,
            fetched_photo=fetched.content,
            fetched_status=fetched.status_code,
            fetched_content_type=content_type,
            message_id=message_id,
        )
        return self._ok(result)

    async def _send_sticker(self, params: dict[str, Any]) -> Response:
        chat_id = self._chat_id(params)
        sticker = params.get("sticker")
        if chat_id is None:
            return self._reject("sendSticker", params, "Bad Request: chat_id is required")
        if not isinstance(sticker, str) or not sticker:
            return self._reject("sendSticker", params, "Bad Request: sticker is required")
        message_id, result = self._sent_result()
        self._record(self.sent, "sendSticker", params, message_id=message_id)
        return self._ok(result)

    async def _send_chat_action(self, params: dict[str, Any]) -> Response:
        chat_id = self._chat_id(params)
        action = params.get("action")
        if chat_id is None or action not in ("typing", "upload_photo"):
            return self._error(400, "Bad Request: chat_id and a valid action are required")
        self._record(self.actions, "sendChatAction", params)
        return self._ok(with_result=False)

    async def _set_webhook(self, params: dict[str, Any]) -> Response:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not _is_http_url(url):
            return self._error(400, "Bad Request: url must be an http(s) URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return self._error(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_updated_at = _now_ms()
        self._flush_to_webhook()
        self._broadcast()
        return self._ok({"url": url, "updated_at": self.webhook_updated_at})

    async def _delete_webhook(self, params: dict[str, Any]) -> Response:
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_updated_at = _now_ms()
        self._broadcast()
        return self._ok({"url": "", "updated_at": self.webhook_updated_at})

    async def _get_webhook_info(self, params: dict[str, Any]) -> Response:
        return self._ok({"url": self.webhook_url, "updated_at": self.webhook_updated_at})

    # ------------------------------------------------------------------ webhook delivery

    def _flush_to_webhook(self) -> None:
        if self._deliveries is None:
            return
        while self._state.updates:
            self._deliveries.put_nowait(self._state.updates.popleft())

    async def _deliver_loop(self) -> None:
        assert self._deliveries is not None
        while True:
            update = await self._deliveries.get()
            url, secret = self.webhook_url, self.webhook_secret
            if not url:  # webhook removed meanwhile: back to polling
                self._state.updates.append(update)
                self._broadcast()
                continue
            body = (
                {"ok": True, "result": update} if self.webhook_body_style == "wrapped" else update
            )
            delivery = WebhookDelivery(
                url=url,
                body=body,
                secret_token=secret,
                status=None,
                response_text=None,
                error=None,
                at=time.monotonic(),
            )
            if not _is_local_url(url):
                delivery.error = "not delivered: the fake only reaches 127.0.0.1"
            else:
                assert self._http is not None
                try:
                    response = await self._http.post(
                        url, json=body, headers={SECRET_HEADER: secret or ""}
                    )
                    delivery.status = response.status_code
                    delivery.response_text = response.text
                except httpx.HTTPError as exc:
                    delivery.error = f"{type(exc).__name__}: {exc}"
            self.webhook_deliveries.append(delivery)
            self._broadcast()
