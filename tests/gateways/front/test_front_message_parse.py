"""The front's SIP parser: what it accepts, what it refuses, and round trips."""

from __future__ import annotations

import pytest

from gateways.sip.front.message import (
    Limits,
    ParseError,
    parse_message,
    parse_uri,
    parse_via,
    split_header_list,
)
from tests.gateways.front.front_harness import request

COMPACT_INVITE = (
    b"INVITE sip:1000@10.0.0.5 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKa;rport, SIP/2.0/TCP [2001:db8::1]:5080"
    b";branch=z9hG4bKb\r\n"
    b"v: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKc\r\n"
    b"f: \"A, B\" <sip:a@x>;tag=ft\r\n"
    b"t: <sip:1000@10.0.0.5>\r\n"
    b"i: cid-1@x\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"m: <sip:a@10.0.0.1:5070>\r\n"
    b"c: application/sdp\r\n"
    b"Subject: folded\r\n"
    b"  continuation\r\n"
    b"l: 5\r\n\r\n"
    b"v=0\r\nEXTRA-BYTES-IGNORED"
)


def test_request_with_compact_forms_folding_and_multi_value_via() -> None:
    msg = parse_message(COMPACT_INVITE)
    assert msg.method == "INVITE" and msg.uri == "sip:1000@10.0.0.5"
    assert msg.call_id == "cid-1@x"
    assert msg.cseq == (7, "INVITE")
    vias = [parse_via(v) for v in msg.values("Via")]
    assert [(v.transport, v.host, v.port, v.branch) for v in vias] == [
        ("UDP", "10.0.0.1", 5070, "z9hG4bKa"),
        ("TCP", "2001:db8::1", 5080, "z9hG4bKb"),
        ("UDP", "proxy.example.com", None, "z9hG4bKc"),
    ]
    assert vias[0].has("rport") and vias[0].param("rport") == ""
    assert msg.get("subject") == "folded continuation"
    assert msg.get("content-type") == "application/sdp"
    assert msg.tag("from") == "ft" and msg.tag("to") is None
    assert msg.body == b"v=0\r\n"  # datagram: bytes after Content-Length are discarded


def test_response_parse_and_status_line() -> None:
    raw = (b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
           b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\n"
           b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    msg = parse_message(raw)
    assert not msg.is_request and msg.status == 486 and msg.reason == "Busy Here"
    assert msg.tag("to") == "2"


def test_round_trip_keeps_headers_and_body() -> None:
    raw = request("INVITE", body=b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n")
    msg = parse_message(raw)
    again = parse_message(msg.to_bytes())
    assert again.headers == msg.headers and again.body == msg.body
    assert msg.to_bytes() == raw


def test_non_utf8_bytes_survive_a_round_trip() -> None:
    raw = request("INVITE", extra="X-Name: cafe").replace(b"X-Name: cafe", b"X-Name: caf\xe9\xff")
    msg = parse_message(raw)
    assert msg.to_bytes() == raw


def test_body_without_content_length_on_a_datagram_is_the_rest() -> None:
    raw = request("MESSAGE", body=b"hello").replace(b"Content-Length: 5\r\n", b"")
    assert parse_message(raw).body == b"hello"
    # on a stream the framer cut the message: no Content-Length means no body
    assert parse_message(raw, stream=True).body == b""


@pytest.mark.parametrize("raw, why", [
    (b"", "empty"),
    (b"\r\n\r\n", "keep-alive only"),
    (b"HELLO WORLD\r\n\r\n", "not SIP"),
    (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "bad version"),
    (b"INVITE  sip:a@b SIP/2.0\r\n\r\n", "double space"),
    (b"SIP/2.0 99 Odd\r\n\r\n", "status out of range"),
    (b"SIP/2.0 2000 OK\r\n\r\n", "status too long"),
])
def test_garbage_start_lines_are_refused(raw: bytes, why: str) -> None:
    with pytest.raises(ParseError):
        parse_message(raw)


@pytest.mark.parametrize("mutate", [
    lambda r: r.replace(b"Call-ID: call-1\r\n", b""),
    lambda r: r.replace(b"CSeq: 1 INVITE", b"CSeq: x INVITE"),
    lambda r: r.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"),
    lambda r: r.replace(b"CSeq: 1 INVITE", b"CSeq: 99999999999 INVITE"),
    lambda r: r.replace(b"Via: SIP/2.0/UDP", b"Via: SIP/1.0/UDP"),
    lambda r: r.replace(b"127.0.0.1:5070;branch", b"127.0.0.1:99999;branch"),
    lambda r: r.replace(b"Max-Forwards: 70", b"Max-Forwards: -1"),
    lambda r: r.replace(b"Max-Forwards: 70", b"Max-Forwards: 999"),
    lambda r: r.replace(b"Content-Length: 0", b"Content-Length: 50"),
    lambda r: r.replace(b"Content-Length: 0", b"Content-Length: -1"),
    lambda r: r.replace(b"Content-Length: 0", b"Content-Length: 0\r\nl: 3"),
    lambda r: r.replace(b"From:", b"From\x00:"),
    lambda r: r.replace(b"To:", b"T o:"),
    lambda r: r.replace(b"INVITE sip:1000@", b"INVITE http://"),
    lambda r: r.replace(b"Call-ID: call-1", b"Call-ID: call-1\r\ni: call-2"),
    lambda r: b" folded-first\r\n" + r,
])
def test_malformed_headers_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError):
        parse_message(mutate(request("INVITE")))


def test_size_limits() -> None:
    limits = Limits(max_message=2000, max_headers=20, max_line=200, max_body=100, max_via=3)
    base = request("INVITE")
    parse_message(base, limits)
    with pytest.raises(ParseError, match="too large"):
        parse_message(base + b"x" * 2000, limits)
    with pytest.raises(ParseError, match="too many headers"):
        parse_message(request("INVITE", extra="\r\n".join(f"X-{i}: y" for i in range(20))),
                      limits)
    with pytest.raises(ParseError, match="too long"):
        parse_message(request("INVITE", extra="X-Long: " + "a" * 300), limits)
    with pytest.raises(ParseError, match="body too large"):
        parse_message(request("INVITE", body=b"b" * 150), limits)
    many_via = "Via: " + ", ".join(f"SIP/2.0/UDP h{i};branch=z9hG4bK{i}" for i in range(4))
    with pytest.raises(ParseError, match="Via"):
        parse_message(request("INVITE", extra=many_via), limits)


def test_uri_and_list_helpers() -> None:
    uri = parse_uri('"Bob" <sips:bob@[::1]:5061;transport=tcp;lr>;tag=9')
    assert (uri.scheme, uri.user, uri.host, uri.port) == ("sips", "bob", "::1", 5061)
    assert uri.param("lr") == "" and uri.param("transport") == "tcp"
    assert parse_uri("sip:10.0.0.1").port is None
    with pytest.raises(ParseError):
        parse_uri("tel:+15551234")
    with pytest.raises(ParseError):
        parse_uri("sip:host:0")
    assert split_header_list('<sip:a;x="1,2">, <sip:b>') == ['<sip:a;x="1,2">', "<sip:b>"]
    with pytest.raises(ParseError):
        split_header_list('<sip:a, "unterminated')
    with pytest.raises(ParseError):
        split_header_list("a,,b")
