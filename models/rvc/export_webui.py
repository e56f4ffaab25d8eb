"""RVC WebUI's ONNX export convention (upstream `infer/modules/onnx/export.py`,
`models_onnx.SynthesizerTrnMsNSFsidM`):

    phone [1,T,C] f32, phone_lengths [1] i64, pitch [1,T] i64, pitchf [1,T] f32, ds [1] i64,
    rnd [1,192,T] f32  ->  audio [1,1,T*hop] f32

(no-f0 models lack pitch and pitchf). The prior noise is an input; the NSF source keeps its
in-graph randomness unless `det`. Real WebUI exports carry no metadata; ours add only an
`rvc_live` description key, never w-okada's `metadata` key.
"""

from __future__ import annotations

import torch

from . import attention_patch
from .common import export_onnx, set_dim
from .configs import SynthConfig
from .synthesizer import decode, make_deterministic

TRACE_FRAMES = 50


class WebUiSynth(torch.nn.Module):
    def __init__(self, model, cfg: SynthConfig):
        super().__init__()
        self.m = model
        self.f0 = cfg.f0

    def forward(self, phone, phone_lengths, *rest):
        if self.f0:
            pitch, pitchf, ds, rnd = rest
        else:
            (ds, rnd), pitch, pitchf = rest, None, None
        m = self.m
        g = m.emb_g(ds).unsqueeze(-1)
        m_p, logs_p, x_mask = m.enc_p(phone, pitch, phone_lengths)
        z_p = (m_p + torch.exp(logs_p) * rnd) * x_mask
        z = m.flow(z_p, x_mask, g=g, reverse=True)
        return decode(m.dec, z * x_mask, pitchf, g)


def input_names(cfg: SynthConfig) -> list[str]:
    return ["phone", "phone_lengths"] + (["pitch", "pitchf"] if cfg.f0 else []) + ["ds", "rnd"]


def feeds(cfg: SynthConfig, inputs: dict) -> dict:
    """ORT feeds from `synthesizer.make_inputs`."""
    out = {"phone": inputs["feats"], "phone_lengths": inputs["lengths"]}
    if cfg.f0:
        out.update(pitch=inputs["pitch"], pitchf=inputs["pitchf"])
    out.update(ds=inputs["sid"], rnd=inputs["rnd"])
    return out


def export(model, cfg: SynthConfig, det: bool):
    """Returns the ONNX ModelProto (no metadata yet)."""
    if det:
        make_deterministic(model)
    from .synthesizer import make_inputs
    ex = make_inputs(cfg, TRACE_FRAMES)
    args = tuple(torch.from_numpy(v) for v in feeds(cfg, ex).values())
    names = input_names(cfg)
    axes = {"phone": {1: "T"}, "rnd": {2: "T"}, "audio": {2: "samples"}}
    if cfg.f0:
        axes.update(pitch={1: "T"}, pitchf={1: "T"})
    with attention_patch.patched():
        proto = export_onnx(WebUiSynth(model, cfg).eval(), args, names, ["audio"], axes)
    out = proto.graph.output[0]
    set_dim(out, 0, 1)
    set_dim(out, 1, 1)
    return proto
