"""The ASGI app of ``willump serve`` in process (httpx's ASGI transport) over the stand-in
repository: what a real client rarely sends (compressed bodies, declared oversizes), auth of
the health endpoints, draining, internal errors."""

from __future__ import annotations

import asyncio
import gc
import gzip
import io
import logging
import weakref
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_repository import FakeRepository

from willump_mlir.cli import main
from willump_mlir.serve import app as app_module
from willump_mlir.serve.app import App, BufferedLines, Options, settle_heap
from willump_mlir.serve.metrics import Metrics

X = {"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, 2]}]}


def call(app: App, *requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    """Send `requests` (method, path, httpx keyword arguments) to `app` with its repository
    open."""
    app.repository = FakeRepository(on_batch=app.metrics.observe_batch)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(m, p, **kw) for m, p, kw in requests]

    return asyncio.run(run())


def test_compressed_bodies() -> None:
    app = App(FakeRepository, Options(max_body_bytes=10_000))
    raw = httpx.Request("POST", "/", json=X).content
    bomb = gzip.compress(b" " * 100_000)
    ok, deflated, too_big, broken, unknown = call(
        app,
        ("POST", "/v2/models/sleepy/infer", {"content": gzip.compress(raw),
                                             "headers": {"Content-Encoding": "gzip"}}),
        ("POST", "/v2/models/sleepy/infer", {"content": zlib.compress(raw),
                                             "headers": {"Content-Encoding": "deflate"}}),
        ("POST", "/v2/models/sleepy/infer", {"content": bomb,
                                             "headers": {"Content-Encoding": "gzip"}}),
        ("POST", "/v2/models/sleepy/infer", {"content": b"nope",
                                             "headers": {"Content-Encoding": "gzip"}}),
        ("POST", "/v2/models/sleepy/infer", {"content": raw,
                                             "headers": {"Content-Encoding": "br"}}),
    )  # fmt: skip
    assert ok.json()["outputs"][0]["data"] == [1.0, 2.0] and deflated.status_code == 200
    assert too_big.status_code == 413 and "decompressed" in too_big.json()["error"]
    assert broken.status_code == 400 and "does not decompress" in broken.json()["error"]
    assert unknown.status_code == 400 and "'br'" in unknown.json()["error"]


def test_declared_oversize_is_refused_before_reading() -> None:
    app = App(FakeRepository, Options(max_body_bytes=100))
    (response,) = call(app, ("POST", "/v2/models/sleepy/infer", {"json": X | {"pad": "a" * 200}}))
    assert response.status_code == 413 and "over the limit of 100" in response.json()["error"]


def test_token_on_health_and_metrics_too() -> None:
    app = App(FakeRepository, Options(token="t0k", auth_health=True))
    good = {"headers": {"Authorization": "Bearer t0k"}}
    health, metrics, ok, lower = call(
        app, ("GET", "/v2/health/live", {}), ("GET", "/metrics", {}),
        ("GET", "/v2/health/live", good),
        ("GET", "/v2/health/live", {"headers": {"Authorization": "bearer t0k"}}),
    )  # fmt: skip
    assert health.status_code == metrics.status_code == 401
    assert health.headers["www-authenticate"] == "Bearer"
    assert ok.status_code == lower.status_code == 200


def test_draining_is_not_ready_but_still_answers() -> None:
    app = App(FakeRepository)
    app.draining = True
    ready, model_ready, live, infer = call(
        app, ("GET", "/v2/health/ready", {}), ("GET", "/v2/models/sleepy/ready", {}),
        ("GET", "/v2/health/live", {}), ("POST", "/v2/models/sleepy/infer", {"json": X}),
    )  # fmt: skip
    assert ready.status_code == model_ready.status_code == 503
    assert ready.json() == {"ready": False}
    assert live.status_code == infer.status_code == 200


def test_internal_errors_are_500_and_counted() -> None:
    app = App(FakeRepository)
    broken, wrong_method, metrics = call(
        app, ("POST", "/v2/models/broken/infer", {"json": X}),
        ("GET", "/v2/models/sleepy/infer", {}), ("GET", "/metrics", {}),
    )  # fmt: skip
    assert broken.status_code == 500 and "RuntimeError: boom" in broken.json()["error"]
    assert wrong_method.status_code == 404
    assert 'willump_request_errors_total{code="500",model="broken",version="1"} 1.0' in metrics.text


def test_a_closed_repository_is_503() -> None:
    app = App(FakeRepository)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/v2/models/sleepy")

    response = asyncio.run(run())
    assert response.status_code == 503 and "not open" in response.json()["error"]


def test_cli_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    for argv, message in [
        (["serve", str(tmp_path / "nope")], "is not a directory"),
        (["serve", str(tmp_path), "--token-file", str(empty)], "is empty"),
        (["serve", str(tmp_path), "--token-file", str(tmp_path / "missing")], "--token-file"),
        (["serve", str(tmp_path), "--max-rows", "0"], "--max-rows must be positive"),
        (["serve", str(tmp_path), "--header-timeout", "0"], "--header-timeout must be positive"),
        (["serve", str(tmp_path), "--body-timeout", "-1"], "--body-timeout must be positive"),
        (["serve", str(tmp_path), "--trusted-proxy", "proxy.local"], "--trusted-proxy"),
    ]:
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2 and message in capsys.readouterr().err


def test_access_log_lines_are_written_together() -> None:
    stream = io.StringIO()
    handler = BufferedLines(stream, delay=0.05)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test_serve_app.buffered")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    writes: list[str] = []
    write = stream.write
    stream.write = lambda text: writes.append(text) or write(text)  # type: ignore[method-assign]

    async def main() -> None:
        logger.info("one")
        logger.info("two")
        assert stream.getvalue() == ""  # not yet: a group waits up to the delay
        await asyncio.sleep(0.1)
        assert stream.getvalue() == "one\ntwo\n"
        logger.info("three")

    try:
        asyncio.run(main())  # the loop closed with "three" buffered: flush() writes it
        handler.flush()
        assert stream.getvalue() == "one\ntwo\nthree\n" and writes == ["one\ntwo\n", "three\n"]
        logger.info("outside a loop")  # written at once
        assert stream.getvalue().endswith("three\noutside a loop\n")
    finally:
        logger.removeHandler(handler)


def test_access_log_lines_bypass_records_only_where_logging_would_write_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # willump serve's own set-up (run -> _configure_logging): the access log goes to one
    # BufferedLines with the message formatter; App then adds its lines without a record
    stream = io.StringIO()
    monkeypatch.setattr(app_module.sys, "stderr", stream)
    logger = app_module.access_log
    saved = (logger.handlers[:], logger.propagate, logger.level, app_module._sink)
    try:
        logger.handlers.clear()
        app_module._configure_logging("info")
        sink = app_module._sink
        assert sink is not None and sink.alone(logger)
        sink.add('{"status":200}')
        logger.info('{"status":404}')
        sink.flush()
        assert stream.getvalue() == '{"status":200}\n{"status":404}\n'
        refuse = logging.Filter("elsewhere")
        logger.addFilter(refuse)  # a filter (or another handler, or another format) of the
        assert not sink.alone(logger)  # user's own: App logs records, which honour it
        logger.removeFilter(refuse)
        logger.addHandler(logging.NullHandler())
        assert not sink.alone(logger)
    finally:
        for handler in logger.handlers:
            handler.flush()
        logger.handlers[:], logger.propagate, level, app_module._sink = saved
        logger.setLevel(level)


def test_request_metrics_per_version() -> None:
    metrics = Metrics()
    for version, status in [("1", 200), ("1", 400), ("2", 200), ("1", 200)]:
        metrics.observe_request("m", version, status, 0.001)
    text = metrics.render().decode()
    assert 'willump_requests_total{model="m",version="1"} 3.0' in text
    assert 'willump_requests_total{model="m",version="2"} 1.0' in text
    assert 'willump_request_duration_seconds_count{model="m",version="1"} 3.0' in text
    assert 'willump_request_errors_total{code="400",model="m",version="1"} 1.0' in text
    assert 'code="400",model="m",version="2"' not in text


def test_settle_heap_freezes_what_is_alive_after_collecting() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    try:
        garbage = weakref.ref(Cycle())  # only the collector frees a cycle
        alive = Cycle()
        settle_heap()
        assert garbage() is None and gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        settle_heap()  # again: unfrozen, collected, frozen (no growth from the first)
        assert gc.get_freeze_count() <= frozen + 100 and alive.me is alive
    finally:
        gc.unfreeze()


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy() -> None:
    app = App(FakeRepository, Options(trusted_proxies=("10.0.0.0/8", "::1")))
    forwarded = {b"x-forwarded-for": b"198.51.100.7, 203.0.113.9 , 10.0.0.7"}
    assert app.client("10.1.2.3", forwarded) == "203.0.113.9"  # the hop before the proxies
    assert app.client("::1", forwarded) == "203.0.113.9"
    assert app.client("192.0.2.1", forwarded) == "192.0.2.1"  # anyone can send the header
    assert app.client("10.1.2.3", {}) == "10.1.2.3"
    assert app.client("10.1.2.3", {b"x-forwarded-for": b"10.9.9.9"}) == "10.9.9.9"  # all trusted
    assert app.client(None, forwarded) is None
    untrusting = App(FakeRepository, Options())
    assert untrusting.client("10.1.2.3", forwarded) == "10.1.2.3"
