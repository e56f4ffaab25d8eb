"""Partial decoding, the convention of deiteris's voice-changer fork (RVC's realtime
`infer(..., skip_head, return_length, return_length2)` as an ONNX graph):

    w-okada's inputs + skip_head [] i64, return_length [] i64, formant_length [] i64
        ->  audio [formant_length*hop] f32, clipped to [-1, 1]

The text encoder runs over all T frames; the flow from `flow_head = max(skip_head - 24, 0)` (as
RVC: 24 frames of lead-in); the decoder only on frames [skip_head, skip_head + return_length),
whose latent and NSF excitation are linearly resampled to `formant_length` frames first (RVC's
formant shift; pass formant_length = return_length for none, which is then exactly the identity).
Scalar bounds are tensors throughout (Gather on arange), so nothing of the trace is baked in.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import attention_patch
from .common import export_onnx
from .configs import SynthConfig
from .export_wokada import WOkadaSynth, feeds as wokada_feeds, input_names as wokada_names
from .synthesizer import decode, make_deterministic, make_inputs, text_encoder_hidden

TRACE_FRAMES = 64
TRACE_SKIP, TRACE_RETURN = 30, 20
FLOW_LEAD_IN = 24


def _frames(x: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    return x.index_select(-1, torch.arange(start, end, device=x.device))


class PartialSynth(WOkadaSynth):
    def forward(self, feats, p_len, *rest):
        if self.f0:
            pitch, pitchf, sid, skip_head, return_length, formant_length = rest
        else:
            (sid, skip_head, return_length, formant_length), pitch, pitchf = rest, None, None
        m = self.m
        feats = feats.to(torch.float32)
        g = m.emb_g(sid).unsqueeze(-1)
        x, x_mask = text_encoder_hidden(m.enc_p, feats, pitch, p_len)
        flow_head = torch.clamp(skip_head - FLOW_LEAD_IN, min=0)
        end = x.shape[2]
        x = _frames(x, flow_head, end)
        x_mask = _frames(x_mask, flow_head, end)
        stats = m.enc_p.proj(x) * x_mask
        m_p, logs_p = torch.split(stats, m.enc_p.out_channels, dim=1)
        z = m.flow(self.prior(m_p, logs_p, x_mask), x_mask, g=g, reverse=True)
        dec_head = skip_head - flow_head
        z = _frames(z, dec_head, dec_head + return_length)
        x_mask = _frames(x_mask, dec_head, dec_head + return_length)
        if self.f0:
            pitchf = _frames(pitchf, skip_head, skip_head + return_length)
        o = decode(m.dec, z * x_mask, pitchf, g, n_res=formant_length)
        return torch.clip(o[0, 0], -1.0, 1.0)


def reference(model, cfg: SynthConfig, feats, p_len, pitch, pitchf, sid, skip_head: int, return_length: int,
              formant_length: int, noise=None):
    """Eager PyTorch of RVC's realtime `infer` with skip_head / return_length / return_length2,
    written the way RVC writes it (Python ints, slicing, F.interpolate), for checking the graph.
    `noise`: the prior noise over the flow window (zeros for det)."""
    with torch.no_grad():
        g = model.emb_g(sid).unsqueeze(-1)
        x, x_mask = text_encoder_hidden(model.enc_p, feats, pitch, p_len)
        flow_head = max(skip_head - FLOW_LEAD_IN, 0)
        x, x_mask = x[:, :, flow_head:], x_mask[:, :, flow_head:]
        stats = model.enc_p.proj(x) * x_mask
        m_p, logs_p = torch.split(stats, model.enc_p.out_channels, dim=1)
        if noise is None:
            noise = torch.zeros_like(m_p)
        z_p = (m_p + torch.exp(logs_p) * noise) * x_mask
        z = model.flow(z_p, x_mask, g=g, reverse=True)
        dec_head = skip_head - flow_head
        z = z[:, :, dec_head: dec_head + return_length]
        x_mask = x_mask[:, :, dec_head: dec_head + return_length]
        dec = model.dec
        x = z * x_mask
        n = formant_length
        if cfg.f0:
            f0 = pitchf[:, skip_head: skip_head + return_length]
            har, _, _ = dec.m_source(f0, dec.upp)
            har = har.transpose(1, 2)
            if n * dec.upp != har.shape[-1]:
                har = F.interpolate(har, size=n * dec.upp, mode="linear")
        if n != x.shape[-1]:
            x = F.interpolate(x, size=n, mode="linear")
        x = dec.conv_pre(x) + dec.cond(g)
        for i in range(dec.num_upsamples):
            x = dec.ups[i](F.leaky_relu(x, 0.1))
            if cfg.f0:
                x = x + dec.noise_convs[i](har)
            x = sum(dec.resblocks[i * dec.num_kernels + j](x) for j in range(dec.num_kernels)) / dec.num_kernels
        o = torch.tanh(dec.conv_post(F.leaky_relu(x)))
        return torch.clip(o[0, 0], -1.0, 1.0)


def input_names(cfg: SynthConfig) -> list[str]:
    return wokada_names(cfg) + ["skip_head", "return_length", "formant_length"]


def feeds(cfg: SynthConfig, inputs: dict, skip_head: int, return_length: int, formant_length: int | None = None,
          fp16: bool = False) -> dict:
    out = wokada_feeds(cfg, inputs, fp16)
    out.update(skip_head=np.array(skip_head, dtype="int64"),
               return_length=np.array(return_length, dtype="int64"),
               formant_length=np.array(
                   return_length if formant_length is None else formant_length, dtype="int64"))
    return out


def export(model, cfg: SynthConfig, det: bool, constant_folding: bool = True):
    if det:
        make_deterministic(model)
    ex = make_inputs(cfg, TRACE_FRAMES)
    args = tuple(torch.from_numpy(v) for v in feeds(cfg, ex, TRACE_SKIP, TRACE_RETURN).values())
    axes = {"feats": {1: "T"}, "audio": {0: "samples"}}
    if cfg.f0:
        axes.update(pitch={1: "T"}, pitchf={1: "T"})
    with attention_patch.patched():
        return export_onnx(PartialSynth(model, cfg, det).eval(), args, input_names(cfg), ["audio"], axes,
                           constant_folding=constant_folding)
