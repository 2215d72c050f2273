"""Outbound dialing: pacing for manual, preview, progressive and predictive campaigns.

A sans-I/O core like the routing engine: :class:`Pacer` takes events with the current
time and returns decisions (dial, connect, play the abandon message, hang up, show a
preview, schedule a retry, audit)::

    pacer = Pacer(CampaignConfig(id="c1", company="Acme", callback_number="+1 555 0100",
                                 mode=Mode.PREDICTIVE))
    decisions = pacer.handle(AgentAvailable("a1"), now=clock())

Modules: ``model`` (configuration, leads, outcomes), ``events`` (inputs and decisions),
``states`` (call and agent transition tables), ``windows`` (calling windows in the lead's
local time), ``governor`` (rolling 24 h / 30 day abandonment and the risk target),
``forecast`` (observed ring, talk and wrap-up distributions), ``predictive`` (how many
lines to dial), ``pacer`` (the campaign), ``baseline`` (a VICIdial-style adaptive dialer
for comparison) and ``sim`` (a discrete-event simulator on a virtual clock).
"""

from .events import DialerError
from .governor import AbandonGovernor
from .model import (
    AnswerKind,
    BlendPolicy,
    CallingWindow,
    CampaignConfig,
    Lead,
    Mode,
    Outcome,
    PredictiveParams,
    RetryPolicy,
)
from .pacer import Pacer
from .windows import CallingPolicy

__all__ = [
    "AbandonGovernor", "AnswerKind", "BlendPolicy", "CallingPolicy", "CallingWindow",
    "CampaignConfig", "DialerError", "Lead", "Mode", "Outcome", "Pacer", "PredictiveParams",
    "RetryPolicy",
]
