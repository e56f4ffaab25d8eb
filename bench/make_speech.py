#!/usr/bin/env python3
"""The benchmark's fixed speech file: espeak-ng sentences, looped to an exact length.

espeak-ng speaks a few sentences (22 050 Hz); they are resampled to 48 kHz with soxr (VHQ),
joined with 300 ms pauses, repeated until the file is exactly ``--seconds`` long and written as
16-bit mono WAV. The same espeak-ng version gives the same file every time.
"""

from __future__ import annotations

import argparse
import io
import subprocess
from pathlib import Path

import numpy as np
import soundfile
import soxr

RATE = 48_000
PAUSE_SECONDS = 0.3
SENTENCES = (
    "RVC Live turns the voice you speak into the voice you choose, while you speak.",
    "The quick brown fox jumps over the lazy dog, and the dog does not seem to mind.",
    "How much faster than real time can a small processor convert a whole voice?",
    "Seven singers sang sixty songs in the sunny square on Saturday afternoon.",
)


def speak(sentence: str) -> np.ndarray:
    """One sentence from espeak-ng, at 48 kHz, float32 mono."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", sentence], check=True, capture_output=True
    ).stdout
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return soxr.resample(audio.mean(axis=1), rate, RATE, quality="VHQ").astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    pause = np.zeros(round(PAUSE_SECONDS * RATE), dtype=np.float32)
    speech = np.concatenate([part for s in SENTENCES for part in (speak(s), pause)])
    total = round(args.seconds * RATE)
    audio = np.tile(speech, total // len(speech) + 1)[:total]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(args.output), np.clip(audio, -1.0, 1.0), RATE, subtype="PCM_16")
    print(f"{args.output}: {args.seconds:.1f} s of speech at {RATE} Hz")


if __name__ == "__main__":
    main()
