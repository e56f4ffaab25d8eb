"""RVC synthesizers built from RVC's own model classes, with seeded random weights, saved and
loaded as RVC WebUI checkpoints.

A checkpoint here is exactly what RVC WebUI writes when it saves a small model:
`{"weight": state_dict without enc_q (fp16), "config": [...18 values...], "info": str, "sr": "40k",
"f0": 1, "version": "v2"}`. The random weights are rounded to fp16 before anything else, so the
checkpoint, the PyTorch reference and every ONNX export hold exactly the same numbers, and a real
checkpoint can replace the random one without any other change.
"""

from __future__ import annotations

import io
import math
import types
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from . import infer_pack
from .common import normal, rng_for
from .configs import SynthConfig

F0_MIN = 50.0
F0_MAX = 1100.0


def _fan_in(name: str, shape, module_type: str, stride: int) -> float:
    if module_type == "ConvTranspose1d":  # weight [in, out, k]: each output sees in*k/stride taps
        return shape[0] * shape[2] / stride
    return float(np.prod(shape[1:])) if len(shape) > 1 else float(shape[0])


def init_weights_(model: torch.nn.Module, seed: int) -> None:
    """Fills every parameter from (seed, name). Weight-normed layers get `weight_g = |w|` for
    `w` ~ N(0, fan_in^-1/2), and `weight_v = s * w` with a per-channel s in [1/2, 2], so the
    effective weight is w; embeddings N(0, 1); relative-position tables
    N(0, k^-1/2); LayerNorm gamma 1 + N(0, 0.02); biases N(0, 0.02). The decoder's last conv is
    halved so the tanh output is not saturated."""
    modules = dict(model.named_modules())
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = modules[owner_name]
            kind = type(owner).__name__
            stride = owner.stride[0] if hasattr(owner, "stride") else 1
            shape = tuple(p.shape)
            if leaf == "weight_g":
                continue  # set from weight_v below
            if leaf in ("emb_rel_k", "emb_rel_v"):
                value = normal(seed, name, shape, shape[-1] ** -0.5)
            elif kind == "Embedding":
                value = normal(seed, name, shape, 1.0)
            elif leaf == "gamma" or (kind == "LayerNorm" and leaf == "weight"):
                value = normal(seed, name, shape, 0.02, mean=1.0)
            elif leaf in ("beta", "bias") or p.dim() == 1:
                value = normal(seed, name, shape, 0.02)
            else:
                value = normal(seed, name, shape, _fan_in(name, shape, kind, stride) ** -0.5)
            if name.startswith("dec.conv_post"):
                value = value * 0.5
            p.copy_(value)
        for name, p in params.items():
            if name.endswith("weight_g"):
                v = params[name[: -len("g")] + "v"]
                dims = tuple(range(1, v.dim()))
                p.copy_(torch.linalg.vector_norm(v, dim=dims, keepdim=True).view_as(p))
                # Trained checkpoints have g != |v|; scaling v (weight norm is blind to its scale)
                # keeps the effective weight and makes a loader that ignores g, or uses v as the
                # weight, fail parity.
                scale = 2.0 ** rng_for(seed, name + ".scale").uniform(-1.0, 1.0, size=p.shape[0])
                v.mul_(torch.from_numpy(scale.astype(np.float32)).view(-1, *([1] * (v.dim() - 1))))


def build(cfg: SynthConfig) -> torch.nn.Module:
    """An untrained RVC synthesizer of `cfg`'s class and configuration (enc_q included, as RVC
    builds it for training)."""
    models = infer_pack.load().models
    cls = getattr(models, cfg.class_name)
    return cls(*cfg.config_list(), is_half=False)


def make_checkpoint(cfg: SynthConfig, seed: int) -> dict:
    """A seeded random model as an RVC WebUI checkpoint dict."""
    torch.manual_seed(seed)  # module constructors draw from torch's RNG; all of it is overwritten
    model = build(cfg)
    init_weights_(model, seed)
    weight = OrderedDict()
    for key, value in model.state_dict().items():
        if "enc_q" in key:
            continue
        weight[key] = value.detach().half()
    return OrderedDict(
        weight=weight,
        config=cfg.config_list(),
        info=f"rvc-live random weights, seed {seed}",
        sr=cfg.sr_tag,
        f0=1 if cfg.f0 else 0,
        version=cfg.version,
    )


def checkpoint_bytes(cpt: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(cpt, buf)
    return buf.getvalue()


def load_checkpoint(cpt) -> tuple[torch.nn.Module, SynthConfig]:
    """Builds the inference model (fp32, eval, weight norm folded, no enc_q) from an RVC checkpoint
    dict or file path, as RVC does: `config[-3]` is taken from `emb_g`'s row count."""
    if not isinstance(cpt, dict):
        cpt = torch.load(cpt, map_location="cpu", weights_only=False)
    config = list(cpt["config"])
    config[-3] = cpt["weight"]["emb_g.weight"].shape[0]
    version = cpt.get("version", "v1")
    f0 = bool(cpt.get("f0", 1))
    sr = config[-1] if isinstance(config[-1], int) else int(str(cpt["sr"]).rstrip("k")) * 1000
    cfg = SynthConfig(version=version, sr=sr, f0=f0,
                      size="tiny" if config[3] != 192 else "full")
    models = infer_pack.load().models
    cls = getattr(models, cfg.class_name)
    model = cls(*config, is_half=False)
    del model.enc_q
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in cpt["weight"].items()}, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint does not fit {cfg.class_name}: missing {missing}, unexpected {unexpected}")
    model.eval()
    model.dec.remove_weight_norm()
    model.flow.remove_weight_norm()
    return model, cfg


# --- NSF source without randomness -------------------------------------------------------------

def _deterministic_sine_forward(self, f0: torch.Tensor, upp: int):
    """RVC's SineGen (NSF excitation) with its two random draws removed: the initial phase
    (`torch.rand`, RandomUniformLike in the graph) is 0 and the additive noise (`randn_like`,
    RandomNormalLike) is 0. Everything else is RVC's arithmetic."""
    f0 = f0[:, None].transpose(1, 2)  # [b, t, 1]
    rad_values = (f0 / self.sampling_rate) % 1
    tmp_over_one = torch.cumsum(rad_values, 1) * upp
    tmp_over_one = F.interpolate(tmp_over_one.transpose(2, 1), scale_factor=float(upp), mode="linear",
                                 align_corners=True).transpose(2, 1)
    rad_values = F.interpolate(rad_values.transpose(2, 1), scale_factor=float(upp),
                               mode="nearest").transpose(2, 1)
    tmp_over_one = tmp_over_one % 1
    wraps = (tmp_over_one[:, 1:, :] - tmp_over_one[:, :-1, :]) < 0
    cumsum_shift = F.pad(wraps.to(rad_values.dtype) * -1.0, [0, 0, 1, 0])
    sine_waves = torch.sin(torch.cumsum(rad_values + cumsum_shift, dim=1) * 2 * torch.pi) * self.sine_amp
    uv = (f0 > self.voiced_threshold).to(sine_waves.dtype)
    uv = F.interpolate(uv.transpose(2, 1), scale_factor=float(upp), mode="nearest").transpose(2, 1)
    sine_waves = sine_waves * uv
    return sine_waves, uv, torch.zeros_like(sine_waves)


def make_deterministic(model: torch.nn.Module) -> None:
    """Swaps the NSF SineGen's forward for the noise-free one (no-f0 models have none)."""
    m_source = getattr(model.dec, "m_source", None)
    if m_source is not None:
        gen = m_source.l_sin_gen
        gen.forward = types.MethodType(_deterministic_sine_forward, gen)


# --- the shared forward pieces -----------------------------------------------------------------

def text_encoder_hidden(enc_p, phone, pitch, lengths):
    """RVC's TextEncoder up to (not including) `proj`: returns the hidden sequence and its mask."""
    x = enc_p.emb_phone(phone)
    if pitch is not None:
        x = x + enc_p.emb_pitch(pitch)
    x = x * math.sqrt(enc_p.hidden_channels)
    x = enc_p.lrelu(x)
    x = torch.transpose(x, 1, -1)
    mask = torch.unsqueeze(infer_pack.load().commons.sequence_mask(lengths, x.size(2)), 1).to(x.dtype)
    return enc_p.encoder(x * mask, mask), mask


def resample_linear(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """`F.interpolate(x, size=n, mode="linear")` (align_corners=False) with `n` a 0-dim int64
    tensor, written with Gather so the ONNX graph keeps `n` symbolic."""
    length = x.shape[-1]
    scale = torch.as_tensor(length, dtype=torch.float32) / n.to(torch.float32)
    dst = torch.arange(n, device=x.device).to(torch.float32)
    src = ((dst + 0.5) * scale - 0.5).clamp(min=0.0)
    i0 = torch.floor(src).to(torch.int64).clamp(max=length - 1)
    i1 = (i0 + 1).clamp(max=length - 1)
    lam = src - i0.to(torch.float32)
    return x.index_select(-1, i0) * (1.0 - lam) + x.index_select(-1, i1) * lam


def decode(dec, x, f0, g, n_res: torch.Tensor | None = None):
    """RVC's GeneratorNSF/Generator forward, with RVC's optional `n_res` (formant length): the latent
    and the NSF excitation are linearly resampled to `n_res` frames before decoding."""
    nsf = f0 is not None
    if nsf:
        har_source, _, _ = dec.m_source(f0, dec.upp)
        har_source = har_source.transpose(1, 2)
        if n_res is not None:
            har_source = resample_linear(har_source, n_res * dec.upp)
    if n_res is not None:
        x = resample_linear(x, n_res)
    x = dec.conv_pre(x)
    if g is not None:
        x = x + dec.cond(g)
    for i in range(dec.num_upsamples):
        x = F.leaky_relu(x, 0.1)
        x = dec.ups[i](x)
        if nsf:
            x = x + dec.noise_convs[i](har_source)
        xs = None
        for j in range(dec.num_kernels):
            y = dec.resblocks[i * dec.num_kernels + j](x)
            xs = y if xs is None else xs + y
        x = xs / dec.num_kernels
    x = F.leaky_relu(x)
    x = dec.conv_post(x)
    return torch.tanh(x)


# --- inputs ---------------------------------------------------------------------------------------

def coarse_pitch(f0: np.ndarray) -> np.ndarray:
    """RVC's coarse pitch (1..255) from f0 in Hz (0 = unvoiced -> 1)."""
    mel_min = 1127 * np.log(1 + F0_MIN / 700)
    mel_max = 1127 * np.log(1 + F0_MAX / 700)
    mel = 1127 * np.log(1 + f0 / 700)
    mel = np.where(mel > 0, (mel - mel_min) * 254 / (mel_max - mel_min) + 1, mel)
    mel = np.clip(mel, 1, 255)
    return np.rint(mel).astype(np.int64)


def make_inputs(cfg: SynthConfig, frames: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Plausible inputs for `frames` 10 ms frames: features ~ N(0,1), a 220 Hz tone with a small
    vibrato whose first fifth is unvoiced, RVC's coarse pitch, speaker 0, prior noise 0.66666·N(0,1).
    Keys are neutral (`feats`, `lengths`, `pitch`, `pitchf`, `sid`, `rnd`)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    feats = rng.standard_normal((1, frames, cfg.emb_channels)).astype(np.float32)
    t = np.arange(frames) / 100.0
    f0 = (220.0 * 2 ** (0.3 * np.sin(2 * np.pi * 5 * t) / 12)).astype(np.float32)
    f0[: frames // 5] = 0.0
    return {
        "feats": feats,
        "lengths": np.array([frames], dtype=np.int64),
        "pitch": coarse_pitch(f0)[None, :],
        "pitchf": f0[None, :],
        "sid": np.array([0], dtype=np.int64),
        "rnd": (rng.standard_normal((1, 192, frames)) * 0.66666).astype(np.float32),
    }


# --- the other checkpoint layouts users have -------------------------------------------------------

def applio_checkpoint(cpt: dict) -> dict:
    """The same voice as Applio's saver writes it: int `sr`, bool `f0`, its extra keys."""
    out = OrderedDict(cpt)
    out.update(sr=int(cpt["config"][-1]), f0=bool(cpt["f0"]), info="300epoch", epoch=300, step=12000,
               model_hash="0" * 64, author="rvc-live", embedder_model="contentvec", speakers_id=0,
               vocoder="HiFi-GAN")
    return out


def parametrizations_checkpoint(cpt: dict) -> dict:
    """The same voice with weight norm saved under torch's newer names
    (`*.parametrizations.weight.original0/1` for `*.weight_g/_v`)."""
    weight = OrderedDict()
    for key, value in cpt["weight"].items():
        for old, new in (("weight_g", "parametrizations.weight.original0"),
                         ("weight_v", "parametrizations.weight.original1")):
            if key.endswith(old):
                key = key[: -len(old)] + new
        weight[key] = value
    return OrderedDict(cpt, weight=weight)


def training_checkpoint(cfg: SynthConfig, seed: int) -> dict:
    """A G_*.pth as RVC's trainer saves it: the whole fp32 state dict (enc_q included) under
    `model`, no config, the optimizer's state beside it."""
    torch.manual_seed(seed)
    model = build(cfg)
    init_weights_(model, seed)
    state = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    return OrderedDict(model=state, iteration=12000,
                       optimizer={"state": {}, "param_groups": [{"lr": 1e-4, "betas": (0.8, 0.99), "params": []}]},
                       learning_rate=1e-4)


# --- checkpoints a loader must refuse ------------------------------------------------------------

class _RunsACommand:
    """Pickles as a call of `os.system`, as a booby-trapped checkpoint does. Pickling it runs
    nothing; only an unpickler that calls what a pickle names would."""

    def __reduce__(self):
        import os
        return os.system, ("echo this checkpoint ran a command",)


def refused_checkpoints(cpt: dict) -> dict:
    """Variants of a voice's checkpoint that a loader must refuse, each for its own reason."""
    wrong_width = OrderedDict(cpt["weight"])
    rows = wrong_width["enc_p.emb_phone.weight"].shape[0]
    wrong_width["enc_p.emb_phone.weight"] = torch.zeros(rows, 256, dtype=torch.float16)
    return {
        # Runs a command when torch.load(weights_only=False) opens it.
        "hostile": OrderedDict(cpt, info=_RunsACommand()),
        # v1-wide features under a v2 configuration: no RVC voice has these shapes.
        "wrong_shapes": OrderedDict(cpt, weight=wrong_width),
        # Applio's RefineGAN vocoder has another decoder graph.
        "refinegan": OrderedDict(applio_checkpoint(cpt), vocoder="RefineGAN"),
        # A checkpoint, but of something else.
        "not_a_voice": OrderedDict(state_dict=OrderedDict(weight=torch.zeros(4, 4), bias=torch.zeros(4))),
    }
