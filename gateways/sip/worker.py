"""The media worker process: ``python -m gateways.sip.worker --control SOCK --sip-port N --id W``.

One worker = one pjsua2 endpoint (at most 4 call legs) + one asyncio loop + one control
connection. The loop does two things:

* every ``--poll-ms`` (5 ms) it lets pjsua2 process SIP and media events
  (:meth:`MediaEngine.poll`) -- pjsua2 runs with no threads of its own for SIP
  (``threadCnt = 0``) and must only be called from this thread;
* it reads requests from the control stream (:mod:`protocol` frames), carries them out
  through the engine and writes replies; events the engine emits go out on the same
  stream as they happen.

The worker connects to the control process (not the other way round) so that the pool
can start workers without knowing when their sockets are ready, and so that a worker
whose control process died notices EOF and ends itself (hanging up its legs) instead of
lingering as an orphan holding ports.

The op vocabulary, argument names and events are documented in docs/media-protocol.md;
:data:`OPS` below is the authoritative list.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, cast

from . import protocol
from .protocol import ErrorInfo, Event, ProtocolError, Reply, Request

log = logging.getLogger("gateways.sip.worker")

_REQUIRED = object()
#: If the control process stops reading, stop buffering events for it past this size.
MAX_WRITE_BUFFER = 8 << 20


class BadArgs(Exception):
    pass


class Args:
    """Typed access to a request's ``args`` that reports misuse as ``bad_args``."""

    def __init__(self, op: str, raw: dict[str, Any]) -> None:
        self.op = op
        self.raw = dict(raw)

    def get(self, name: str, kinds: type | tuple[type, ...], default: Any = _REQUIRED) -> Any:
        if name not in self.raw or self.raw[name] is None:
            if default is _REQUIRED:
                raise BadArgs(f"{self.op}: missing argument {name!r}")
            self.raw.pop(name, None)
            return default
        value = self.raw.pop(name)
        kinds_t = kinds if isinstance(kinds, tuple) else (kinds,)
        if isinstance(value, bool) and bool not in kinds_t:
            raise BadArgs(f"{self.op}: {name} must be {self._names(kinds_t)}")
        if float in kinds_t and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds_t):
            raise BadArgs(f"{self.op}: {name} must be {self._names(kinds_t)}")
        return value

    def str_list(self, name: str, default: Any = _REQUIRED) -> Any:
        value = self.get(name, list, default)
        if value is not default and not all(isinstance(x, str) for x in value):
            raise BadArgs(f"{self.op}: {name} must be a list of strings")
        return value

    def done(self) -> None:
        if self.raw:
            raise BadArgs(f"{self.op}: unknown argument(s) {sorted(self.raw)}")

    @staticmethod
    def _names(kinds: tuple[type, ...]) -> str:
        return " or ".join(k.__name__ for k in kinds)


# --------------------------------------------------------------------------- op table
# Each entry reads a request's args into (engine method name, positional args). Reading
# comes first and ``Args.done`` rejects leftovers *before* anything is carried out, so a
# misspelt argument never half-executes a primitive.

Plan = tuple[str, tuple[Any, ...]]
Handler = Callable[[Args], Plan]


def _legs_arg(a: Args) -> list[str]:
    legs = a.str_list("legs", None)
    if legs is None:
        legs = [a.get("a", str), a.get("b", str)]
    return list(legs)


def _record_legs(a: Args) -> list[str]:
    legs = a.str_list("legs", None)
    if legs is None:
        legs = [a.get("leg", str)]
    return list(legs)


def _headers(a: Args) -> dict[str, str] | None:
    headers = a.get("headers", dict, None)
    if headers is not None and not all(isinstance(k, str) and isinstance(v, str)
                                       for k, v in headers.items()):
        raise BadArgs("headers must map strings to strings")
    return cast("dict[str, str] | None", headers)


def _tone(a: Args) -> list[int] | None:
    tone = a.get("tone", (int, list), None)
    if isinstance(tone, int):
        return [tone]
    return cast("list[int] | None", tone)


def _leg_only(method: str) -> Handler:
    return lambda a: (method, (a.get("leg", str),))


OPS: dict[str, Handler] = {
    "ping": lambda a: ("ping", ()),
    "status": lambda a: ("status", ()),
    "ring": lambda a: ("ring", (a.get("leg", str), a.get("code", int, 180))),
    "answer": lambda a: ("answer", (a.get("leg", str), a.get("code", int, 200))),
    "hangup": lambda a: ("hangup", (a.get("leg", str), a.get("code", int, None))),
    "originate": lambda a: ("originate", (a.get("uri", str), a.get("from", str, None),
                                          _headers(a))),
    "send_dtmf": lambda a: ("send_dtmf", (a.get("leg", str), a.get("digits", str),
                                          a.get("method", str, "rfc4733"))),
    "hold": lambda a: ("hold", (a.get("leg", str), a.get("moh", (bool, str), False))),
    "resume": _leg_only("resume"),
    "mute": _leg_only("mute"),
    "unmute": _leg_only("unmute"),
    "bridge": lambda a: ("bridge", (_legs_arg(a),)),
    "unbridge": lambda a: ("unbridge", (a.get("bridge", str, None), a.get("leg", str, None))),
    "monitor": lambda a: ("monitor", (a.get("leg", str), a.get("bridge", str),
                                      a.get("mode", str), a.get("whisper_to", str, None))),
    "unmonitor": _leg_only("unmonitor"),
    "play": lambda a: ("play", (a.get("leg", str), a.get("file", str, None), _tone(a),
                                a.get("moh", (bool, str), False), a.get("loop", bool, False),
                                a.get("on_ms", int, 1000), a.get("off_ms", int, 0))),
    "stop_play": lambda a: ("stop_play", (a.get("play", str, None), a.get("leg", str, None))),
    "collect_dtmf": lambda a: ("collect_dtmf", (
        a.get("leg", str), a.get("max", int, 1), a.get("timeout", float, 5.0),
        a.get("terminator", str, "#"), a.get("inter_digit_timeout", float, None),
        a.get("flush", bool, False))),
    "stop_collect": _leg_only("stop_collect"),
    "record_start": lambda a: ("record_start", (_record_legs(a), a.get("path", str))),
    "record_stop": lambda a: ("record_stop", (a.get("recording", str),)),
    "record_pause": lambda a: ("record_pause", (a.get("recording", str),)),
    "record_resume": lambda a: ("record_resume", (a.get("recording", str),)),
    "stats": _leg_only("stats"),
    "drain": lambda a: ("drain", ()),
}
#: Ops handled by the worker loop itself rather than the engine.
LOOP_OPS = ("shutdown",)


class Worker:
    """The asyncio side: control connection, poll loop, dispatch."""

    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.engine: Any = None
        self.writer: asyncio.StreamWriter | None = None
        self.decoder = protocol.Decoder()
        self._seq = 0
        self._stop = asyncio.Event()
        self.exit_code = 0

    # ------------------------------------------------------------------ outgoing

    def _send(self, msg: protocol.Message) -> None:
        w = self.writer
        if w is None or w.is_closing():
            return
        w.write(protocol.encode(msg))
        if w.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.error("worker %s: control stream not read; giving up", self.opts.id)
            self.stop(4)

    def emit(self, name: str, **args: Any) -> None:
        self._seq += 1
        self._send(Event(name, args, self._seq))

    # ------------------------------------------------------------------ requests

    def handle(self, req: Request) -> Reply:
        from .ports import MediaError

        fn = OPS.get(req.op)
        if fn is None:
            return Reply(req.id, None, ErrorInfo("unknown_op", f"unknown op {req.op!r}"))
        args = Args(req.op, req.args)
        self.engine.set_time(asyncio.get_running_loop().time())
        try:
            method, params = fn(args)
            args.done()
            result = getattr(self.engine, method)(*params)
        except BadArgs as exc:
            return Reply(req.id, None, ErrorInfo("bad_args", str(exc)))
        except MediaError as exc:
            return Reply(req.id, None, ErrorInfo(exc.code, exc.message))
        except Exception as exc:  # a bug costs one request, not the worker's calls
            log.exception("worker %s: op %s", self.opts.id, req.op)
            return Reply(req.id, None, ErrorInfo("internal", repr(exc)))
        return Reply(req.id, result)

    async def _read_control(self, reader: asyncio.StreamReader) -> None:
        try:
            await self._read_requests(reader)
        except (ConnectionError, OSError) as exc:
            log.warning("worker %s: control stream failed: %s", self.opts.id, exc)
        finally:
            self.stop(self.exit_code)   # without its control stream a worker is useless

    async def _read_requests(self, reader: asyncio.StreamReader) -> None:
        while not self._stop.is_set():
            data = await reader.read(65536)
            if not data:
                log.warning("worker %s: control stream closed", self.opts.id)
                self.stop(0)
                return
            try:
                messages = self.decoder.feed(data)
            except ProtocolError as exc:
                log.error("worker %s: control stream: %s", self.opts.id, exc)
                self.stop(5)
                return
            for msg in messages:
                if isinstance(msg, Request):
                    if msg.op == "shutdown":
                        self._send(Reply(msg.id, {"legs": self.engine.live_legs()}))
                        self.stop(0)
                        return
                    self._send(self.handle(msg))

    # ------------------------------------------------------------------ main loop

    def stop(self, code: int = 0) -> None:
        if not self._stop.is_set():
            self.exit_code = code
            self._stop.set()

    async def run(self) -> int:
        from .media import MediaEngine

        loop = asyncio.get_running_loop()
        reader, self.writer = await asyncio.open_unix_connection(self.opts.control)
        self.engine = MediaEngine(self.opts.id, self.emit, sip_port=self.opts.sip_port,
                                  host=self.opts.host, tcp=not self.opts.no_tcp,
                                  moh_file=self.opts.moh or None,
                                  stats_interval=self.opts.stats_interval)
        try:
            self.engine.start()
        except Exception as exc:  # noqa: BLE001 - any start failure goes to the pool
            self.emit("worker_failed", worker=self.opts.id, pid=os.getpid(),
                      message=str(exc.info()) if hasattr(exc, "info") else str(exc))
            await self.writer.drain()
            self.writer.close()
            return 2
        self.emit("hello", worker=self.opts.id, pid=os.getpid(), sip_port=self.opts.sip_port,
                  host=self.opts.host, transports=self.engine.transports,
                  max_legs=self.engine.max_legs, protocol=protocol.VERSION,
                  ops=sorted([*OPS, *LOOP_OPS]))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, 0)
        read_task = asyncio.create_task(self._read_control(reader))
        interval = max(self.opts.poll_ms, 1) / 1000.0
        failures = 0
        try:
            while not self._stop.is_set():
                now = loop.time()
                self.engine.set_time(now)
                try:
                    self.engine.poll(now)
                    failures = 0
                except Exception:
                    # One bad clean-up must not drop the other legs; a loop that keeps
                    # failing is broken, and the pool will replace the worker.
                    failures += 1
                    log.exception("worker %s: poll failed (%d in a row)", self.opts.id, failures)
                    if failures >= 100:
                        self.stop(6)
                try:
                    await asyncio.wait_for(self._stop.wait(), interval)
                except TimeoutError:
                    pass
        finally:
            read_task.cancel()
            self.engine.shutdown()
            self.emit("worker_exiting", worker=self.opts.id, code=self.exit_code)
            try:
                await asyncio.wait_for(self.writer.drain(), 1.0)
            except (TimeoutError, ConnectionError):
                pass
            self.writer.close()
        return self.exit_code


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m gateways.sip.worker",
                                 description="ipcc media worker (pjsua2)")
    ap.add_argument("--control", required=True, help="control Unix socket to connect to")
    ap.add_argument("--sip-port", type=int, required=True)
    ap.add_argument("--id", required=True, help="worker id (prefix of its leg ids)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen for SIP on")
    ap.add_argument("--poll-ms", type=int, default=5)
    ap.add_argument("--no-tcp", action="store_true", help="UDP only")
    ap.add_argument("--moh", default="", help="music-on-hold WAV (default: a soft beep)")
    ap.add_argument("--stats-interval", type=float, default=0.0,
                    help="seconds between media_stats events per leg (0: only on request)")
    ap.add_argument("--log-level", default="WARNING")
    return ap


def main(argv: list[str] | None = None) -> None:
    opts = build_parser().parse_args(argv)
    logging.basicConfig(level=opts.log_level.upper(), stream=sys.stderr,
                        format=f"%(asctime)s worker {opts.id} %(levelname)s %(message)s")
    try:
        code = asyncio.run(Worker(opts).run())
    except (ConnectionError, FileNotFoundError) as exc:
        log.error("worker %s: cannot reach control socket: %s", opts.id, exc)
        code = 3
    sys.stdout.flush()
    sys.stderr.flush()
    # pjsua2 objects are gone and the library destroyed; skip interpreter teardown so
    # no SWIG destructor runs after libDestroy().
    os._exit(code)


if __name__ == "__main__":
    main()
