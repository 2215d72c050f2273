"""The sans-I/O chat core: states, idempotent messages, resume tokens, limits."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.chat.conversation import (
    TRANSITIONS,
    ChatError,
    Conversation,
    check_resume,
    estimate_wait,
    resume_token,
)
from gateways.chat.limits import (
    RateLimiter,
    TokenBucket,
    check_attachment,
    check_text,
    origin_allowed,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def conv() -> Conversation:
    return Conversation(id="chat-1", tenant="demo", queue="sales", created_at=100.0)


def test_lifecycle_follows_the_table() -> None:
    c = conv()
    assert c.transition("queued", 101) == "waiting"
    assert c.transition("connected", 102) == "active"
    assert c.transition("transferred", 103) == "waiting"
    assert c.transition("connected", 104) == "active"
    assert c.transition("ended", 105) == "ended"
    assert c.ended_at == 105
    with pytest.raises(ChatError) as e:
        c.transition("connected", 106)
    assert e.value.error_id == "bad_state"


def test_every_target_state_is_in_the_table() -> None:
    for state, moves in TRANSITIONS.items():
        for target in moves.values():
            assert target in TRANSITIONS, (state, target)


def test_offline_then_message_left_ends() -> None:
    c = conv()
    c.transition("no_agents", 1)
    assert c.state == "offline"
    c.transition("left_message", 2)
    assert not c.open


def test_duplicate_client_id_returns_the_first_copy() -> None:
    c = conv()
    m1, new1 = c.add_message(msg_id="m1", sender="visitor", text="hi", now=1, client_id="a")
    m2, new2 = c.add_message(msg_id="m2", sender="visitor", text="hi", now=2, client_id="a")
    assert new1 and not new2 and m2 is m1
    assert [m.id for m in c.messages] == ["m1"]
    # the same client id from the other side is a different message
    m3, new3 = c.add_message(msg_id="m3", sender="agent", text="hello", now=3, client_id="a")
    assert new3 and m3.seq == 2


def test_since_gives_what_a_resuming_client_missed() -> None:
    c = conv()
    for i in range(5):
        c.add_message(msg_id=f"m{i}", sender="visitor" if i % 2 else "agent", text=str(i),
                      now=i)
    assert [m.seq for m in c.since(3)] == [4, 5]
    assert [m.seq for m in c.since(0)] == [1, 2, 3, 4, 5]


def test_discard_lets_the_sender_retry_with_the_same_id() -> None:
    c = conv()
    c.add_message(msg_id="m1", sender="visitor", text="x", now=1, client_id="k")
    c.discard("m1")
    m, new = c.add_message(msg_id="m2", sender="visitor", text="x", now=2, client_id="k")
    assert new and m.id == "m2" and m.seq == 1


def test_no_messages_after_the_end_but_receipts_move_forward_only() -> None:
    c = conv()
    c.add_message(msg_id="m1", sender="agent", text="x", now=1)
    c.add_message(msg_id="m2", sender="agent", text="y", now=1)
    assert c.mark_read("visitor", 1) is True
    assert c.mark_read("visitor", 1) is False
    assert c.mark_read("visitor", 99) is True and c.read_up_to["visitor"] == 2
    c.transition("ended", 3)
    with pytest.raises(ChatError):
        c.add_message(msg_id="m3", sender="visitor", text="late", now=4)


@given(st.lists(st.tuples(st.sampled_from(["visitor", "agent"]),
                          st.sampled_from(["a", "b", "c", None])), max_size=40))
def test_property_each_client_id_stored_once_and_seq_dense(sends: list) -> None:
    c = conv()
    for i, (sender, cid) in enumerate(sends):
        c.add_message(msg_id=f"m{i}", sender=sender, text="t", now=i, client_id=cid)
    keys = [(m.sender, m.client_id) for m in c.messages if m.client_id]
    assert len(keys) == len(set(keys))
    assert [m.seq for m in c.messages] == list(range(1, len(c.messages) + 1))


def test_resume_token_round_trip_forgery_and_expiry() -> None:
    key = b"k" * 32
    tok = resume_token(key, "chat-abc", 1000.0)
    assert check_resume(key, tok, 1100.0, ttl_s=3600) == "chat-abc"
    assert check_resume(key, tok, 1000.0 + 7200, ttl_s=3600) is None
    assert check_resume(b"x" * 32, tok, 1100.0, ttl_s=3600) is None
    forged = tok.replace("chat-abc", "chat-abd")
    assert check_resume(key, forged, 1100.0, ttl_s=3600) is None
    assert check_resume(key, "garbage", 1100.0, ttl_s=3600) is None


def test_transcript_is_plain_text() -> None:
    c = conv()
    c.visitor["name"] = "Mei"
    c.add_message(msg_id="m1", sender="visitor", text="<b>hi</b>", now=3600 * 9 + 61)
    c.add_message(msg_id="m2", sender="agent", text="hello", now=3600 * 9 + 62)
    t = c.transcript()
    assert "[09:01:01] Mei: <b>hi</b>" in t and "Agent: hello" in t


def test_estimate_wait() -> None:
    assert estimate_wait(0, 3, None) == 0.0
    assert estimate_wait(2, 0, None) is None
    assert estimate_wait(4, 2, None) == 180.0
    assert estimate_wait(3, 2, 10.0) == 30.0


# ------------------------------------------------------------------ limits

def test_token_bucket_refuses_then_refills() -> None:
    b = TokenBucket(rate=2.0, burst=2, tokens=2.0, updated=0.0)
    assert b.take(0.0) == 0.0 and b.take(0.0) == 0.0
    wait = b.take(0.0)
    assert wait == pytest.approx(0.5)
    assert b.take(0.5) == 0.0


def test_rate_limiter_is_per_key() -> None:
    r = RateLimiter(rate=1.0, burst=1)
    assert r.take("a", 0.0) == 0.0
    assert r.take("a", 0.0) > 0
    assert r.take("b", 0.0) == 0.0  # another visitor is unaffected


def test_rate_limiter_stays_bounded() -> None:
    r = RateLimiter(rate=1.0, burst=1, max_keys=10)
    for i in range(100):
        r.take(f"ip{i}", float(i))
    assert len(r) <= 10


def test_origins() -> None:
    allowed = {"demo": ["https://shop.example"], "*": ["https://any.example"]}
    assert origin_allowed("https://shop.example", "demo", allowed)
    assert origin_allowed("HTTPS://SHOP.EXAMPLE/", "demo", allowed)
    assert not origin_allowed("https://evil.example", "demo", allowed)
    assert not origin_allowed("https://any.example", "demo", allowed)  # own list wins
    assert origin_allowed("https://any.example", "acme", allowed)
    assert not origin_allowed("https://x.example", "acme", {}, own=["http://127.0.0.1:8080"])
    assert origin_allowed("http://127.0.0.1:8080", "acme", {}, own=["http://127.0.0.1:8080"])
    assert origin_allowed("https://x.example", "acme", {"acme": ["*"]})


def test_text_limits() -> None:
    assert check_text("hi", 10) == "hi"
    for bad, error_id in (("x" * 11, "message_too_large"), ("  ", "bad_message"),
                          (5, "bad_message")):
        with pytest.raises(ChatError) as e:
            check_text(bad, 10)
        assert e.value.error_id == error_id


def test_attachment_checks_size_type_and_content() -> None:
    types = ["image/png", "text/plain"]
    att, data = check_attachment("a/b.png", "image/png", base64.b64encode(PNG).decode(),
                                 max_bytes=100, types=types)
    assert att.size == len(PNG) and data == PNG and "/" not in att.name
    cases = [
        (("x.png", "image/png", base64.b64encode(PNG * 10).decode()), "attachment_too_large"),
        (("x.exe", "application/x-msdownload", base64.b64encode(b"MZ").decode()),
         "attachment_type"),
        (("x.png", "image/png", base64.b64encode(b"<script>").decode()), "attachment_type"),
        (("x.png", "image/png", "!!notbase64"), "bad_attachment"),
        (("", "image/png", ""), "bad_attachment"),
    ]
    for args, error_id in cases:
        with pytest.raises(ChatError) as e:
            check_attachment(*args, max_bytes=100, types=types)
        assert e.value.error_id == error_id, args
