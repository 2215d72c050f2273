"""The embedded MQTT broker: amqtt inside the control process, on a port it picks itself.

Why: ``ipcc serve`` on a bare machine must publish its events somewhere without asking
the user to install a broker first. amqtt is pure Python and runs on our own event loop.
It speaks MQTT 3.1.1 only and moves a few thousand messages per second through one
client, which is plenty for domain events and is why a busy site points the bus at
mosquitto or EMQX instead (``bus.url`` in the configuration).

Port choice: we never assume a well-known port is free (1883 is often taken by a system
mosquitto). We open the listening socket ourselves - port 0 lets the kernel pick a free
one - and hand each accepted connection to amqtt through its *external listener* API
(``Broker.external_connected``). That way the bound port is known for certain, without
a probe-then-bind race and without reaching into amqtt's private listener table.

Every client is admitted anonymously and the listener is on loopback by default; bind
it elsewhere only on a trusted network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Self

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker

log = logging.getLogger(__name__)

__all__ = ["EmbeddedBroker"]

_LISTENER = "default"  # amqtt requires a listener of this name


class EmbeddedBroker:
    """An amqtt broker listening on ``host:port`` (``port=0``: a free port).

    Usage::

        broker = EmbeddedBroker()
        await broker.start()
        bus = Bus(broker.url)
        ...
        await broker.stop()

    Retained messages and sessions live in memory and are gone after :meth:`stop`.
    A stopped broker can be started again; it binds the same port it had, if that port
    was given or was picked by an earlier start (so clients can reconnect).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._broker: Broker | None = None
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        """``mqtt://host:port`` of the listener; valid once started."""
        if not self.port:
            raise RuntimeError("the embedded broker has no port until it is started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Bind the listener and start the broker. Raises OSError if the port is taken."""
        if self._server is not None:
            return
        config = {
            # An external listener: amqtt opens no socket, we feed it connections.
            # ("bind" must be present for amqtt to register it; it is not used.)
            "listeners": {_LISTENER: {"type": "external", "bind": f"{self.host}:0"}},
            # Only anonymous authentication: no packet logging or $SYS ticker, which cost
            # throughput and log noise in a process that has other work to do.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                        {"allow_anonymous": True}},
        }
        broker = Broker(config)
        await broker.start()
        try:
            server = await asyncio.start_server(self._accept, self.host, self.port,
                                                reuse_address=True)
        except BaseException:
            await broker.shutdown()
            raise
        self._broker = broker
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        log.info("embedded MQTT broker listening on %s", self.url)

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        broker = self._broker
        task = asyncio.current_task()
        if broker is None or task is None:
            writer.close()
            return
        self._conns.add(task)
        try:
            await broker.external_connected(StreamReaderAdapter(reader),
                                            StreamWriterAdapter(writer), _LISTENER)
        except Exception:  # one bad client must not take the listener down
            log.exception("embedded broker: client connection failed")
        finally:
            self._conns.discard(task)
            if not writer.is_closing():
                writer.close()

    async def stop(self) -> None:
        """Close the listener, drop every client, and stop the broker."""
        server, broker = self._server, self._broker
        self._server = None
        self._broker = None
        if server is None or broker is None:
            return
        server.close()
        try:
            await broker.shutdown()
        except Exception:
            log.exception("embedded broker: shutdown failed")
        # Connections amqtt did not close itself (e.g. still in CONNECT) are ended here.
        for task in list(self._conns):
            task.cancel()
        if self._conns:
            await asyncio.wait(set(self._conns), timeout=2.0)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2.0)
        log.info("embedded MQTT broker on port %d stopped", self.port)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def _serve(host: str, port: int) -> None:
    """Run a broker until SIGINT/SIGTERM; prints its URL on stdout once listening."""
    import signal

    broker = EmbeddedBroker(host, port)
    await broker.start()
    print(broker.url, flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        await broker.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m acd.broker [--host H] [--port P]``: a standalone embedded broker.

    Handy for trying the bus from another process, and what the tests SIGKILL to
    check the bus against a broker crash.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m acd.broker",
                                     description="ipcc's embedded MQTT 3.1.1 broker (amqtt)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
