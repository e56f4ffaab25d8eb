"""RMVPE, RVC's pitch estimator, with seeded random weights, in the two ONNX forms found in the field.

The network is RVC's own `E2E` (U-Net + BiGRU, 360 bins of 20 cents) and the mel front end RVC's own
`MelSpectrogram`, both from `inferrvc/rmvpe.py` (MIT). RMVPE's pretrained `rmvpe.pt` exists only on a
model hub, so the weights here are random numbers; the interfaces, shapes and pre/post-processing
are the real ones:

* "mel" (RVC's `rmvpe.onnx`, the DirectML path of `infer/lib/rmvpe.py`): `mel f32 [1,128,T] ->
  hidden f32 [1,T,360]` (sigmoid salience). RVC pads the mel frames with zeros to a multiple of 32
  (the U-Net pools five times) and crops the salience back; here that padding is inside the graph,
  so any T works, and an input already padded by the caller (as RVC does) is passed through as is.
* "wave" (w-okada's `rmvpe_onnx`): `waveform f32 [1,N]` (16 kHz), `threshold f32 [1]` ->
  `pitchf f32 [1,T]` (Hz, 0 = unvoiced), T = N // 160 + 1 (N > 512). Inside: RVC's log-mel
  (reflect pad 512|512, periodic Hann 1024, hop 160, |STFT|, librosa's HTK mel basis 30-8000 Hz with
  Slaney norm, log(clamp(x, 1e-5))), the zero padding to 32 frames, the network, and RVC's
  `to_local_average_cents` + `decode` (salience-weighted cents over argmax +- 4 bins, zero-padded at
  the edges; unvoiced where the peak salience <= threshold; f0 = 10 * 2^(cents / 1200)).

`tiny` keeps the architecture and the fixed widths (128 mels in, BiGRU 384 -> 2 x 256, 360 bins) with
1 residual block per stage, 1 intermediate layer and 4 first-stage channels instead of 4, 4 and 16.
The last layer's bias is set so that the random salience peaks straddle RVC's 0.03 threshold: some
frames come out voiced, some unvoiced, and both paths of the decoder are exercised.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.machinery
import importlib.util
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

from .common import export_onnx, normal, set_dim

SAMPLE_RATE = 16000
HOP = 160
N_FFT = 1024
N_MELS = 128
BINS = 360
THRESHOLD = 0.03  # RVC's decode threshold
PAD_FRAMES = 32  # 2^5: the U-Net's five 2x2 poolings
# The last Linear's bias: with the random BiGRU features, salience peaks straddle RVC's 0.03.
SALIENCE_BIAS = -7.6
SALIENCE_GAIN = 1.5
RESIDUAL_GAIN = 0.3
# A log-mel is roughly -11.5 (silence, the 1e-5 clamp) to +3; the input BatchNorm's running
# statistics centre it, as trained ones would.
MEL_MEAN, MEL_VAR = -6.0, 16.0

_NAME = "rvc_inferrvc_rmvpe"


def rvc_rmvpe():
    """`inferrvc/rmvpe.py` as a module, loaded without running `inferrvc/__init__.py` (which imports
    faiss and fairseq)."""
    if f"{_NAME}.rmvpe" in sys.modules:
        return sys.modules[f"{_NAME}.rmvpe"]
    spec = importlib.util.find_spec("inferrvc")
    if spec is None or spec.origin is None:
        raise ImportError("inferrvc is not installed: pip install --no-deps -r models/requirements-torch.txt")
    pkg = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(_NAME, None, is_package=True))
    pkg.__path__ = [str(pathlib.Path(spec.origin).parent)]
    sys.modules[_NAME] = pkg
    return importlib.import_module(f"{_NAME}.rmvpe")


@dataclasses.dataclass(frozen=True)
class RmvpeConfig:
    size: str  # "full" | "tiny"

    @property
    def stem(self) -> str:
        return "rmvpe" if self.size == "full" else "rmvpe_tiny"

    @property
    def e2e_args(self) -> dict:
        # RVC builds E2E(4, 1, (2, 2)): n_blocks 4, one BiGRU layer, 2x2 pooling, 5 encoder/decoder
        # stages, 4 intermediate layers, 16 first-stage channels.
        if self.size == "full":
            return dict(n_blocks=4, n_gru=1, kernel_size=(2, 2), en_de_layers=5, inter_layers=4, en_out_channels=16)
        return dict(n_blocks=1, n_gru=1, kernel_size=(2, 2), en_de_layers=5, inter_layers=1, en_out_channels=4)

    def to_json(self) -> dict:
        return {"size": self.size, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.e2e_args.items()}}


def build(cfg: RmvpeConfig, seed: int) -> torch.nn.Module:
    """RVC's E2E with every parameter drawn from (seed, name): conv/linear/GRU matrices
    N(0, fan_in^-1/2) (ReLU convs x sqrt 2), BatchNorm gamma 1 + N(0, 0.02) (x RESIDUAL_GAIN where it
    ends a residual branch), biases N(0, 0.02); the BatchNorm running statistics are mean 0, variance 1
    except the input's (see MEL_MEAN)."""
    R = rvc_rmvpe()
    torch.manual_seed(seed)
    model = R.E2E(**cfg.e2e_args).eval()
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner_name, _, leaf = name.rpartition(".")
            kind = type(modules[owner_name]).__name__
            shape = tuple(p.shape)
            if kind.startswith("BatchNorm") and leaf == "weight":
                # The last BatchNorm of a residual block scales its branch: at 1 the variance would
                # double per block (RVC's size has 56), saturating the BiGRU whatever the input.
                gain = RESIDUAL_GAIN if name.endswith(".conv.4.weight") else 1.0
                value = normal(seed, name, shape, 0.02 * gain, mean=gain)
            elif p.dim() == 1:
                value = normal(seed, name, shape, 0.02)
            elif kind == "ConvTranspose2d":  # weight [in, out, kh, kw], stride 2x2: in * kh * kw / 4 taps
                value = normal(seed, name, shape, (2.0 / (shape[0] * shape[2] * shape[3] / 4)) ** 0.5)
            elif kind == "Conv2d":
                value = normal(seed, name, shape, (2.0 / float(np.prod(shape[1:]))) ** 0.5)
            else:  # GRU and Linear
                value = normal(seed, name, shape, float(shape[1]) ** -0.5)
            p.copy_(value)
        head = model.fc[1]
        head.weight.mul_(SALIENCE_GAIN)
        head.bias.add_(SALIENCE_BIAS)
        model.unet.encoder.bn.running_mean.fill_(MEL_MEAN)
        model.unet.encoder.bn.running_var.fill_(MEL_VAR)
    return model


def pad_and_run(model: torch.nn.Module, mel: torch.Tensor) -> torch.Tensor:
    """RVC's `mel2hidden` as tensor operations, so the trace keeps T open: zero-pad the frames to a
    multiple of 32, run, crop back. mel [1,128,T] -> hidden [1,T,360]."""
    frames = mel.shape[-1]
    padded_frames = (frames + (PAD_FRAMES - 1)) // PAD_FRAMES * PAD_FRAMES
    zeros = torch.zeros(mel.shape[0], mel.shape[1], PAD_FRAMES - 1, dtype=mel.dtype)
    mel = torch.cat([mel, zeros], dim=-1).index_select(-1, torch.arange(padded_frames))
    hidden = model(mel)
    return hidden.index_select(1, torch.arange(frames))


def cents_mapping() -> torch.Tensor:
    """RVC's bin cents, zero-padded by 4 on each side (368 entries), as in `RMVPE.__init__`."""
    return F.pad(20.0 * torch.arange(BINS, dtype=torch.float64) + 1997.3794084376191, (4, 4)).float()


def decode(hidden: torch.Tensor, threshold: torch.Tensor, cents: torch.Tensor) -> torch.Tensor:
    """RVC's `to_local_average_cents` + `decode` on [1,T,360] salience -> f0 [1,T] (Hz, 0 unvoiced)."""
    center = torch.argmax(hidden, dim=-1, keepdim=True)  # [1,T,1], in unpadded bins
    salience = F.pad(hidden, (4, 4))  # [1,T,368]
    idx = center + torch.arange(9)  # padded bins center-4+4 .. center+4+4
    window = torch.gather(salience, -1, idx)
    product = (window * cents[idx]).sum(-1)
    weight = window.sum(-1)
    peak = torch.max(hidden, dim=-1).values
    f0 = 10.0 * torch.pow(2.0, product / weight / 1200.0)
    return torch.where(peak > threshold, f0, torch.zeros_like(f0))


class MelFrontEnd(torch.nn.Module):
    """RVC's MelSpectrogram (torch.stft, center=True, reflect) as a Hann-windowed DFT Conv1d, which
    ONNX Runtime runs everywhere: waveform [1,N] -> log-mel [1,128,N // 160 + 1]."""

    def __init__(self, mel_basis: torch.Tensor):
        super().__init__()
        n = np.arange(N_FFT)
        k = np.arange(N_FFT // 2 + 1)
        window = torch.hann_window(N_FFT, dtype=torch.float64).numpy()
        angle = 2 * np.pi * np.outer(k, n) / N_FFT
        basis = np.concatenate([window * np.cos(angle), -window * np.sin(angle)])  # [1026, 1024]
        self.register_buffer("dft", torch.from_numpy(basis.astype(np.float32))[:, None, :])
        self.register_buffer("mel_basis", mel_basis.clone())

    def forward(self, waveform):
        x = F.pad(waveform[:, None, :], (N_FFT // 2, N_FFT // 2), mode="reflect")
        spec = F.conv1d(x, self.dft, stride=HOP)
        half = N_FFT // 2 + 1
        re, im = spec[:, :half], spec[:, half:]
        magnitude = torch.sqrt(re * re + im * im)
        return torch.log(torch.clamp(torch.matmul(self.mel_basis, magnitude), min=1e-5))


def rvc_mel_extractor():
    """RVC's own MelSpectrogram with RMVPE's settings (as `RMVPE.__init__` builds it)."""
    return rvc_rmvpe().MelSpectrogram(False, N_MELS, SAMPLE_RATE, N_FFT, HOP, None, 30, 8000)


class RmvpeMel(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, mel):
        return pad_and_run(self.model, mel)


class RmvpeWave(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.front = MelFrontEnd(rvc_mel_extractor().mel_basis)
        self.register_buffer("cents", cents_mapping())

    def forward(self, waveform, threshold):
        return decode(pad_and_run(self.model, self.front(waveform)), threshold, self.cents)


def export(model: torch.nn.Module, form: str, constant_folding: bool = True):
    if form == "mel":
        mel = torch.from_numpy(np.random.Generator(np.random.PCG64(0)).standard_normal((1, N_MELS, 45))
                               .astype(np.float32) - 6.0)
        proto = export_onnx(RmvpeMel(model).eval(), (mel,), ["mel"], ["hidden"],
                            {"mel": {2: "T"}, "hidden": {1: "T"}}, constant_folding=constant_folding)
        set_dim(proto.graph.output[0], 0, 1)
        set_dim(proto.graph.output[0], 2, BINS)
        return proto
    from .pitch_models import tone
    waveform = torch.from_numpy(tone(220.0, 7000)[None, :])
    threshold = torch.tensor([THRESHOLD])
    proto = export_onnx(RmvpeWave(model).eval(), (waveform, threshold), ["waveform", "threshold"], ["pitchf"],
                        {"waveform": {1: "N"}, "pitchf": {1: "T"}})
    for v in (proto.graph.input[0], proto.graph.output[0]):
        set_dim(v, 0, 1)
    return proto


# --- references (RVC's own code) -------------------------------------------------------------------

def rvc_decoder():
    """An `RMVPE` object that only decodes: `RMVPE.__init__` would load `rmvpe.pt`, so the object is
    made without it and given the cents table `__init__` builds, by running those statements of it."""
    import ast
    import inspect
    import textwrap

    R = rvc_rmvpe()
    obj = object.__new__(R.RMVPE)
    init = ast.parse(textwrap.dedent(inspect.getsource(R.RMVPE.__init__))).body[0]
    wanted = [s for s in init.body if "cents_mapping" in ast.unparse(s)]
    namespace = {"np": np, "self": obj}
    exec(compile(ast.fix_missing_locations(ast.Module(body=wanted, type_ignores=[])), "rmvpe_init", "exec"),
         namespace)
    assert obj.cents_mapping.shape == (BINS + 8,)
    return obj


def reference_f0(model: torch.nn.Module, audio: np.ndarray, threshold: float = THRESHOLD):
    """RVC's `RMVPE.infer_from_audio` on the CPU path with `model` as the network: (f0, hidden, log-mel)."""
    dec = rvc_decoder()
    dec.model, dec.device, dec.is_half = model, torch.device("cpu"), False
    with torch.no_grad():
        mel = rvc_mel_extractor()(torch.from_numpy(audio)[None, :], center=True)
        hidden = dec.mel2hidden(mel)
    hidden = hidden.squeeze(0).numpy()
    return dec.decode(hidden, thred=threshold), hidden, mel[0].numpy()
