"""Hostile input: the parser raises only ParseError, the dispatcher never raises and keeps
routing real calls afterwards, the stream framer never returns garbage frames."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateways.sip.front.dispatcher import Dispatcher
from gateways.sip.front.framing import Frame, FramingError, KeepAlive, StreamFramer
from gateways.sip.front.message import ParseError, parse_message
from tests.gateways.front.front_harness import (
    CALLER,
    FRONT,
    W1,
    W2,
    CountingChooser,
    request,
    response_to,
)

VALID = [
    request("INVITE", body=b"v=0\r\n"),
    request("ACK", to_tag="t"),
    request("BYE", to_tag="t", route="<sip:127.0.0.1:5060;lr>"),
    request("OPTIONS", uri="sip:127.0.0.1:5060"),
    request("CANCEL"),
    response_to(request("INVITE"), 200),
]
TOKENS = [b"\r\n", b":", b";", b",", b"<", b">", b"\"", b" ", b"\x00", b"\xff", b"SIP/2.0",
          b"Via", b"v:", b"l: 99999", b"Content-Length: 5", b"branch=", b"tag=", b"[",
          b"]", b"\t", b"\r\n ", b"\r\n\r\n", b"@", b"sip:", b"999999999999"]

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(data)))
        if op == 0 and data:  # delete a span
            end = draw(st.integers(pos, min(len(data), pos + 20)))
            del data[pos:end]
        elif op == 1:  # insert a SIP-ish token
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 2:  # insert random bytes
            data[pos:pos] = draw(st.binary(max_size=12))
        elif data:  # flip a byte
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
    return bytes(data)


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    try:
        parse_message(data)
    except ParseError:
        pass


@SETTINGS
@given(mutated())
def test_mutated_messages_raise_only_parse_error_and_round_trip(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except ParseError:
        return
    again = parse_message(msg.to_bytes())  # what we would forward parses again
    assert again.headers == msg.headers or again.headers == [
        h for h in msg.headers if h[0].lower() not in ("content-length", "l")
    ] + [("Content-Length", str(len(msg.body)))]
    assert again.body == msg.body


@SETTINGS
@given(st.lists(st.one_of(mutated(), st.binary(max_size=200)), min_size=1, max_size=8))
def test_dispatcher_survives_hostile_traffic_and_still_routes(packets: list[bytes]) -> None:
    chooser = CountingChooser([W1, W2], capacity=1000)
    d = Dispatcher(FRONT[0], FRONT[1], chooser)
    now = 0.0
    for i, data in enumerate(packets):
        now += 0.5
        for source in (CALLER, W1):
            sends = d.handle(data, source, now)  # must not raise
            assert all(isinstance(s.data, bytes) for s in sends)
    assert d.stats().get("dropped_internal_error", 0) == 0
    out = d.handle(request("INVITE", call_id="after-the-storm"), CALLER, now + 1)
    fwd = [s for s in out if s.dest in (W1, W2)]
    assert len(fwd) == 1
    answered = d.handle(response_to(fwd[0].data, 200), fwd[0].dest, now + 2)
    assert [s.dest for s in answered] == [CALLER]


@SETTINGS
@given(st.lists(st.sampled_from(VALID), min_size=1, max_size=5),
       st.lists(st.integers(1, 300), min_size=1, max_size=40))
def test_framer_reassembles_any_chunking(msgs: list[bytes], cuts: list[int]) -> None:
    stream = b"\r\n\r\n".join(msgs)  # pings between messages
    framer = StreamFramer()
    items: list[Frame | KeepAlive] = []
    pos = 0
    for cut in cuts * 50:
        if pos >= len(stream):
            break
        items += framer.feed(stream[pos:pos + cut])
        pos += cut
    items += framer.feed(stream[pos:])
    frames = [i.data for i in items if isinstance(i, Frame)]
    assert frames == msgs
    assert sum(isinstance(i, KeepAlive) for i in items) == len(msgs) - 1


@SETTINGS
@given(st.binary(max_size=2000))
def test_framer_raises_only_framing_error(data: bytes) -> None:
    framer = StreamFramer()
    try:
        for item in framer.feed(data):
            assert isinstance(item, (Frame, KeepAlive))
    except FramingError:
        pass
