"""Write the alert sounds, resources/sounds/warning.wav and danger.wav: `.venv/bin/python packaging/make_sounds.py`.

The WAVs are committed (the window plays them with the system's player, desktop/platform/alert_sound.py);
this script makes them again, byte for byte, with the standard library only. Each is 0.4 s of 16-bit mono
PCM at 44.1 kHz, sine tones at PEAK of full scale (about -10 dBFS: heard, not startling) with a 5 ms fade in
and out of every tone so that nothing clicks:

- warning: two rising notes, A5 then E6 (880 Hz, 1318.5 Hz), 0.2 s each: a chime;
- danger (also played for liquidated): four short alternating notes, B5 and F#5 (987.8 Hz, 740 Hz), 0.1 s each.
"""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
from pathlib import Path

SOUNDS = Path(__file__).resolve().parents[1] / "resources" / "sounds"
RATE = 44_100
"""Samples per second."""
PEAK = 0.3
"""The tones' amplitude as a fraction of full scale."""
FADE = 0.005
"""Seconds of linear fade in and out of each tone."""
TONES: dict[str, tuple[tuple[float, float], ...]] = {
    "warning": ((880.0, 0.2), (1318.5, 0.2)),
    "danger": ((987.8, 0.1), (740.0, 0.1), (987.8, 0.1), (740.0, 0.1)),
}
"""Each sound's notes: (frequency in Hz, duration in seconds), played one after the other."""


def samples(name: str) -> list[int]:
    """The sound's 16-bit samples (signed integers within ±PEAK of 32767). Raises KeyError for an unknown name."""
    out: list[int] = []
    for frequency, seconds in TONES[name]:
        count = round(seconds * RATE)
        fade = round(FADE * RATE)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - 1 - i) / fade)
            out.append(round(PEAK * 32767 * envelope * math.sin(2 * math.pi * frequency * i / RATE)))
    return out


def wav_bytes(name: str) -> bytes:
    """The complete WAV file of the sound (RIFF header included)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        values = samples(name)
        out.writeframes(struct.pack(f"<{len(values)}h", *values))
    return buffer.getvalue()


def main() -> int:
    SOUNDS.mkdir(parents=True, exist_ok=True)
    for name in TONES:
        target = SOUNDS / f"{name}.wav"
        target.write_bytes(wav_bytes(name))
        print(f"make_sounds: wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
