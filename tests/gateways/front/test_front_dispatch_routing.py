"""Dispatcher routing: new dialogs to a chosen worker, the rest by Call-ID affinity."""

from __future__ import annotations

from gateways.sip.front.dispatcher import BRANCH_PREFIX, Dispatcher, Send
from gateways.sip.front.message import parse_message, parse_via
from tests.gateways.front.front_harness import (
    CALLER,
    FRONT,
    W1,
    W2,
    CountingChooser,
    request,
    response_to,
)


def make(capacity: int = 10, **kw) -> tuple[Dispatcher, CountingChooser]:  # type: ignore[no-untyped-def]
    chooser = CountingChooser([W1, W2], capacity)
    return Dispatcher(FRONT[0], FRONT[1], chooser, secret=b"k", **kw), chooser


def only_to(sends: list[Send], dest: tuple[str, int]) -> Send:
    picked = [s for s in sends if s.dest == dest]
    assert len(picked) == 1, sends
    return picked[0]


def status_of(send: Send) -> int:
    msg = parse_message(send.data)
    assert msg.status is not None
    return msg.status


def invite_through(d: Dispatcher, call_id: str = "call-1", now: float = 0.0,
                   **kw) -> tuple[list[Send], Send]:  # type: ignore[no-untyped-def]
    out = d.handle(request("INVITE", call_id=call_id, **kw), CALLER, now)
    fwd = [s for s in out if parse_message(s.data).is_request]
    assert len(fwd) == 1
    return out, fwd[0]


def test_new_invite_gets_100_and_goes_to_chosen_worker_with_via_rr_and_mf() -> None:
    d, chooser = make()
    out, fwd = invite_through(d)
    trying = only_to(out, CALLER)
    assert status_of(trying) == 100
    assert parse_message(trying.data).tag("to") is None
    assert fwd.dest == W1 and fwd.transport == "udp"
    msg = parse_message(fwd.data)
    vias = [parse_via(v) for v in msg.values("via")]
    assert (vias[0].host, vias[0].port) == FRONT and vias[0].branch.startswith(BRANCH_PREFIX)
    assert vias[1].branch == "z9hG4bKcaller1"
    assert msg.get("max-forwards") == "69"
    assert msg.values("record-route") == ["<sip:127.0.0.1:5060;lr>"]
    assert msg.uri == "sip:1000@127.0.0.1:5060"  # R-URI (the dialled number) kept
    assert chooser.chosen[W1] == 1


def test_dialogs_spread_and_in_dialog_requests_stick_to_their_worker() -> None:
    d, _ = make()
    _, f1 = invite_through(d, "a")
    _, f2 = invite_through(d, "b")
    assert {f1.dest, f2.dest} == {W1, W2}
    for call_id, worker in (("a", f1.dest), ("b", f2.dest)):
        for method, cseq in (("ACK", 1), ("INFO", 2), ("BYE", 3)):
            out = d.handle(request(method, call_id=call_id, cseq=cseq, to_tag="t",
                                   branch=f"z9hG4bK{method}{call_id}"), CALLER, 1.0)
            assert [s.dest for s in out] == [worker], (method, out)


def test_retransmitted_invite_same_worker_same_branch() -> None:
    d, chooser = make()
    _, first = invite_through(d)
    _, again = invite_through(d)
    assert again.dest == first.dest and again.data == first.data
    assert sum(chooser.chosen.values()) == 1


def test_responses_pop_our_via_and_go_to_the_caller_with_rport() -> None:
    d, _ = make()
    raw = request("INVITE", rport=True)
    out = d.handle(raw, ("127.0.0.1", 40000), 0.0)  # NATed: source port differs
    fwd = next(s for s in out if s.dest == W1)
    trying = next(s for s in out if s.dest != W1)
    assert trying.dest == ("127.0.0.1", 40000)
    ringing = d.handle(response_to(fwd.data, 180, "Ringing"), W1, 0.1)
    assert len(ringing) == 1 and ringing[0].dest == ("127.0.0.1", 40000)
    msg = parse_message(ringing[0].data)
    top = parse_via(msg.values("via")[0])
    assert top.branch == "z9hG4bKcaller1" and top.param("rport") == "40000"
    assert len(msg.values("via")) == 1


def test_worker_100_is_absorbed_and_foreign_responses_dropped() -> None:
    d, _ = make()
    _, fwd = invite_through(d)
    assert d.handle(response_to(fwd.data, 100, "Trying"), W1, 0.1) == []
    foreign = request("INVITE")  # a response whose top Via is not ours
    resp = response_to(foreign, 200)
    assert d.handle(resp, W1, 0.2) == []
    assert d.stats()["dropped_response_not_ours"] == 1


def test_pool_full_gives_503_with_retry_after_and_no_forward() -> None:
    d, _ = make(capacity=1, retry_after=7)
    invite_through(d, "a")
    invite_through(d, "b")
    out = d.handle(request("INVITE", call_id="c"), CALLER, 0.0)
    assert len(out) == 1 and out[0].dest == CALLER
    msg = parse_message(out[0].data)
    assert msg.status == 503 and msg.get("retry-after") == "7"
    assert msg.tag("to")  # a final response carries a To tag
    assert d.stats()["rejected_pool_full"] == 1


def test_bye_ends_affinity_and_releases_the_slot_once() -> None:
    d, chooser = make(capacity=1)
    _, fwd = invite_through(d, "a")
    d.handle(response_to(fwd.data, 200), fwd.dest, 0.5)
    bye = d.handle(request("BYE", call_id="a", cseq=2, to_tag="worker-tag",
                           branch="z9hG4bKbye"), CALLER, 1.0)
    assert [s.dest for s in bye] == [fwd.dest]
    assert chooser.released == [("a", fwd.dest)]
    # the BYE's 200 still routes during the linger, and does not release twice
    back = d.handle(response_to(bye[0].data, 200), fwd.dest, 1.1)
    assert [s.dest for s in back] == [CALLER]
    assert len(chooser.released) == 1
    # after the linger the dialog is gone: a late in-dialog request gets 481
    late = d.handle(request("INFO", call_id="a", cseq=3, to_tag="worker-tag",
                            branch="z9hG4bKlate"), CALLER, 100.0)
    assert status_of(late[0]) == 481 and late[0].dest == CALLER


def test_rejected_invite_releases_but_its_ack_still_reaches_the_worker() -> None:
    d, chooser = make(capacity=1)
    _, fwd = invite_through(d, "a")
    busy = d.handle(response_to(fwd.data, 486, "Busy Here"), fwd.dest, 0.5)
    assert status_of(busy[0]) == 486 and busy[0].dest == CALLER
    assert chooser.released == [("a", fwd.dest)]
    ack = d.handle(request("ACK", call_id="a", to_tag="worker-tag"), CALLER, 0.6)
    assert [s.dest for s in ack] == [fwd.dest]
    # same branch as the INVITE: the worker's INVITE server transaction matches it
    assert (parse_via(parse_message(ack[0].data).values("via")[0]).branch
            == parse_via(parse_message(fwd.data).values("via")[0]).branch)
    # a new attempt on the same Call-ID (new CSeq) is a new dialog
    invite_through(d, "a", now=1.0, cseq=2, branch="z9hG4bKretry")
    assert sum(chooser.chosen.values()) == 2


def test_cancel_follows_the_invite_with_the_same_branch() -> None:
    d, chooser = make()
    _, fwd = invite_through(d, "a")
    out = d.handle(request("CANCEL", call_id="a"), CALLER, 0.2)
    assert [s.dest for s in out] == [fwd.dest]
    branch = lambda s: parse_via(parse_message(s.data).values("via")[0]).branch
    assert branch(out[0]) == branch(fwd)
    terminated = d.handle(response_to(fwd.data, 487, "Request Terminated"), fwd.dest, 0.3)
    assert status_of(terminated[0]) == 487
    assert chooser.released == [("a", fwd.dest)]
    unknown = d.handle(request("CANCEL", call_id="nope"), CALLER, 0.4)
    assert status_of(unknown[0]) == 481


def test_requests_from_the_worker_go_to_the_caller() -> None:
    d, _ = make()
    _, fwd = invite_through(d, "a")
    d.handle(response_to(fwd.data, 200), fwd.dest, 0.5)
    bye = request("BYE", call_id="a", cseq=1, to_tag="from-1", branch="z9hG4bKwbye",
                  via_port=fwd.dest[1], uri="sip:caller@127.0.0.1:5070",
                  route="<sip:127.0.0.1:5060;lr>")
    out = d.handle(bye, fwd.dest, 1.0)
    assert len(out) == 1 and out[0].dest == CALLER
    msg = parse_message(out[0].data)
    assert msg.get("route") is None  # our own Route entry was consumed
    assert (parse_via(msg.values("via")[0]).host, parse_via(msg.values("via")[0]).port) == FRONT
    # the caller's 200 goes back to the worker through the Via chain
    ok = d.handle(response_to(out[0].data, 200), CALLER, 1.1)
    assert [s.dest for s in ok] == [fwd.dest]


def test_max_forwards_zero_is_483_and_missing_is_added() -> None:
    d, chooser = make()
    out = d.handle(request("INVITE", max_forwards=0), CALLER, 0.0)
    assert [status_of(s) for s in out] == [483]
    assert sum(chooser.chosen.values()) == 0
    assert d.handle(request("ACK", max_forwards=0, to_tag="x"), CALLER, 0.0) == []
    _, fwd = invite_through(d, "b", max_forwards=None)
    assert parse_message(fwd.data).get("max-forwards") == "69"


def test_options_to_the_front_is_answered_200_even_with_max_forwards_zero() -> None:
    d, chooser = make()
    for mf in (70, 0):
        out = d.handle(request("OPTIONS", uri="sip:127.0.0.1:5060", max_forwards=mf),
                       CALLER, 0.0)
        msg = parse_message(out[0].data)
        assert msg.status == 200 and "INVITE" in (msg.get("allow") or "")
    assert sum(chooser.chosen.values()) == 0


def test_unknown_in_dialog_request_481_and_out_of_dialog_other_405() -> None:
    d, _ = make()
    out = d.handle(request("BYE", call_id="ghost", to_tag="t"), CALLER, 0.0)
    assert status_of(out[0]) == 481
    assert d.handle(request("ACK", call_id="ghost", to_tag="t"), CALLER, 0.0) == []
    out = d.handle(request("REGISTER", uri="sip:127.0.0.1:5060"), CALLER, 0.0)
    assert status_of(out[0]) == 405


def test_tcp_caller_gets_double_record_route_and_replies_on_its_connection() -> None:
    d, _ = make()
    conn = ("127.0.0.1", 45678)
    out = d.handle(request("INVITE", transport="TCP"), conn, 0.0, transport="tcp")
    trying = next(s for s in out if s.transport == "tcp")
    assert trying.dest == conn
    fwd = next(s for s in out if s.transport == "udp")
    msg = parse_message(fwd.data)
    assert msg.values("record-route") == ["<sip:127.0.0.1:5060;lr>",
                                          "<sip:127.0.0.1:5060;transport=tcp;lr>"]
    ringing = d.handle(response_to(fwd.data, 180, "Ringing"), fwd.dest, 0.1)
    assert ringing[0].dest == conn and ringing[0].transport == "tcp"
    # an in-dialog request carrying both our Route entries: both consumed
    ack = d.handle(request("ACK", transport="TCP", to_tag="worker-tag",
                           route="<sip:127.0.0.1:5060;transport=tcp;lr>, "
                                 "<sip:127.0.0.1:5060;lr>"), conn, 0.2, transport="tcp")
    assert ack[0].dest == fwd.dest and parse_message(ack[0].data).get("route") is None


def test_idle_and_setup_expiry_release_the_worker() -> None:
    d, chooser = make(setup_timeout=30, idle_timeout=100)
    invite_through(d, "never-answered", now=0.0)
    _, fwd = invite_through(d, "answered", now=0.0)
    d.handle(response_to(fwd.data, 200), fwd.dest, 1.0)
    d.expire(31.0)
    assert [c for c, _ in chooser.released] == ["never-answered"]
    d.handle(request("INFO", call_id="answered", cseq=2, to_tag="worker-tag",
                     branch="z9hG4bKinfo"), CALLER, 90.0)  # activity pushes the idle timer
    d.expire(150.0)
    assert [c for c, _ in chooser.released] == ["never-answered"]
    d.expire(191.0)
    assert [c for c, _ in chooser.released] == ["never-answered", "answered"]
    assert d.stats()["dialogs"] == 0


def test_chooser_returning_the_front_itself_is_refused() -> None:
    class Loop:
        def choose(self, call_id: str) -> tuple[str, int]:
            return FRONT
    d = Dispatcher(FRONT[0], FRONT[1], Loop())
    out = d.handle(request("INVITE"), CALLER, 0.0)
    assert [status_of(s) for s in out] == [500]


def test_broken_chooser_means_503_not_a_crash() -> None:
    class Broken:
        def choose(self, call_id: str) -> tuple[str, int]:
            raise RuntimeError("pool exploded")
    d = Dispatcher(FRONT[0], FRONT[1], Broken())
    out = d.handle(request("INVITE"), CALLER, 0.0)
    assert [status_of(s) for s in out] == [503]


def test_response_with_a_forged_front_via_is_not_reflected() -> None:
    d, _ = make()
    _, fwd = invite_through(d)
    genuine = parse_message(response_to(fwd.data, 180, "Ringing"))
    forged = genuine.copy()
    # keep our (valid-looking) top Via but point the next hop somewhere else
    ours = forged.values("via")[0]
    forged.remove("via")
    forged.headers[:0] = [("Via", ours),
                          ("Via", "SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKvictim")]
    assert d.handle(forged.to_bytes(), W1, 0.1) == []
    assert d.stats()["dropped_response_forged"] == 1
    assert [s.dest for s in d.handle(genuine.to_bytes(), W1, 0.2)] == [CALLER]


def test_pre_rfc3261_branch_still_routes_and_cancel_matches() -> None:
    d, _ = make()
    _, fwd = invite_through(d, "old", branch="1234")
    cancel = d.handle(request("CANCEL", call_id="old", branch="1234"), CALLER, 0.1)
    branch = lambda s: parse_via(parse_message(s.data).values("via")[0]).branch
    assert branch(cancel[0]) == branch(fwd)
    assert [s.dest for s in d.handle(response_to(fwd.data, 180, "Ringing"), W1, 0.2)] \
        == [CALLER]
