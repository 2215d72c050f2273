"""Describing an inbound INVITE: request-URI user (DNIS) and call headers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.sip.sipmsg import MAX_HEADERS, parse_request_head, uri_user

INVITE = (
    "INVITE sip:1000@10.0.0.1:5070;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
    "f: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:1000@10.0.0.1>\r\n"
    "X-Case: 42\r\n"
    "P-Asserted-Identity: <sip:+15551234@example.com>\r\n"
    "Subject: long\r\n  folded line\r\n"
    "Diversion: <sip:a@x>\r\n"
    "diversion: <sip:b@x>\r\n"
    "\r\n"
    "v=0\r\nX-Not-A-Header: body\r\n"
)


def test_request_line_and_headers() -> None:
    head = parse_request_head(INVITE)
    assert head.method == "INVITE"
    assert head.uri == "sip:1000@10.0.0.1:5070;transport=udp"
    assert head.header("from") == "<sip:alice@example.com>;tag=1"   # compact form expanded
    assert head.header("x-case") == "42"
    assert head.header("Subject") == "long folded line"
    assert head.header("Diversion") == "<sip:a@x>, <sip:b@x>"
    assert head.header("X-Not-A-Header") is None                    # body is not parsed


def test_uri_user() -> None:
    assert uri_user("sip:1000@10.0.0.1:5070;transport=udp") == "1000"
    assert uri_user("<sips:+4930123@h>") == "+4930123"
    assert uri_user("tel:+15551234;phone-context=x") == "+15551234"
    assert uri_user("sip:host.only") == ""
    assert uri_user("mailto:x@y") == ""


def test_header_count_is_bounded() -> None:
    text = "INVITE sip:a@b SIP/2.0\r\n" + "".join(f"X-H{i}: v\r\n" for i in range(500))
    assert len(parse_request_head(text).headers) == MAX_HEADERS


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_never_raises(text: str) -> None:
    head = parse_request_head(text)
    uri_user(head.uri)
    uri_user(text)
