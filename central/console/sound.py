"""The console's alert sound, generated once in code: a two-tone chime, 16-bit mono WAV."""

from __future__ import annotations

import io
import wave
from functools import cache

import numpy as np

SAMPLE_RATE_HZ = 16_000
# Two tones a fourth apart, as a fire-station chime; 0.25 s each keeps the file at 16 kB.
TONES_HZ = (880.0, 660.0)
TONE_S = 0.25
# 50 ms fades avoid the click of a waveform cut mid-swing.
FADE_S = 0.05
AMPLITUDE = 0.5


@cache
def alert_wav() -> bytes:
    t = np.arange(int(SAMPLE_RATE_HZ * TONE_S)) / SAMPLE_RATE_HZ
    envelope = np.minimum(1.0, np.minimum(t, TONE_S - t) / FADE_S)
    tones = [np.sin(2 * np.pi * frequency * t) * envelope for frequency in TONES_HZ]
    samples = (np.concatenate(tones) * AMPLITUDE * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE_HZ)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
