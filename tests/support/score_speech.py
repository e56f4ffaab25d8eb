"""Objective scores of speech against a reference rendering of the same speech.

Usage: score_speech.py REFERENCE.wav TEST.wav [REFERENCE.wav TEST.wav ...]  → JSON on stdout, one
object per pair:

- `pesq_wb`: ITU-T P.862.2 wideband PESQ (the `pesq` package), both files resampled to 16 kHz.
  Identical audio scores 4.64.
- `mcd_db`: mel-cepstral distortion over the reference's active frames (within 40 dB of its loudest
  frame): the mel-cepstrum c1…c24 (c0, the level, left out) as the cosine transform of the log
  amplitude over 80 mel bands (1024-sample Hann frames every 256 samples),
  10/ln 10 · √(2 Σ Δc²), averaged.
- `pause_dbfs` / `reference_pause_dbfs`: the level (RMS, dB full scale) of both files over the
  reference's pauses — 20 ms frames more than 50 dB below its loudest frame — so the noise an
  approximation adds where the voice is silent is measured where it is heard.
- `segmental_snr_db`: mean over the active frames of the reference's power over the difference's,
  each frame's ratio held to −10…35 dB.

The two files of a pair must have the same rate and length (the same speech rendered twice).
"""

import json
import sys

import numpy as np
from pesq import pesq
from scipy.fft import dct
from scipy.io import wavfile
from scipy.signal import resample_poly

ACTIVE_DB = 40.0
PAUSE_DB = 50.0
N_FFT, HOP, MELS, CEPSTRA = 1024, 256, 80, 24


def read(path: str) -> tuple[np.ndarray, int]:
    rate, samples = wavfile.read(path)
    if samples.ndim != 1:
        sys.exit(f"{path}: expected mono, found {samples.shape[1]} channels")
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / 32768.0, rate
    return samples.astype(np.float64), rate


def frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    count = 1 + max(0, len(x) - size) // hop
    return np.stack([x[i * hop : i * hop + size] for i in range(count)])


def db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-20))


def mel_filterbank(rate: int) -> np.ndarray:
    hz_to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    mel_to_hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(rate / 2), MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / rate)
    bank = np.zeros((MELS, len(bins)))
    for m in range(MELS):
        lo, centre, hi = edges[m], edges[m + 1], edges[m + 2]
        bank[m] = np.clip(np.minimum((bins - lo) / (centre - lo), (hi - bins) / (hi - centre)), 0.0, None)
    return bank


def cepstra(x: np.ndarray, rate: int) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(frames(x, N_FFT, HOP) * np.hanning(N_FFT), axis=1)) ** 2
    log_mel = np.log(np.maximum(spectrum @ mel_filterbank(rate).T, 1e-10))
    # The cosine transform of the log amplitude (half the log power) over the bands, scaled as the
    # cepstrum's integral over 0…π, so c_n are the mel-cepstrum MCD's formula is written for.
    return dct(log_mel, type=2, axis=1)[:, 1 : CEPSTRA + 1] / (4.0 * MELS)


def score(reference_path: str, test_path: str) -> dict:
    reference, rate = read(reference_path)
    test, test_rate = read(test_path)
    if rate != test_rate or len(reference) != len(test):
        sys.exit(f"{reference_path} and {test_path} differ in rate or length")

    ref16, test16 = (resample_poly(s, 16000, rate) for s in (reference, test))
    pesq_wb = pesq(16000, ref16, test16, "wb")

    power = lambda x: np.mean(frames(x, N_FFT, HOP) ** 2, axis=1)  # noqa: E731
    level = db(power(reference))
    active = level > level.max() - ACTIVE_DB
    difference = cepstra(reference, rate) - cepstra(test, rate)
    mcd = (10.0 / np.log(10.0)) * np.sqrt(2.0 * np.sum(difference**2, axis=1))

    frame_snr = np.clip(level - db(power(reference - test)), -10.0, 35.0)

    short = int(0.02 * rate)
    ref_frames, test_frames = frames(reference, short, short), frames(test, short, short)
    short_level = db(np.mean(ref_frames**2, axis=1))
    pauses = short_level < short_level.max() - PAUSE_DB
    pause_level = lambda f: float(db(np.mean(f[pauses] ** 2))) if pauses.any() else None  # noqa: E731

    return {
        "reference": reference_path,
        "test": test_path,
        "seconds": len(reference) / rate,
        "pesq_wb": float(pesq_wb),
        "mcd_db": float(np.mean(mcd[active])),
        "segmental_snr_db": float(np.mean(frame_snr[active])),
        "pause_seconds": float(pauses.sum() * short / rate),
        "reference_pause_dbfs": pause_level(ref_frames),
        "pause_dbfs": pause_level(test_frames),
    }


def main() -> None:
    paths = sys.argv[1:]
    if not paths or len(paths) % 2:
        sys.exit(__doc__)
    print(json.dumps([score(paths[i], paths[i + 1]) for i in range(0, len(paths), 2)], indent=1))


if __name__ == "__main__":
    main()
