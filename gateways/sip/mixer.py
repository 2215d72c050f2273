"""Who hears whom inside one worker's conference bridge, computed from declared intent.

pjsua2's conference bridge is a switch: every port (a call leg, a file player, a tone
generator, a recorder) can transmit to any other (``src.startTransmit(dst)``). Doing
those calls directly from each primitive makes combinations (a whisper on a bridge whose
agent is muted, a recording paused while a leg goes on hold and comes back with a new
media port) hard to get right. So the primitives only change *intent* here -- bridges,
monitors, plays, recordings, mute and hold flags -- and :meth:`Mixer.edges` derives the
complete set of directed connections. The pjsua2 layer diffs that set against what it
has applied. This module has no pjsua2, no I/O and no clock.

Rules (``a -> b`` means b hears a):

* bridge members hear each other: ``m -> n`` for members m != n;
* a monitoring supervisor S on a bridge: ``silent`` -- every member -> S; ``whisper`` --
  every member -> S and S -> the coached leg; ``barge`` -- S is heard by every member too;
* a play (file, tone, music on hold) P on leg L: ``P -> L`` (also while L is held: that is
  how music on hold reaches a held caller);
* a recording R of legs Ls: ``l -> R`` for each l in Ls, unless R is paused. A paused
  recording receives nothing; the pjmedia WAV writer then writes nothing, so a pause
  *skips* time rather than writing silence (documented in docs/media-protocol.md);
* a muted leg is heard by nobody (neither other legs nor recordings); a held leg neither
  hears nor is heard by other legs or recordings, but still hears its plays;
* only legs whose media is up (``media_up``) appear in edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

Node = tuple[str, str]          # ("leg" | "play" | "rec", id)
Edge = tuple[Node, Node]        # (source, sink)
MonitorMode = Literal["silent", "whisper", "barge"]
MONITOR_MODES: tuple[str, ...] = ("silent", "whisper", "barge")


class MixError(Exception):
    """A primitive that contradicts the current topology; ``code`` is the reply code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def leg(leg_id: str) -> Node:
    return ("leg", leg_id)


@dataclass(frozen=True)
class Monitor:
    bridge: str
    mode: MonitorMode
    whisper_to: str | None = None


@dataclass
class Recording:
    legs: set[str]
    paused: bool = False


@dataclass(frozen=True)
class Removed:
    """What disappeared because a leg left: bridges dissolved, plays and recordings ended."""

    bridges: tuple[str, ...] = ()
    monitors: tuple[str, ...] = ()
    plays: tuple[str, ...] = ()
    recordings: tuple[str, ...] = ()


@dataclass
class Mixer:
    media_up: set[str] = field(default_factory=set)
    bridges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    monitors: dict[str, Monitor] = field(default_factory=dict)    # supervisor leg -> monitor
    plays: dict[str, str] = field(default_factory=dict)           # play id -> leg
    recordings: dict[str, Recording] = field(default_factory=dict)
    muted: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ queries

    def bridge_of(self, leg_id: str) -> str | None:
        for bid, members in self.bridges.items():
            if leg_id in members:
                return bid
        return None

    def busy(self, leg_id: str) -> str | None:
        """Why ``leg_id`` cannot join a bridge or monitor (None if it can)."""
        bid = self.bridge_of(leg_id)
        if bid is not None:
            return f"leg {leg_id} is already in bridge {bid}"
        if leg_id in self.monitors:
            return f"leg {leg_id} is already monitoring bridge {self.monitors[leg_id].bridge}"
        return None

    # ------------------------------------------------------------------ intent changes

    def bridge(self, bridge_id: str, legs: list[str]) -> None:
        if len(legs) < 2 or len(set(legs)) != len(legs):
            raise MixError("bad_args", "a bridge needs at least two distinct legs")
        if bridge_id in self.bridges:
            raise MixError("bad_args", f"bridge {bridge_id} exists")
        for leg_id in legs:
            why = self.busy(leg_id)
            if why:
                raise MixError("bad_state", why)
        self.bridges[bridge_id] = tuple(legs)

    def unbridge(self, bridge_id: str) -> tuple[str, ...]:
        """Dissolve a bridge; returns the supervisor legs whose monitors ended with it."""
        if bridge_id not in self.bridges:
            raise MixError("no_such_bridge", f"no bridge {bridge_id}")
        del self.bridges[bridge_id]
        gone = tuple(s for s, m in self.monitors.items() if m.bridge == bridge_id)
        for sup in gone:
            del self.monitors[sup]
        return gone

    def monitor(self, supervisor: str, bridge_id: str, mode: str,
                whisper_to: str | None = None) -> None:
        if mode not in MONITOR_MODES:
            raise MixError("bad_args", f"mode must be one of {MONITOR_MODES}")
        members = self.bridges.get(bridge_id)
        if members is None:
            raise MixError("no_such_bridge", f"no bridge {bridge_id}")
        if supervisor in members:
            raise MixError("bad_state", f"leg {supervisor} is a member of bridge {bridge_id}")
        current = self.monitors.get(supervisor)
        if current is None:
            why = self.busy(supervisor)
            if why:
                raise MixError("bad_state", why)
        elif current.bridge != bridge_id:
            raise MixError("bad_state", f"leg {supervisor} monitors bridge {current.bridge}")
        if mode == "whisper":
            if whisper_to is None:
                raise MixError("bad_args", "whisper needs whisper_to (the coached leg)")
            if whisper_to not in members:
                raise MixError("bad_args", f"leg {whisper_to} is not in bridge {bridge_id}")
        else:
            whisper_to = None
        self.monitors[supervisor] = Monitor(bridge_id, cast(MonitorMode, mode), whisper_to)

    def unmonitor(self, supervisor: str) -> None:
        if self.monitors.pop(supervisor, None) is None:
            raise MixError("bad_state", f"leg {supervisor} is not monitoring")

    def remove_leg(self, leg_id: str) -> Removed:
        """Forget a leg that ended. A two-party bridge it was in dissolves."""
        self.media_up.discard(leg_id)
        self.muted.discard(leg_id)
        self.held.discard(leg_id)
        bridges: list[str] = []
        monitors: list[str] = []
        self.monitors.pop(leg_id, None)
        bid = self.bridge_of(leg_id)
        if bid is not None:
            rest = tuple(m for m in self.bridges[bid] if m != leg_id)
            if len(rest) >= 2:
                self.bridges[bid] = rest
                for sup, mon in list(self.monitors.items()):
                    if mon.bridge == bid and mon.whisper_to == leg_id:
                        self.monitors[sup] = Monitor(bid, "silent")
            else:
                monitors.extend(self.unbridge(bid))
                bridges.append(bid)
        plays = [p for p, target in self.plays.items() if target == leg_id]
        for p in plays:
            del self.plays[p]
        recordings = []
        for rid, rec in list(self.recordings.items()):
            if leg_id in rec.legs:
                rec.legs.discard(leg_id)
                if not rec.legs:
                    del self.recordings[rid]
                    recordings.append(rid)
        return Removed(tuple(bridges), tuple(monitors), tuple(plays), tuple(recordings))

    # ------------------------------------------------------------------ the derived graph

    def edges(self) -> frozenset[Edge]:
        up = self.media_up
        talking = {x for x in up if x not in self.held}    # in the conversation
        speaking = talking - self.muted                     # ... and may be heard
        out: set[Edge] = set()
        for members in self.bridges.values():
            for a in members:
                if a not in speaking:
                    continue
                for b in members:
                    if b != a and b in talking:
                        out.add((leg(a), leg(b)))
        for sup, mon in self.monitors.items():
            members = self.bridges.get(mon.bridge, ())
            if sup in talking:
                out.update((leg(m), leg(sup)) for m in members if m in speaking)
            if sup not in speaking:
                continue
            if mon.mode == "whisper" and mon.whisper_to is not None \
                    and mon.whisper_to in talking:
                out.add((leg(sup), leg(mon.whisper_to)))
            elif mon.mode == "barge":
                out.update((leg(sup), leg(m)) for m in members if m in talking)
        for pid, target in self.plays.items():
            if target in up:
                out.add((("play", pid), leg(target)))
        for rid, rec in self.recordings.items():
            if rec.paused:
                continue
            out.update((leg(x), ("rec", rid)) for x in rec.legs if x in speaking)
        return frozenset(out)
