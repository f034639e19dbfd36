"""The HTTP/1.1 server of ``willump serve``: an ``asyncio.Protocol`` per connection that parses
with httptools and calls :meth:`App.respond <willump_mlir.serve.app.App.respond>` directly,
without ASGI's scope and messages (``python -m bench.serving_stack``: uvicorn's ASGI stack
costs 2-3x its CPU a request); an infer request that arrives with none before it on its
connection goes to :meth:`App.infer_now <willump_mlir.serve.app.App.infer_now>` instead,
queued for its batch from the parser's callback and answered from the batch's (no task,
coroutine chain or future a request).

Per connection: keep-alive (HTTP/1.1 unless ``Connection: close``; HTTP/1.0 only with
``Connection: keep-alive``), pipelined requests answered in order, ``Expect: 100-continue``,
chunked request bodies, the body-size limit enforced while reading (413, then the connection
closes), a request line and headers of at most about :data:`MAX_HEAD` bytes (431, then it
closes), a request line and headers not complete within ``Options.header_timeout`` seconds of
the first read that left them unfinished answered 408 and closed (a slow client cannot hold a
connection by trickling its head), a body not complete within ``Options.body_timeout``
seconds of the end of its headers answered 408 and closed too (nor by trickling its body),
a malformed request answered 400 and closed, idle
keep-alive connections closed after :data:`KEEP_ALIVE` seconds, and writes paused while the
client does not read.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httptools

from willump_mlir.serve.errors import HeadTooLarge, RequestTimeout, ServeError, TooLarge

if TYPE_CHECKING:
    from willump_mlir.serve.app import App, _Reply

log = logging.getLogger("willump_mlir.serve")

KEEP_ALIVE = 5.0  #: seconds an idle keep-alive connection stays open (uvicorn's default)
PIPELINE = 16  #: requests read ahead on one connection before reading pauses
MAX_HEAD = 65536  #: bytes of a request's target and headers (names and values) read at most
REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
    408: "Request Timeout", 413: "Content Too Large", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 503: "Service Unavailable",
}  # fmt: skip


class _InFlight:
    """``Connection.task`` while ``App.infer_now`` answers its request (no task runs)."""


IN_FLIGHT = _InFlight()


class _Request:
    __slots__ = ("method", "path", "headers", "body", "keep_alive", "error")

    def __init__(self) -> None:
        self.method = ""
        self.path = ""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.keep_alive = True
        self.error: ServeError | None = None  # answered without calling the app


class Connection(asyncio.Protocol):
    """One client connection (see the module docstring)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.app = server.app
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client: str | None = None
        self.proxied = False
        self.request: _Request | None = None  # being read
        self.size = 0  # body bytes of the request being read
        self.head = 0  # its target and header bytes, as httptools hands them over
        self.in_head = False  # between a request's first byte and the end of its headers
        self.begun = 0  # requests begun on this connection
        self.head_fed = 0  # bytes fed in later reads while one request's head is unfinished
        self.url = b""
        self.pending: deque[_Request] = deque()
        #: answering the pending requests: the task, IN_FLIGHT (``App.infer_now``) or None
        self.task: asyncio.Task[None] | _InFlight | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.idle: asyncio.TimerHandle | None = None
        self.idle_since = 0.0  # loop.time() when the connection last became idle
        #: armed while a request's head stays unfinished after a read (``header_timeout``)
        self.head_timer: asyncio.TimerHandle | None = None
        #: armed while a request's body stays unfinished after a read (``body_timeout``)
        self.body_timer: asyncio.TimerHandle | None = None
        self.closing = False  # no more requests are read (an error, close, shutdown)

    # region asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.client = peer[0] if isinstance(peer, tuple) and peer else None
        #: the peer is a trusted proxy: its X-Forwarded-For names the client
        self.proxied = bool(self.app.options.trusted_proxies) and self.app.trusted(self.client)
        self.server.connections.add(self)
        self._wait_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.closing = True
        self.pending.clear()
        self.writable.set()
        if self.idle is not None:
            self.idle.cancel()
        if self.head_timer is not None:
            self.head_timer.cancel()
        if self.body_timer is not None:
            self.body_timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        in_head, begun = self.in_head, self.begun
        try:
            self.parser.feed_data(data)
            if in_head and self.in_head and begun == self.begun:
                self._count_fed(len(data))  # a read wholly inside one unfinished head
            if self.in_head and self.head_timer is None and not self.closing:
                timeout = self.app.options.header_timeout  # (a whole head costs no timer)
                self.head_timer = self.loop.call_later(timeout, self._head_timeout)
            elif self.request is not None and not self.in_head and self.body_timer is None \
                    and not self.closing:  # fmt: skip
                timeout = self.app.options.body_timeout  # (a whole body costs no timer)
                self.body_timer = self.loop.call_later(timeout, self._body_timeout)
        except httptools.HttpParserUpgrade:
            self._refuse(ServeError("protocol upgrades are not supported"))
        except httptools.HttpParserError as error:
            self._refuse(ServeError(f"malformed HTTP request: {error}"))

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # endregion
    # region httptools callbacks

    def on_message_begin(self) -> None:
        self.request = _Request()  # (the idle timer, if it fires meanwhile, sees it)
        self.url = b""
        self.size = self.head = self.head_fed = 0
        self.in_head = True
        self.begun += 1

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.request is not None:  # None: refused while httptools reads the rest
            self.request.headers[name.lower()] = value  # repeated: the last, as ASGI's dict
            self._count_head(len(name) + len(value))

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        request = self.request
        if request is None or self.transport is None:
            return
        request.method = self.parser.get_method().decode("ascii", "replace")
        request.keep_alive = self.parser.should_keep_alive()
        try:
            path = httptools.parse_url(self.url).path.decode("ascii")
            request.path = unquote(path) if "%" in path else path
        except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
            request.error = ServeError(f"malformed request target {self.url[:200]!r}")
            return
        limit = self.app.options.max_body_bytes
        declared = request.headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            self._refuse(TooLarge(f"the body has {int(declared)} bytes, over the limit of "
                                  f"{limit}"))  # fmt: skip: at once, the body unread
        elif request.headers.get(b"expect", b"").lower() == b"100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        request = self.request
        if request is None or request.error is not None:
            return
        self.size += len(body)
        limit = self.app.options.max_body_bytes
        if self.size > limit:
            request.body = []
            self._refuse(TooLarge(f"the body is over the limit of {limit} bytes"))
            return
        request.body.append(body)

    def on_message_complete(self) -> None:
        request = self.request
        if request is None:
            return
        self.request = None
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        self.pending.append(request)
        if not request.keep_alive:
            self.closing = True  # nothing after it is read
        if len(self.pending) >= PIPELINE and self.transport is not None:
            self.transport.pause_reading()
        if self.task is None:
            self._begin()

    # endregion

    def _count_head(self, size: int) -> None:
        """Refuse a request whose target and headers exceed ``MAX_HEAD`` bytes (431)."""
        self.head += size
        if self.head > MAX_HEAD:
            self._refuse_head()

    def _count_fed(self, size: int) -> None:
        """The same, for a head httptools is still buffering (a header not yet whole)."""
        self.head_fed += size
        if self.head_fed > MAX_HEAD:
            self._refuse_head()

    def _head_timeout(self) -> None:
        """A head still unfinished ``header_timeout`` seconds after the read that left it so:
        408 and close; while earlier requests on the connection are still being answered
        (reading may be paused for them), the timer starts again."""
        self.head_timer = None
        if not self.in_head or self.closing:
            return
        if self.task is not None:
            self.head_timer = self.loop.call_later(
                self.app.options.header_timeout, self._head_timeout
            )
            return
        timeout = self.app.options.header_timeout
        self._refuse(RequestTimeout(f"the request line and headers did not arrive within "
                                    f"{timeout:g} s"))  # fmt: skip

    def _body_timeout(self) -> None:
        """A body still unfinished ``body_timeout`` seconds after the read that ended its
        head: 408 and close; while earlier requests on the connection are still being
        answered (reading may be paused for them), the timer starts again."""
        self.body_timer = None
        if self.request is None or self.in_head or self.closing:
            return
        timeout = self.app.options.body_timeout
        if self.task is not None:
            self.body_timer = self.loop.call_later(timeout, self._body_timeout)
            return
        self._refuse(RequestTimeout(f"the request body did not arrive within {timeout:g} s "
                                    "of its headers"))  # fmt: skip

    def _refuse_head(self) -> None:
        if self.request is not None:
            self._refuse(HeadTooLarge(f"the request line and headers are over {MAX_HEAD} bytes"))

    def _refuse(self, error: ServeError) -> None:
        """A request that cannot be parsed or is too large: answered (after those before
        it) and the connection closed, nothing more read."""
        if self.closing and self.request is None:
            return  # refused already
        request = self.request or _Request()
        self.request = None
        request.error, request.keep_alive = error, False
        self.closing = True
        self.pending.append(request)
        if self.task is None:
            self.task = self.loop.create_task(self._answer())

    def _begin(self) -> None:
        """Answer the pending requests, the first an infer request without a task if it is
        one (``App.infer_now``: ``_answered`` goes on), else in the ``_answer`` task."""
        request = self.pending[0]
        if request.error is None and request.method == "POST":
            self.task = IN_FLIGHT
            self.pending.popleft()
            answered = partial(self._answered, request, time.perf_counter())
            body = b"".join(request.body)
            if self.app.infer_now(request.method, request.path, request.headers, body, answered):
                return
            self.pending.appendleft(request)
        self.task = self.loop.create_task(self._answer())

    def _answered(self, request: _Request, started: float, reply: _Reply, received: int) -> None:
        """``App.infer_now``'s reply to ``request``: sent; the requests read meanwhile, or
        a wait until the client reads (writes paused), in the ``_answer`` task."""
        self.task = None
        if not self._sent(request, started, reply, received):
            return
        if self.pending or not self.writable.is_set():
            self.task = self.loop.create_task(self._answer(sent=True))
        else:
            self._wait_idle()

    async def _answer(self, sent: bool = False) -> None:
        """Answer the pending requests in order (one task while there are any); ``sent``:
        a reply was just sent (by ``_answered``)."""
        app = self.app
        try:
            if sent:
                await self._drained()
            while self.pending:
                request = self.pending.popleft()
                started = time.perf_counter()  # (uvloop's loop.time() counts whole ms)
                body = b"".join(request.body)
                if request.error is not None:
                    reply, received = app.error_reply(request.error), len(body)
                else:
                    reply, received = await app.respond(
                        request.method, request.path, request.headers, body
                    )
                if not self._sent(request, started, reply, received):
                    return
                await self._drained()
        finally:
            self.task = None
        self._wait_idle()

    def _sent(self, request: _Request, started: float, reply: _Reply, received: int) -> bool:
        """Write the reply to ``request`` and count it; False if the connection closes."""
        app = self.app
        keep_alive = request.keep_alive and not self.server.stopping
        self._write(reply, keep_alive)
        client = self.client
        if self.proxied:
            client = app.client(client, request.headers)
        app.finish(request.method, request.path, reply, received,
                   time.perf_counter() - started, client)  # fmt: skip
        if not keep_alive:
            self._close()
            return False
        return True

    async def _drained(self) -> None:
        """Wait while writes are paused (the client does not read), then read on."""
        if not self.writable.is_set():
            await self.writable.wait()
        if self.transport is not None and len(self.pending) < PIPELINE:
            self.transport.resume_reading()

    def _write(self, reply: _Reply, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        reason = REASONS.get(reply.status, "Unknown")
        lines = [f"HTTP/1.1 {reply.status} {reason}\r\n".encode("ascii")]
        lines += [b"%s: %s\r\n" % header for header in reply.headers]
        lines.append(b"content-length: %d\r\n" % len(reply.body))
        if not keep_alive:
            lines.append(b"connection: close\r\n")
        lines += (b"\r\n", reply.body)
        transport.write(b"".join(lines))  # head and body in one system call

    def _wait_idle(self) -> None:
        """Close the connection after ``KEEP_ALIVE`` seconds without a request: the time
        noted, the connection's one timer armed if it is not (not a timer a request)."""
        if self.task is None and self.request is None and not self.closing:
            self.idle_since = self.loop.time()
            if self.idle is None:
                self.idle = self.loop.call_later(KEEP_ALIVE, self._idle_timeout)

    def _idle_timeout(self) -> None:
        """The idle timer: close if idle for ``KEEP_ALIVE`` seconds, else wait the rest (a
        connection answering a request arms it again when it is idle)."""
        self.idle = None
        if self.task is not None or self.request is not None or self.closing:
            return
        left = self.idle_since + KEEP_ALIVE - self.loop.time()
        if left > 0:
            self.idle = self.loop.call_later(left, self._idle_timeout)
        else:
            self._close()

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def shutdown(self) -> None:
        """At shutdown: close now if idle, else after the request being answered."""
        if self.task is None and self.request is None:
            self._close()
        else:
            self.closing = True


class Server:
    """The listening sockets and open connections of one :class:`App`."""

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.connections: set[Connection] = set()
        self.stopping = False
        self.servers: list[asyncio.Server] = []

    async def start(
        self, host: str, port: int, sockets: list[socket.socket] | None = None
    ) -> list[Any]:
        """Listen on ``host`` and ``port``, or on ``sockets`` already listening (a worker of
        ``--workers N``); the bound addresses."""
        if sockets is None:
            self.servers = [await self.loop.create_server(lambda: Connection(self), host, port)]
        else:
            self.servers = [await self.loop.create_server(lambda: Connection(self), sock=sock)
                            for sock in sockets]  # fmt: skip
        return [sock.getsockname() for server in self.servers for sock in server.sockets]

    async def stop(self, drain_timeout: float) -> None:
        """Stop accepting, let the requests in flight finish (at most ``drain_timeout``
        seconds), close every connection."""
        self.stopping = True
        for server in self.servers:
            server.close()
        for connection in list(self.connections):
            connection.shutdown()
        deadline = self.loop.time() + drain_timeout
        while any(c.task is not None for c in self.connections) and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self.connections):  # past the timeout: in flight or not
            if connection.transport is not None:
                connection.transport.abort()
        for server in self.servers:
            await server.wait_closed()
