"""w-okada voice-changer's ONNX export convention (`RVC/onnxExporter/export2onnx.py`, metadata
version "2.1"):

    feats [1,T,C] f32 (or f16), p_len [1] i64, pitch [1,T] i64, pitchf [1,T] f32, sid [1] i64
        ->  audio [T*hop] f32, clipped to [-1, 1]

(no-f0 models: feats, p_len, sid). The prior noise is drawn in-graph (`randn_like * 0.66666`,
RandomNormalLike); `det` replaces it, and the NSF source's noise, with zeros. The model carries
w-okada's JSON under `metadata_props["metadata"]`. The fp16 variant takes fp16 `feats` and casts
them to fp32 at the graph's entry (w-okada exports the whole net in fp16 on CUDA; the interface,
which is what a loader sees, is the same).
"""

from __future__ import annotations

import torch

from . import attention_patch
from .common import export_onnx
from .configs import SynthConfig
from .synthesizer import decode, make_deterministic, make_inputs

TRACE_FRAMES = 64  # w-okada traces at 64 frames


def metadata(cfg: SynthConfig) -> dict:
    """The JSON w-okada's exporter stores under the `metadata` key."""
    v2 = cfg.version == "v2"
    return {
        "application": "VC_CLIENT",
        "version": "2.1",
        "modelType": ("pyTorchRVCv2" if v2 else "pyTorchRVC") + ("" if cfg.f0 else "Nono"),
        "samplingRate": cfg.sr,
        "f0": cfg.f0,
        "embChannels": cfg.emb_channels,
        "embedder": "hubert_base",
        "embOutputLayer": 12 if v2 else 9,
        "useFinalProj": not v2,
    }


class WOkadaSynth(torch.nn.Module):
    def __init__(self, model, cfg: SynthConfig, det: bool):
        super().__init__()
        self.m = model
        self.f0 = cfg.f0
        self.det = det

    def prior(self, m_p, logs_p, x_mask):
        noise = torch.zeros_like(m_p) if self.det else torch.randn_like(m_p) * 0.66666
        return (m_p + torch.exp(logs_p) * noise) * x_mask

    def forward(self, feats, p_len, *rest):
        if self.f0:
            pitch, pitchf, sid = rest
        else:
            (sid,), pitch, pitchf = rest, None, None
        m = self.m
        feats = feats.to(torch.float32)
        g = m.emb_g(sid).unsqueeze(-1)
        m_p, logs_p, x_mask = m.enc_p(feats, pitch, p_len)
        z = m.flow(self.prior(m_p, logs_p, x_mask), x_mask, g=g, reverse=True)
        o = decode(m.dec, z * x_mask, pitchf, g)
        return torch.clip(o[0, 0], -1.0, 1.0)


def input_names(cfg: SynthConfig) -> list[str]:
    return ["feats", "p_len"] + (["pitch", "pitchf"] if cfg.f0 else []) + ["sid"]


def feeds(cfg: SynthConfig, inputs: dict, fp16: bool = False) -> dict:
    out = {"feats": inputs["feats"].astype("float16" if fp16 else "float32"), "p_len": inputs["lengths"]}
    if cfg.f0:
        out.update(pitch=inputs["pitch"], pitchf=inputs["pitchf"])
    out["sid"] = inputs["sid"]
    return out


def export(model, cfg: SynthConfig, det: bool, fp16: bool = False):
    if det:
        make_deterministic(model)
    ex = make_inputs(cfg, TRACE_FRAMES)
    args = tuple(torch.from_numpy(v) for v in feeds(cfg, ex, fp16).values())
    axes = {"feats": {1: "T"}, "audio": {0: "samples"}}
    if cfg.f0:
        axes.update(pitch={1: "T"}, pitchf={1: "T"})
    with attention_patch.patched():
        return export_onnx(WOkadaSynth(model, cfg, det).eval(), args, input_names(cfg), ["audio"], axes)
