"""The load generator of ``bench.serving``: one process, N keep-alive HTTP/1.1 connections.

Closed loop: every connection sends its next request as soon as the previous response is
read, for a bounded time (``--duration`` after ``--warmup``, both in seconds) and at most
``--max-requests`` requests. Requests are complete, pre-encoded HTTP messages read from
``--requests`` (a pickled list of bytes), cycled per connection, so the hot loop only
writes bytes and parses a status line and a ``Content-Length``.

Two engines, chosen by measurement (``python -m bench.serving --calibrate``):

- ``raw``: an ``asyncio.Protocol`` per connection on uvloop when it is installed;
- ``aiohttp``: ``aiohttp.ClientSession`` with a keep-alive connector (the usual asyncio client).

Writes one JSON file (``--out``): latencies of the 200 responses whose requests *started*
inside the measured window (microseconds), the window, the status counts of all of them
(an error answer is not retried later: the connection sends its next request at once, as a
closed loop does, without waiting for a ``Retry-After``), and this process's CPU seconds.
Starting is synchronized across client processes by ``--start-at`` (a ``time.time()`` value).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import time
from collections import Counter
from pathlib import Path


class _Connection(asyncio.Protocol):
    """One keep-alive connection: ``request(bytes)`` resolves to the response's status code."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or ConnectionError("server closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:head_end]).lower() + b"\r\n"
        at = head.find(b"\r\ncontent-length:")
        if at < 0:  # a chunked response would need a real parser; none of the servers sends one
            self.waiter.set_exception(ConnectionError("response without Content-Length"))
            return
        length = int(head[at + 17 : head.find(b"\r\n", at + 2)])
        if len(self.buffer) < head_end + 4 + length:
            return
        status = int(head[9:12])
        del self.buffer[: head_end + 4 + length]
        self.waiter.set_result(status)

    def request(self, message: bytes) -> asyncio.Future[int]:
        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(message)
        return self.waiter


async def _raw_worker(host: str, port: int, messages: list[bytes], run: _Run) -> None:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(_Connection, host, port)
    await run.started.wait()
    i = 0
    clock = time.perf_counter
    while not run.stop:
        t0 = clock()
        status = await conn.request(messages[i % len(messages)])
        run.record(t0, clock(), status)
        i += 1
    assert conn.transport is not None
    conn.transport.close()


async def _aiohttp_worker(host: str, port: int, messages: list[bytes], run: _Run) -> None:
    import aiohttp

    # aiohttp builds its own request line and headers: keep the path, headers and body.
    parsed = [_split(m) for m in messages]
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        await run.started.wait()
        i = 0
        clock = time.perf_counter
        while not run.stop:
            path, headers, body = parsed[i % len(parsed)]
            t0 = clock()
            async with session.post(
                f"http://{host}:{port}{path}", data=body, headers=headers
            ) as resp:
                await resp.read()
            run.record(t0, clock(), resp.status)
            i += 1


def _split(message: bytes) -> tuple[str, dict[str, str], bytes]:
    head, body = message.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    path = lines[0].split(" ")[1]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
    return path, keep, body


class _Run:
    """Shared state of one process's run: the window, the latencies and the status counts."""

    def __init__(self, window_start: float, window_end: float, max_requests: int) -> None:
        self.window_start, self.window_end = window_start, window_end
        self.max_requests = max_requests
        self.started = asyncio.Event()
        self.stop = False
        self.latencies_us: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.sent = 0

    def record(self, t0: float, t1: float, status: int) -> None:
        self.sent += 1
        if self.window_start <= t0 < self.window_end:
            if status == 200:  # an error answer (e.g. a 503 shedding load) is counted only
                self.latencies_us.append((t1 - t0) * 1e6)
            self.statuses[status] += 1
        if t1 >= self.window_end or self.sent >= self.max_requests:
            self.stop = True


async def _main(args: argparse.Namespace) -> dict[str, object]:
    messages: list[bytes] = pickle.loads(Path(args.requests).read_bytes())
    worker = _raw_worker if args.engine == "raw" else _aiohttp_worker
    # Offset each connection into the request list so they do not all send the same body.
    per = [messages[i:] + messages[:i] for i in range(args.connections)]
    delay = max(0.0, args.start_at - time.time())
    start = time.perf_counter() + delay
    run = _Run(start + args.warmup, start + args.warmup + args.duration, args.max_requests)
    tasks = [
        asyncio.create_task(worker(args.host, args.port, per[i], run))
        for i in range(args.connections)
    ]
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu0 = os.times()
    run.started.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    cpu1 = os.times()
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return {
        "engine": args.engine,
        "connections": args.connections,
        "window_s": args.duration,
        "latencies_us": run.latencies_us,
        "statuses": {str(k): v for k, v in run.statuses.items()},
        "requests_sent": run.sent,
        "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "wall_s": time.perf_counter() - start,
        "errors": errors[:5],
    }


def main(argv: list[str] | None = None) -> int:
    """Run one client process and write its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True, help="pickled list of HTTP messages")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--engine", choices=("raw", "aiohttp"), default="raw")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_main(args))
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
