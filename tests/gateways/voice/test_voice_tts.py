"""espeak-ng synthesis for IVR text segments: 16 kHz speech, cached, safe with odd text."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from gateways.voice import tts

pytestmark = pytest.mark.skipif(not tts.available(), reason="espeak-ng is not installed")


def _read(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return x, w.getframerate(), w.getnchannels()


async def test_english_and_mandarin_are_spoken_at_the_bridge_rate(tmp_path: Path) -> None:
    for text, lang in [("Hello Mei Lin, thank you for calling", "en"), ("您好，歡迎來電", "zh-TW")]:
        path = await tts.synthesize(text, lang, tmp_path)
        x, rate, channels = _read(path)
        assert rate == 16000 and channels == 1
        assert len(x) > rate // 2, "at least half a second of speech"
        assert np.sqrt(np.mean(x.astype(float) ** 2)) > 300, "not silence"


async def test_cached_by_language_and_text(tmp_path: Path) -> None:
    a = await tts.synthesize("Your balance is due", "en", tmp_path)
    mtime = a.stat().st_mtime_ns
    assert await tts.synthesize("Your  balance is\tdue", "en", tmp_path) == a
    assert a.stat().st_mtime_ns == mtime
    assert await tts.synthesize("Your balance is due", "zh", tmp_path) != a


async def test_text_that_looks_like_options_is_only_spoken(tmp_path: Path) -> None:
    path = await tts.synthesize("-w /etc/passwd --version", "en", tmp_path)
    assert path.parent == tmp_path and _read(path)[0].size > 0
    with pytest.raises(RuntimeError):
        await tts.synthesize("   ", "en", tmp_path)
