"""The web chat gateway: the visitors' WebSocket server and the bridge to the ACD.

Visitors connect to a ``websockets`` asyncio server on its own port (about half the memory
per idle connection of the ASGI stack), at ``ws://HOST:PORT/{tenant}``. The same port
serves the widget script (``/widget.js``) so one ``<script>`` tag is enough on a page.
Agents work through the REST API (:mod:`acd.api.routes_chat`), which calls the methods
of :class:`ChatGateway`; what a visitor sends reaches the agent's pages as live events.

A conversation is one ACD contact of channel ``chat`` at a time (a transfer makes a new
contact carrying ``data.chat_conversation``); the engine's decisions reach
:meth:`ChatGateway.on_decision` and move the conversation along.

Visitor protocol (JSON text frames), visitor -> server::

    {"type": "hello", "entry": "sales", "form": {"name", "email", "topic"}}
    {"type": "hello", "resume": TOKEN, "last_seq": N}
    {"type": "message", "client_id": "...", "text": "..."}
    {"type": "attachment", "client_id", "name", "mime", "data": BASE64}
    {"type": "typing", "on": true} | {"type": "read", "seq": N}
    {"type": "leave_message", "text": "...", "name", "email"}      (when offline)
    {"type": "transcript", "email": "..."} | {"type": "end"}

server -> visitor: ``welcome`` (conversation id, resume token, state, messages),
``ack`` (per client_id, once stored), ``message``, ``queue`` (position, ewt_s),
``agent_joined``, ``typing``, ``read``, ``transferring``, ``ended``, ``offline``,
``error`` (``code`` 400/404/409/413/415/429, ``error_id``, ``retry_after``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from websockets.exceptions import ConnectionClosed

from acd import events as ev

from .chatstore import ChatStore
from .conversation import (
    ChatError,
    Conversation,
    Message,
    check_resume,
    estimate_wait,
    resume_token,
)
from .limits import RateLimiter, check_attachment, check_text, origin_allowed

log = logging.getLogger("ipcc.chat")

WIDGET_DIR = Path(__file__).resolve().parents[2] / "agent_ui" / "static" / "widget"
WIDGET_FILES = {"/widget.js": ("widget.js", "application/javascript; charset=utf-8"),
                "/widget.css": ("widget.css", "text/css; charset=utf-8")}
HELLO_TIMEOUT_S = 15.0
# Agents logged in to a queue (even on a break) make it open for chats; with none, the
# visitor is offered to leave a message.
_LOGGED_IN = ("ready", "not_ready", "busy", "offered", "wrap_up")
QUEUE_TICK_S = 5.0
RETIRE_AFTER_S = 900.0  # an ended conversation stays in memory this long

_STATUS = {"bad_message": 400, "bad_attachment": 400, "bad_sender": 400,
           "not_found": 404, "bad_state": 409, "conversation_ended": 409, "offline": 409,
           "message_too_large": 413, "attachment_too_large": 413, "attachment_type": 415,
           "rate_limited": 429, "no_smtp": 503, "smtp_failed": 502, "store_failed": 503}


class ChatGateway:
    """Plug into the server with ``server.add_gateway(ChatGateway())``."""

    name = "chat"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.server: Any = None
        self.settings: Any = None
        self.store: ChatStore | None = None
        self.hub: Any = None              # the web app's UiHub (pages per agent)
        self.started = False
        self.port = 0
        self.error: str | None = None
        self._ws_server: Any = None
        self._key = b""
        self._convs: dict[str, Conversation] = {}
        self._by_contact: dict[str, str] = {}
        self._visitors: dict[str, set[Any]] = {}   # conversation -> open sockets
        self._pending: dict[str, asyncio.Future[None]] = {}  # message id -> store write
        self._ip_limit: RateLimiter | None = None
        self._msg_limit: RateLimiter | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._told: dict[str, tuple[Any, Any]] = {}  # conversation -> last (position, ewt)
        self.counters = {"connections": 0, "messages": 0, "refused_origin": 0,
                         "rate_limited": 0, "transcripts": 0}

    # ---------------------------------------------------------------- lifecycle

    async def start(self, server: Any) -> None:
        from websockets.asyncio.server import serve

        self.server = server
        self.settings = server.settings.server.chat
        s = self.settings
        self._key = _secret(Path(server.data_dir) / "chat.secret")
        self._ip_limit = RateLimiter(s.connections_per_ip_per_min / 60.0, s.connection_burst)
        self._msg_limit = RateLimiter(s.messages_per_s, s.message_burst)
        self.store = ChatStore(server.store.engine, server.store.write_lock)
        await self.store.open()
        for cid in await self.store.list_open():
            conv = await self.store.load(cid)
            if conv is not None:
                self._adopt(conv)
                self._sync_with_engine(conv)
        max_frame = max(s.max_attachment_bytes * 4 // 3 + 4096, s.max_message_chars * 4 + 4096)
        try:
            self._ws_server = await serve(self._handle, s.host, s.port, compression=None,
                                          process_request=self._process_request,
                                          max_size=max_frame, ping_interval=30,
                                          ping_timeout=30, server_header=None)
        except OSError as exc:  # the rest of the server serves on without chat
            self.error = f"cannot listen on {s.host}:{s.port}: {exc.strerror or exc}"
            log.error("chat gateway: %s", self.error)
            return
        self.port = self._ws_server.sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._queue_ticker(), name="ipcc-chat-queue")
        self.started = True
        log.info("chat gateway listening on ws://%s:%d", s.host, self.port)

    async def stop(self) -> None:
        self.started = False
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.store is not None:
            await self.store.close()

    def health(self) -> dict[str, Any]:
        return {"status": "ok" if self.started else "down", "detail": self.error,
                "port": self.port,
                "visitors": sum(len(v) for v in self._visitors.values()),
                "conversations": len(self._convs), **self.counters}

    def url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}"

    def widget_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}/widget.js"

    # -------------------------------------------------------------- handshake

    def _own_origins(self) -> list[str]:
        http = self.server.settings.server.http
        hosts = {http.host, "127.0.0.1", "localhost"} if http.host in (
            "127.0.0.1", "localhost", "0.0.0.0") else {http.host}
        return [f"{scheme}://{h}:{http.port}" for h in hosts for scheme in ("http", "https")]

    def _process_request(self, connection: Any, request: Any) -> Any:
        path = request.path.split("?", 1)[0]
        if path in WIDGET_FILES:
            name, ctype = WIDGET_FILES[path]
            try:
                body = (WIDGET_DIR / name).read_bytes()
            except OSError:
                return connection.respond(HTTPStatus.NOT_FOUND, "no widget\n")
            resp = connection.respond(HTTPStatus.OK, "")
            resp.body = body
            del resp.headers["Content-Type"]
            del resp.headers["Content-Length"]
            resp.headers["Content-Type"] = ctype
            resp.headers["Content-Length"] = str(len(body))
            resp.headers["Access-Control-Allow-Origin"] = "*"
            resp.headers["X-Content-Type-Options"] = "nosniff"
            resp.headers["Cache-Control"] = "max-age=300"
            return resp
        tenant = unquote(path.strip("/"))
        if not tenant or tenant not in self.server.tenants:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown tenant\n")
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, tenant, self.settings.allowed_origins,
                              self._own_origins()):
            self.counters["refused_origin"] += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        assert self._ip_limit is not None
        ip = str((connection.remote_address or ("?",))[0])
        wait = self._ip_limit.take(ip, self.clock())
        if wait > 0:
            self.counters["rate_limited"] += 1
            resp = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many connections\n")
            resp.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
            return resp
        return None

    # -------------------------------------------------------------- visitors

    async def _handle(self, ws: Any) -> None:
        tenant = unquote(ws.request.path.split("?", 1)[0].strip("/"))
        self.counters["connections"] += 1
        conv: Conversation | None = None
        try:
            try:
                first = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S)
                hello = json.loads(first)
                if not isinstance(hello, dict) or hello.get("type") != "hello":
                    raise ChatError("bad_message", "the first frame must be a hello")
                conv = await self._hello(ws, tenant, hello)
            except (ChatError, ValueError) as exc:
                await self._send_error(ws, exc)
                await ws.close(1008, "bad hello")
                return
            except TimeoutError:
                await ws.close(1008, "no hello")
                return
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                    if not isinstance(frame, dict):
                        raise ChatError("bad_message", "frames are JSON objects")
                    await self._visitor_frame(ws, conv, frame)
                except ChatError as exc:
                    await self._send_error(ws, exc, frame_ref=_ref(raw))
                except ValueError:
                    await self._send_error(ws, ChatError("bad_message", "not JSON"))
        except Exception as exc:
            if type(exc).__name__ not in ("ConnectionClosedOK", "ConnectionClosedError",
                                          "ConnectionClosed", "CancelledError"):
                log.exception("chat visitor connection failed")
        finally:
            if conv is not None:
                socks = self._visitors.get(conv.id)
                if socks is not None:
                    socks.discard(ws)
                    if not socks:
                        del self._visitors[conv.id]

    async def _send_error(self, ws: Any, exc: Exception, frame_ref: Any = None) -> None:
        if isinstance(exc, ChatError):
            error_id, message = exc.error_id, exc.message
        else:
            error_id, message = "bad_message", str(exc)
        out: dict[str, Any] = {"type": "error", "code": _STATUS.get(error_id, 400),
                               "error_id": error_id, "message": message}
        retry = getattr(exc, "retry_after", None)
        if retry is not None:
            out["retry_after"] = retry
        if frame_ref:
            out["client_id"] = frame_ref
        await _send_quiet(ws, json.dumps(out))

    async def _hello(self, ws: Any, tenant: str, hello: dict[str, Any]) -> Conversation:
        now = self.clock()
        token = hello.get("resume")
        if token:
            cid = check_resume(self._key, str(token), now, self.settings.resume_ttl_s)
            conv = await self._get(cid) if cid else None
            if conv is None or conv.tenant != tenant:
                raise ChatError("not_found", "unknown or expired conversation")
            since = int(hello.get("last_seq") or 0)
        else:
            conv = await self._new_conversation(tenant, hello, now)
            since = 0
        self._visitors.setdefault(conv.id, set()).add(ws)
        welcome = {"type": "welcome", "conversation": conv.id,
                   "resume": resume_token(self._key, conv.id, now), "state": conv.state,
                   "messages": [m.view() for m in conv.since(since)],
                   "read": dict(conv.read_up_to), "agent": self._agent_name(conv),
                   "max_message_chars": self.settings.max_message_chars,
                   "max_attachment_bytes": self.settings.max_attachment_bytes,
                   "attachment_types": list(self.settings.attachment_types),
                   "transcripts": self.settings.smtp is not None}
        fig = self._queue_figures(conv)
        self._told[conv.id] = (fig["position"], fig["ewt_s"])
        welcome |= fig
        await ws.send(json.dumps(welcome))
        return conv

    def _route(self, tenant: str, hello: dict[str, Any]) -> tuple[str, dict[str, int] | None,
                                                                  str | None]:
        form = hello.get("form") if isinstance(hello.get("form"), dict) else {}
        topic = str(form.get("topic") or "") or None
        for t in self.settings.topics.get(tenant, []):
            if topic and t.id == topic:
                return t.queue, (dict(t.skills) if t.skills else None), t.id
        entry = str(hello.get("entry") or "")
        queues = self.server.queues_of_tenant(tenant)
        if entry in queues:
            return entry, None, topic
        if entry or not queues:
            raise ChatError("not_found", f"unknown entry point {entry!r}")
        return queues[0], None, topic

    async def _new_conversation(self, tenant: str, hello: dict[str, Any],
                                now: float) -> Conversation:
        queue, skills, topic = self._route(tenant, hello)
        form = hello.get("form") if isinstance(hello.get("form"), dict) else {}
        visitor = {k: str(form[k])[:200] for k in ("name", "email") if form.get(k)}
        if topic:
            visitor["topic"] = topic
        conv = Conversation(id=f"chat-{uuid.uuid4().hex[:20]}", tenant=tenant, queue=queue,
                            created_at=now, visitor=visitor)
        if not self._staffed(queue):
            conv.transition("no_agents", now)
            await self.store_conv(conv)
            self._adopt(conv)
            return conv
        conv.transition("queued", now)
        await self.store_conv(conv)  # durable before the ACD or the visitor hears of it
        self._adopt(conv)
        await self._enqueue(conv, skills)
        return conv

    async def _enqueue(self, conv: Conversation, skills: dict[str, int] | None) -> None:
        customer = {k: conv.visitor[k] for k in ("name", "email") if k in conv.visitor}
        cid = f"c-{uuid.uuid4().hex[:20]}"
        conv.contact_id = cid
        self._by_contact[cid] = conv.id
        await self.server.create_contact(
            conv.tenant, channel="chat", queue=conv.queue, customer=customer, skills=skills,
            data={"chat_conversation": conv.id, "topic": conv.visitor.get("topic")},
            contact_id=cid)
        await self.store_conv(conv)

    async def store_conv(self, conv: Conversation) -> None:
        assert self.store is not None
        await self.store.save_conversation(conv)

    def _adopt(self, conv: Conversation) -> None:
        self._convs[conv.id] = conv
        if conv.contact_id:
            self._by_contact[conv.contact_id] = conv.id

    async def _get(self, conv_id: str) -> Conversation | None:
        conv = self._convs.get(conv_id)
        if conv is None and self.store is not None:
            conv = await self.store.load(conv_id)
            if conv is not None:
                self._convs.setdefault(conv.id, conv)
                conv = self._convs[conv.id]
        return conv

    def find(self, tenant: str, ref: str) -> Conversation | None:
        """A conversation of ``tenant`` by its id or the id of one of its contacts."""
        conv = self._convs.get(ref) or self._convs.get(self._by_contact.get(ref, ""))
        return conv if conv is not None and conv.tenant == tenant else None

    async def load(self, tenant: str, ref: str) -> Conversation | None:
        conv = self.find(tenant, ref) or await self._get(ref)
        return conv if conv is not None and conv.tenant == tenant else None

    def conversations(self, tenant: str, agent_id: str | None = None) -> list[Conversation]:
        return [c for c in self._convs.values() if c.tenant == tenant and c.open
                and (agent_id is None or c.agent_id == agent_id)]

    async def _visitor_frame(self, ws: Any, conv: Conversation, f: dict[str, Any]) -> None:
        kind = f.get("type")
        now = self.clock()
        if kind != "ping":  # every frame costs a token: typing floods are refused too
            assert self._msg_limit is not None
            wait = self._msg_limit.take(conv.id, now)
            if wait > 0:
                self.counters["rate_limited"] += 1
                err = ChatError("rate_limited", "too many messages; slow down")
                err.retry_after = round(wait, 3)  # type: ignore[attr-defined]
                raise err
        if kind == "message":
            if conv.state == "offline":
                raise ChatError("offline", "no agent is available; leave a message")
            text = check_text(f.get("text"), self.settings.max_message_chars)
            m, _ = await self.post(conv, "visitor", text, client_id=_cid(f.get("client_id")),
                                   from_ws=ws)
            await ws.send(json.dumps({"type": "ack", "client_id": m.client_id,
                                      "message": m.view()}))
        elif kind == "attachment":
            if conv.state == "offline":
                raise ChatError("offline", "no agent is available; leave a message")
            att, data = check_attachment(f.get("name"), f.get("mime"), f.get("data"),
                                         max_bytes=self.settings.max_attachment_bytes,
                                         types=self.settings.attachment_types)
            m, _ = await self.post(conv, "visitor", "", client_id=_cid(f.get("client_id")),
                                   attachment=(att, data), from_ws=ws)
            await ws.send(json.dumps({"type": "ack", "client_id": m.client_id,
                                      "message": m.view()}))
        elif kind == "typing":
            self._to_agent(conv, "chat.typing", {"who": "visitor", "on": bool(f.get("on"))})
        elif kind == "read":
            if conv.mark_read("visitor", int(f.get("seq") or 0)):
                self._to_agent(conv, "chat.read", {"by": "visitor",
                                                   "seq": conv.read_up_to["visitor"]})
        elif kind == "leave_message":
            await self.leave_message(conv, f)
            await ws.send(json.dumps({"type": "ended", "reason": "message_left",
                                      "state": conv.state}))
        elif kind == "transcript":
            address = str(f.get("email") or conv.visitor.get("email") or "")
            await self.email_transcript(conv, address)
            await ws.send(json.dumps({"type": "transcript_sent", "email": address}))
        elif kind == "end":
            await self.end(conv, by="visitor")
        elif kind == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        else:
            raise ChatError("bad_message", f"unknown frame type {kind!r}")

    # ------------------------------------------------------------ operations

    async def post(self, conv: Conversation, sender: str, text: str, *,
                   client_id: str | None = None, agent_id: str | None = None,
                   attachment: tuple[Any, bytes] | None = None,
                   from_ws: Any = None) -> tuple[Message, bool]:
        """Store a message, then deliver it to the other side (and the visitor's other
        tabs, not ``from_ws``, which gets an ack); a repeated ``client_id`` returns the
        first copy (once it is stored) and delivers nothing."""
        assert self.store is not None
        att, data = attachment if attachment is not None else (None, None)
        m, new = conv.add_message(msg_id=f"m-{uuid.uuid4().hex[:20]}", sender=sender,
                                  text=text, now=self.clock(), client_id=client_id,
                                  agent_id=agent_id, attachment=att)
        if not new:
            pending = self._pending.get(m.id)
            if pending is not None:
                await asyncio.shield(pending)
            return m, False
        fut = self.store.save_message(conv.tenant, m, data)
        self._pending[m.id] = fut
        try:
            await asyncio.shield(fut)
        except Exception:  # noqa: BLE001 - any database error: the sender retries
            conv.discard(m.id)
            raise ChatError("store_failed", "the message could not be stored; send again") \
                from None
        finally:
            self._pending.pop(m.id, None)
        self.counters["messages"] += 1
        self._deliver(conv, m, from_ws)
        return m, True

    def _deliver(self, conv: Conversation, m: Message, from_ws: Any = None) -> None:
        frame = json.dumps({"type": "message", "message": m.view()})
        for ws in list(self._visitors.get(conv.id, ())):
            if ws is not from_ws:
                self._spawn(_send_quiet(ws, frame))
        self._to_agent(conv, "chat.message", m.view())

    def typing(self, conv: Conversation, on: bool) -> None:
        self._to_visitor(conv, {"type": "typing", "who": "agent", "on": bool(on)})

    def read(self, conv: Conversation, seq: int) -> None:
        if conv.mark_read("agent", seq):
            self._to_visitor(conv, {"type": "read", "by": "agent",
                                    "seq": conv.read_up_to["agent"]})

    async def end(self, conv: Conversation, by: str) -> None:
        """End the conversation (visitor left or agent closed it); the ACD hears of it."""
        if not conv.open:
            return
        now = self.clock()
        cid, agent = conv.contact_id, conv.agent_id
        conv.transition("ended", now)
        self._retire_later(conv)
        await self.store_conv(conv)
        self._to_visitor(conv, {"type": "ended", "reason": f"ended_by_{by}"})
        self._to_agent(conv, "chat.ended", {"by": by})
        if cid is None:
            return
        try:
            view = self.server.engine.contact_view(cid)
        except ev.EngineError:
            return
        try:
            if view["state"] == "connected" and agent:
                self.server.handle(ev.ContactCompleted(cid, agent))
            elif view["state"] in ("queued", "offered"):
                self.server.handle(ev.ContactAbandoned(cid))
        except ev.EngineError as exc:
            log.debug("chat %s end: %s", conv.id, exc.message)

    async def leave_message(self, conv: Conversation, f: dict[str, Any]) -> str:
        """Offline: the visitor's message becomes a contact (channel ``message``)."""
        if conv.state != "offline":
            raise ChatError("bad_state", "leave a message only when no agent is available")
        text = check_text(f.get("text"), self.settings.max_message_chars)
        for k in ("name", "email"):
            if f.get(k):
                conv.visitor[k] = str(f[k])[:200]
        await self.post(conv, "visitor", text, client_id=_cid(f.get("client_id")))
        customer = {k: conv.visitor[k] for k in ("name", "email") if k in conv.visitor}
        cid = await self.server.create_contact(
            conv.tenant, channel="message", queue=conv.queue, customer=customer,
            data={"chat_conversation": conv.id, "message": text,
                  "topic": conv.visitor.get("topic")})
        conv.contact_id = cid
        conv.transition("left_message", self.clock())
        self._retire_later(conv)
        await self.store_conv(conv)
        return cid

    async def email_transcript(self, conv: Conversation, address: str) -> None:
        smtp = self.settings.smtp
        if smtp is None:
            raise ChatError("no_smtp", "transcripts by e-mail are not configured")
        if not _plausible_email(address):
            raise ChatError("bad_message", "a valid e-mail address is needed")
        import aiosmtplib

        msg = EmailMessage()
        msg["From"] = smtp.sender
        msg["To"] = address
        msg["Subject"] = "Your chat transcript"
        msg.set_content(conv.transcript())
        try:
            await aiosmtplib.send(msg, hostname=smtp.host, port=smtp.port,
                                  username=smtp.username, password=smtp.password,
                                  start_tls=smtp.starttls, timeout=smtp.timeout_s)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("transcript of %s not sent: %s", conv.id, exc)
            raise ChatError("smtp_failed", "the transcript could not be sent") from None
        self.counters["transcripts"] += 1

    # ---------------------------------------------------------- ACD decisions

    def on_decision(self, d: Any) -> None:
        if not self.started or not isinstance(d, ev.ContactUpdated):
            return
        conv_id = self._by_contact.get(d.contact_id)
        if conv_id is None:
            if d.state != "queued":
                return
            try:  # a transfer made a new contact for a conversation
                data = self.server.engine.contact_view(d.contact_id).get("data") or {}
            except ev.EngineError:
                return
            conv_id = data.get("chat_conversation")
            if not conv_id or conv_id not in self._convs:
                return
            view = self.server.engine.contact_view(d.contact_id)
            if view.get("channel") != "chat":
                return
            conv = self._convs[conv_id]
            conv.contact_id = d.contact_id
            self._by_contact[d.contact_id] = conv_id
            if conv.state == "active":
                conv.transition("transferred", d.at)
                conv.agent_id = None
                self._to_visitor(conv, {"type": "transferring"})
            self._spawn(self.store_conv(conv))
            return
        conv = self._convs.get(conv_id)
        if conv is None or conv.contact_id != d.contact_id or not conv.open:
            return
        if d.state == "connected" and d.agent_id:
            conv.agent_id = d.agent_id
            conv.transition("connected", d.at)
            self._spawn(self.store_conv(conv))
            self._to_visitor(conv, {"type": "agent_joined", "agent": self._agent_name(conv)})
            self._to_agent(conv, "chat.started", conv.view())
        elif d.state == "wrap_up" and conv.state == "active":
            conv.transition("ended", d.at)
            self._retire_later(conv)
            self._spawn(self.store_conv(conv))
            self._to_visitor(conv, {"type": "ended", "reason": "ended_by_agent"})
        elif d.state == "ended" and conv.state == "waiting":
            # timed out or overflowed without an agent: the visitor may leave a message
            conv.transition("no_agents", d.at)
            self._spawn(self.store_conv(conv))
            self._to_visitor(conv, {"type": "offline", "reason": d.outcome.value
                                    if d.outcome else "no_agents"})

    def _sync_with_engine(self, conv: Conversation) -> None:
        """After a restart: take the contact's state from the (restored) engine."""
        if not conv.contact_id:
            return
        try:
            view = self.server.engine.contact_view(conv.contact_id)
        except ev.EngineError:
            return
        if view["state"] == "connected" and conv.state == "waiting":
            conv.agent_id = view["agent_id"]
            conv.transition("connected", self.clock())
        elif view["state"] in ("queued", "offered") and conv.state == "active":
            # the restart put the chat back in its queue: the next agent picks it up
            conv.agent_id = None
            conv.transition("transferred", self.clock())

    # ---------------------------------------------------------------- pushes

    def _agent_name(self, conv: Conversation) -> str | None:
        if not conv.agent_id:
            return None
        try:
            return self.server.engine.agent_view(conv.agent_id).get("name") or conv.agent_id
        except ev.EngineError:
            return conv.agent_id

    def _to_visitor(self, conv: Conversation, frame: dict[str, Any]) -> None:
        text = json.dumps(frame)
        for ws in list(self._visitors.get(conv.id, ())):
            self._spawn(_send_quiet(ws, text))

    def _to_agent(self, conv: Conversation, kind: str, data: dict[str, Any]) -> None:
        """A live event for the agent's pages (only that agent's, when the web app told
        us who has which page open); never to another tenant."""
        message = {"event": kind, "id": conv.id, "tenant": conv.tenant, "at": self.clock(),
                   "data": data | {"conversation": conv.id, "contact_id": conv.contact_id,
                                   "agent_id": conv.agent_id}}
        if self.hub is not None:
            if conv.agent_id:
                self.hub.to_agent(conv.tenant, conv.agent_id, message)
            return
        self.server.push(conv.tenant, message)

    # ------------------------------------------------------------ queue info

    def _staffed(self, queue: str) -> bool:
        try:
            agents = self.server.engine.queue_stats(queue, self.clock())["agents"]
        except ev.EngineError:
            return False
        return sum(agents.get(k, 0) for k in _LOGGED_IN) > 0

    def _queue_figures(self, conv: Conversation,
                       cache: dict[str, tuple[dict[str, int], int, Any]] | None = None
                       ) -> dict[str, Any]:
        """Position and estimated wait of a waiting visitor. ``cache`` (queue -> positions,
        staffed, asa) lets one tick serve every visitor of a queue in one pass."""
        if conv.state != "waiting" or not conv.contact_id:
            return {"position": None, "ewt_s": None}
        entry = cache.get(conv.queue) if cache is not None else None
        if entry is None:
            try:
                waiting = self.server.engine.waiting(conv.queue)
                stats = self.server.engine.queue_stats(conv.queue, self.clock())
            except ev.EngineError:
                return {"position": None, "ewt_s": None}
            staffed = sum(stats["agents"].get(k, 0) for k in _LOGGED_IN)
            entry = ({cid: i + 1 for i, cid in enumerate(waiting)}, staffed, stats.get("asa_s"))
            if cache is not None:
                cache[conv.queue] = entry
        positions, staffed, asa = entry
        pos = positions.get(conv.contact_id, 0)
        return {"position": pos, "ewt_s": estimate_wait(pos, staffed, asa)}

    async def _queue_ticker(self) -> None:
        """Tell waiting visitors their position now and then (only when it changed)."""
        told = self._told
        while True:
            await asyncio.sleep(QUEUE_TICK_S)
            cache: dict[str, tuple[dict[str, int], int, Any]] = {}
            for conv_id in list(self._visitors):
                conv = self._convs.get(conv_id)
                if conv is None or conv.state != "waiting":
                    told.pop(conv_id, None)
                    continue
                fig = self._queue_figures(conv, cache)
                key = (fig["position"], fig["ewt_s"])
                if told.get(conv_id) != key:
                    told[conv_id] = key
                    self._to_visitor(conv, {"type": "queue", **fig})
            for conv_id in [c for c in told if c not in self._visitors]:
                del told[conv_id]

    def _retire_later(self, conv: Conversation) -> None:
        """Forget an ended conversation after a while (the agent's wrap-up still shows
        it); the database keeps it, and a resume or REST read loads it again."""
        def retire() -> None:
            if self._convs.get(conv.id) is conv and not conv.open \
                    and conv.id not in self._visitors:
                del self._convs[conv.id]
                self._told.pop(conv.id, None)
                for cid in [c for c, v in self._by_contact.items() if v == conv.id]:
                    del self._by_contact[cid]

        with contextlib.suppress(RuntimeError):  # no running loop: nothing to retire
            asyncio.get_running_loop().call_later(RETIRE_AFTER_S, retire)

    def _spawn(self, coro: Any) -> None:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)


async def _send_quiet(ws: Any, text: str) -> None:
    """Send, ignoring a connection that is gone (the visitor resumes and gets it then)."""
    with contextlib.suppress(ConnectionClosed, OSError):
        await ws.send(text)


def _cid(v: Any) -> str | None:
    if v is None or v == "":
        return None
    s = str(v)
    if len(s) > 100:
        raise ChatError("bad_message", "client_id holds at most 100 characters")
    return s


def _ref(raw: Any) -> str | None:
    try:
        f = json.loads(raw)
        return str(f.get("client_id")) if isinstance(f, dict) and f.get("client_id") else None
    except (ValueError, TypeError):
        return None


def _plausible_email(a: str) -> bool:
    if not a or len(a) > 254 or any(c in a for c in " \r\n<>,;\"'"):
        return False
    local, _, domain = a.rpartition("@")
    return bool(local) and "." in domain


def _secret(path: Path) -> bytes:
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key.hex())
    path.chmod(0o600)
    return key
