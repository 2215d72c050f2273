"""The bus publisher: domain events out to an MQTT broker, without ever holding up a call.

Why it is shaped like this
--------------------------
The call path must not wait on the broker (see docs/architecture: "the call path never
waits on the broker"). So :meth:`Bus.publish` only serialises the event and appends it to
an in-memory *outbox*; a background task owns the broker connection and drains the outbox
in order. When the broker is down the outbox fills up to a bound and then sheds its
oldest entries (counting them), because recent state is worth more to a wallboard or a CRM
than old state, and an unbounded queue would turn a broker outage into a memory outage.

Delivery is at-least-once for QoS 1: a message leaves the outbox only when the broker
acknowledged it (PUBACK). Messages still unacknowledged when the connection drops go back
to the head of the outbox, in their original order, and are sent again after the
reconnect. Consumers de-duplicate by the payload's ``id``, which the bus fills in when the
caller did not. The protocol is MQTT 3.1.1 (the embedded amqtt broker speaks nothing
else), so correlation data lives in the JSON payload, not in v5 properties.

The module has two sans-I/O parts - :class:`Outbox` (ordering, bound, counters) and
:class:`Backoff` (reconnect delays) - and one thin asyncio shell, :class:`Bus`, built on
aiomqtt 2.x.

Topics and payloads are documented in docs/events.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import enum
import json
import logging
import random
import ssl
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt

log = logging.getLogger(__name__)

__all__ = [
    "Backoff",
    "BrokerAddress",
    "Bus",
    "Coalescer",
    "Envelope",
    "Outbox",
    "encode_payload",
    "full_topic",
    "parse_url",
]

MAX_TOPIC_BYTES = 65535  # MQTT 3.1.1 §1.5.3: a UTF-8 string is at most 65,535 bytes


# ------------------------------------------------------------------------ addresses


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is, parsed from ``mqtt://[user[:password]@]host[:port]``.

    ``mqtts://`` selects TLS (default port 8883) with the system's trust store.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def redacted(self) -> str:
        """The URL without the password, safe for logs and status pages."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = ""
        if self.username is not None:
            user = self.username + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def parse_url(url: str) -> BrokerAddress:
    """Parse a broker URL; raises ValueError on anything but mqtt:// or mqtts://."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL must start with mqtt:// or mqtts://, got {url!r}")
    tls = scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise ValueError(f"broker URL has no host: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:  # port out of range or not a number
        raise ValueError(f"broker URL has a bad port: {url!r}") from exc
    return BrokerAddress(
        host=parts.hostname,
        port=port if port is not None else (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=tls,
    )


# ------------------------------------------------------------------------- payloads


def _json_default(value: Any) -> Any:
    """Turn the engine's value types into JSON: enums by value, dataclasses as objects."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def encode_payload(payload: Mapping[str, Any], *, event_id: str, at: float) -> bytes:
    """Serialise one event: compact UTF-8 JSON, with ``id`` and ``at`` filled in if absent.

    Raises TypeError/ValueError only for payloads JSON cannot express at all (a cycle,
    a non-string key that is not a basic scalar).
    """
    body = dict(payload)
    body.setdefault("id", event_id)
    body.setdefault("at", at)
    return json.dumps(body, default=_json_default, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def full_topic(prefix: str, topic: str) -> str:
    """Join the prefix and a relative topic; raises ValueError for an unusable topic.

    Wildcards (``+``, ``#``) and NUL are not allowed in a topic name (MQTT 3.1.1 §4.7),
    and a topic is never empty.
    """
    rel = topic.strip("/")
    name = f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel
    if not rel:
        raise ValueError("empty topic")
    if "+" in name or "#" in name or "\x00" in name:
        raise ValueError(f"topic contains a wildcard or NUL: {name!r}")
    if len(name.encode("utf-8")) > MAX_TOPIC_BYTES:
        raise ValueError("topic longer than 65,535 bytes")
    return name


# --------------------------------------------------------------------------- outbox


@dataclass(frozen=True)
class Envelope:
    """One message waiting for the broker. ``seq`` orders the outbox."""

    seq: int
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class Outbox:
    """Ordered, bounded store of messages not yet acknowledged by the broker (sans-I/O).

    Two parts: *pending* (not yet handed to the connection) and *in flight* (handed over,
    waiting for the broker's acknowledgement). ``size`` bounds pending; in flight is
    bounded by the sender's window. When a ``put`` would exceed the bound, the oldest
    pending message is dropped and counted. When the connection is lost, every in-flight
    message goes back to the head of pending, in order, and the bound is enforced again
    (again dropping the oldest).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("outbox size must be at least 1")
        self.size = size
        self._pending: deque[Envelope] = deque()
        self._inflight: OrderedDict[int, Envelope] = OrderedDict()
        self._next_seq = 0
        self.dropped = 0
        self.published = 0

    def __len__(self) -> int:
        return len(self._pending) + len(self._inflight)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> Envelope:
        """Append a message; drops the oldest pending one(s) if the bound is reached."""
        env = Envelope(self._next_seq, topic, payload, qos, retain)
        self._next_seq += 1
        self._pending.append(env)
        self._trim()
        return env

    def take(self) -> Envelope | None:
        """Move the oldest pending message to in flight and return it (None if empty)."""
        if not self._pending:
            return None
        env = self._pending.popleft()
        self._inflight[env.seq] = env
        return env

    def ack(self, seq: int) -> bool:
        """The broker has the message: forget it. False if it was not in flight."""
        if self._inflight.pop(seq, None) is None:
            return False
        self.published += 1
        return True

    def requeue(self) -> int:
        """Connection lost: put every in-flight message back at the head, in order.

        Returns how many went back. Some may then be dropped by the bound.
        """
        back = list(self._inflight.values())
        self._inflight.clear()
        self._pending.extendleft(reversed(back))
        self._trim()
        return len(back)

    def peek_pending(self) -> list[Envelope]:
        """A copy of the pending messages, oldest first (for tests and diagnostics)."""
        return list(self._pending)

    def _trim(self) -> None:
        while len(self._pending) > self.size:
            dropped = self._pending.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("bus outbox full (%d): dropped oldest message seq=%d topic=%s "
                            "(%d dropped so far)", self.size, dropped.seq, dropped.topic,
                            self.dropped)


# -------------------------------------------------------------------------- backoff


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: exponential from ``initial`` up to ``maximum``, with jitter.

    Jitter spreads the reconnects of many ipcc processes after a broker restart so they
    do not all hit the broker in the same instant. ``rand`` is a number in [0, 1) the
    caller draws, which keeps this a pure function.
    """

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    jitter: float = 0.2  # +/- this fraction of the nominal delay

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")

    def delay(self, attempt: int, rand: float = 0.5) -> float:
        """Delay before reconnect attempt number ``attempt`` (0 = first retry)."""
        nominal = min(self.maximum, self.initial * self.factor ** min(attempt, 64))
        spread = nominal * self.jitter * (2.0 * rand - 1.0)
        return max(0.0, min(self.maximum, nominal + spread))


# ------------------------------------------------------------------------- throttle


class Coalescer:
    """Per-key rate limit that keeps only the latest value (sans-I/O).

    For state that is republished often but read as "the current value" (queue stats):
    the first value after a quiet ``interval`` goes out at once; values arriving sooner
    are held, each replacing the previous one, and the last of them goes out when the
    interval since the previous send has passed. So a key is sent at most once per
    ``interval``, and the final value is never lost.
    """

    def __init__(self, interval: float) -> None:
        if interval < 0:
            raise ValueError("interval must not be negative")
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, Any] = {}

    def offer(self, key: str, item: Any, now: float) -> bool:
        """True: send ``item`` now. False: it is held until :meth:`due` hands it out."""
        last = self._last.get(key)
        if key not in self._held and (last is None or now >= last + self.interval):
            self._last[key] = now
            return True
        self._held[key] = item
        return False

    def due(self, now: float) -> list[tuple[str, Any]]:
        """Held items whose interval has passed, in the order first held; marks them sent."""
        out = []
        for key in list(self._held):
            # Same expression as next_due(), so a timer set for next_due() always
            # finds its item due (``now - last >= interval`` can round the other way).
            if now >= self._last[key] + self.interval:  # a held key has a last send
                out.append((key, self._held.pop(key)))
                self._last[key] = now
        # Forget keys quiet for a full interval: with per-contact topics the key set is
        # unbounded and this dict must not grow for ever.
        for key in [k for k, t in self._last.items()
                    if now >= t + self.interval and k not in self._held]:
            del self._last[key]
        return out

    def next_due(self) -> float | None:
        """When the earliest held item becomes due (None if nothing is held)."""
        if not self._held:
            return None
        return min(self._last[k] + self.interval for k in self._held)

    def drain(self) -> list[tuple[str, Any]]:
        """Everything held, regardless of time (at shutdown)."""
        out = list(self._held.items())
        self._held.clear()
        return out


# ------------------------------------------------------------------------------ bus


class Bus:
    """Publishes domain events to an MQTT broker from a bounded outbox.

    Only this object publishes to the bus; every topic it carries is listed in
    docs/events.md. All methods are called from the event loop's thread.

    ``publish()`` never blocks and never raises: a topic or payload it cannot send is
    logged and counted as ``rejected`` in :meth:`status`.

    Options beyond the lead's contract: ``username``/``password`` (else taken from the
    URL), ``window`` (unacknowledged messages in flight), ``backoff`` (reconnect delays),
    ``keepalive`` and ``timeout`` (seconds, passed to aiomqtt), ``will`` (a relative topic
    and payload the broker publishes, retained, if this process dies without saying
    goodbye), ``throttle_s`` (the minimum interval of :meth:`publish_throttled`),
    ``clock`` (wall clock for the payload's ``at``) and ``rand`` (jitter source).

    Give every process its own ``client_id``: MQTT lets one connection per client id
    live, and two processes sharing one would keep disconnecting each other.
    """

    def __init__(self, url: str, client_id: str = "ipcc", outbox_size: int = 10000,
                 topic_prefix: str = "ipcc", *, username: str | None = None,
                 password: str | None = None, window: int = 100,
                 backoff: Backoff | None = None, keepalive: int = 30,
                 timeout: float = 5.0, will: tuple[str, dict[str, Any]] | None = None,
                 throttle_s: float = 1.0,
                 clock: Callable[[], float] = time.time,
                 rand: Callable[[], float] = random.random) -> None:
        address = parse_url(url)
        if username is not None:
            address = dataclasses.replace(address, username=username, password=password)
        self.address = address
        self.url = address.redacted()
        self.client_id = client_id
        self.topic_prefix = topic_prefix
        self.window = max(1, window)
        self.backoff = backoff or Backoff()
        self.keepalive = keepalive
        self.timeout = timeout
        self._clock = clock
        self._rand = rand
        self._outbox = Outbox(outbox_size)
        self._coalescer = Coalescer(throttle_s)
        self._throttle_timer: asyncio.TimerHandle | None = None
        self._will: aiomqtt.Will | None = None
        if will is not None:
            # Published (retained) by the broker if this process vanishes without a
            # DISCONNECT: the way a wallboard learns that ipcc itself is down.
            # It is written now and sent later, so it carries no ``id``/``at`` of its own.
            body = json.dumps(dict(will[1]), default=_json_default, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
            self._will = aiomqtt.Will(full_topic(topic_prefix, will[0]), body, qos=1,
                                      retain=True)
        self._rejected = 0
        self._connected = False
        self._connects = 0
        self._last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None  # created on the loop in start()
        self._drained: asyncio.Event | None = None
        self._quit: asyncio.Event | None = None

    # ---------------------------------------------------------------- call path

    def publish(self, topic: str, payload: dict[str, Any], qos: int = 1,
                retain: bool = False) -> None:
        """Queue one event for ``{topic_prefix}/{topic}``; returns at once."""
        try:
            if qos not in (0, 1, 2):
                raise ValueError(f"qos must be 0, 1 or 2, not {qos!r}")
            name = full_topic(self.topic_prefix, topic)
            body = encode_payload(payload, event_id=uuid.uuid4().hex, at=self._clock())
        except (TypeError, ValueError) as exc:
            self._rejected += 1
            log.error("bus: rejected message for topic %r: %s", topic, exc)
            return
        self._outbox.put(name, body, qos, bool(retain))
        if self._wakeup is not None:
            self._wakeup.set()
        if self._drained is not None:
            self._drained.clear()

    def publish_throttled(self, topic: str, payload: dict[str, Any], qos: int = 1,
                          retain: bool = True) -> None:
        """Like :meth:`publish`, but at most once per ``throttle_s`` per topic, latest wins.

        For retained current-state topics that can change many times a second (queue
        stats). A value held back is published when the interval has passed, stamped
        with the time it was offered. Call from the event loop (the delayed send is a
        loop timer); without a running loop it publishes at once.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.publish(topic, payload, qos, retain)
            return
        body = dict(payload)
        body.setdefault("at", self._clock())
        if self._coalescer.offer(topic, (body, qos, retain), loop.time()):
            self.publish(topic, body, qos, retain)
        else:
            self._arm_throttle(loop)

    def _arm_throttle(self, loop: asyncio.AbstractEventLoop) -> None:
        when = self._coalescer.next_due()
        if when is None:
            return
        if self._throttle_timer is not None:
            if self._throttle_timer.when() <= when:
                return
            self._throttle_timer.cancel()
        self._throttle_timer = loop.call_at(when, self._flush_throttled, loop)

    def _flush_throttled(self, loop: asyncio.AbstractEventLoop) -> None:
        self._throttle_timer = None
        for topic, (body, qos, retain) in self._coalescer.due(loop.time()):
            self.publish(topic, body, qos, retain)
        self._arm_throttle(loop)

    def status(self) -> dict[str, Any]:
        """Counters for the health endpoint and supervisors.

        ``queued`` counts every message not yet acknowledged by the broker (pending plus
        ``inflight``); ``dropped`` the ones the full outbox shed; ``published`` the ones
        the broker acknowledged (QoS 1/2) or took (QoS 0).
        """
        return {
            "connected": self._connected,
            "queued": len(self._outbox),
            "inflight": self._outbox.inflight,
            "dropped": self._outbox.dropped,
            "published": self._outbox.published,
            "rejected": self._rejected,
            "connects": self._connects,
            "outbox_size": self._outbox.size,
            "last_error": self._last_error,
            "url": self.url,
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the background connect-and-send task; returns without waiting for it."""
        if self._task is not None:
            return
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._quit = asyncio.Event()
        if self._outbox.pending:
            self._wakeup.set()
        else:
            self._drained.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ipcc-bus")

    async def stop(self, flush_timeout: float = 2.0) -> None:
        """Stop, first giving queued messages up to ``flush_timeout`` s to reach the broker.

        The flush is skipped when no connection is up: nothing would drain. What is
        still queued afterwards is lost (the outbox lives in memory) and logged.
        """
        task = self._task
        if task is None:
            return
        assert self._drained is not None and self._quit is not None
        if self._throttle_timer is not None:
            self._throttle_timer.cancel()
            self._throttle_timer = None
        for topic, (body, qos, retain) in self._coalescer.drain():
            self.publish(topic, body, qos, retain)
        if self._connected and len(self._outbox) and flush_timeout > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained.wait(), flush_timeout)
        self._quit.set()
        done, _ = await asyncio.wait({task}, timeout=max(1.0, self.timeout))
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None
        self._connected = False
        if len(self._outbox):
            log.warning("bus stopped with %d message(s) undelivered", len(self._outbox))

    # ------------------------------------------------------------- background

    async def _run(self) -> None:
        """Connect, send, and on any failure requeue and reconnect after a backoff."""
        assert self._quit is not None
        attempt = 0
        while not self._quit.is_set():
            try:
                await self._session()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure means: reconnect later
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.log(logging.WARNING if attempt == 0 else logging.DEBUG,
                        "bus: broker %s unavailable (%s); retrying", self.url,
                        self._last_error)
            finally:
                if self._connected:
                    log.log(logging.INFO if self._quit.is_set() else logging.WARNING,
                            "bus: disconnected from %s", self.url)
                self._connected = False
                self._outbox.requeue()
            if self._quit.is_set():
                break
            delay = self.backoff.delay(attempt, self._rand())
            attempt += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._quit.wait(), delay)

    def _make_client(self) -> aiomqtt.Client:
        addr = self.address
        client = aiomqtt.Client(
            addr.host, addr.port, username=addr.username, password=addr.password,
            identifier=self.client_id, protocol=aiomqtt.ProtocolVersion.V311,
            clean_session=True, keepalive=self.keepalive, timeout=self.timeout,
            max_inflight_messages=self.window, will=self._will,
            tls_context=ssl.create_default_context() if addr.tls else None,
        )
        # aiomqtt warns above 10 pending publishes; a full window is our normal state.
        client.pending_calls_threshold = self.window + 1
        return client

    async def _session(self) -> None:
        """One connection's lifetime. Returns on quit; raises when the connection fails."""
        client = self._make_client()
        async with client:
            self._connected = True
            self._connects += 1
            self._last_error = None
            log.info("bus: connected to %s as %s", self.url, self.client_id)
            sender = asyncio.ensure_future(self._send_loop(client))
            # The message iterator ends with MqttError when the connection drops; it is
            # the public way aiomqtt reports a lost connection.
            watcher = asyncio.ensure_future(self._watch(client))
            assert self._quit is not None
            quit_wait = asyncio.ensure_future(self._quit.wait())
            try:
                await asyncio.wait({sender, watcher, quit_wait},
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (sender, watcher, quit_wait):
                    t.cancel()
                results = await asyncio.gather(sender, watcher, quit_wait,
                                               return_exceptions=True)
            for r in results:
                if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError):
                    raise r
            if not self._quit.is_set():
                raise aiomqtt.MqttError("connection lost")

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        async for _ in client.messages:  # we subscribe to nothing; this only waits
            pass

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        """Hand messages to the client in outbox order, at most ``window`` unacknowledged.

        Each message gets its own task so acknowledgements overlap; tasks are started
        in order and call paho's publish synchronously on their first step, so the wire
        order is the outbox order.
        """
        assert self._wakeup is not None
        window = asyncio.Semaphore(self.window)
        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sends: set[asyncio.Task[None]] = set()

        async def send(env: Envelope) -> None:
            try:
                await client.publish(env.topic, env.payload, qos=env.qos, retain=env.retain)
            except Exception as exc:  # noqa: BLE001 - handed to the send loop
                if not failed.done():
                    failed.set_exception(exc)
                return
            finally:
                window.release()
            self._outbox.ack(env.seq)
            if not len(self._outbox) and self._drained is not None:
                self._drained.set()

        try:
            while True:
                if failed.done():
                    failed.result()  # raises the first send error
                if not self._outbox.pending:
                    self._wakeup.clear()
                    wake: asyncio.Future[Any] = asyncio.ensure_future(self._wakeup.wait())
                    try:
                        await asyncio.wait({wake, failed}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        wake.cancel()
                    continue
                await window.acquire()
                env = self._outbox.take()
                if env is None:
                    window.release()
                    continue
                t = asyncio.ensure_future(send(env))
                sends.add(t)
                t.add_done_callback(sends.discard)
        finally:
            for t in list(sends):
                t.cancel()
            if sends:
                await asyncio.gather(*sends, return_exceptions=True)
            if failed.done() and not failed.cancelled():
                failed.exception()  # mark retrieved
