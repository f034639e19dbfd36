"""``willump serve --workers N``: N worker processes answering on the same listening sockets,
under a parent that supervises them.

Each worker listens on a socket of its own, bound to the same port with ``SO_REUSEPORT``: the
kernel spreads new connections over the listening sockets by a hash of the client's address
and port, so the connections of a client that opens many (a load balancer, a pool) are shared
about evenly. (One socket that every worker accepts from was measured first: the worker that
wakes first accepts every pending connection, and 64 keep-alive connections opened at once
went 77/23% between two workers.) The parent holds the port with a socket bound but not
listening (it takes no connection; port 0 names one port for all) and hands it to each worker
(``pass_fds``), which binds its own listening socket to the same address when it is about to
accept: a worker that dies takes its socket with it, and new connections go to the others at
once rather than wait in a dead worker's queue for its replacement (the few it had queued
but not accepted are reset, as on a single server that dies).

Each worker is a fresh ``python -m willump_mlir.cli serve ... --worker SPEC`` process with
its own model repository, batching and event loop, linked to the parent by a socket pair
carrying JSON lines:

- worker to parent: ``listening`` (the app opened and accepts), ``ready`` (every model folder's
  first load ended), ``ask`` (a client asked it for a repository load/unload or the metrics),
  ``prepared`` (what a load read), ``done`` (its answer to a ``do``);
- parent to worker: ``ready`` (whether every worker is ready: ``/v2/health/ready``), ``do``
  (run a load, unload or handoff count here), ``decide`` (whether a load swaps in),
  ``answer`` (to an ``ask``), ``stop``.

A load or unload runs on every worker (one operation at a time) and is answered when all have
done it; the metrics' counters and histograms are shared through prometheus_client's
multiprocess mode in a private directory (removed at exit), the handoff counts gathered from
every worker at each scrape. On SIGTERM or SIGINT the parent tells every worker to drain
(``stop``; a second signal: to stop at once), as a message, not a signal, so that a worker the
same signal reached directly (a terminal's Ctrl-C, a kill of the process group) does not take
it for a second one; it restarts a worker that exits while it serves, and exits when every
worker has drained. A worker whose parent is gone drains and exits too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from willump_mlir.serve.errors import NotFound, NotReady, ServeError
from willump_mlir.serve.metrics import METRICS_DIR

if TYPE_CHECKING:
    from willump_mlir.serve.app import App

log = logging.getLogger("willump_mlir.serve")

#: seconds before restarting a worker that exited; doubled while restarts fail to listen
RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 10.0
ERRORS = {404: NotFound, 503: NotReady}


def available_cpus() -> int:
    """The CPUs this process may run on (``--workers auto``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _bound(family: int, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def bind(host: str, port: int) -> list[socket.socket]:
    """The parent's sockets holding ``host`` and ``port``, bound and not listening: one per
    address ``host`` resolves to (as ``loop.create_server`` binds them)."""
    sockets: list[socket.socket] = []
    seen = set()
    try:
        for family, _, _, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            if (family, address) not in seen:
                seen.add((family, address))
                sockets.append(_bound(family, address))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def listen(held: list[socket.socket]) -> list[socket.socket]:
    """A worker's listening sockets on the addresses of the parent's ``held`` ones (which
    it closes: the parent keeps its own)."""
    sockets = []
    for sock in held:
        with sock:
            sockets.append(_bound(sock.family, sock.getsockname()))
        sockets[-1].listen(1024)
    return sockets


class _Lines:
    """JSON lines over a stream (one per message)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(orjson.dumps(message) + b"\n")

    async def messages(self) -> Any:
        while line := await self.reader.readline():
            yield orjson.loads(line)


@dataclass
class _Worker:
    slot: int
    process: asyncio.subprocess.Process
    link: _Lines
    listening: asyncio.Future[None]
    ready: bool = False
    #: replies to the parent's ``do`` messages, by id
    pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    #: what a load read, before it swaps in (``prepared``), by id; None: no outcome
    prepared: dict[int, asyncio.Future[Any]] = field(default_factory=dict)


class Supervisor:
    """The parent of ``willump serve --workers N`` (see the module docstring), holding the
    port with ``sockets`` (``bind``). ``command(spec, unloaded)`` is a worker's
    command line: ``spec`` is its ``--worker`` argument (``worker_spec``), ``unloaded`` the
    models a client unloaded."""

    def __init__(
        self,
        command: Callable[[str, list[str]], list[str]],
        workers: int,
        sockets: list[socket.socket],
    ) -> None:
        self.command = command
        self.sockets = sockets
        self.slots: list[_Worker | None] = [None] * workers
        self.stopping = False
        self.started = False  # every worker listened once: from then on, one that exits restarts
        self.all_ready = False
        self.next_id = 0
        self.lock = asyncio.Lock()  # one load or unload at a time
        #: models unloaded by a client: a restarted worker does not load them
        self.unloaded: set[str] = set()
        self.metrics = tempfile.mkdtemp(prefix="willump-serve-metrics-")

    async def run(self) -> int:
        """Start the workers, serve until every one has exited after a signal; 0, or 3 when
        a worker did not start."""
        try:
            slots = range(len(self.slots))
            keepers = [asyncio.create_task(self._keep(slot)) for slot in slots]
            started = await asyncio.gather(*(self._started(slot) for slot in slots))
            self.started = all(started)
            if not self.started:
                self.stopping = True
                for worker in self.slots:
                    if worker is not None and worker.process.returncode is None:
                        worker.process.kill()
                await asyncio.gather(*keepers)
                return 3
            for sock in self.sockets:
                address = sock.getsockname()
                name = f"[{address[0]}]" if ":" in address[0] else address[0]
                print(f"willump serve: listening on http://{name}:{address[1]} "
                      f"({len(self.slots)} workers)", file=sys.stderr)  # fmt: skip
            sys.stderr.flush()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._signal, sig)
            await asyncio.gather(*keepers)
            return 0
        finally:
            for sock in self.sockets:
                sock.close()
            shutil.rmtree(self.metrics, ignore_errors=True)

    async def _started(self, slot: int) -> bool:
        while (worker := self.slots[slot]) is None:
            await asyncio.sleep(0.01)
        try:
            await worker.listening
        except ConnectionError:
            return False
        return True

    def _signal(self, sig: signal.Signals) -> None:
        now = self.stopping  # a second signal: at once
        if not now:
            log.info("signal %s: stopping %d workers", sig.name, len(self.slots))
        self.stopping = True
        self._set_ready()
        for worker in self.slots:
            if worker is None or worker.process.returncode is not None:
                continue
            if worker.listening.done() and worker.listening.exception() is None:
                worker.link.send({"op": "stop", "now": now})
            else:  # still starting
                worker.process.terminate()

    async def _keep(self, slot: int) -> None:
        """Run worker ``slot``, restarting it when it exits, until the server stops."""
        delay = RESTART_DELAY
        while True:
            worker = await self._spawn(slot)
            self.slots[slot] = worker
            if self.stopping:  # (while it was being spawned)
                worker.process.terminate()
            reading = asyncio.create_task(self._read(worker))
            code = await worker.process.wait()
            await reading
            served = worker.listening.done() and worker.listening.exception() is None
            if not worker.listening.done():
                worker.listening.set_exception(ConnectionError(f"worker {slot} exited"))
            worker.ready = False
            self._set_ready()
            for future in worker.prepared.values():
                if not future.done():
                    future.set_result(None)
            for future in worker.pending.values():
                if not future.done():
                    future.set_result({"ok": True, "gone": True})
            if self.stopping or not (served or self.started):  # a first start failed: no retry
                return
            log.warning("worker %d (pid %d) exited with status %s; restarting it", slot,
                        worker.process.pid, code)  # fmt: skip
            delay = RESTART_DELAY if served else min(delay * 2, MAX_RESTART_DELAY)
            await asyncio.sleep(delay)
            if self.stopping:
                return

    async def _spawn(self, slot: int) -> _Worker:
        ours, theirs = socket.socketpair()
        listening = [s.fileno() for s in self.sockets]
        spec = f"{slot}:{theirs.fileno()}:{','.join(map(str, listening))}"
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(spec, sorted(self.unloaded)),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=[theirs.fileno(), *listening],
                env={**os.environ, METRICS_DIR: self.metrics},
            )
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        return _Worker(slot, process, _Lines(reader, writer), future)

    async def _read(self, worker: _Worker) -> None:
        with contextlib.suppress(ConnectionError):
            async for message in worker.link.messages():
                kind = message["op"]
                if kind == "listening":
                    worker.listening.set_result(None)
                    worker.link.send({"op": "ready", "value": self.all_ready})
                elif kind == "ready":
                    worker.ready = True
                    self._set_ready()
                elif kind == "prepared":
                    future = worker.prepared.get(message["id"])
                    if future is not None and not future.done():
                        future.set_result(message["outcome"])
                elif kind == "done":
                    prepared = worker.prepared.pop(message["id"], None)
                    if prepared is not None and not prepared.done():
                        prepared.set_result(None)  # it failed before reading the versions
                    future = worker.pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "ask":
                    asyncio.create_task(self._ask(worker, message))
        worker.link.writer.close()

    def _set_ready(self) -> None:
        ready = not self.stopping and all(w is not None and w.ready for w in self.slots)
        if ready != self.all_ready:
            self.all_ready = ready
            for worker in self.slots:
                if worker is not None and worker.listening.done():
                    worker.link.send({"op": "ready", "value": ready})

    async def _ask(self, asker: _Worker, message: dict[str, Any]) -> None:
        operation, name = message["what"], message.get("name", "")
        if operation == "handoffs":
            answer = _sum_handoffs(await self._everywhere(operation, name))
        else:
            async with self.lock:
                replies = await self._everywhere(operation, name)
                if operation == "unload" and all(r["ok"] for r in replies):
                    self.unloaded.add(name)
                elif operation == "load":
                    self.unloaded.discard(name)
            failed = [r for r in replies if not r["ok"]]
            answer = failed[0] if failed else {"ok": True}
        asker.link.send({**answer, "op": "answer", "id": message["id"]})

    async def _everywhere(self, operation: str, name: str) -> list[dict[str, Any]]:
        """Run ``operation`` on every worker that serves; their replies (a worker that
        exits meanwhile counts as done: its replacement reads the repository afresh).

        A load swaps in on every worker or on none: each worker reads the versions and
        reports which failed (``prepared``); when they all report the same, each swaps in
        what it read (a version that failed everywhere keeps its old one serving, as with
        one worker), else none does (``decide``)."""
        futures, prepared = [], []
        for worker in self.slots:
            if (
                worker is None
                or not worker.listening.done()
                or worker.process.returncode is not None
            ):
                continue
            self.next_id += 1
            future = asyncio.get_running_loop().create_future()
            worker.pending[self.next_id] = future
            futures.append(future)
            if operation == "load":
                outcome = asyncio.get_running_loop().create_future()
                worker.prepared[self.next_id] = outcome
                prepared.append((worker, self.next_id, outcome))
            worker.link.send({"op": "do", "id": self.next_id, "what": operation, "name": name})
        outcomes = await asyncio.gather(*(outcome for _, _, outcome in prepared))
        read = [orjson.dumps(o, option=orjson.OPT_SORT_KEYS) for o in outcomes if o is not None]
        why = "" if len(set(read)) <= 1 else (
            f"the workers' loads disagree ({', '.join(sorted(set(r.decode() for r in read)))}): "
            "the loaded versions keep serving on every worker"
        )  # fmt: skip
        for worker, ident, outcome in prepared:
            worker.prepared.pop(ident, None)
            if outcome.result() is not None:
                worker.link.send({"op": "decide", "id": ident, "why": why})
        return list(await asyncio.gather(*futures))


def _sum_handoffs(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """The handoff counts of every worker, summed by model and version."""
    rows: dict[tuple[str, str], Counter[str]] = {}
    calls: dict[tuple[str, str], Counter[str]] = {}
    for reply in replies:
        for name, version, by_rows, by_calls in reply.get("data", ()):
            rows.setdefault((name, version), Counter()).update(by_rows)
            calls.setdefault((name, version), Counter()).update(by_calls)
    data = [[*key, rows[key], calls[key]] for key in rows]
    return {"ok": True, "data": data}


def worker_spec(spec: str) -> tuple[int, int, list[socket.socket]]:
    """A worker's ``--worker`` argument: its slot, the file descriptor of its link to the
    parent, the parent's sockets holding the port."""
    slot, control, held = spec.split(":")
    return int(slot), int(control), [socket.socket(fileno=int(fd)) for fd in held.split(",")]


class Link:
    """A worker's side of its link to the parent."""

    def __init__(self, app: App, fd: int, stop: Callable[[bool, str], None]) -> None:
        self.app = app
        self.fd = fd
        #: ``stop(now, why)``: drain and exit (at once if ``now``)
        self.stop = stop
        #: every worker is ready (the parent says)
        self.all_ready = False
        self.next_id = 0
        self.asked: dict[int, asyncio.Future[dict[str, Any]]] = {}
        #: the parent's decisions on loads read here, by the id of their ``do``
        self.decisions: dict[int, asyncio.Future[str]] = {}
        self.link: _Lines | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Connect, tell the parent this worker listens, and that it is ready once it is."""
        reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=self.fd))
        self.link = _Lines(reader, writer)
        self.link.send({"op": "listening", "pid": os.getpid()})
        self._spawn(self._read())
        self._spawn(self._report_ready())

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _report_ready(self) -> None:
        repository = self.app.repository
        while repository is not None and not repository.ready():
            await asyncio.sleep(0.02)
        if self.link is not None:
            self.link.send({"op": "ready"})

    async def _read(self) -> None:
        assert self.link is not None
        link = self.link
        with contextlib.suppress(ConnectionError):
            async for message in link.messages():
                kind = message["op"]
                if kind == "ready":
                    self.all_ready = bool(message["value"])
                elif kind == "answer":
                    future = self.asked.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "do":
                    self._spawn(self._do(message))
                elif kind == "stop":
                    self.stop(message["now"], "the parent stops the server")
                elif kind == "decide":
                    decision = self.decisions.pop(message["id"], None)
                    if decision is not None and not decision.done():
                        decision.set_result(message["why"])
        self.all_ready = False
        self.link = None
        for future in self.asked.values():
            if not future.done():
                future.set_exception(NotReady("the server is stopping"))
        for decision in self.decisions.values():  # no parent to agree with: keep the old
            if not decision.done():
                decision.set_result("the server is stopping")
        self.stop(False, "the parent is gone")

    async def _do(self, message: dict[str, Any]) -> None:
        operation, name, ident = message["what"], message["name"], message["id"]
        repository = self.app.repository
        reply: dict[str, Any] = {"op": "done", "id": ident, "ok": True}
        try:
            if repository is None:
                raise NotReady("the model repository is not open")
            if operation == "load":
                await repository.load(name, agree=lambda outcome: self._agree(ident, outcome))
            elif operation == "unload":
                await repository.unload(name)
            else:
                reply["data"] = [[v.name, v.version, *v.handoffs()] for v in repository.loaded()]
        except ServeError as error:
            reply.update(ok=False, status=error.status, error=str(error))
        except Exception as error:  # noqa: BLE001 - the asking client gets it as a 500
            log.error("%s of %r failed", operation, name, exc_info=error)
            reply.update(ok=False, status=500, error=f"{type(error).__name__}: {error}")
        if self.link is not None:
            self.link.send(reply)

    async def _agree(self, ident: int, outcome: dict[str, Any]) -> str:
        """Tell the parent what the load ``ident`` read; its decision ("": swap in)."""
        if self.link is None:
            return "the server is stopping"
        decision = asyncio.get_running_loop().create_future()
        self.decisions[ident] = decision
        self.link.send({"op": "prepared", "id": ident, "outcome": outcome})
        return await decision

    async def ask(self, operation: str, name: str = "") -> dict[str, Any]:
        """Run a repository ``operation`` (load, unload, handoffs) on every worker through
        the parent; the answer, or the error of a worker where it failed, raised."""
        if self.link is None:
            raise NotReady("the server is stopping")
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.asked[self.next_id] = future
        self.link.send({"op": "ask", "id": self.next_id, "what": operation, "name": name})
        answer = await future
        if not answer["ok"]:
            status = answer.get("status", 500)
            error = ERRORS.get(status, ServeError)(answer["error"])
            if status not in ERRORS and status != ServeError.status:
                error.status = status
            raise error
        return answer
