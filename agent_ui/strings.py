"""Strings the JavaScript shows, through the Babel catalogue.

The page carries ``js_strings(gettext)`` as a JSON block; ``t(key)`` in
``static/common.js`` looks a key up there. Keys are the English text, except for the
enumerations (``state.ready``, ``channel.chat``...), whose keys are the API's values.
``pybabel extract`` finds every ``_("...")`` below (see docs/ui.md); a JavaScript string
missing here shows in English, and the catalogue test fails.
"""

from __future__ import annotations

from collections.abc import Callable


def _plain(_: Callable[[str], str]) -> list[str]:
    return [
        _("(no locations)"), _("(none)"), _("Agent desktop"), _("All queues"),
        _("Calling {number}…"), _("Channel"), _("Collected by the IVR"), _("Customer ID"),
        _("Customer"), _("Delete {id}?"), _("Delete"), _("Deleted {id}."), _("Disposition"),
        _("E-mail"), _("Edit"),
        _("Enter a SIP address such as sip:1001@pbx.example.com."),
        _("Enter a number or colleague to transfer to."),
        _("Enter a phone number such as +886212345678."), _("Error"), _("Force not ready"),
        _("IVR tree {name}"), _("Live"), _("Log out"), _("Message from {name}"),
        _("Microphone access was denied. Allow the microphone for this site in the "
          "browser's settings, then reload the page."),
        _("Microphone {n}"), _("New {channel} contact"), _("No earlier contacts."),
        _("No microphone was found. Connect one and choose it below."),
        _("Not-ready reason"), _("Not-ready reasons saved."), _("Notes"),
        _("Offer withdrawn: {reason}"), _("Outcome"), _("Phone"), _("Queue"), _("Read chat"),
        _("Reading live chats needs the chat service, which is not available on this "
          "server."),
        _("Recent contacts"), _("Reconnecting…"), _("Saved {id}."),
        _("Security check failed. Reload the page."), _("Segment"),
        _("Some fields are not valid."), _("Speaker {n}"),
        _("That is not possible in the current state."),
        _("The device must be a sip: address, a phone number or the browser."),
        _("The microphone could not be opened: {error}"),
        _("The microphone is in use by another program."),
        _("The server cannot be reached."), _("The speaker could not be selected."),
        _("The tree file is missing."),
        _("This browser cannot use a microphone here (a secure connection is needed)."),
        _("This offer is no longer yours."), _("This tenant's numbers use no IVR tree."),
        _("Today by interval"), _("Transferred by {agent}"), _("Transferred."),
        _("Unknown customer"), _("Unknown disposition code."), _("Unknown location."),
        _("Unknown not-ready reason."), _("Value tier"),
        _("Voice coaching (monitor, whisper, barge) is not available on this server."),
        _("Voice is not available on this server: call controls are disabled."),
        _("Waiting since"), _("When"), _("Wrap-up extended by 30 seconds."),
        _("Wrap-up saved."), _("Write overflow as after_s:action[:target]"),
        _("Write skills as skill:level, e.g. sales:7"), _("You are not allowed to do this."),
        _("You → {name}"), _("anyone in the queue"), _("cancelled"), _("default"),
        _("ends in {time}"), _("none"), _("not answered in time"), _("the customer left"),
        _("updated {time}"), _("you logged out"), _("{agent} is now not ready."),
        _("{name} has no desktop open; the message was not delivered."), _("{n} s"),
        _("{pct} in {secs}"), _("— choose —"), _("Offered"), _("Handled"), _("Abandoned"),
        _("A consultation goes to a colleague or a number."),
    ]


def js_strings(_: Callable[[str], str]) -> dict[str, str]:
    """Key -> text in the language of ``_`` (a gettext)."""
    out = dict(zip(_plain(str), _plain(_)))
    out.update({
        "state.ready": _("Ready"), "state.not_ready": _("Not ready"),
        "state.logged_out": _("Logged out"), "state.busy": _("Busy"),
        "state.wrap_up": _("Wrap-up"), "state.offered": _("Ringing"),
        "state.queued": _("Queued"), "state.connected": _("Connected"),
        "state.ended": _("Ended"),
        "channel.voice": _("Voice"), "channel.webrtc": _("Web call"),
        "channel.callback": _("Callback"), "channel.chat": _("Chat"),
        "channel.cobrowse": _("Co-browse"), "channel.email": _("E-mail"),
        "channel.sms": _("SMS"), "channel.fax": _("Fax"), "channel.message": _("Message"),
        "media.voice": _("Voice"), "media.chat": _("Chat"), "media.email": _("E-mail"),
        "media.sms": _("SMS"),
        "outcome.answered": _("Answered"), "outcome.abandoned": _("Abandoned"),
        "outcome.timed_out": _("Timed out"), "outcome.overflowed": _("Overflowed"),
        "outcome.callback": _("Callback"), "outcome.cancelled": _("Cancelled"),
        "outcome.lost_on_crash": _("Lost on crash"),
        "strategy.longest-idle": _("Longest idle"), "strategy.most-skilled": _("Most skilled"),
        "strategy.least-occupied": _("Least occupied"),
        "strategy.round-robin": _("Round robin"),
        "coach.monitor": _("Monitor"), "coach.whisper": _("Whisper"), "coach.barge": _("Barge"),
        # the default not-ready reasons of a new tenant (others show as written)
        "reason.break": _("Break"), "reason.lunch": _("Lunch"), "reason.meeting": _("Meeting"),
        "reason.training": _("Training"), "reason.no answer": _("No answer"),
    })
    return out
