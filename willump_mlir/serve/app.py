"""The ASGI application of ``willump serve``: Open Inference Protocol (KServe V2) routes over a
model :class:`~willump_mlir.serve.repository.Repository`, with bearer-token auth, body and row
limits, Prometheus metrics, a JSON-lines access log and a graceful shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import hmac
import ipaddress
import logging
import math
import signal
import socket
import sys
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from willump_mlir.serve.errors import NotFound, NotReady, Overloaded, ServeError, TooLarge
from willump_mlir.serve.http import Server
from willump_mlir.serve.metrics import Metrics
from willump_mlir.serve.protocol import (
    decode_request,
    dumps,
    encode_response,
    error_body,
    parse_json,
)

if TYPE_CHECKING:
    from willump_mlir.serve.batching import BatchRecord
    from willump_mlir.serve.repository import ModelVersion, Repository
    from willump_mlir.serve.workers import Link

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SERVER_NAME = "willump-mlir"
EXTENSIONS = ["binary_tensor_data", "model_repository", "metrics"]
JSON = b"application/json"
#: allocations (less frees) between young-generation collections in ``willump serve``
GC_THRESHOLD = 10_000
log = logging.getLogger("willump_mlir.serve")
access_log = logging.getLogger("willump_mlir.serve.access")


class RepositoryFactory(Protocol):
    """Opens the model repository (inside the server's event loop, at startup)."""

    def __call__(self, on_batch: Callable[[BatchRecord], None]) -> Repository: ...


@dataclass(frozen=True)
class Options:
    """What ``willump serve`` lets an operator set."""

    max_body_bytes: int = 64 << 20
    max_rows: int = 100_000
    token: str | None = None
    #: health and /metrics need the token too (by default only they are open)
    auth_health: bool = False
    #: seconds a request line and headers may take to arrive (after the first read that
    #: left them unfinished); past it, 408 and the connection closes
    header_timeout: float = 10.0
    #: seconds a request's body may take to arrive (after the read that ended its headers);
    #: past it, 408 and the connection closes
    body_timeout: float = 30.0
    #: proxies (addresses or networks) whose ``X-Forwarded-For`` names the client in the
    #: access log; from any other peer the header is ignored (anyone can send it)
    trusted_proxies: tuple[str, ...] = ()


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", JSON),)
    model: str = ""
    version: str = ""
    rows: int = 0


def _error(error: ServeError) -> _Reply:
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", JSON),)
    if isinstance(error, Overloaded):
        headers += ((b"retry-after", str(max(1, math.ceil(error.retry_after))).encode()),)
    if error.status == 401:
        headers += ((b"www-authenticate", b"Bearer"),)
    return _Reply(error.status, error_body(str(error)), headers)


def _internal(error: Exception, where: str) -> _Reply:
    log.error("internal error on %s", where, exc_info=error)
    return _Reply(500, error_body(f"internal error: {type(error).__name__}: {error}"))


def _failed(model: ModelVersion, error: Exception) -> _Reply:
    """The reply to an infer request of ``model`` that failed with ``error``."""
    if isinstance(error, ServeError):
        return _error(error)
    return _internal(error, f"POST infer of {model.name}/{model.version}")


class Unauthorized(ServeError):
    """A missing or wrong bearer token."""

    status = 401


class App:
    """The ASGI callable. `repository` is opened at startup (the lifespan protocol) and closed
    at shutdown, after the server has drained its in-flight requests."""

    def __init__(
        self, repository: RepositoryFactory, options: Options | None = None,
        worker: int | None = None,
    ) -> None:  # fmt: skip
        self.options = options or Options()
        #: ``worker``: this process is worker ``worker`` of ``--workers N``
        self.metrics = Metrics(worker)
        #: a worker's link to its parent (set by ``run``): repository operations and
        #: handoff counts go to every worker, readiness is every worker's
        self.cluster: Link | None = None
        self._open = repository
        self.repository: Repository | None = None
        #: set on SIGTERM: readiness fails while in-flight requests finish
        self.draining = False
        self._token = self.options.token.encode() if self.options.token is not None else None
        self._proxies = [ipaddress.ip_network(p, strict=False)
                         for p in self.options.trusted_proxies]  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    def open(self) -> None:
        """Open the model repository (at the server's startup)."""
        self.repository = self._open(self.metrics.observe_batch)
        self.metrics.watch(self.repository.loaded)

    async def close(self) -> None:
        """Close the model repository (after the server drained its requests)."""
        if self.repository is not None:
            await self.repository.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.open()
                except Exception as error:  # noqa: BLE001 - reported to the server, which exits
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        headers = dict(scope["headers"])
        reply, received = await self.respond(method, path, headers, None, receive)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [*reply.headers, (b"content-length", str(len(reply.body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})
        client = scope.get("client")
        peer = client[0] if client else None
        self.finish(method, path, reply, received, time.perf_counter() - started,
                    self.client(peer, headers) if self._proxies else peer)  # fmt: skip

    async def respond(
        self, method: str, path: str, headers: dict[bytes, bytes], body: bytes | None,
        receive: Receive | None = None,
    ) -> tuple[_Reply, int]:  # fmt: skip
        """The reply to one request and the length of its (decompressed) body: `headers`
        with lower-case names, `body` as it was sent (``willump serve``'s own server reads
        it, under the body limit), or None to read it from the ASGI `receive`."""
        received = 0
        try:
            self._authorize(path, headers)
            data = b""
            if method == "POST":
                if body is None:
                    assert receive is not None
                    body = await self._read(headers, receive)
                data = self._decoded(headers, body)
                received = len(data)
            reply = await self._route(method, path, headers, data)
        except ServeError as error:
            reply = _error(error)
        except Exception as error:  # noqa: BLE001 - the client gets a 500, the log the trace
            reply = _internal(error, f"{method} {path}")
        return reply, received

    def error_reply(self, error: ServeError) -> _Reply:
        """The reply to a request refused before the app saw it (by the HTTP server)."""
        return _error(error)

    def finish(
        self, method: str, path: str, reply: _Reply, received: int, seconds: float,
        client: str | None,
    ) -> None:  # fmt: skip
        """Count an answered request in the metrics and the access log."""
        if reply.model:
            self.metrics.observe_request(reply.model, reply.version, reply.status, seconds)
        if self.metrics.worker_requests is not None:
            self.metrics.worker_requests.inc()
        if access_log.isEnabledFor(logging.INFO):
            line = orjson.dumps(
                {
                    "time": time.time(),
                    "client": client,
                    "method": method,
                    "path": path,
                    "status": reply.status,
                    "bytes_in": received,
                    "bytes_out": len(reply.body),
                    "ms": round(seconds * 1e3, 3),
                    "model": reply.model or None,
                    "version": reply.version or None,
                    "rows": reply.rows,
                }
            ).decode()  # fmt: skip
            sink = _sink
            if sink is not None and sink.alone(access_log):
                sink.add(line)  # what the record would have written, without the record
            else:
                access_log.info(line)

    def trusted(self, peer: str | None) -> bool:
        """Whether ``peer`` is one of ``Options.trusted_proxies``."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self._proxies)

    def client(self, peer: str | None, headers: dict[bytes, bytes]) -> str | None:
        """The client the access log names: ``peer``, or behind a trusted proxy the last
        ``X-Forwarded-For`` address that is not a trusted proxy itself (each proxy appends
        the address it received from; the ones before the last untrusted hop could be
        forged by the client)."""
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded is None or not self.trusted(peer):
            return peer
        hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",")]
        for hop in reversed(hops):
            if hop and not self.trusted(hop):
                return hop
        return hops[0] or peer

    def _authorize(self, path: str, headers: dict[bytes, bytes]) -> None:
        if self._token is None:
            return
        if not self.options.auth_health and (path.startswith("/v2/health/") or path == "/metrics"):
            return
        given = headers.get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._token):
            raise Unauthorized("missing or wrong bearer token (Authorization: Bearer ...)")

    async def _read(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        limit = self.options.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the body has {int(declared)} bytes, over the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ServeError("the client disconnected before the body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _decoded(self, headers: dict[bytes, bytes], body: bytes) -> bytes:
        """`body` decompressed as its Content-Encoding says (under the body limit)."""
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding in (b"gzip", b"deflate"):
            return _inflate(body, encoding, self.options.max_body_bytes)
        if encoding != b"identity":
            raise ServeError(f"Content-Encoding {encoding.decode()!r} is not supported")
        return body

    async def _route(
        self, method: str, path: str, headers: dict[bytes, bytes], body: bytes
    ) -> _Reply:
        parts = path.strip("/").split("/")
        if parts == ["metrics"] and method == "GET":
            content_type = ((b"content-type", self.metrics.content_type),)
            handoffs = None
            if self.cluster is not None:
                gathered = (await self.cluster.ask("handoffs"))["data"]
                handoffs = [(m, v, Counter(r), Counter(c)) for m, v, r, c in gathered]
            return _Reply(200, self.metrics.render(handoffs), content_type)
        if not parts or parts[0] != "v2":
            raise NotFound(f"no route {method} {path}")
        parts = parts[1:]
        repository = self._repository()
        if method == "GET":
            if parts == ["health", "live"]:
                return _Reply(200, b'{"live":true}')
            if parts == ["health", "ready"]:
                ready = not self.draining and repository.ready() and (
                    self.cluster is None or self.cluster.all_ready
                )
                return _Reply(200 if ready else 503, dumps({"ready": ready}))
            if parts in ([], [""]):
                return _Reply(200, dumps({
                    "name": SERVER_NAME, "version": _version(), "extensions": EXTENSIONS,
                }))  # fmt: skip
        if len(parts) >= 2 and parts[0] == "models":
            return await self._model_route(method, parts[1:], headers, body)
        if method == "POST" and parts[:1] == ["repository"]:
            return await self._repository_route(parts[1:], body)
        raise NotFound(f"no route {method} {path}")

    def _repository(self) -> Repository:
        if self.repository is None:
            raise NotReady("the model repository is not open")
        return self.repository

    async def _model_route(
        self, method: str, parts: list[str], headers: dict[bytes, bytes], body: bytes
    ) -> _Reply:
        name, version, rest = parts[0], None, parts[1:]
        if rest[:1] == ["versions"]:
            if len(rest) < 2:
                raise NotFound(f"model '{name}': no version in the path")
            version, rest = rest[1], rest[2:]
        if method == "GET" and rest == []:
            model = self._repository().get(name, version)
            metadata = dumps(self._metadata(model))
            return _Reply(200, metadata, model=model.name, version=model.version)
        if method == "GET" and rest == ["ready"]:
            try:
                model = self._repository().get(name, version)
            except NotReady:
                return _Reply(503, dumps({"name": name, "ready": False}))
            ready = model.ready and not self.draining
            body = dumps({"name": model.name, "version": model.version, "ready": ready})
            return _Reply(200 if ready else 503, body)
        if method == "POST" and rest == ["infer"]:
            return await self._infer(name, version, headers, body)
        raise NotFound(f"no route {method} /v2/models/{'/'.join(parts)}")

    def _metadata(self, model: ModelVersion) -> dict[str, Any]:
        index = self._repository().index()
        versions = sorted(
            (entry["version"] for entry in index if entry["name"] == model.name),
            key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v),
        )

        def tensors(specs: list[Any]) -> list[dict[str, Any]]:
            return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in specs]

        return {
            "name": model.name, "versions": versions or [model.version],
            "platform": model.platform, "inputs": tensors(model.inputs),
            "outputs": tensors(model.outputs),
        }  # fmt: skip

    async def _infer(
        self, name: str, version: str | None, headers: dict[bytes, bytes], body: bytes
    ) -> _Reply:
        model = self._repository().get(name, version)
        try:
            request = self._decode(model, headers, body)
            outputs = await model.infer(
                request.inputs, parameters=request.parameters, outputs=request.outputs,
                table=request.table,
            )  # fmt: skip
            reply = self._encoded(model, request, outputs)
        except Exception as error:  # noqa: BLE001 - counted for its model (a 500 if not a ServeError)
            reply = _failed(model, error)
        reply.model, reply.version = model.name, model.version
        return reply

    def infer_now(
        self, method: str, path: str, headers: dict[bytes, bytes], body: bytes,
        done: Callable[[_Reply, int], None],
    ) -> bool:  # fmt: skip
        """``respond`` to an infer request without a task or future (``willump serve``'s
        own server): decoded and queued for its batch here, ``done(reply, received)``
        called on the event loop's thread when the batch ends (at once if the request is
        refused). False if the request is not an infer request to a model found with
        the body readable (nothing done: ``respond`` answers it)."""
        parts = path.strip("/").split("/")
        if method != "POST" or parts[-1] != "infer" or parts[:2] != ["v2", "models"]:
            return False
        if len(parts) == 4:
            name, version = parts[2], None
        elif len(parts) == 6 and parts[3] == "versions":
            name, version = parts[2], parts[4]
        else:
            return False
        try:
            self._authorize(path, headers)
            data = self._decoded(headers, body)
            model = self._repository().get(name, version)
        except Exception:  # noqa: BLE001 - respond answers it, with the same error
            return False
        received = len(data)

        def answer(reply: _Reply) -> None:
            reply.model, reply.version = model.name, model.version
            done(reply, received)

        def answered(outputs: dict[str, Any] | None, error: Exception | None) -> None:
            try:
                if error is not None:
                    raise error
                assert outputs is not None
                reply = self._encoded(model, request, outputs)
            except Exception as failure:  # noqa: BLE001 - as _infer answers it
                reply = _failed(model, failure)
            answer(reply)

        try:
            request = self._decode(model, headers, data)
            model.enqueue(request.inputs, request.parameters, request.outputs, request.table,
                          answered)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - as _infer answers it
            answer(_failed(model, error))
        return True

    def _decode(self, model: ModelVersion, headers: dict[bytes, bytes], body: bytes) -> Any:
        """An infer request's body decoded for ``model`` (``InferRequest``)."""
        length = headers.get(b"inference-header-content-length")
        if length is not None and not length.strip().isdigit():
            raise ServeError("Inference-Header-Content-Length is not a non-negative integer")
        return decode_request(
            body, int(length) if length is not None else None, max_rows=self.options.max_rows,
            table=model.table,
        )  # fmt: skip

    def _encoded(self, model: ModelVersion, request: Any, outputs: dict[str, Any]) -> _Reply:
        """The reply to a decoded infer request with its ``outputs``."""
        data, header_length = encode_response(model.name, model.version, request, outputs)
        if header_length is None:
            return _Reply(200, data, rows=request.rows)
        binary = (
            (b"content-type", b"application/octet-stream"),
            (b"inference-header-content-length", str(header_length).encode()),
        )
        return _Reply(200, data, binary, rows=request.rows)

    async def _repository_route(self, parts: list[str], body: bytes) -> _Reply:
        repository = self._repository()
        if parts == ["index"]:
            options = parse_json(body)
            entries = repository.index()
            if isinstance(options, dict) and options.get("ready"):
                entries = [e for e in entries if e.get("state") == "READY"]
            return _Reply(200, dumps(entries))
        if len(parts) == 3 and parts[0] == "models" and parts[2] in ("load", "unload"):
            parse_json(body)  # malformed JSON is a 400 even where no parameter is read
            if self.cluster is not None:  # every worker, answered when all have done it
                await self.cluster.ask(parts[2], parts[1])
            elif parts[2] == "load":
                await repository.load(parts[1])
            else:
                await repository.unload(parts[1])
            return _Reply(200)
        raise NotFound(f"no route POST /v2/repository/{'/'.join(parts)}")


def settle_heap() -> None:
    """After a model (re)load: collect everything (the garbage of the load, and of versions
    unloaded since), then move what is alive into the collector's permanent generation
    (``gc.freeze``), so that collections while serving scan what requests allocate and not
    the loaded pipelines and libraries (before this, full collections of those took ~300 ms
    each, a quarter of the server's CPU under load)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _inflate(body: bytes, encoding: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31 if encoding == b"gzip" else 15)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise ServeError(f"the {encoding.decode()} body does not decompress: {error}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the decompressed body is over the limit of {limit} bytes")
    return data


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("willump-mlir")
    except PackageNotFoundError:
        return "unknown"


def run(
    app: App,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    log_level: str = "info",
    shutdown_delay: float = 0.0,
    drain_timeout: float = 30.0,
    worker: tuple[list[socket.socket], int] | None = None,
) -> int:
    """Serve `app` (``serve.http``, on uvloop where installed) until SIGTERM or SIGINT:
    readiness fails at once, the server keeps answering for `shutdown_delay` seconds (for
    load balancers to notice), stops accepting, lets in-flight requests finish (at most
    `drain_timeout` seconds; a second signal: at once), then closes the repository. Returns
    the exit status: 0, or 3 when the server did not start (the repository failed to open,
    the port was taken). ``worker``: as a worker of ``--workers N``, the parent's sockets
    holding the port and the file descriptor of its link to the parent (``serve.workers``)."""
    _configure_logging(log_level)
    # a request frees what it allocates; at the default threshold (700) the objects of the
    # requests in flight alone set off a young collection every ~20 requests (~50 µs a
    # request of 100 rows); the loaded pipelines are out of the way (settle_heap)
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    main = _serve(app, host, port, shutdown_delay, drain_timeout, worker)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def _serve(
    app: App, host: str, port: int, shutdown_delay: float, drain_timeout: float,
    worker: tuple[list[socket.socket], int] | None,
) -> int:  # fmt: skip
    loop = asyncio.get_running_loop()
    try:
        app.open()
    except Exception as error:  # noqa: BLE001 - the operator reads why, the server exits
        log.error("the model repository did not open: %s", error)
        return 3
    server = Server(app, loop)
    try:
        if worker is None:
            addresses = await server.start(host, port)
        else:  # its own socket on the port the parent holds, now that it is about to accept
            from willump_mlir.serve.workers import listen

            addresses = await server.start(host, port, listen(worker[0]))
    except OSError as error:
        log.error("cannot listen on %s port %s: %s", host, port, error)
        await app.close()
        return 3
    stop = asyncio.Event()
    drain = [drain_timeout]

    def shut(now: bool, why: str) -> None:
        if now:  # stop without waiting
            drain[0] = 0.0
            stop.set()
        elif not app.draining:
            log.info("%s: not ready, draining", why)
            app.draining = True
            loop.call_later(shutdown_delay, stop.set)

    def on_signal(sig: signal.Signals) -> None:
        shut(app.draining, f"signal {sig.name}")  # the second signal: at once

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    if worker is not None:  # the parent says where it listens, when every worker does
        from willump_mlir.serve.workers import Link

        app.cluster = Link(app, worker[1], shut)
        await app.cluster.start()
    else:
        for address in addresses:
            name = f"[{address[0]}]" if ":" in address[0] else address[0]
            print(f"willump serve: listening on http://{name}:{address[1]}", file=sys.stderr)
        sys.stderr.flush()
    try:
        await stop.wait()
        await server.stop(drain[0])
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await app.close()
    return 0


class BufferedLines(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes its lines together, at most ``delay`` seconds after the
    first one of a group, instead of one write a record: the access log costs a request no
    system call. Records from outside a running event loop, and at ``flush()`` (``close()``,
    ``logging.shutdown()`` at exit), are written at once."""

    def __init__(self, stream: Any, delay: float = 0.05) -> None:
        super().__init__(stream)
        self.delay = delay
        self.lines: list[str] = []
        self.scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging's own convention
            self.handleError(record)
            return
        self.add(line)

    def alone(self, logger: logging.Logger) -> bool:
        """Whether ``logger``'s records go to this handler alone, formatted as their
        message, unfiltered: then ``add(message)`` writes what ``logger.info(message)``
        would (about 1 µs where a record costs 10)."""
        return (
            logger.handlers == [self] and not logger.propagate and not logger.filters
            and not self.filters and self.formatter is _MESSAGE
        )  # fmt: skip

    def add(self, line: str) -> None:
        """Buffer one line (without its terminator), as ``emit`` does a record's."""
        self.acquire()
        try:
            self.lines.append(line + self.terminator)
        finally:
            self.release()
        if self.scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self.scheduled = True
        loop.call_later(self.delay, self.flush)

    def flush(self) -> None:
        """Write the buffered lines."""
        self.acquire()
        try:
            self.scheduled = False
            lines, self.lines = self.lines, []
            if lines and self.stream is not None:
                self.stream.write("".join(lines))
            super().flush()
        finally:
            self.release()


_MESSAGE = logging.Formatter("%(message)s")
#: the access log's handler when ``willump serve`` configured logging (``run``)
_sink: BufferedLines | None = None


def _configure_logging(level: str) -> None:
    global _sink
    handler = _sink = BufferedLines(sys.stderr)
    handler.setFormatter(_MESSAGE)
    access_log.addHandler(handler)
    access_log.propagate = False
    access_log.setLevel(logging.INFO if level in ("debug", "trace", "info") else logging.WARNING)
    logging.basicConfig(level=level.upper() if level != "trace" else "DEBUG", stream=sys.stderr)
