"""``willump serve``'s HTTP/1.1 server (``willump_mlir.serve.http``) at the byte level, as a
real process on 127.0.0.1 (the stand-in repository of ``fake_repository.py``): keep-alive,
pipelining, HTTP/1.0, chunked bodies, ``Expect: 100-continue``, the body limit before the
body is read, the limit on the request's head, malformed requests, idle connections closed, a
head that does not arrive in time (408), and the client behind a trusted proxy in the access
log."""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_serve import TEST, running

FAKE = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
        "from fake_repository import FakeRepository; from willump_mlir.serve.app import App, "
        "Options, run; raise SystemExit(run(App(lambda on_batch: FakeRepository(on_batch="
        "on_batch), Options(max_body_bytes=1000)), port=0, log_level='warning'))",
        str(TEST)]  # fmt: skip


#: 0.5 s header and body timeouts, 127.0.0.1 trusted as a proxy, the access log written
PROXIED = [*FAKE[:2], FAKE[2].replace(
    "Options(max_body_bytes=1000)",
    "Options(header_timeout=0.5, body_timeout=0.5, trusted_proxies=('127.0.0.1',))",
).replace("log_level='warning'", "log_level='info'"), FAKE[3]]  # fmt: skip


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    log = tmp_path_factory.mktemp("http") / "server.log"
    with running(FAKE, log) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def exchange(address: tuple[str, int], data: bytes, *parts: bytes) -> bytes:
    """Send `data` (then each of `parts` after the server's first bytes), read until the server
    closes the connection or is silent for a second."""
    with socket.create_connection(address, timeout=1) as sock:
        sock.sendall(data)
        out = b""
        pending = list(parts)
        try:
            while chunk := sock.recv(65536):
                out += chunk
                if pending:
                    sock.sendall(pending.pop(0))
        except TimeoutError:
            out += b"<open>"
    return out


def test_pipelined_requests_are_answered_in_order_on_one_connection(
    address: tuple[str, int],
) -> None:
    out = exchange(
        address,
        b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /v2/models/nope HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert out.count(b"HTTP/1.1 ") == 3 and not out.endswith(b"<open>")
    first, second, third = out.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 OK") and first.endswith(b'{"live":true}')
    assert second.startswith(b"404 Not Found") and b"unknown model" in second
    assert third.startswith(b"200 OK") and b"connection: close" in third


def test_keep_alive_unless_closed_and_http_1_0(address: tuple[str, int]) -> None:
    assert exchange(address, b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").endswith(
        b'{"live":true}<open>'
    )  # kept open for the next request
    out = exchange(address, b"GET /v2/health/live HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b'{"live":true}')


def test_chunked_body_and_expect_100_continue(address: tuple[str, int]) -> None:
    body = b'{"ready": true}'
    out = exchange(
        address,
        b"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
    )
    assert out.startswith(b"HTTP/1.1 200 OK") and b'"name":"sleepy"' in out
    head = (b"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n" % len(body))  # fmt: skip
    out = exchange(address, head, body)  # the body only after the server's 100
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")


def test_oversized_bodies_are_413_before_they_are_read(address: tuple[str, int]) -> None:
    out = exchange(
        address,
        b"POST /v2/models/busy/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
    )  # the body never comes: the answer does not wait for it
    assert out.startswith(b"HTTP/1.1 413 ") and b"over the limit of 1000" in out
    assert not out.endswith(b"<open>")
    chunk = b"x" * 600
    out = exchange(
        address,
        b"POST /v2/models/busy/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 2,
    )
    assert out.startswith(b"HTTP/1.1 413 ") and not out.endswith(b"<open>")


def test_oversized_heads_are_431_and_closed(address: tuple[str, int]) -> None:
    from willump_mlir.serve import http

    many = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"v" * 1000) for i in range(80))  # whole headers
    out = exchange(address, b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert out.startswith(b"HTTP/1.1 431 ") and b"over 65536 bytes" in out
    assert not out.endswith(b"<open>")
    with socket.create_connection(address, timeout=2) as sock:  # one header, never finished
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Long: ")
        out = b""
        try:
            for _ in range(2 * http.MAX_HEAD // 8192):
                sock.sendall(b"v" * 8192)
                time.sleep(0.005)  # separate reads on the server
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while we were still sending
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except ConnectionResetError:
            pass
    assert out.startswith(b"HTTP/1.1 431 ")


def test_malformed_requests_are_400_and_closed(address: tuple[str, int]) -> None:
    for request in (
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /v2/%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        out = exchange(address, request)
        assert out.split(b"\r\n", 1)[0] in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 404 Not Found")
        assert b'{"error":' in out
    out = exchange(address, b"NOT HTTP AT ALL\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ") and not out.endswith(b"<open>")


def test_idle_connections_are_closed(address: tuple[str, int]) -> None:
    """After ``KEEP_ALIVE`` seconds without a request, counted from the last one (the
    timer armed after the first fires while the second is recent: it waits the rest)."""
    from willump_mlir.serve import http

    with socket.create_connection(address, timeout=http.KEEP_ALIVE + 5) as sock:
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).endswith(b'{"live":true}')
        time.sleep(http.KEEP_ALIVE - 2)
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    waited = time.monotonic() - started
    assert out.endswith(b'{"live":true}') and http.KEEP_ALIVE - 1 < waited < http.KEEP_ALIVE + 4


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[tuple[str, int], Path]]:
    """A server with a 0.5 s header timeout that trusts 127.0.0.1 as a proxy: its address and
    log (the access log at info)."""
    log = tmp_path_factory.mktemp("proxied") / "server.log"
    with running(PROXIED, log) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        yield (host, int(port)), log


def until_closed(address: tuple[str, int], partial: bytes) -> tuple[bytes, float]:
    """Send ``partial``, then read until the server closes the connection: what it sent and
    the seconds that took."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(partial)
        started = time.monotonic()
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out, time.monotonic() - started


def test_a_head_that_does_not_arrive_in_time_is_408_and_closed(
    proxied: tuple[tuple[str, int], Path],
) -> None:
    address = proxied[0]
    for partial in (b"POST /v2/models/sleepy/infer HTTP/1.1\r\nHost: x\r\nContent-Le", b"GE"):
        out, waited = until_closed(address, partial)
        assert out.startswith(b"HTTP/1.1 408 Request Timeout") and b"0.5 s" in out
        assert b"connection: close" in out and 0.4 < waited < 3
    slow = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"  # whole, in pieces
    with socket.create_connection(address, timeout=5) as sock:
        for k in range(0, len(slow), 8):  # ~0.1 s in all: inside 0.5 s on a loaded machine
            sock.sendall(slow[k : k + 8])
            time.sleep(0.02)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_a_body_that_does_not_arrive_in_time_is_408_and_closed(
    proxied: tuple[tuple[str, int], Path],
) -> None:
    """A body still short of its Content-Length (or its last chunk) 0.5 s after its headers
    is answered 408 and the connection closed; one trickled in within the time is answered,
    and the timer of an answered request does not fire on the next one."""
    address = proxied[0]
    heads = [b"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{",
             b"POST /v2/repository/index HTTP/1.1\r\nHost: x\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"]  # fmt: skip
    for partial in heads:
        out, waited = until_closed(address, partial)
        assert out.startswith(b"HTTP/1.1 408 Request Timeout"), out
        assert b"body did not arrive within 0.5 s" in out and b"connection: close" in out
        assert 0.4 < waited < 3
    body = b"{}" + b" " * 18
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(heads[0][:-1])
        for k in range(0, len(body), 5):  # within 0.5 s in all
            sock.sendall(body[k : k + 5])
            time.sleep(0.05)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        time.sleep(0.7)  # past the timeout of the answered request: the connection still serves
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    proxied: tuple[tuple[str, int], Path],
) -> None:
    address, log = proxied
    out = exchange(address, b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n"
                   b"X-Forwarded-For: 198.51.100.7, 203.0.113.9\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK")
    time.sleep(0.3)  # the access log's lines are written together, within 50 ms
    lines = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
    assert lines and lines[-1]["client"] == "203.0.113.9"
