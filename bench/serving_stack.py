"""Which HTTP server to put under `willump serve`: one tiny ASGI app (a KServe-shaped
JSON infer: orjson in, orjson out) served by uvicorn (httptools + uvloop) and by granian
(ASGI, uvloop; where installed), and the same handler behind a lean ``asyncio.Protocol``
that parses with httptools and calls it without ASGI (the least a Python server on this
stack can do a request), each in its own process with one worker, driven by the same
keep-alive load generator in another process; the server's CPU time per request is the
stack's own cost.  `python -m bench.serving_stack` writes bench/results/serving_stack.md."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

BODY = orjson.dumps(
    {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1.0, 2.0, 3.0, 4.0]}]}
)
REQUEST = (
    b"POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


async def app(scope, receive, send):  # noqa: ANN001, ANN201 - the ASGI signature
    """Decode the JSON infer body, answer one output."""
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    out = _answer(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})


def _answer(body: bytes) -> bytes:
    request = orjson.loads(body)
    data = request["inputs"][0]["data"]
    return orjson.dumps({"model_name": "m", "outputs": [
        {"name": "y", "shape": [1], "datatype": "FP64", "data": [sum(data)]}]})  # fmt: skip


class _Lean(asyncio.Protocol):
    """HTTP/1.1 keep-alive POSTs parsed by httptools, answered by ``_answer`` in a task (as
    a server whose handler awaits a batch must), without ASGI's scope and messages."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpRequestParser(self)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.body = []

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.loop.create_task(self.respond(b"".join(self.body)))

    async def respond(self, body: bytes) -> None:
        out = _answer(body)
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(out), out))  # fmt: skip


def lean(port: int) -> None:
    """Serve ``_Lean`` on 127.0.0.1:``port`` (uvloop) until killed."""
    import uvloop

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(_Lean, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    uvloop.run(serve())


async def _client(port: int, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
    writer.close()


def drive(port: int, concurrency: int, seconds: float) -> tuple[float, float, float]:
    """requests/s, p50 ms and p99 ms at `concurrency` keep-alive connections."""
    latencies: list[float] = []

    async def run() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, until, latencies) for _ in range(concurrency)))

    import uvloop

    uvloop.run(run())
    latencies.sort()
    return (
        len(latencies) / seconds,
        statistics.median(latencies) * 1e3,
        latencies[int(0.99 * len(latencies))] * 1e3,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS = {
    "uvicorn (httptools, uvloop)": lambda port: [
        sys.executable, "-m", "uvicorn", "bench.serving_stack:app", "--port", str(port),
        "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
    ],
    "granian (ASGI, uvloop)": lambda port: [
        sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--no-ws", "--log-level", "warning",
        "bench.serving_stack:app",
    ],
    "lean asyncio.Protocol + httptools (no ASGI, uvloop)": lambda port: [
        sys.executable, "-c", f"from bench.serving_stack import lean; lean({port})",
    ],
}  # fmt: skip


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server on port {port}")


def main() -> None:
    """Alternate the servers for a few rounds; print and write the medians."""
    from bench.serving import process_cpu

    rounds, seconds = int(os.environ.get("ROUNDS", "3")), float(os.environ.get("SECONDS", "3"))
    results: dict[tuple[str, int], list[tuple[float, ...]]] = {}
    installed = importlib.util.find_spec("granian") is not None
    servers = {n: c for n, c in SERVERS.items() if installed or not n.startswith("granian")}
    load = []
    for _ in range(rounds):
        for name, command in servers.items():
            port = _free_port()
            server = subprocess.Popen(command(port), start_new_session=True)
            try:
                _wait(port)
                for concurrency in (1, 16):
                    load.append(os.getloadavg()[0])
                    before = process_cpu(server.pid)
                    child = subprocess.run(
                        [sys.executable, "-c", "import sys; from bench.serving_stack import "
                         f"drive; print(*drive({port}, {concurrency}, {seconds}))"],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    after = process_cpu(server.pid)
                    cpu = sum(s - before.get(pid, (n, 0.0))[1] for pid, (n, s) in after.items())
                    numbers = tuple(float(x) for x in child.stdout.split())
                    numbers += (cpu / max(1.0, numbers[0] * seconds) * 1e6,)
                    results.setdefault((name, concurrency), []).append(numbers)
                    print(name, concurrency, numbers, flush=True)
            finally:
                server.terminate()
                server.wait(10)
    lines = [
        "# HTTP stack for `willump serve` (`python -m bench.serving_stack`)",
        "",
        f"A KServe-shaped 1-row JSON infer (orjson in and out) in a bare ASGI app (the lean "
        f"server calls the same handler without ASGI); one server process, one worker; the "
        f"load generator (asyncio on uvloop, keep-alive) in its own process; {rounds} "
        f"alternating rounds of {seconds:g} s; {os.cpu_count()}-core machine shared with other "
        f"work (load average {min(load):.1f}-{max(load):.1f}). Median over rounds (min-max of "
        f"requests/s); server CPU: the server process's CPU time per request.",
        "",
        "| server | concurrency | requests/s | p50 ms | p99 ms | server CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for (name, concurrency), runs in results.items():
        rps = [r[0] for r in runs]
        lines.append(
            f"| {name} | {concurrency} | {statistics.median(rps):,.0f} ({min(rps):,.0f}-"
            f"{max(rps):,.0f}) | {statistics.median(r[1] for r in runs):.3f} | "
            f"{statistics.median(r[2] for r in runs):.3f} | "
            f"{statistics.median(r[3] for r in runs):.1f} |"
        )
    out = Path(__file__).parent / "results" / "serving_stack.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
