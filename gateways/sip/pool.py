"""The media worker pool: the control process's supervisor of media worker processes.

Why a pool: one pjsua2 process holds at most 4 call legs, and a Python process uses one
core; many small workers also keep a crash down to a few calls. The pool

* starts workers (``python -m gateways.sip.worker``) as child processes and accepts
  their control connections on one Unix socket in ``socket_dir``;
* sends requests (``await pool.request(worker_id, "answer", leg=...)``) and matches
  replies by id, with a timeout;
* delivers worker events (``leg_incoming``, ``dtmf``, ``leg_hungup``...) and its own
  (``worker_ready``, ``worker_lost``, ``worker_draining``, ``worker_stopped``) as
  :class:`PoolEvent` to callbacks and async subscribers;
* pings each worker; a worker that exits, drops its stream or stops answering pings is
  killed (by pid), reported as ``worker_lost`` with the legs it held -- the server
  writes their CDRs with outcome ``lost_on_crash`` -- and replaced;
* books capacity: :meth:`reserve` finds a worker with room for a contact's legs (2 by
  default: caller + agent, so both can be bridged inside one worker), starting another
  worker when all are full, up to ``max_size``;
* drains a worker (no new contacts, wait for its legs to end, restart it).

Clean shutdown (:meth:`close`) stops and, if needed, kills only the pool's own children,
by pid. The pool never imports pjsua2.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from . import protocol
from .capacity import SlotLedger
from .protocol import Event, ProtocolError, Reply, Request

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- public types


class PoolError(Exception):
    """Base of the pool's errors; ``code`` is stable (as in protocol error replies)."""

    code = "pool_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message


class WorkerError(PoolError):
    """The worker carried out the request and refused it (an error reply)."""

    code = "worker_error"


class WorkerUnavailable(PoolError):
    """No such worker, or it is not connected (starting, dead, stopped)."""

    code = "worker_unavailable"


class RequestTimeout(PoolError):
    code = "timeout"


class NoCapacity(PoolError):
    """Every worker is full and the pool is at ``max_size``."""

    code = "no_capacity"


@dataclass(frozen=True)
class PoolEvent:
    """One event from a worker (or from the pool itself, about a worker)."""

    worker_id: str
    event: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reservation:
    """Slots booked on one worker; send the contact's INVITE to ``host:sip_port``."""

    id: str
    worker_id: str
    host: str
    sip_port: int
    slots: int


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    pid: int | None
    sip_port: int
    state: str                  # starting | ready | draining | stopping | dead
    legs: list[str]
    free: int


EventCallback = Callable[[PoolEvent], Any]


class EventStream:
    """An async iterator over pool events, subscribed from construction."""

    def __init__(self, registry: list[asyncio.Queue[PoolEvent]]) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[PoolEvent] = asyncio.Queue()
        registry.append(self._queue)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> PoolEvent:
        if self._queue not in self._registry:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        with contextlib.suppress(ValueError):
            self._registry.remove(self._queue)


@dataclass
class _Worker:
    id: str
    slot: int
    sip_port: int
    proc: asyncio.subprocess.Process | None = None
    writer: asyncio.StreamWriter | None = None
    state: str = "starting"
    ready: asyncio.Future[dict[str, Any]] | None = None
    pending: dict[int, asyncio.Future[Reply]] = field(default_factory=dict)
    missed_pings: int = 0
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = None
    lost_reported: bool = False
    failure: str = ""


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP right now (the worker binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
            return int(port)
    raise PoolError("no free port found")


class WorkerPool:
    """Supervisor of media worker processes; see the module docstring.

    ``sip_port_base``: worker in slot ``i`` listens on ``sip_port_base + i`` (stable ports
    for a SIP front's static config); ``None`` picks free ports. ``socket_dir``: where the
    control socket lives (a private temporary directory if ``None``).
    """

    def __init__(self, size: int = 1, max_size: int | None = None, *,
                 sip_port_base: int | None = None, socket_dir: str | os.PathLike[str] | None
                 = None, host: str = "127.0.0.1", request_timeout: float = 5.0,
                 start_timeout: float = 15.0, ping_interval: float = 2.0,
                 ping_timeout: float = 2.0, max_missed_pings: int = 2, restart: bool = True,
                 slots_per_worker: int = 4, reservation_ttl: float = 30.0,
                 worker_args: list[str] | tuple[str, ...] = (), python: str = sys.executable,
                 on_event: EventCallback | None = None) -> None:
        if size < 0 or (max_size is not None and max_size < max(size, 1)):
            raise ValueError("need 0 <= size <= max_size and max_size >= 1")
        self.size = size
        self.max_size = max_size if max_size is not None else max(size, 1)
        self.sip_port_base = sip_port_base
        self.host = host
        self.request_timeout = request_timeout
        self.start_timeout = start_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_missed_pings = max_missed_pings
        self.restart = restart
        self.worker_args = list(worker_args)
        self.python = python
        self.ledger = SlotLedger(slots_per_worker, reservation_ttl)
        self._own_dir = socket_dir is None
        self._socket_dir = Path(socket_dir) if socket_dir else None
        self._callbacks: list[EventCallback] = [on_event] if on_event else []
        self._queues: list[asyncio.Queue[PoolEvent]] = []
        self._workers: dict[str, _Worker] = {}
        self._ids = itertools.count(1)
        self._req_ids = itertools.count(1)
        self._server: asyncio.AbstractServer | None = None
        self._health: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._grow_lock = asyncio.Lock()
        self._changed = asyncio.Event()     # replaced on every notify: no lost wake-ups
        self._ended_legs: dict[str, None] = {}  # recently ended legs (insertion-ordered)
        self._closing = False
        self._restart_delay: dict[int, float] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def control_path(self) -> str:
        assert self._socket_dir is not None
        return str(self._socket_dir / "control.sock")

    async def start(self) -> Self:
        if self._socket_dir is None:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="ipcc-media-"))
        self._socket_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.control_path)
        self._server = await asyncio.start_unix_server(self._accept, path=self.control_path)
        os.chmod(self.control_path, 0o600)
        try:
            await asyncio.gather(*(self._spawn(slot) for slot in range(self.size)))
        except BaseException:
            await self.close()
            raise
        self._health = asyncio.create_task(self._health_loop())
        return self

    async def close(self) -> None:
        """Stop every worker (gracefully, then by SIGKILL to its pid) and the socket."""
        self._closing = True
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        await asyncio.gather(*(self._stop_worker(w) for w in list(self._workers.values())),
                             return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._socket_dir is not None:
            if self._own_dir:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.control_path)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _bg(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ spawning

    def _port_for(self, slot: int) -> int:
        if self.sip_port_base is not None:
            return self.sip_port_base + slot
        return _free_port(self.host)

    def _free_slot(self) -> int:
        used = {w.slot for w in self._workers.values()}
        return next(i for i in itertools.count() if i not in used)

    async def _spawn(self, slot: int) -> _Worker:
        """Start a worker in ``slot`` and wait for its hello."""
        loop = asyncio.get_running_loop()
        w = _Worker(f"w{next(self._ids)}", slot, self._port_for(slot))
        w.ready = loop.create_future()
        w.started_at = loop.time()
        self._workers[w.id] = w
        cmd = [self.python, "-m", "gateways.sip.worker", "--control", self.control_path,
               "--sip-port", str(w.sip_port), "--id", w.id, "--host", self.host,
               *self.worker_args]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT),
                                                          env.get("PYTHONPATH", "")]))
        w.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            env=env, start_new_session=True)
        w.watcher = self._bg(self._watch(w))
        try:
            await asyncio.wait_for(asyncio.shield(w.ready), self.start_timeout)
        except (TimeoutError, PoolError) as exc:
            reason = w.failure or f"did not start: {exc or 'timeout'}"
            self._kill(w)
            if w.watcher is not None:
                await asyncio.wait([w.watcher], timeout=5.0)
            self._workers.pop(w.id, None)
            raise PoolError(f"worker {w.id}: {reason}", "worker_start_failed") from None
        return w

    async def _watch(self, w: _Worker) -> None:
        """Wait for the process to end; an end nobody asked for is a crash."""
        assert w.proc is not None
        code = await w.proc.wait()
        if w.ready is not None and not w.ready.done():
            w.ready.set_exception(PoolError(w.failure or f"exited with {code}"))
            w.ready.exception()  # retrieved: _spawn reports it
            self._fail_pending(w)
            return
        if w.state == "stopping" or self._closing:
            w.state = "dead"
            self._fail_pending(w)
            return
        self._lost(w, f"exited with code {code}", code)

    def _kill(self, w: _Worker) -> None:
        if w.proc is not None and w.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.proc.pid, signal.SIGKILL)

    def _fail_pending(self, w: _Worker) -> None:
        for fut in w.pending.values():
            if not fut.done():
                fut.set_exception(WorkerUnavailable(f"worker {w.id} is gone"))
        w.pending.clear()
        if w.writer is not None:
            w.writer.close()
            w.writer = None

    def _lost(self, w: _Worker, reason: str, exit_code: int | None) -> None:
        if w.lost_reported:
            return
        w.lost_reported = True
        w.state = "dead"
        self._kill(w)
        self._fail_pending(w)
        legs, reservations = self.ledger.remove_worker(w.id)
        self._workers.pop(w.id, None)
        self._notify()
        log.error("worker %s lost (%s); legs lost: %s", w.id, reason, legs)
        self._publish(PoolEvent(w.id, "worker_lost", {
            "worker": w.id, "legs": legs, "reservations": reservations, "reason": reason,
            "exit_code": exit_code, "sip_port": w.sip_port}))
        if self.restart and not self._closing:
            self._bg(self._replace(w))

    async def _replace(self, dead: _Worker) -> None:
        loop = asyncio.get_running_loop()
        lived = loop.time() - dead.started_at
        delay = self._restart_delay.get(dead.slot, 0.0)
        # A worker that dies right after starting would otherwise restart in a hot loop.
        delay = min(max(delay * 2, 0.25), 10.0) if lived < 5.0 else 0.0
        self._restart_delay[dead.slot] = delay
        while not self._closing:
            if delay:
                await asyncio.sleep(delay)
            try:
                await self._spawn(dead.slot)
                return
            except PoolError as exc:
                log.error("restart in slot %s failed: %s", dead.slot, exc)
                delay = min(max(delay * 2, 0.25), 10.0)

    # ------------------------------------------------------------------ the control stream

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        decoder = protocol.Decoder()
        w: _Worker | None = None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for msg in decoder.feed(data):
                    if w is None:
                        w = self._hello(msg, writer)
                        if w is None:
                            return
                    else:
                        self._dispatch(w, msg)
        except ProtocolError as exc:
            log.error("control stream of %s: %s", w.id if w else "?", exc)
        except ConnectionError:
            pass
        finally:
            writer.close()
            if w is not None and w.state in ("ready", "draining"):
                # The stream is the worker's lifeline; without it the worker is useless.
                self._lost(w, "control stream closed", None)

    def _hello(self, msg: protocol.Message, writer: asyncio.StreamWriter) -> _Worker | None:
        if not isinstance(msg, Event):
            return None
        wid = msg.args.get("worker")
        w = self._workers.get(wid) if isinstance(wid, str) else None
        if w is None or w.proc is None or msg.args.get("pid") != w.proc.pid:
            log.warning("control connection from unknown worker %r", msg.args)
            return None
        if msg.event == "worker_failed":
            w.failure = str(msg.args.get("message", "failed"))
            return None
        if msg.event != "hello" or w.state != "starting":
            return None
        w.writer = writer
        w.state = "ready"
        self.ledger.add_worker(w.id)
        assert w.ready is not None
        if not w.ready.done():
            w.ready.set_result(dict(msg.args))
        self._publish(PoolEvent(w.id, "worker_ready", {
            "worker": w.id, "pid": w.proc.pid, "sip_port": w.sip_port, "host": self.host}))
        return w

    def _dispatch(self, w: _Worker, msg: protocol.Message) -> None:
        if isinstance(msg, Reply):
            fut = w.pending.pop(msg.id, None) if isinstance(msg.id, int) else None
            if fut is not None and not fut.done():
                fut.set_result(msg)
            return
        if not isinstance(msg, Event):
            return
        args = dict(msg.args)
        name = msg.event
        if name == "leg_incoming":
            rid = self.ledger.leg_added(w.id, str(args.get("leg")), inbound=True)
            args["reservation"] = rid
        elif name == "leg_hungup":
            leg = str(args.get("leg"))
            self.ledger.leg_removed(leg)
            self._ended_legs[leg] = None
            while len(self._ended_legs) > 1024:
                del self._ended_legs[next(iter(self._ended_legs))]
        elif name == "worker_load":
            self.ledger.report_load(w.id, int(args.get("legs", 0)))
        self._notify()
        self._publish(PoolEvent(w.id, name, args))

    def _notify(self) -> None:
        """Wake everything waiting for the books to change (drain)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ events out

    def subscribe(self, callback: EventCallback) -> None:
        self._callbacks.append(callback)

    def unsubscribe(self, callback: EventCallback) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def events(self) -> EventStream:
        """Every event from *this call* on, in order; each stream gets its own copy.

        Subscribes at once (not at the first ``anext``), so nothing published between
        creating the stream and iterating it is missed. ``aclose()`` unsubscribes.
        """
        return EventStream(self._queues)

    def _publish(self, ev: PoolEvent) -> None:
        for queue in self._queues:
            queue.put_nowait(ev)
        for cb in list(self._callbacks):
            try:
                result = cb(ev)
                if asyncio.iscoroutine(result):
                    self._bg(result)
            except Exception:
                log.exception("pool event callback failed on %s", ev.event)

    # ------------------------------------------------------------------ requests

    async def request(self, worker_id: str, op: str, /, reply_timeout: float | None = None,
                      **args: Any) -> Any:
        """Send ``op`` with ``args`` to a worker and return the reply's result.

        Raises :class:`WorkerError` (error reply; ``.code`` from the worker),
        :class:`RequestTimeout`, or :class:`WorkerUnavailable`. ``reply_timeout`` is
        named so as not to clash with ops' own ``timeout`` argument.
        """
        w = self._workers.get(worker_id)
        if w is None or w.writer is None or w.state not in ("ready", "draining", "stopping"):
            raise WorkerUnavailable(f"worker {worker_id} is not available")
        rid = next(self._req_ids)
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        w.pending[rid] = fut
        try:
            w.writer.write(protocol.encode(Request(rid, op, args)))
            reply = await asyncio.wait_for(fut, reply_timeout or self.request_timeout)
        except TimeoutError:
            raise RequestTimeout(f"{op} on {worker_id}: no reply") from None
        finally:
            w.pending.pop(rid, None)
        if reply.error is not None:
            raise WorkerError(f"{op} on {worker_id}: {reply.error.message}", reply.error.code)
        return reply.result

    def worker_of(self, leg: str) -> str | None:
        """The worker holding ``leg`` (leg ids start with their worker's id)."""
        wid = self.ledger.worker_of(leg)
        if wid is None:
            prefix = leg.split("-", 1)[0]
            wid = prefix if prefix in self._workers else None
        return wid

    async def leg_request(self, leg: str, op: str, /, reply_timeout: float | None = None,
                          **args: Any) -> Any:
        """``request`` routed to the worker that holds ``leg`` (passed as ``leg=``)."""
        wid = self.worker_of(leg)
        if wid is None:
            raise WorkerUnavailable(f"no worker holds leg {leg}")
        return await self.request(wid, op, reply_timeout=reply_timeout, leg=leg, **args)

    async def originate(self, uri: str, *, reservation: Reservation | str | None = None,
                        worker_id: str | None = None, reply_timeout: float | None = None,
                        **args: Any) -> tuple[str, str]:
        """Place an outbound leg; returns ``(worker_id, leg)``.

        With a ``reservation`` the leg goes to its worker and is counted in its slots
        (the agent leg of a contact); otherwise a worker with a free slot is chosen.
        """
        rid = reservation.id if isinstance(reservation, Reservation) else reservation
        temp: Reservation | None = None
        if rid is not None:
            booking = self.ledger.get(rid)
            if booking is None:
                raise PoolError(f"no reservation {rid}", "no_such_reservation")
            worker_id = booking.worker_id
        elif worker_id is None:
            temp = await self.reserve(1)
            worker_id = temp.worker_id
            rid = temp.id
        try:
            result = await self.request(worker_id, "originate", reply_timeout=reply_timeout,
                                        uri=uri, **args)
        finally:
            if temp is not None:
                self.ledger.release(temp.id)   # the leg, if any, stays counted (unbound)
        leg = str(result["leg"])
        if leg not in self._ended_legs:   # it may have failed before its reply arrived
            self.ledger.leg_added(worker_id, leg, reservation_id=None if temp else rid)
        self._notify()
        return worker_id, leg

    # ------------------------------------------------------------------ capacity

    async def reserve(self, slots: int = 2, prefer: str | None = None) -> Reservation:
        """Book ``slots`` legs on one worker, growing the pool if every worker is full."""
        loop = asyncio.get_running_loop()
        while True:
            booking = self.ledger.reserve(slots, loop.time(), prefer)
            if booking is not None:
                w = self._workers[booking.worker_id]
                return Reservation(booking.id, w.id, self.host, w.sip_port, slots)
            async with self._grow_lock:
                booking = self.ledger.reserve(slots, loop.time(), prefer)
                if booking is not None:
                    self.ledger.release(booking.id)   # room appeared; take it in the loop
                    continue
                if len(self._workers) >= self.max_size:
                    starting = [w.ready for w in self._workers.values()
                                if w.state == "starting" and w.ready is not None]
                    if not starting:
                        raise NoCapacity(f"all {len(self._workers)} workers are full")
                    await asyncio.wait(starting, timeout=self.start_timeout)
                    continue
                await self._spawn(self._free_slot())

    def release(self, reservation: Reservation | str) -> None:
        rid = reservation.id if isinstance(reservation, Reservation) else reservation
        self.ledger.release(rid)
        self._notify()

    def workers(self) -> list[WorkerInfo]:
        out = []
        for w in self._workers.values():
            known = w.state in ("ready", "draining", "stopping")
            out.append(WorkerInfo(w.id, w.proc.pid if w.proc else None, w.sip_port, w.state,
                                  self.ledger.legs_of(w.id) if known else [],
                                  self.ledger.free(w.id) if known else 0))
        return out

    # ------------------------------------------------------------------ health, drain

    async def _health_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(self.ping_interval)
            expired = self.ledger.expire(loop.time())
            for booking in expired:
                log.info("reservation %s on %s expired unused", booking.id, booking.worker_id)
            if expired:
                self._notify()
            await asyncio.gather(*(self._ping(w) for w in list(self._workers.values())
                                   if w.state in ("ready", "draining")))

    async def _ping(self, w: _Worker) -> None:
        try:
            await self.request(w.id, "ping", reply_timeout=self.ping_timeout)
            w.missed_pings = 0
        except RequestTimeout:
            w.missed_pings += 1
            if w.missed_pings >= self.max_missed_pings:
                self._lost(w, f"no reply to {w.missed_pings} pings", None)
        except PoolError:
            pass

    async def drain(self, worker_id: str, *, timeout: float | None = None,
                    restart: bool = True) -> None:
        """Stop giving ``worker_id`` new contacts, wait for its legs to end, stop it.

        Bookings already made on it are honoured (their INVITEs may be in flight). With
        ``timeout``, legs still up when it runs out are hung up by the worker's shutdown.
        With ``restart`` a fresh worker takes its slot.
        """
        w = self._workers.get(worker_id)
        if w is None or w.state != "ready":
            raise WorkerUnavailable(f"worker {worker_id} cannot be drained")
        w.state = "draining"
        self.ledger.set_accepting(worker_id, False)
        self._publish(PoolEvent(w.id, "worker_draining", {"worker": w.id}))

        def waiting_bookings() -> bool:
            return any(not b.used for b in self.ledger.bookings_of(worker_id))

        def busy() -> bool:
            return bool(self.ledger.legs_of(worker_id)) or self.ledger.used(worker_id) > 0

        async def settle() -> None:
            told = False
            while w.state == "draining":
                changed = self._changed
                if not told and not waiting_bookings():
                    with contextlib.suppress(PoolError):   # lost meanwhile: loop ends
                        await self.request(worker_id, "drain")  # now refuse stray INVITEs
                    told = True
                    continue
                if told and not busy():
                    return
                await changed.wait()

        try:
            await asyncio.wait_for(settle(), timeout)
        except TimeoutError:
            log.warning("drain of %s timed out; hanging up what is left", worker_id)
        if w.state != "draining":           # it died meanwhile: worker_lost said it all
            return
        await self._stop_worker(w)
        if restart and not self._closing:
            await self._spawn(w.slot)

    async def _stop_worker(self, w: _Worker, grace: float = 5.0) -> None:
        if w.proc is None:
            return
        was_live = w.state in ("ready", "draining")
        w.state = "stopping"
        if was_live and w.writer is not None:
            with contextlib.suppress(PoolError):
                await self.request(w.id, "shutdown", reply_timeout=2.0)
        try:
            await asyncio.wait_for(asyncio.shield(w.proc.wait()), grace)
        except TimeoutError:
            self._kill(w)
            await w.proc.wait()
        if w.watcher is not None:
            await asyncio.wait([w.watcher], timeout=2.0)
        w.state = "dead"
        if w.id in self._workers:
            legs, _ = self.ledger.remove_worker(w.id) if was_live else ([], [])
            self._workers.pop(w.id, None)
            self._publish(PoolEvent(w.id, "worker_stopped", {"worker": w.id, "legs": legs}))
