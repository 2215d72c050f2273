"""The control-stream codec: framing, validation, round trips, and garbage."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.sip import protocol
from gateways.sip.protocol import (
    Decoder,
    ErrorInfo,
    Event,
    ProtocolError,
    Reply,
    Request,
    decode_body,
    encode,
)


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def test_request_wire_format_is_length_prefixed_json() -> None:
    data = encode(Request(7, "answer", {"leg": "w1-L1"}))
    (length,) = struct.unpack(">I", data[:4])
    assert length == len(data) - 4
    assert json.loads(data[4:]) == {"v": 1, "type": "request", "id": 7, "op": "answer",
                                    "args": {"leg": "w1-L1"}}


def test_reply_carries_result_or_error_not_both() -> None:
    ok = json.loads(encode(Reply(3, {"leg": "x"}))[4:])
    assert ok == {"v": 1, "type": "reply", "id": 3, "result": {"leg": "x"}}
    bad = json.loads(encode(Reply("a", None, ErrorInfo("no_such_leg", "gone")))[4:])
    assert bad == {"v": 1, "type": "reply", "id": "a",
                   "error": {"code": "no_such_leg", "message": "gone"}}


def test_decoder_handles_split_and_coalesced_frames() -> None:
    msgs = [Request(1, "ping"), Event("dtmf", {"leg": "L", "digit": "5"}, 9),
            Reply(1, {"pong": True}), Reply(2, None, ErrorInfo("bad_args", "x"))]
    stream = b"".join(encode(m) for m in msgs)
    for step in (1, 3, 5, len(stream)):
        dec = Decoder()
        out = []
        for i in range(0, len(stream), step):
            out += dec.feed(stream[i:i + step])
        assert out == msgs
        assert dec.buffered == 0


def test_helpers_build_the_same_frames() -> None:
    assert protocol.request(1, "hangup", leg="L", code=486) == \
        encode(Request(1, "hangup", {"leg": "L", "code": 486}))
    assert protocol.reply(1, {"a": 1}) == encode(Reply(1, {"a": 1}))
    assert protocol.error_reply(1, "busy", "m") == encode(Reply(1, None, ErrorInfo("busy", "m")))
    assert protocol.event("dtmf", 4, digit="1") == encode(Event("dtmf", {"digit": "1"}, 4))


def test_oversize_frame_rejected_from_header_alone() -> None:
    dec = Decoder(max_frame=100)
    with pytest.raises(ProtocolError) as err:
        dec.feed(struct.pack(">I", 101))           # no body needed to decide
    assert err.value.code == "frame_too_large"


def test_decoder_stays_failed_after_error() -> None:
    dec = Decoder()
    with pytest.raises(ProtocolError):
        dec.feed(frame({"v": 2, "type": "event", "event": "x"}))
    with pytest.raises(ProtocolError) as again:
        dec.feed(encode(Request(1, "ping")))
    assert again.value.code == "bad_version"


@pytest.mark.parametrize("obj, code", [
    ({"v": 2, "type": "request", "id": 1, "op": "x"}, "bad_version"),
    ({"type": "request", "id": 1, "op": "x"}, "bad_version"),
    ({"v": True, "type": "request", "id": 1, "op": "x"}, "bad_version"),
    ({"v": 1, "type": "shout", "id": 1}, "bad_message"),
    ({"v": 1, "type": "request", "op": "x"}, "bad_message"),
    ({"v": 1, "type": "request", "id": True, "op": "x"}, "bad_message"),
    ({"v": 1, "type": "request", "id": 1.5, "op": "x"}, "bad_message"),
    ({"v": 1, "type": "request", "id": 1, "op": ""}, "bad_message"),
    ({"v": 1, "type": "request", "id": 1, "op": "x", "args": [1]}, "bad_message"),
    ({"v": 1, "type": "reply", "id": 1, "error": "boom"}, "bad_message"),
    ({"v": 1, "type": "reply", "id": 1, "error": {"message": "no code"}}, "bad_message"),
    ({"v": 1, "type": "event", "id": 1}, "bad_message"),
    ([1, 2, 3], "bad_message"),
])
def test_invalid_messages_are_protocol_errors(obj: object, code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        Decoder().feed(frame(obj))
    assert err.value.code == code


@pytest.mark.parametrize("body, code", [
    (b"{not json", "bad_json"),
    (b"\xff\xfe", "bad_utf8"),
    (b'{"v": NaN}', "bad_json"),
    (b"[" * 100000 + b"]" * 100000, "bad_json"),
])
def test_malformed_bodies(body: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_body(body)
    assert err.value.code == code


def test_encode_refuses_what_the_peer_would_reject() -> None:
    with pytest.raises(ValueError):
        encode(Request(1, "play", {"file": "x" * 200}), max_frame=100)
    with pytest.raises(ValueError):
        encode(Event("media_stats", {"jitter": float("nan")}))


def test_event_without_id_and_null_args() -> None:
    (msg,) = Decoder().feed(frame({"v": 1, "type": "event", "event": "hello", "args": None}))
    assert msg == Event("hello", {}, None)


# --------------------------------------------------------------------------- properties

json_scalars = st.none() | st.booleans() | st.integers(-2**53, 2**53) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
    st.text(max_size=8), kids, max_size=4), max_leaves=12)
json_args = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
ids = st.integers(0, 2**53) | st.text(min_size=1, max_size=12)
names = st.text(min_size=1, max_size=16)
messages = st.one_of(
    st.builds(Request, ids, names, json_args),
    st.builds(Reply, ids, json_values),
    st.builds(Reply, ids, st.none(), st.builds(ErrorInfo, names, st.text(max_size=30))),
    st.builds(Event, names, json_args, st.none() | ids),
)


@given(st.lists(messages, max_size=6), st.integers(1, 64))
@settings(max_examples=150, deadline=None)
def test_round_trip_through_any_chunking(msgs: list[protocol.Message], chunk: int) -> None:
    stream = b"".join(encode(m) for m in msgs)
    dec = Decoder()
    out: list[protocol.Message] = []
    for i in range(0, len(stream), chunk):
        out += dec.feed(stream[i:i + chunk])
    assert out == msgs


@given(st.binary(max_size=300))
@settings(max_examples=400, deadline=None)
def test_garbage_only_ever_raises_protocol_error(data: bytes) -> None:
    dec = Decoder(max_frame=4096)
    try:
        dec.feed(data)
    except ProtocolError:
        pass


@given(st.lists(st.binary(max_size=40), max_size=8), st.binary(max_size=60))
@settings(max_examples=300, deadline=None)
def test_garbage_bodies_in_valid_frames(prefix: list[bytes], body: bytes) -> None:
    """Well-framed but arbitrary bodies: either a message or a ProtocolError, never a hang
    (every complete frame is consumed) and never another exception."""
    dec = Decoder()
    stream = b"".join(struct.pack(">I", len(b)) + b for b in [*prefix, body])
    try:
        dec.feed(stream)
    except ProtocolError:
        return
    assert dec.buffered == 0


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_arbitrary_json_objects_decode_or_raise_protocol_error(value: object) -> None:
    body = json.dumps(value).encode()
    try:
        msg = decode_body(body)
    except ProtocolError:
        return
    assert isinstance(msg, (Request, Reply, Event))
