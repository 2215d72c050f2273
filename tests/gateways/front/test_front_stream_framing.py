"""TCP framing by Content-Length, keep-alives and limits."""

from __future__ import annotations

import pytest

from gateways.sip.front.framing import Frame, FramingError, KeepAlive, StreamFramer
from gateways.sip.front.message import Limits
from tests.gateways.front.front_harness import request


def test_two_messages_in_one_read_and_body_cut_by_content_length() -> None:
    a = request("INVITE", body=b"v=0\r\n\r\nnot-a-header")
    b = request("BYE", to_tag="t")
    items = StreamFramer().feed(a + b)
    assert items == [Frame(a), Frame(b)]


def test_compact_content_length_and_split_delivery() -> None:
    msg = request("MESSAGE", body=b"hello").replace(b"Content-Length: 5", b"l:5")
    framer = StreamFramer()
    assert framer.feed(msg[:-3]) == []
    assert framer.feed(msg[-3:]) == [Frame(msg)]
    assert framer.buffered == 0


def test_keepalive_ping_and_lone_crlf() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n") == []          # could be half a ping: wait
    assert framer.feed(b"\r\n") == [KeepAlive()]
    msg = request("OPTIONS")
    assert framer.feed(b"\r\n" + msg) == [Frame(msg)]  # a lone CRLF before a message


@pytest.mark.parametrize("data", [
    b"INVITE sip:a@b SIP/2.0\r\nContent-Length: abc\r\n\r\n",
    b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n",
    b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 999999\r\n\r\n",
])
def test_unframeable_streams_raise(data: bytes) -> None:
    with pytest.raises(FramingError):
        StreamFramer().feed(data)


def test_endless_header_section_is_cut_off() -> None:
    framer = StreamFramer(Limits(max_message=1000))
    framer.feed(b"INVITE sip:a@b SIP/2.0\r\n")
    with pytest.raises(FramingError):
        for _ in range(100):
            framer.feed(b"X-Junk: " + b"y" * 50 + b"\r\n")


def test_content_length_anywhere_in_the_header_section() -> None:
    msg = (b"MESSAGE sip:a@127.0.0.1 SIP/2.0\r\ncontent-length:  4\r\n"
           b"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKx\r\n\r\nbody")
    assert StreamFramer().feed(msg + msg[:10]) == [Frame(msg)]
