"""The IVR interpreter: one caller walking one tree, sans-I/O.

    session = IvrSession(tree, CallInfo(ani="+15551234", dnis="1000"), now)
    actions = session.start(now)              # Play(...), Lookup(...), StartTimer(...)
    actions = session.handle(DtmfReceived("3"), now)

The session never reads the clock, sleeps or does I/O: time comes in as ``now`` and
everything to do goes out as actions (``ivr.events``). It keeps a reference to the tree
object it was started with, so a reload does not disturb a running call.

State machine
-------------
The phases and the events each accepts are in ``TRANSITIONS`` (one table). An event a
phase does not accept is not an error (the media plane may race us: a digit after the
prompt was stopped, a lookup answer after its timeout); it is ignored and traced.

=========  ==========================================================================
phase      meaning
=========  ==========================================================================
idle       created, call not started
prompt     playing a node's prompt (``Play`` segments in order)
input      waiting for keypad digits (menu, collect, language, callback)
lookup     waiting for a ``LookupResult``
record     waiting for ``MessageRecorded``
ended      outcome decided; further events are ignored
=========  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from .checkdigit import check, mask
from .conditions import evaluate
from .events import (
    Action,
    CallerHungUp,
    CallStarted,
    CancelTimer,
    CollectDigits,
    DtmfReceived,
    Enqueue,
    Event,
    HangUp,
    Lookup,
    LookupResult,
    MessageRecorded,
    OfferCallback,
    Outcome,
    Play,
    PromptFinished,
    RecordMessage,
    StartTimer,
    StopPlayback,
    TimerExpired,
    Trace,
    Transfer,
)
from .nodes import (
    BranchNode,
    CallbackNode,
    CollectNode,
    HangupNode,
    LanguageNode,
    LookupNode,
    MenuNode,
    MessageNode,
    Node,
    PriorityRule,
    PromptSpec,
    QueueNode,
    SayNode,
    TransferNode,
    Tree,
)
from .render import render_prompts
from .template import MISSING, lookup, render

RECORD_GRACE_S = 15.0     # wait this long past max_seconds for MessageRecorded
MAX_HOPS = 64             # node entries per handle() call; a tree cannot loop faster


@dataclass(frozen=True)
class CallInfo:
    ani: str = ""
    dnis: str = ""
    tenant: str | None = None
    language: str | None = None
    call_id: str | None = None


IDLE, PROMPT, INPUT, LOOKUP, RECORD, ENDED = "idle", "prompt", "input", "lookup", "record", "ended"
PHASES = (IDLE, PROMPT, INPUT, LOOKUP, RECORD, ENDED)

# (phase, event type) -> handler method name. Anything else is ignored and traced.
TRANSITIONS: dict[tuple[str, type], str] = {
    (IDLE, CallStarted): "_on_start",
    (IDLE, CallerHungUp): "_on_hangup",
    (PROMPT, PromptFinished): "_on_prompt_finished",
    (PROMPT, DtmfReceived): "_on_prompt_digit",
    (PROMPT, CallerHungUp): "_on_hangup",
    (INPUT, DtmfReceived): "_on_input_digit",
    (INPUT, TimerExpired): "_on_input_timer",
    (INPUT, CallerHungUp): "_on_hangup",
    (LOOKUP, LookupResult): "_on_lookup_result",
    (LOOKUP, TimerExpired): "_on_lookup_timer",
    (LOOKUP, DtmfReceived): "_on_typeahead_digit",
    (LOOKUP, CallerHungUp): "_on_hangup",
    (RECORD, MessageRecorded): "_on_recorded",
    (RECORD, TimerExpired): "_on_record_timer",
    (RECORD, CallerHungUp): "_on_hangup_while_recording",
}

_INPUT_NODES = (MenuNode, CollectNode, LanguageNode, CallbackNode)
_KEYS = set("0123456789*#")


class IvrSession:
    def __init__(self, tree: Tree, call_info: CallInfo | Mapping[str, Any], now: float, *,
                 session_id: str | None = None) -> None:
        info = call_info if isinstance(call_info, CallInfo) else CallInfo(**dict(call_info))
        self.tree = tree
        self.info = info
        self.id = session_id or info.call_id or f"ivr-{info.dnis}-{now:.3f}"
        self.language = info.language if info.language in tree.languages \
            else tree.default_language
        self.tenant = info.tenant or tree.tenant
        self.created_at = now
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.variables: dict[str, Any] = {
            "ANI": info.ani, "DNIS": info.dnis, "tenant": self.tenant, "language": self.language,
            "tree": tree.name,
        }
        self.phase = IDLE
        self.node: Node | None = None
        self._seq = 0
        self._play_id: str | None = None
        self._play_barge_in = False
        self._segments: list[Play] = []
        self._after: str = "main"          # what to do when the prompt ends
        self._timer: tuple[Hashable, ...] | None = None
        self._request_id: str | None = None
        self._attempts = 0
        self._buffer = ""
        self._typeahead: list[str] = []
        self._hops = 0
        self._served = False
        self._caller_gone = False
        self._result: str | None = None    # queued / transferred / message / callback
        self._outcome: str | None = None
        self._menu_path: list[str] = []
        self._collected: dict[str, str] = {}
        self._verified: dict[str, bool] = {}
        self._lookups: dict[str, Any] = {}
        self._visits: list[dict[str, Any]] = []
        self._inputs: list[dict[str, Any]] = []
        self._lookup_log: list[dict[str, Any]] = []
        self._warnings: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ public API

    def start(self, now: float) -> list[Action]:
        return self.handle(CallStarted(), now)

    def handle(self, event: Event, now: float) -> list[Action]:
        out: list[Action] = []
        self._hops = 0
        handler = TRANSITIONS.get((self.phase, type(event)))
        if handler is None:
            out.append(Trace("ignored", self._node_id(), now,
                             {"event": type(event).__name__, "phase": self.phase}))
            return out
        getattr(self, handler)(event, now, out)
        return out

    @property
    def ended(self) -> bool:
        return self.phase == ENDED

    @property
    def outcome(self) -> str | None:
        return self._outcome

    def trace(self) -> dict[str, Any]:
        """Everything stats and audit need; collected values are masked."""
        return {
            "session": self.id, "tree": self.tree.name, "tenant": self.tenant,
            "ani": self.info.ani, "dnis": self.info.dnis, "language": self.language,
            "started_at": self.started_at, "ended_at": self.ended_at,
            "outcome": self._outcome, "last_node": self._visits[-1]["node"] if self._visits
            else None,
            "nodes": [dict(v) for v in self._visits],
            "inputs": [dict(i) for i in self._inputs],
            "lookups": [dict(x) for x in self._lookup_log],
            "menu_path": list(self._menu_path),
            "warnings": [dict(w) for w in self._warnings],
        }

    def agent_data(self) -> dict[str, Any]:
        """What travels with the contact to the agent (``Enqueue.data``)."""
        checked = [v for v in self._verified.values()]
        return {
            "ivr_session": self.id, "tree": self.tree.name, "tenant": self.tenant,
            "ani": self.info.ani, "dnis": self.info.dnis, "language": self.language,
            "menu_path": list(self._menu_path),
            "collected": dict(self._collected),
            "verified": bool(checked) and all(checked),
            "lookups": {k: v for k, v in self._lookups.items()},
        }

    # ------------------------------------------------------------------ helpers

    def _node_id(self) -> str | None:
        return self.node.id if self.node else None

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{self.id}:{prefix}{self._seq}"

    def _set_phase(self, phase: str, now: float, out: list[Action]) -> None:
        """The one place the phase changes (so it can be watched from one place)."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        self.phase = phase

    def _warn(self, message: str, now: float, out: list[Action]) -> None:
        self._warnings.append({"node": self._node_id(), "at": now, "message": message})
        out.append(Trace("warning", self._node_id(), now, {"message": message}))

    def _start_timer(self, kind: str, at: float, out: list[Action]) -> None:
        self._cancel_timer(out)
        self._seq += 1
        self._timer = ("ivr", self.id, kind, self._seq)
        out.append(StartTimer(self._timer, at))

    def _cancel_timer(self, out: list[Action]) -> None:
        if self._timer is not None:
            out.append(CancelTimer(self._timer))
            self._timer = None

    def _render(self, value: Any, now: float, out: list[Action]) -> Any:
        missing: list[str] = []
        result = render(value, self.variables, missing)
        for path in missing:
            self._warn(f"variable '{path}' has no value", now, out)
        return result

    # ------------------------------------------------------------------ prompts

    def _play(self, specs: list[PromptSpec | None], after: str, barge_in: bool, now: float,
              out: list[Action]) -> None:
        """Play the prompts, then continue with ``after`` (see ``_on_prompt_done``)."""
        rendered = render_prompts(specs, self.variables, self.language, self.tree.library)
        for w in rendered.warnings:
            self._warn(w, now, out)
        self._after = after
        self._play_barge_in = barge_in
        self._segments = [Play(self._next_id("p"), seg.files, barge_in, seg.text,
                               self.language if seg.text is not None else None)
                          for seg in rendered.segments]
        if not self._segments:
            self._on_prompt_done(now, out)
            return
        self._set_phase(PROMPT, now, out)
        self._play_next(out)

    def _play_next(self, out: list[Action]) -> None:
        play = self._segments.pop(0)
        self._play_id = play.play_id
        out.append(play)

    def _stop_prompt(self, out: list[Action]) -> None:
        if self._play_id is not None:
            out.append(StopPlayback(self._play_id))
        self._play_id = None
        self._segments = []

    def _on_prompt_finished(self, ev: PromptFinished, now: float, out: list[Action]) -> None:
        if ev.play_id != self._play_id:
            out.append(Trace("ignored", self._node_id(), now, {"event": "PromptFinished",
                                                               "play_id": ev.play_id}))
            return
        if self._segments:
            self._play_next(out)
            return
        self._play_id = None
        self._on_prompt_done(now, out)

    def _on_prompt_done(self, now: float, out: list[Action]) -> None:
        after, node = self._after, self.node
        assert node is not None
        if after == "main":
            self._main(node, now, out)
        elif after == "input":
            self._wait_input(node, now, out)
        elif after == "callback_done":
            self._leave(node, getattr(node, "next", None), now, out)
        elif after == "failure":
            self._fail(node, now, out)
        else:  # "end"
            out.append(HangUp())
            self._finish(now, out)

    def _on_prompt_digit(self, ev: DtmfReceived, now: float, out: list[Action]) -> None:
        node = self.node
        if not self._play_barge_in or ev.digit not in _KEYS:
            out.append(Trace("ignored", self._node_id(), now, {"event": "DtmfReceived",
                                                               "reason": "no barge-in"}))
            return
        self._stop_prompt(out)
        out.append(Trace("barge_in", self._node_id(), now, {}))
        if self._after in ("main", "input") and isinstance(node, _INPUT_NODES):
            self._wait_input(node, now, out)
            self._input_digit(ev.digit, now, out)
        elif isinstance(node, SayNode):
            self._typeahead.append(ev.digit)
            self._main(node, now, out)
        else:
            self._on_prompt_done(now, out)

    def _on_typeahead_digit(self, ev: DtmfReceived, now: float, out: list[Action]) -> None:
        if ev.digit in _KEYS:
            self._typeahead.append(ev.digit)

    # ------------------------------------------------------------------ node entry

    def _on_start(self, ev: CallStarted, now: float, out: list[Action]) -> None:
        self.started_at = now
        out.append(Trace("start", None, now, {"tree": self.tree.name, "tenant": self.tenant,
                                              "language": self.language}))
        self._goto(self.tree.entry, now, out)

    def _goto(self, node_id: str, now: float, out: list[Action]) -> None:
        self._hops += 1
        if self._hops > MAX_HOPS:
            self._warn("too many node changes without caller input; hanging up", now, out)
            out.append(HangUp())
            self._finish(now, out)
            return
        node = self.tree.nodes[node_id]
        self.node = node
        self._cancel_timer(out)
        self._attempts = 0
        self._buffer = ""
        self._visits.append({"node": node.id, "kind": node.kind, "at": now})
        out.append(Trace("node", node.id, now, {"kind": node.kind}))

        if isinstance(node, BranchNode):
            for case in node.cases:
                if evaluate(case.when, self.variables, self.tree.calendars, now):
                    self._goto(case.goto, now, out)
                    return
            self._goto(node.default, now, out)
        elif isinstance(node, LanguageNode) and node.set:
            self._set_language(node.set, now, out)
            if node.prompt is not None:
                self._play([node.prompt], "callback_done", node.barge_in, now, out)
            else:
                self._goto(node.next, now, out)
        elif isinstance(node, LookupNode):
            self._lookup(node, now, out)
        elif isinstance(node, CallbackNode) and not self._render(node.number, now, out):
            self._warn("no number to call back (ANI withheld?)", now, out)
            self._goto(node.on_decline, now, out)
        elif isinstance(node, _INPUT_NODES):
            if isinstance(node, CollectNode):
                out.append(CollectDigits(self._next_id("c"), node.min_digits, node.max_digits,
                                         node.terminator, node.timeout, node.inter_digit_timeout))
            if self._typeahead and node.barge_in:
                digits, self._typeahead = self._typeahead, []
                self._wait_input(node, now, out)
                for d in digits:
                    if self.phase != INPUT or self.node is not node:
                        break
                    self._input_digit(d, now, out)
            else:
                self._typeahead = []
                self._play([node.prompt], "main", node.barge_in, now, out)
        else:
            self._play([node.prompt], "main", node.barge_in, now, out)

    def _main(self, node: Node, now: float, out: list[Action]) -> None:
        """A node's own work, after its prompt."""
        if node.served:
            self._served = True
        if isinstance(node, SayNode):
            self._leave(node, node.next, now, out)
        elif isinstance(node, _INPUT_NODES):
            self._wait_input(node, now, out)
        elif isinstance(node, QueueNode):
            self._enqueue(node, now, out)
        elif isinstance(node, TransferNode):
            number = str(self._render(node.number, now, out))
            out.append(Transfer(number))
            self._result = Outcome.TRANSFERRED
            self._finish(now, out)
        elif isinstance(node, MessageNode):
            self._record(node, now, out)
        elif isinstance(node, HangupNode):
            out.append(HangUp())
            self._finish(now, out)
        else:  # LanguageNode with set + prompt is handled by "callback_done"
            raise TypeError(f"no main step for a {node.kind} node")

    def _leave(self, node: Node, target: str | None, now: float, out: list[Action]) -> None:
        if target:
            self._goto(target, now, out)
        else:
            out.append(HangUp())
            self._finish(now, out)

    # ------------------------------------------------------------------ input nodes

    def _wait_input(self, node: Node, now: float, out: list[Action]) -> None:
        self._set_phase(INPUT, now, out)
        timeout = getattr(node, "timeout", 5.0)
        self._start_timer("input", now + timeout, out)

    def _on_input_digit(self, ev: DtmfReceived, now: float, out: list[Action]) -> None:
        if ev.digit in _KEYS:
            self._input_digit(ev.digit, now, out)

    def _input_digit(self, digit: str, now: float, out: list[Action]) -> None:
        node = self.node
        if isinstance(node, CollectNode):
            self._collect_digit(node, digit, now, out)
            return
        self._cancel_timer(out)
        if isinstance(node, MenuNode):
            target = node.options.get(digit)
            self._log_input(node, digit, target is not None, now, out)
            if target is None:
                self._retry(node, "invalid", now, out)
                return
            self._menu_path.append(f"{node.id}:{digit}")
            self._goto(target, now, out)
        elif isinstance(node, LanguageNode):
            lang = node.options.get(digit)
            self._log_input(node, digit, lang is not None, now, out)
            if lang is None:
                self._retry(node, "invalid", now, out)
                return
            self._set_language(lang, now, out)
            self._goto(node.next, now, out)
        elif isinstance(node, CallbackNode):
            valid = digit in (node.accept_digit, node.decline_digit)
            self._log_input(node, digit, valid, now, out)
            if not valid:
                self._retry(node, "invalid", now, out)
            elif digit == node.decline_digit:
                self._goto(node.on_decline, now, out)
            else:
                self._offer_callback(node, now, out)

    def _collect_digit(self, node: CollectNode, digit: str, now: float,
                       out: list[Action]) -> None:
        if digit == node.terminator:
            self._cancel_timer(out)
            self._collect_done(node, now, out)
        elif digit.isdigit():
            self._buffer += digit
            if len(self._buffer) >= node.max_digits:
                self._cancel_timer(out)
                self._collect_done(node, now, out)
            else:
                self._start_timer("input", now + node.inter_digit_timeout, out)
        else:
            self._cancel_timer(out)
            self._log_input(node, self._buffer + digit, False, now, out)
            self._retry(node, "invalid", now, out)

    def _collect_done(self, node: CollectNode, now: float, out: list[Action]) -> None:
        value = self._buffer
        self._buffer = ""
        ok = node.min_digits <= len(value) <= node.max_digits and check(node.validator, value)
        self._log_input(node, value, ok, now, out)
        if not ok:
            self._retry(node, "invalid", now, out)
            return
        self.variables[node.var] = value
        self.variables[f"{node.var}_verified"] = node.validator != "none"
        self._collected[node.var] = value
        if node.validator != "none":
            self._verified[node.var] = True
        self._goto(node.next, now, out)

    def _on_input_timer(self, ev: TimerExpired, now: float, out: list[Action]) -> None:
        if ev.key != self._timer:
            out.append(Trace("ignored", self._node_id(), now, {"event": "TimerExpired"}))
            return
        self._timer = None
        node = self.node
        if isinstance(node, CollectNode) and self._buffer:
            self._collect_done(node, now, out)   # no terminator pressed: take what we have
            return
        assert node is not None
        self._inputs.append({"node": node.id, "kind": node.kind, "value": None, "valid": False,
                             "reason": "timeout", "at": now})
        self._retry(node, "timeout", now, out)

    def _retry(self, node: Node, reason: str, now: float, out: list[Action]) -> None:
        self._attempts += 1
        self._buffer = ""
        retries = getattr(node, "retries", 0)
        out.append(Trace(reason, node.id, now, {"attempt": self._attempts, "retries": retries}))
        extra = getattr(node, "invalid_prompt" if reason == "invalid" else "timeout_prompt", None)
        if self._attempts > retries:
            if extra is not None:
                self._play([extra], "failure", False, now, out)
            else:
                self._fail(node, now, out)
            return
        self._play([extra, node.prompt], "input", getattr(node, "barge_in", True), now, out)

    def _fail(self, node: Node, now: float, out: list[Action]) -> None:
        target = getattr(node, "on_failure", None)
        if isinstance(node, LanguageNode):
            target = target or node.next   # keep the current language and go on
        out.append(Trace("failure", node.id, now, {"goto": target}))
        self._leave(node, target, now, out)

    def _log_input(self, node: Node, value: str, valid: bool, now: float,
                   out: list[Action]) -> None:
        shown = mask(value, node.mask) if isinstance(node, CollectNode) else value
        self._inputs.append({"node": node.id, "kind": node.kind, "value": shown, "valid": valid,
                             "at": now})
        out.append(Trace("input", node.id, now, {"value": shown, "valid": valid}))

    def _set_language(self, lang: str, now: float, out: list[Action]) -> None:
        self.language = lang
        self.variables["language"] = lang
        out.append(Trace("language", self._node_id(), now, {"language": lang}))

    # ------------------------------------------------------------------ lookups

    def _lookup(self, node: LookupNode, now: float, out: list[Action]) -> None:
        params = {k: self._render(v, now, out) for k, v in node.params.items()}
        self._request_id = self._next_id("q")
        out.append(Lookup(self._request_id, node.query, params))
        self._set_phase(LOOKUP, now, out)
        self._start_timer("lookup", now + node.timeout, out)

    def _on_lookup_result(self, ev: LookupResult, now: float, out: list[Action]) -> None:
        node = self.node
        if ev.request_id != self._request_id or not isinstance(node, LookupNode):
            out.append(Trace("ignored", self._node_id(), now, {"event": "LookupResult",
                                                               "request_id": ev.request_id}))
            return
        self._cancel_timer(out)
        self._request_id = None
        if ev.error is None and ev.data is not None:
            data = dict(ev.data)
            self.variables[node.into] = data
            self.variables.pop(f"{node.into}_error", None)
            self._lookups[node.into] = data
            self._lookup_log.append({"node": node.id, "query": node.query, "ok": True,
                                     "at": now})
            out.append(Trace("lookup", node.id, now, {"ok": True}))
            self._goto(node.next, now, out)
        else:
            self._lookup_failed(node, ev.error or "not_found", now, out)

    def _on_lookup_timer(self, ev: TimerExpired, now: float, out: list[Action]) -> None:
        node = self.node
        if ev.key != self._timer or not isinstance(node, LookupNode):
            out.append(Trace("ignored", self._node_id(), now, {"event": "TimerExpired"}))
            return
        self._timer = None
        self._request_id = None
        self._lookup_failed(node, "timeout", now, out)

    def _lookup_failed(self, node: LookupNode, error: str, now: float,
                       out: list[Action]) -> None:
        self.variables.pop(node.into, None)
        self.variables[f"{node.into}_error"] = error
        self._lookups[node.into] = None
        self._lookup_log.append({"node": node.id, "query": node.query, "ok": False,
                                 "error": error, "at": now})
        out.append(Trace("lookup", node.id, now, {"ok": False, "error": error}))
        self._goto(node.on_error, now, out)

    # ------------------------------------------------------------------ routing results

    def _priority(self, spec: Any, now: float, out: list[Action]) -> int:
        if isinstance(spec, PriorityRule):
            value = lookup(self.variables, spec.var)
            return spec.mapping.get(str(value), spec.default) if value is not MISSING \
                else spec.default
        value = self._render(spec, now, out)
        try:
            return int(value)
        except (TypeError, ValueError):
            self._warn(f"priority {value!r} is not an integer; using 0", now, out)
            return 0

    def _skills(self, skills: Mapping[str, int], now: float, out: list[Action]) -> dict[str, int]:
        rendered = {str(self._render(k, now, out)): v for k, v in skills.items()}
        return {k: v for k, v in rendered.items() if k}

    def _route(self, node: QueueNode | CallbackNode | MessageNode, now: float,
               out: list[Action]) -> tuple[str, dict[str, int], int]:
        return (str(self._render(node.queue, now, out)), self._skills(node.skills, now, out),
                self._priority(node.priority, now, out))

    def _enqueue(self, node: QueueNode, now: float, out: list[Action]) -> None:
        queue, skills, priority = self._route(node, now, out)
        data = self.agent_data()
        data.update({k: self._render(v, now, out) for k, v in node.data.items()})
        out.append(Enqueue(queue, skills, priority, data))
        self._result = Outcome.QUEUED
        self._finish(now, out)

    def _offer_callback(self, node: CallbackNode, now: float, out: list[Action]) -> None:
        queue, skills, priority = self._route(node, now, out)
        number = str(self._render(node.number, now, out))
        arrival = self.started_at if self.started_at is not None else now
        out.append(OfferCallback(queue, number, arrival, skills, priority, self.agent_data()))
        self._result = Outcome.CALLBACK
        if node.confirm_prompt is not None:
            self._play([node.confirm_prompt], "callback_done", False, now, out)
        else:
            self._leave(node, node.next, now, out)

    def _record(self, node: MessageNode, now: float, out: list[Action]) -> None:
        out.append(RecordMessage(self._next_id("r"), node.max_seconds, node.beep))
        self._set_phase(RECORD, now, out)
        self._start_timer("record", now + node.max_seconds + RECORD_GRACE_S, out)

    def _on_recorded(self, ev: MessageRecorded, now: float, out: list[Action]) -> None:
        node = self.node
        assert isinstance(node, MessageNode)
        self._cancel_timer(out)
        if ev.duration >= node.min_seconds and ev.path:
            queue, skills, priority = self._route(node, now, out)
            data = self.agent_data()
            data.update({"recording": ev.path, "duration": ev.duration})
            out.append(Enqueue(queue, skills, priority, data, channel="message"))
            self._result = Outcome.MESSAGE
            out.append(Trace("message", node.id, now, {"duration": ev.duration}))
            target = node.next
        else:
            out.append(Trace("message", node.id, now, {"duration": ev.duration, "empty": True}))
            target = node.on_empty or node.next
        if self._caller_gone:
            self._finish(now, out)
        else:
            self._leave(node, target, now, out)

    def _on_record_timer(self, ev: TimerExpired, now: float, out: list[Action]) -> None:
        if ev.key != self._timer:
            out.append(Trace("ignored", self._node_id(), now, {"event": "TimerExpired"}))
            return
        self._timer = None
        self._warn("no MessageRecorded in time; treating the message as empty", now, out)
        self._on_recorded(MessageRecorded("", 0.0), now, out)

    def _on_hangup_while_recording(self, ev: CallerHungUp, now: float,
                                   out: list[Action]) -> None:
        # Hanging up is how most callers end a message: keep waiting for the file.
        self._caller_gone = True
        out.append(Trace("caller_hung_up", self._node_id(), now, {"recording": True}))

    # ------------------------------------------------------------------ the end

    def _on_hangup(self, ev: CallerHungUp, now: float, out: list[Action]) -> None:
        self._caller_gone = True
        out.append(Trace("caller_hung_up", self._node_id(), now, {}))
        self._finish(now, out)

    def _finish(self, now: float, out: list[Action]) -> None:
        if self.phase == ENDED:
            return
        self._cancel_timer(out)
        self._segments = []
        self._play_id = None
        self._set_phase(ENDED, now, out)
        self.ended_at = now
        if self._result is not None:
            self._outcome = self._result
        elif self._served:
            self._outcome = Outcome.SELF_SERVED
        elif self._caller_gone:
            self._outcome = Outcome.ABANDONED
        else:
            self._outcome = Outcome.HUNG_UP
        out.append(Trace("outcome", self._node_id(), now, {"outcome": self._outcome}))


SessionFactory = Callable[[Tree, CallInfo, float], IvrSession]
