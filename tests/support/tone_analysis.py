"""Audio checks for media tests: read a (possibly unfinished) WAV, find its dominant tone.

A pjmedia recorder writes the WAV header sizes only when it is destroyed; a peer that was
killed leaves zeros there. :func:`read_wav` therefore reads the ``fmt `` chunk for the
format and takes everything after the ``data`` chunk header as samples.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ToneReport:
    peak_hz: float
    rms: float
    seconds: float


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono 16-bit samples (float64) and the sample rate."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    pos, rate, channels, bits = 12, 0, 1, 16
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        if cid == b"fmt ":
            _fmt, channels, rate = struct.unpack_from("<HHI", raw, pos + 8)
            bits = struct.unpack_from("<H", raw, pos + 22)[0]
        elif cid == b"data":
            data = raw[pos + 8:]
            if size and size <= len(data):
                data = data[:size]
            if bits != 16:
                raise ValueError(f"{path}: {bits}-bit audio not supported")
            usable = len(data) - len(data) % (2 * channels)
            samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float64)
            if channels > 1:
                samples = samples.reshape(-1, channels)[:, 0]
            return samples, rate
        pos += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


def analyse(path: str | Path, skip_seconds: float = 1.0) -> ToneReport:
    """Peak frequency (Hann-windowed FFT) and RMS of the audio after ``skip_seconds``."""
    samples, rate = read_wav(path)
    samples = samples[int(skip_seconds * rate):]
    if len(samples) < rate // 10:
        return ToneReport(0.0, 0.0, len(samples) / rate if rate else 0.0)
    rms = float(np.sqrt(np.mean(samples ** 2)))
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    spectrum[freqs < 50] = 0.0  # ignore DC and rumble
    return ToneReport(float(freqs[int(np.argmax(spectrum))]), rms, len(samples) / rate)


def write_tone_wav(path: str | Path, freq: float, seconds: float, rate: int = 16000,
                   amplitude: float = 0.4) -> Path:
    """A mono 16-bit sine WAV (a prompt whose content a test can recognise)."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return Path(path)


def band_share(path: str | Path, freq: float, width: float = 15.0,
               skip_seconds: float = 1.0) -> float:
    """Share of the spectrum's energy (above 50 Hz) within ``freq`` +- ``width`` Hz.

    For mixes: a leg that hears two parties shows both tones with a real share each,
    while a tone that is absent sits near the noise floor (well under 1%).
    """
    samples, rate = read_wav(path)
    samples = samples[int(skip_seconds * rate):]
    if len(samples) < rate // 10:
        return 0.0
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    power[freqs < 50] = 0.0
    total = float(power.sum())
    if total <= 0:
        return 0.0
    return float(power[np.abs(freqs - freq) <= width].sum() / total)
