"""pjsua2 objects a media worker creates: the endpoint, players, tones, recorders.

Kept apart from :mod:`.media` (which owns legs and decides what connects to what) because
these are construction recipes with pjsua2's sharp edges written down once: the threading
configuration pjsua2 needs under Python, the null sound device, the player whose
end-of-file callback may run on a media thread, and error translation into
:class:`MediaError` codes the protocol documents.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pjsua2 as pj

log = logging.getLogger(__name__)

CLOCK_RATE = 16000              # the conference bridge's rate; tones and WAVs use it


class MediaError(Exception):
    """A primitive failed; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def pj_message(exc: Exception) -> str:
    """The text of a pjsua2 ``Error`` (its ``info()``), or of any other exception."""
    info = getattr(exc, "info", None)
    try:
        return str(info()) if callable(info) else str(exc)
    except Exception:  # noqa: BLE001 - a broken SWIG error must not hide the original
        return repr(exc)


def create_endpoint(worker_id: str, sip_port: int, host: str, tcp: bool, max_legs: int,
                    owner: Any) -> tuple[Any, list[str]]:
    """A started pjsua2 endpoint listening on ``host:sip_port``; returns (ep, transports).

    ``owner.ep`` is set as soon as the endpoint exists: if a later step fails (port in
    use), a dropped Endpoint's destructor would run pjsua_destroy with its fixed
    one-second wait, and the worker is about to exit anyway.
    """
    ep = pj.Endpoint()
    owner.ep = ep
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0              # no pjsua2 threads: we poll libHandleEvents
    cfg.uaConfig.mainThreadOnly = True      # callbacks only ever on the polling thread
    cfg.uaConfig.maxCalls = max_legs
    cfg.uaConfig.userAgent = f"ipcc-media/{worker_id}"
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    cfg.medConfig.clockRate = CLOCK_RATE
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = sip_port
    tcfg.boundAddress = host
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    transports = ["udp"]
    if tcp:
        try:
            ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, tcfg)
            transports.append("tcp")
        except pj.Error as exc:  # TCP is a convenience; UDP is what trunks use
            log.warning("worker %s: no TCP transport: %s", worker_id, pj_message(exc))
    ep.libStart()
    ep.audDevManager().setNullDev()         # no sound card: the bridge runs on a timer
    return ep, transports


class FilePlayer(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A WAV player whose end-of-file only sets a flag.

    pjmedia may call ``onEof2`` from a media thread; the worker's poll reads the flag
    and ends the play on its own thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self.eof = False

    def onEof2(self) -> None:
        self.eof = True


def file_player(path: str, loop: bool) -> FilePlayer:
    if not os.path.isfile(path):
        raise MediaError("no_such_file", f"no file {path}")
    player = FilePlayer()
    try:
        player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
    except pj.Error as exc:
        raise MediaError("bad_media", f"{path}: {pj_message(exc)}") from None
    return player


def tone_port(freqs: list[int], on_ms: int, off_ms: int, loop: bool) -> Any:
    """A tone generator already playing ``freqs`` (1 or 2 Hz values, summed)."""
    if not 1 <= len(freqs) <= 2 or any(not isinstance(f, int) or isinstance(f, bool)
                                       or not 20 <= f <= CLOCK_RATE // 2 - 100
                                       for f in freqs):
        raise MediaError("bad_args", "tone is a list of 1-2 frequencies in 20..7900 Hz")
    if on_ms <= 0 or off_ms < 0:
        raise MediaError("bad_args", "on_ms must be > 0 and off_ms >= 0")
    tg = pj.ToneGenerator()
    tg.createToneGenerator(CLOCK_RATE, 1)
    td = pj.ToneDesc()
    td.freq1 = freqs[0]
    td.freq2 = freqs[1] if len(freqs) > 1 else 0
    td.on_msec = on_ms
    td.off_msec = off_ms
    tv = pj.ToneDescVector()
    tv.append(td)
    tg.play(tv, loop)
    return tg


def recorder(path: str) -> Any:
    """A WAV recorder (16 kHz mono); its header sizes are written when it is destroyed."""
    if not path.lower().endswith(".wav"):
        raise MediaError("bad_args", "recordings are WAV files (path must end in .wav)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise MediaError("no_such_file", f"no directory {parent}")
    rec = pj.AudioMediaRecorder()
    try:
        rec.createRecorder(path)
    except pj.Error as exc:
        raise MediaError("bad_media", f"{path}: {pj_message(exc)}") from None
    return rec
