"""The control process: one translate loop around the sans-I/O engine.

    API / gateway event -> Server.handle(event) -> engine.handle(event, now)
        -> decisions applied here: timers (loop.call_later), store writes (ordered writer
           task), journal rows (batched by the store), bus messages (non-blocking outbox),
           live updates to WebSocket listeners.

Nothing on this path awaits the broker. A contact accepted through the API is committed
(``Store.save_contact``) *before* it reaches the engine and before the API answers; its
later state changes go through one ordered writer task so the database never sees them
out of order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

from config.convert import agent_config, queue_config, stored_agent
from config.schema import AgentDef, QueueDef, Settings, TenantDef

from . import events as ev
from . import notify
from .auth import Tokens, hash_password
from .engine import Engine
from .model import Channel, Contact, ContactState, Customer, Outcome, Presence
from .store.records import contact_from_record, contact_record

log = logging.getLogger("ipcc.server")

VOICE_CHANNELS = {Channel.VOICE.value, Channel.WEBRTC.value}


def jsonable(obj: Any) -> Any:
    """Dataclasses/enums/mappings to plain JSON types."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    return obj


@dataclass
class TenantInfo:
    id: str
    name: str
    operator: bool = False
    language: str = "en"
    sites: list[str] = field(default_factory=list)
    not_ready_reasons: list[str] = field(default_factory=list)
    dnis: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, tid: str, name: str, s: dict[str, Any]) -> "TenantInfo":
        return cls(id=tid, name=name, operator=bool(s.get("operator")),
                   language=s.get("language", "en"), sites=list(s.get("sites", [])),
                   not_ready_reasons=list(s.get("not_ready_reasons", [])),
                   dnis=dict(s.get("dnis", {})))

    def settings(self) -> dict[str, Any]:
        return {"operator": self.operator, "language": self.language, "sites": self.sites,
                "not_ready_reasons": self.not_ready_reasons, "dnis": self.dnis}


class Server:
    """Owns the engine, the store, the bus and the timers of one control process."""

    def __init__(self, settings: Settings, data_dir: str | Path, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.engine = Engine()
        self.store: Any = None
        self.bus: Any = None
        self.broker: Any = None
        self.tokens: Tokens | None = None
        self.tenants: dict[str, TenantInfo] = {}
        self.queue_meta: dict[tuple[str, str], dict[str, Any]] = {}  # dispositions etc.
        self.started_at = 0.0
        self._timers: dict[tuple[Hashable, ...], asyncio.TimerHandle] = {}
        self._writes: asyncio.Queue[tuple[str, tuple[Any, ...], dict[str, Any]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listeners: set[tuple[str, asyncio.Queue[dict[str, Any]]]] = set()
        self._dirty_queues: set[tuple[str, str]] = set()
        # live contacts: id -> (tenant, channel, correlation id)
        self._contact_info: dict[str, tuple[str, str, str]] = {}
        self._stats_period_start = 0.0
        self.node = f"ipcc-{uuid.uuid4().hex[:8]}"
        self.write_errors = 0
        self.gateways: list[Any] = []

    # ------------------------------------------------------------------ gateways

    def add_gateway(self, gateway: Any) -> None:
        """Plug in a channel gateway (voice, chat...).

        A gateway may define ``async start(server)``, ``async stop()``, ``health() -> dict``
        and ``on_decision(decision)``: called synchronously for every engine decision after
        the server applied it; it must not block (it may create tasks). Gateways added
        before ``start()`` are started after the store, bus and restore are up."""
        self.gateways.append(gateway)

    # ------------------------------------------------------------------ lifecycle

    @property
    def store_url(self) -> str:
        return self.settings.server.store.url or f"sqlite+aiosqlite:///{self.data_dir / 'ipcc.db'}"

    async def start(self) -> None:
        from .store import Store

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.started_at = self._stats_period_start = self.clock()
        auth = self.settings.server.auth
        self.tokens = Tokens.for_data_dir(self.data_dir, auth.secret, auth.token_ttl_s)
        self.store = await Store.open(self.store_url)
        await self._start_bus()
        self._writes = asyncio.Queue()
        self._tasks.append(asyncio.create_task(self._writer(), name="ipcc-store-writer"))
        self._tasks.append(asyncio.create_task(self._stats_ticker(), name="ipcc-stats"))
        await self._seed(self.settings.tenants)
        await self._load_configuration()
        await self._restore()
        for g in self.gateways:
            if hasattr(g, "start"):
                await g.start(self)
        self._publish_health()
        log.info("control process started: store=%s bus=%s", self.store_url,
                 self.bus.status()["url"] if self.bus else "none")

    async def _start_bus(self) -> None:
        bs = self.settings.server.bus
        if bs.url == "none":
            return
        from .bus import Bus

        url = bs.url
        if url == "embedded":
            from .broker import EmbeddedBroker

            self.broker = EmbeddedBroker()
            await self.broker.start()
            url = self.broker.url
        will = ("system/health", {"event": "system.health", "node": self.node, "status": "down",
                                  "components": {}, "version": notify.VERSION,
                                  "started_at": self.started_at})
        self.bus = Bus(url, client_id=self.node, outbox_size=bs.outbox_size,
                       topic_prefix=bs.topic_prefix, will=will)
        await self.bus.start()

    async def stop(self) -> None:
        for g in reversed(self.gateways):
            if hasattr(g, "stop"):
                try:
                    await g.stop()
                except Exception:
                    log.exception("gateway %r did not stop cleanly", g)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._writes is not None:
            await self._writes.join()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.store is not None:
            await self.store.flush()
            await self.store.close()
            self.store = None
        if self.bus is not None:
            await self.bus.stop()
            self.bus = None
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None

    async def drain_writes(self) -> None:
        """Wait until every queued store write and journal row is committed."""
        if self._writes is not None:
            await self._writes.join()
        await self.store.flush()

    # ------------------------------------------------------------- configuration

    async def _seed(self, tenants: list[TenantDef]) -> None:
        """Create tenants from the config file that the store does not have yet."""
        known = {t["id"] for t in await self.store.list_tenants()}
        for t in tenants:
            if t.id in known:
                continue
            log.info("seeding tenant %s from the configuration", t.id)
            settings = {"operator": t.operator, "language": t.language, "sites": t.sites,
                        "not_ready_reasons": t.not_ready_reasons,
                        "dnis": {k: v.model_dump(mode="json") for k, v in t.dnis.items()}}
            await self.store.upsert_tenant(t.id, t.name or t.id, settings)
            for s in t.skills:
                await self.store.upsert_skill(t.id, s.id, s.name or s.id)
            for q in t.queues:
                await self.store.upsert_queue(t.id, q.id, q.model_dump(mode="json"))
            for a in t.agents:
                await self.store.upsert_agent(t.id, a.id, stored_agent(a))
                if a.password:
                    await self.store.upsert_user(t.id, a.id, hash_password(a.password), "agent",
                                                 a.id)
            for u in t.users:
                await self.store.upsert_user(t.id, u.username, hash_password(u.password), u.role,
                                             u.agent_id)

    async def _load_configuration(self) -> None:
        for t in await self.store.list_tenants():
            self.tenants[t["id"]] = TenantInfo.from_settings(t["id"], t["name"],
                                                             t.get("settings") or {})
            for q in await self.store.list_queues(t["id"]):
                self.apply_queue(t["id"], QueueDef.model_validate(q["config"]))
            for a in await self.store.list_agents(t["id"]):
                self.apply_agent(t["id"], AgentDef.model_validate(a["config"]))

    def apply_queue(self, tenant: str, q: QueueDef) -> None:
        self.queue_meta[(tenant, q.id)] = {"dispositions": list(q.dispositions)}
        self._apply(self.engine.configure_queue(queue_config(tenant, q)))
        self._dirty_queues.add((tenant, q.id))

    def apply_agent(self, tenant: str, a: AgentDef) -> None:
        self._apply(self.engine.configure_agent(agent_config(tenant, a)))

    def remove_queue(self, tenant: str, queue_id: str) -> None:
        self.queue_meta.pop((tenant, queue_id), None)
        self._apply(self.engine.remove_queue(queue_id))

    def remove_agent(self, agent_id: str) -> None:
        self._apply(self.engine.remove_agent(agent_id))

    async def _restore(self) -> None:
        """Put back what a crash interrupted: waiting contacts first (in their original
        order), then agent sessions, so routing after a restart follows the same order."""
        now = self.clock()
        restored = lost = 0
        for row in await self.store.open_contacts():
            if row["tenant"] not in self.tenants:
                continue
            if row["state"] in (ContactState.CONNECTED.value, ContactState.WRAP_UP.value) \
                    and row["channel"] in VOICE_CHANNELS:
                # The media of a live call does not survive the control process.
                await self.store.update_contact(row["id"], state=ContactState.ENDED.value,
                                                outcome=Outcome.LOST_ON_CRASH.value,
                                                ended_at=now)
                lost += 1
                continue
            contact = contact_from_record(row)
            self._remember(contact)
            try:
                queued_at = float(row.get("queued_at") or row["arrival"])
                self.handle(ev.ContactArrived(contact, queued_at=queued_at), now=now)
                restored += 1
            except ev.EngineError as exc:
                log.warning("contact %s not restored: %s", row["id"], exc.message)
        for s in await self.store.list_sessions():
            try:
                self.handle(ev.AgentLoggedIn(s["agent_id"], s.get("device") or "",
                                             s.get("site"), s.get("seat")), now=now)
                if s.get("presence") == Presence.READY.value:
                    self.handle(ev.AgentWentReady(s["agent_id"]), now=now)
                elif s.get("presence") == Presence.NOT_READY.value:
                    self.handle(ev.AgentWentNotReady(s["agent_id"], s.get("reason")), now=now)
            except ev.EngineError as exc:
                log.warning("session of %s not restored: %s", s["agent_id"], exc.message)
                await self.store.delete_session(s["tenant"], s["agent_id"])
        if restored or lost:
            log.info("restored %d waiting contacts; %d live calls lost on crash", restored, lost)

    # ------------------------------------------------------------ translate loop

    def handle(self, event: ev.Event, now: float | None = None) -> list[ev.Decision]:
        """Feed one event to the engine and apply what it decides."""
        decisions = self.engine.handle(event, self.clock() if now is None else now)
        self._apply(decisions)
        return decisions

    def _apply(self, decisions: list[ev.Decision]) -> None:
        for d in decisions:
            if isinstance(d, ev.StartTimer):
                self._start_timer(d.key, d.at)
            elif isinstance(d, ev.CancelTimer):
                handle = self._timers.pop(d.key, None)
                if handle is not None:
                    handle.cancel()
            elif isinstance(d, ev.ContactUpdated):
                self._on_contact_updated(d)
            elif isinstance(d, ev.AgentUpdated):
                self._on_agent_updated(d)
            elif isinstance(d, ev.Offer):
                self._on_offer(d)
            elif isinstance(d, ev.RetractOffer):
                tenant, _, corr = self._info(d.contact_id)
                now = self.clock()
                self._emit(tenant, "offer.retracted", d.contact_id, jsonable(d),
                           topic=f"{tenant}/contacts/{d.contact_id}/offer",
                           mqtt=notify.offer_retracted(d, tenant, now, corr))
            elif isinstance(d, ev.OverflowContact):
                self._write("overflow", d)
            for g in self.gateways:
                hook = getattr(g, "on_decision", None)
                if hook is not None:
                    try:
                        hook(d)
                    except Exception:  # one gateway's bug must not stop routing
                        log.exception("gateway %r failed on %r", g, d)

    def _start_timer(self, key: tuple[Hashable, ...], at: float) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, at - self.clock())
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: tuple[Hashable, ...]) -> None:
        self._timers.pop(key, None)
        try:
            self.handle(ev.TimerFired(key))
        except ev.EngineError as exc:  # a timer for something already gone
            log.debug("timer %s: %s", key, exc.message)

    def _on_contact_updated(self, d: ev.ContactUpdated) -> None:
        payload = jsonable(d)
        fields: dict[str, Any] = {"state": d.state, "agent_id": d.agent_id, "queue": d.queue}
        if d.reason == "overflow":
            fields["queued_at"] = d.at  # wait rules of the new queue count from here
        if d.outcome is not None:
            fields["outcome"] = d.outcome.value
        if d.state == ContactState.ENDED.value:
            fields["ended_at"] = d.at
        if d.state == ContactState.CONNECTED.value:
            try:
                fields["explanation"] = jsonable(self.engine.explain(d.contact_id))
            except ev.EngineError:
                pass
        self._write("update_contact", d.contact_id, **fields)
        self._dirty_queues.add((d.tenant, d.queue))
        _, channel, corr = self._info(d.contact_id)
        self._emit(d.tenant, "contact.updated", d.contact_id, payload,
                   topic=f"{d.tenant}/contacts/{d.contact_id}/state",
                   mqtt=notify.contact_state(d, channel or None, corr))
        if d.state == ContactState.ENDED.value:
            self._contact_info.pop(d.contact_id, None)

    def _on_agent_updated(self, d: ev.AgentUpdated) -> None:
        view: dict[str, Any] = {}
        try:
            view = self.engine.agent_view(d.agent_id)
        except ev.EngineError:
            pass
        payload = jsonable(d) | {k: view.get(k) for k in ("device", "site", "seat")}
        if d.presence is Presence.LOGGED_OUT:
            self._write("delete_session", d.tenant, d.agent_id)
        else:
            self._write("save_session", d.tenant, d.agent_id, presence=d.presence.value,
                        reason=d.reason, device=view.get("device"), site=view.get("site"),
                        seat=view.get("seat"), since=d.at)
        for q in self.queues_of_tenant(d.tenant):
            self._dirty_queues.add((d.tenant, q))
        self._emit(d.tenant, "agent.updated", d.agent_id, payload,
                   topic=f"{d.tenant}/agents/{d.agent_id}/state", retain=True,
                   mqtt=notify.agent_state(d, view))

    def _on_offer(self, d: ev.Offer) -> None:
        tenant, _, corr = self._info(d.contact_id)
        payload = jsonable(d)
        view: dict[str, Any] = {}
        try:
            view = self.engine.contact_view(d.contact_id)
        except ev.EngineError:
            pass
        payload["queue"] = view.get("queue")
        payload["customer"] = jsonable(view.get("customer"))
        payload["data"] = jsonable(view.get("data") or {})
        now = self.clock()
        self._emit(tenant, "offer", d.contact_id, payload,
                   topic=f"{tenant}/contacts/{d.contact_id}/offer",
                   mqtt=notify.offer(d, tenant, now, payload["queue"], payload["customer"],
                                     payload["data"], corr))

    def queues_of_tenant(self, tenant: str) -> list[str]:
        return [q for (t, q) in self.queue_meta if t == tenant]

    # ----------------------------------------------------------------- outputs

    def _remember(self, contact: Contact) -> None:
        data = contact.data or {}
        corr = str(data.get("correlation_id") or data.get("callback_of")
                   or data.get("overflow_of") or contact.id)
        self._contact_info[contact.id] = (contact.tenant, contact.channel.value, corr)

    def _info(self, contact_id: str) -> tuple[str, str, str]:
        return self._contact_info.get(contact_id, ("", "", contact_id))

    def _emit(self, tenant: str, kind: str, entity: str, payload: dict[str, Any], *,
              topic: str | None = None, retain: bool = False,
              mqtt: dict[str, Any] | None = None) -> None:
        """Journal the notice, publish its documented MQTT payload, push it to browsers."""
        at = payload.get("at") or self.clock()
        if self.store is not None:
            self.store.append(at, tenant, kind, entity, payload)
        message = {"event": kind, "id": entity, "tenant": tenant, "at": at, "data": payload}
        if self.bus is not None and topic:
            self.bus.publish(topic, mqtt if mqtt is not None else message, retain=retain)
        self.push(tenant, message)

    def push(self, tenant: str, message: dict[str, Any]) -> None:
        """Send a live update to the tenant's WebSocket listeners (never blocks)."""
        for t, q in list(self._listeners):
            if t == tenant:
                try:
                    q.put_nowait(message)
                except asyncio.QueueFull:  # a stuck browser loses updates, not the server
                    pass

    def listen(self, tenant: str, maxsize: int = 1000) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self._listeners.add((tenant, q))
        return q

    def unlisten(self, tenant: str, q: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard((tenant, q))

    def _write(self, op: str, *args: Any, **kwargs: Any) -> None:
        if self._writes is not None:
            self._writes.put_nowait((op, args, kwargs))

    async def _writer(self) -> None:
        """Apply store writes one at a time, in decision order."""
        assert self._writes is not None
        while True:
            op, args, kwargs = await self._writes.get()
            try:
                if op == "overflow":
                    await self._overflow(*args)
                else:
                    await getattr(self.store, op)(*args, **kwargs)
            except Exception:  # keep serving; the error is logged and counted
                self.write_errors += 1
                log.exception("store write %s failed", op)
            finally:
                self._writes.task_done()

    async def _overflow(self, d: ev.OverflowContact) -> None:
        """Carry out an overflow the engine decided: the contact has ended; a callback or a
        message contact takes its place so that nothing the customer asked for is lost."""
        row = await self.store.get_contact(d.contact_id)
        if row is None:
            return
        if d.action == "callback" and row["channel"] != Channel.CALLBACK.value \
                and (row.get("customer") or {}).get("phone"):
            channel = Channel.CALLBACK
        elif d.action in ("callback", "voicemail") and row["channel"] != Channel.MESSAGE.value:
            channel = Channel.MESSAGE
        else:
            return
        data = dict(row.get("data") or {}) | {"overflow_of": d.contact_id,
                                             "overflow_action": d.action}
        await self.create_contact(row["tenant"], channel=channel.value, queue=row["queue"],
                                  priority=row["priority"], customer=row.get("customer") or {},
                                  data=data, arrival=row["arrival"])

    async def _stats_ticker(self) -> None:
        """Queue statistics on the bus: retained, at most once a second per queue."""
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            if ticks % 60 == 0:
                self._publish_health()
            dirty, self._dirty_queues = self._dirty_queues, set()
            now = self.clock()
            for tenant, queue in dirty:
                try:
                    stats = self.engine.queue_stats(queue, now)
                except ev.EngineError:
                    continue
                message = {"event": "queue.stats", "id": queue, "tenant": tenant, "at": now,
                           "data": jsonable(stats)}
                if self.bus is not None:
                    self.bus.publish(f"{tenant}/queues/{queue}/stats",
                                     notify.queue_stats(tenant, now, jsonable(stats),
                                                        self._stats_period_start),
                                     retain=True)
                self.push(tenant, message)

    def _publish_health(self) -> None:
        if self.bus is not None:
            h = self.health()
            components = {"store": {"status": "ok" if self.store is not None else "down",
                                    "detail": None},
                          "bus": {"status": "ok", "detail": None},
                          "engine": {"status": "ok" if not self.write_errors else "degraded",
                                     "detail": f"{self.write_errors} store write errors"
                                     if self.write_errors else None}}
            for name, g in h.items():
                if name not in ("bus", "engine", "uptime_s") and isinstance(g, dict):
                    components[name] = {"status": g.get("status", "ok"),
                                        "detail": g.get("detail")}
            self.bus.publish("system/health",
                             notify.health(self.node, self.clock(), self.started_at, components),
                             retain=True)

    # -------------------------------------------------------------- use cases

    async def create_contact(self, tenant: str, *, channel: str, queue: str, priority: int = 0,
                             customer: dict[str, Any] | None = None,
                             data: dict[str, Any] | None = None,
                             skills: dict[str, int] | None = None, value_tier: str | None = None,
                             site: str | None = None, arrival: float | None = None,
                             preferred_agent: str | None = None,
                             contact_id: str | None = None) -> str:
        """Commit a new contact, then hand it to the engine. Returns its id."""
        now = self.clock()
        cid = contact_id or f"c-{uuid.uuid4().hex[:20]}"
        contact = Contact(
            id=cid, tenant=tenant, channel=Channel(channel), queue=queue,
            arrival=now if arrival is None else arrival, priority=priority,
            skills=skills, value_tier=value_tier, site=site,
            customer=Customer(**(customer or {})), data=dict(data or {}),
            preferred_agent=preferred_agent)
        # durable before anyone is told
        await self.store.save_contact(contact_record(contact, state=ContactState.QUEUED.value))
        self._remember(contact)
        self.handle(ev.ContactArrived(contact), now=now)
        return cid

    def health(self) -> dict[str, Any]:
        gateways = {getattr(g, "name", type(g).__name__): g.health()
                    for g in self.gateways if hasattr(g, "health")}
        return gateways | {"bus": self.bus.status() if self.bus else {"url": "none"},
                "engine": {"tenants": len(self.tenants),
                           "timers": len(self._timers),
                           "pending_writes": self._writes.qsize() if self._writes else 0,
                           "write_errors": self.write_errors},
                "uptime_s": round(self.clock() - self.started_at, 1)}
