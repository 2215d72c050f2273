"""The bus's sans-I/O parts: outbox ordering and bound, backoff, URLs, topics, payloads.

No broker and no event loop here; everything is plain calls.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.bus import Backoff, Bus, Coalescer, Outbox, encode_payload, full_topic, parse_url
from acd.model import ContactState, Outcome

# ------------------------------------------------------------------------- outbox


def test_outbox_hands_out_in_order_and_forgets_on_ack() -> None:
    box = Outbox(10)
    for i in range(3):
        box.put(f"t/{i}", b"%d" % i)
    taken = [box.take() for _ in range(3)]
    assert [e.topic for e in taken if e] == ["t/0", "t/1", "t/2"]
    assert box.take() is None
    assert (box.pending, box.inflight, len(box)) == (0, 3, 3)
    assert box.ack(taken[1].seq)  # type: ignore[union-attr]
    assert not box.ack(taken[1].seq)  # type: ignore[union-attr]
    assert (box.inflight, box.published) == (2, 1)


def test_outbox_full_drops_oldest_and_counts() -> None:
    box = Outbox(3)
    for i in range(5):
        box.put("t", str(i).encode())
    assert [e.payload for e in box.peek_pending()] == [b"2", b"3", b"4"]
    assert box.dropped == 2


def test_outbox_requeue_puts_inflight_back_first_in_order() -> None:
    box = Outbox(10)
    for i in range(5):
        box.put("t", str(i).encode())
    a, b, c = box.take(), box.take(), box.take()
    assert a and b and c
    box.ack(a.seq)
    box.put("t", b"5")
    assert box.requeue() == 2
    assert [e.payload for e in box.peek_pending()] == [b"1", b"2", b"3", b"4", b"5"]
    assert box.inflight == 0


def test_outbox_requeue_respects_bound_dropping_oldest() -> None:
    box = Outbox(3)
    for i in range(3):
        box.put("t", str(i).encode())
    box.take(), box.take()
    box.put("t", b"3")
    box.put("t", b"4")  # pending: 2,3,4 (full); 0,1 in flight
    assert box.dropped == 0
    box.requeue()  # 0,1,2,3,4 -> keep the newest three
    assert [e.payload for e in box.peek_pending()] == [b"2", b"3", b"4"]
    assert box.dropped == 2


def test_outbox_rejects_nonpositive_size() -> None:
    with pytest.raises(ValueError):
        Outbox(0)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=8),
       st.lists(st.sampled_from(["put", "take", "ack", "requeue"]), max_size=80),
       st.randoms(use_true_random=False))
def test_outbox_invariants_under_any_operation_sequence(size: int, ops: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    """Conservation (put = queued + dropped + published), the bound, and order."""
    box = Outbox(size)
    puts = 0
    inflight: list[int] = []
    acked: list[int] = []
    for op in ops:
        if op == "put":
            box.put("t", b"x")
            puts += 1
        elif op == "take":
            env = box.take()
            if env is not None:
                inflight.append(env.seq)
        elif op == "ack" and inflight:
            seq = inflight.pop(rnd.randrange(len(inflight)))
            assert box.ack(seq)
            acked.append(seq)
        elif op == "requeue":
            box.requeue()
            inflight.clear()
        assert puts == len(box) + box.dropped + box.published
        assert box.pending <= size
        pending = [e.seq for e in box.peek_pending()]
        assert pending == sorted(pending)
        # everything in flight is older than everything pending
        assert all(s < min(pending, default=1 << 60) for s in inflight)
        assert box.inflight == len(inflight)
    assert len(set(acked)) == len(acked)


# ------------------------------------------------------------------------ backoff


def test_backoff_grows_exponentially_to_the_cap() -> None:
    b = Backoff(initial=0.1, maximum=2.0, factor=2.0, jitter=0.0)
    assert [b.delay(n) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0])
    assert b.delay(10_000) == 2.0  # no overflow on long outages


def test_backoff_jitter_stays_within_its_band_and_the_cap() -> None:
    b = Backoff(initial=1.0, maximum=10.0, factor=2.0, jitter=0.25)
    assert b.delay(0, rand=0.0) == pytest.approx(0.75)
    assert b.delay(0, rand=0.999999) == pytest.approx(1.25, rel=1e-5)
    assert b.delay(20, rand=0.999999) == 10.0


@pytest.mark.parametrize("kwargs", [{"initial": 0}, {"initial": 2, "maximum": 1},
                                    {"factor": 0.5}, {"jitter": 1.0}])
def test_backoff_rejects_nonsense(kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        Backoff(**kwargs)


# ---------------------------------------------------------------------- coalescer


def test_coalescer_sends_first_then_holds_latest_until_interval() -> None:
    c = Coalescer(1.0)
    assert c.offer("q1", "v1", now=10.0)
    assert not c.offer("q1", "v2", now=10.2)
    assert not c.offer("q1", "v3", now=10.5)  # replaces v2
    assert c.offer("q2", "w1", now=10.5)      # keys are independent
    assert c.next_due() == 11.0
    assert c.due(10.99) == []
    assert c.due(11.0) == [("q1", "v3")]
    assert c.next_due() is None
    assert not c.offer("q1", "v4", now=11.5)  # 0.5 s after the last send: held
    assert c.due(12.0) == [("q1", "v4")]
    assert c.offer("q1", "v5", now=13.5)      # quiet a full interval: straight out


def test_coalescer_forgets_quiet_keys_and_drains_at_shutdown() -> None:
    c = Coalescer(1.0)
    for i in range(100):
        c.offer(f"k{i}", i, now=0.0)
    c.offer("k0", "late", now=0.5)
    assert c.due(5.0) == [("k0", "late")]
    assert c.due(7.0) == []
    assert c._last == {}  # nothing remembered for keys quiet a full interval
    c.offer("a", 1, now=8.0)
    c.offer("a", 2, now=8.1)
    assert c.drain() == [("a", 2)] and c.next_due() is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.floats(0, 0.7)), max_size=40))
def test_coalescer_rate_and_last_value_hold(offers: list[tuple[str, float]]) -> None:
    """Sends per key are >= interval apart, and the last value offered is always sent."""
    c = Coalescer(1.0)
    now, sent, last = 0.0, {"a": [], "b": []}, {}  # type: ignore[var-annotated]
    for n, (key, gap) in enumerate(offers):
        now += gap
        for k, v in c.due(now):
            sent[k].append((now, v))
        if c.offer(key, n, now):
            sent[key].append((now, n))
        last[key] = n
    for _ in range(10):  # a timer set for next_due() must find its item due
        if (t := c.next_due()) is None:
            break
        now = max(now, t)
        for k, v in c.due(now):
            sent[k].append((now, v))
    else:
        pytest.fail("a held item never became due at next_due()")
    for key, items in sent.items():
        times = [t for t, _ in items]
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times))
        if key in last:
            assert items[-1][1] == last[key]


# --------------------------------------------------------------------------- urls


def test_parse_url_defaults_and_credentials() -> None:
    a = parse_url("mqtt://broker.example")
    assert (a.host, a.port, a.username, a.password, a.tls) == ("broker.example", 1883,
                                                                None, None, False)
    b = parse_url("mqtts://ipcc:s%40cret@10.0.0.5")
    assert (b.host, b.port, b.username, b.password, b.tls) == ("10.0.0.5", 8883, "ipcc",
                                                                "s@cret", True)
    assert b.redacted() == "mqtts://ipcc:***@10.0.0.5:8883"
    assert parse_url("mqtt://[::1]:1999").redacted() == "mqtt://[::1]:1999"


@pytest.mark.parametrize("url", ["http://x:1883", "mqtt://", "mqtt://h:99999", "h:1883"])
def test_parse_url_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)


def test_bus_status_never_shows_the_password() -> None:
    bus = Bus("mqtt://u:topsecret@127.0.0.1:1")
    assert "topsecret" not in json.dumps(bus.status())
    assert bus.status()["url"] == "mqtt://u:***@127.0.0.1:1"


# ------------------------------------------------------------------ topics, payloads


def test_full_topic_joins_prefix() -> None:
    assert full_topic("ipcc", "demo/contacts/c1/state") == "ipcc/demo/contacts/c1/state"
    assert full_topic("ipcc/", "/system/health") == "ipcc/system/health"
    assert full_topic("", "a/b") == "a/b"


@pytest.mark.parametrize("topic", ["", "/", "demo/+/x", "demo/#", "a\x00b", "x" * 70000])
def test_full_topic_rejects_unpublishable(topic: str) -> None:
    with pytest.raises(ValueError):
        full_topic("ipcc", topic)


@dataclass(frozen=True)
class _Thing:
    a: int
    outcome: Outcome


def test_encode_payload_fills_id_and_at_and_encodes_engine_types() -> None:
    raw = encode_payload({"event": "contact.state", "state": ContactState.QUEUED,
                          "thing": _Thing(1, Outcome.ABANDONED), "skills": ("a",),
                          "name": "Zoë"}, event_id="e1", at=12.5)
    body = json.loads(raw)
    assert body == {"event": "contact.state", "state": "queued",
                    "thing": {"a": 1, "outcome": "abandoned"}, "skills": ["a"],
                    "name": "Zoë", "id": "e1", "at": 12.5}
    kept = json.loads(encode_payload({"id": "mine", "at": 1.0}, event_id="e2", at=2.0))
    assert kept == {"id": "mine", "at": 1.0}


# ------------------------------------------------------------- the call path, offline


def test_publish_never_raises_and_counts_rejects() -> None:
    bus = Bus("mqtt://127.0.0.1:1", topic_prefix="p", clock=lambda: 100.0)
    cyclic: dict = {}
    cyclic["self"] = cyclic
    bus.publish("bad/#", {"x": 1})
    bus.publish("ok", cyclic)
    bus.publish("ok", {"x": 1}, qos=3)
    bus.publish("ok", {"x": 1})
    st_ = bus.status()
    assert (st_["rejected"], st_["queued"], st_["connected"]) == (3, 1, False)


def test_publish_before_start_queues_with_prefix_and_clock() -> None:
    bus = Bus("mqtt://127.0.0.1:1", topic_prefix="ipcc", outbox_size=2, clock=lambda: 7.0)
    for i in range(3):
        bus.publish("demo/agents/a1/state", {"n": i}, retain=True)
    st_ = bus.status()
    assert (st_["queued"], st_["dropped"], st_["published"]) == (2, 1, 0)
    envs = bus._outbox.peek_pending()
    assert [e.topic for e in envs] == ["ipcc/demo/agents/a1/state"] * 2
    assert [json.loads(e.payload)["n"] for e in envs] == [1, 2]
    assert all(e.retain and e.qos == 1 for e in envs)
    assert json.loads(envs[0].payload)["at"] == 7.0
