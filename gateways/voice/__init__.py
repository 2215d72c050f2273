"""Voice calls end to end: the media worker pool joined to the routing server.

* :mod:`.gateway` -- :class:`~.gateway.VoiceGateway`, the server gateway (``add_gateway``);
* :mod:`.control` -- agent call control (hold, mute, DTMF, transfers, consult, conference,
  click-to-dial) behind ``/api/v1/calls``;
* :mod:`.ivr_driver` -- runs an IVR session on a call with worker primitives;
* sans-I/O helpers: :mod:`.callstate` (call phases, one table), :mod:`.cdr` (CDRs),
  :mod:`.dialplan` (DNIS and devices), :mod:`.announce` (hold music and announcements);
* :mod:`.chooser` -- the SIP front's chooser backed by the pool's slot ledger;
* :mod:`.lookups` -- answers to IVR look-ups from a JSON file.

Importing this package does not import pjsua2 (only worker processes do).
"""

from .gateway import VoiceError, VoiceGateway

__all__ = ["VoiceError", "VoiceGateway"]
