"""Text-to-speech for IVR ``say: {text: ...}`` segments, with espeak-ng.

Recorded prompt fragments cover what the demo trees say; free text (a customer's name, a
tenant's own sentence) needs a synthesizer. espeak-ng is small, offline and speaks
English and Mandarin; its 22.05 kHz output is converted to the bridge's 16 kHz mono
16-bit WAV. Results are cached by (language, text) so a greeting is synthesized once.
Where espeak-ng is not installed, :func:`available` is False and callers skip the segment
(and say so in the log) rather than failing the call.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import wave
from pathlib import Path

import numpy as np

VOICES = {"en": "en-us", "zh": "cmn", "zh-tw": "cmn", "zh-cn": "cmn"}
RATE = 16000
MAX_TEXT = 1000


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def voice_for(lang: str | None) -> str:
    key = (lang or "en").lower()
    return VOICES.get(key) or VOICES.get(key.split("-")[0], "en-us")


def _to_bridge_rate(src: Path, dest: Path) -> None:
    """Any mono 16-bit WAV -> 16 kHz mono 16-bit (linear interpolation is enough for
    narrowband telephone speech)."""
    with wave.open(str(src), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{src}: {8 * width}-bit samples, expected 16-bit")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    if rate != RATE and len(x):
        t_out = np.arange(int(len(x) * RATE / rate)) / RATE
        x = np.interp(t_out, np.arange(len(x)) / rate, x)
    tmp = dest.with_suffix(".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())
    tmp.replace(dest)  # readers never see a half-written prompt


async def synthesize(text: str, lang: str | None, cache_dir: Path,
                     timeout: float = 10.0) -> Path:
    """A 16 kHz WAV of ``text`` spoken in ``lang``; raises RuntimeError when it cannot."""
    text = " ".join(text.split())[:MAX_TEXT]
    if not text:
        raise RuntimeError("nothing to say")
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed")
    voice = voice_for(lang)
    digest = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:24]
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest = cache_dir / f"tts-{digest}.wav"
    if dest.exists():
        return dest
    raw = cache_dir / f"tts-{digest}.raw.wav"
    # the text goes on stdin, never on the command line: no option injection
    proc = await asyncio.create_subprocess_exec(
        exe, "-v", voice, "-w", str(raw), "--stdin",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(text.encode()), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError("espeak-ng timed out") from None
    if proc.returncode != 0 or not raw.exists():
        raise RuntimeError(f"espeak-ng failed: {err.decode(errors='replace').strip()[:200]}")
    try:
        await asyncio.to_thread(_to_bridge_rate, raw, dest)
    finally:
        raw.unlink(missing_ok=True)
    return dest
