"""A HuBERT-base / ContentVec-shaped content encoder with seeded random weights.

Built with `transformers.HubertModel` (the same network as RVC's `hubert_base.pt` / ContentVec:
7-layer conv front end with 512 channels, kernels 10,3,3,3,3,2,2 and strides 5,2,2,2,2,2,2, so
N samples at 16 kHz give floor((N - 400) / 320) + 1 frames; 768-wide post-LN transformer, 12
layers) plus ContentVec's `final_proj` (768 -> 256). Two ONNX interfaces, as found in the field:

* "units" (w-okada's `content_vec_500.onnx`): `audio [1,N] -> units9 [1,T,256], unit12 [1,T,768]`
  where units9 = final_proj(output of layer 9) feeds v1 voices and unit12 = output of layer 12
  feeds v2 voices;
* "embed" (MoeSS `vec-768-layer-12.onnx`, RVC's `onnx_inference.py`): `source [1,1,N] -> embed [1,T,768]`.

"tiny" keeps the interfaces, widths (256/768) and framing with 2 layers, a 64-channel front end, a
512-wide FFN and a 16-tap positional conv; its "layer 9" is its first layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .common import export_onnx, normal, set_dim

RECEPTIVE_FIELD = 400
HOP = 320
SAMPLE_RATE = 16000


def frames_for(n_samples: int) -> int:
    return (n_samples - RECEPTIVE_FIELD) // HOP + 1


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    size: str  # "full" | "tiny"

    def hubert_config(self):
        from transformers import HubertConfig
        common = dict(apply_spec_augment=False, mask_time_prob=0.0, hidden_dropout=0.0, attention_dropout=0.0,
                      activation_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0, final_dropout=0.0)
        if self.size == "full":
            return HubertConfig(**common)
        return HubertConfig(num_hidden_layers=2, intermediate_size=512, conv_dim=(64,) * 7,
                            num_conv_pos_embeddings=16, **common)

    @property
    def units_layer(self) -> int:
        """Which hidden state feeds final_proj (ContentVec's layer 9; the tiny model's layer 1)."""
        return 9 if self.size == "full" else 1

    def to_json(self) -> dict:
        c = self.hubert_config()
        return {"size": self.size, "layers": c.num_hidden_layers, "hidden": c.hidden_size,
                "ffn": c.intermediate_size, "conv_dim": list(c.conv_dim),
                "pos_conv": c.num_conv_pos_embeddings, "units_layer": self.units_layer}


class ContentEncoder(torch.nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        from transformers import HubertModel
        self.cfg = cfg
        config = cfg.hubert_config()
        config._attn_implementation = "eager"
        self.hubert = HubertModel(config)
        self.final_proj = torch.nn.Linear(config.hidden_size, 256)

    def units(self, audio: torch.Tensor):
        out = self.hubert(audio, output_hidden_states=True)
        return self.final_proj(out.hidden_states[self.cfg.units_layer]), out.last_hidden_state

    def embed(self, audio: torch.Tensor):
        return self.hubert(audio).last_hidden_state


class UnitsForm(torch.nn.Module):
    def __init__(self, enc: ContentEncoder):
        super().__init__()
        self.enc = enc

    def forward(self, audio):
        return self.enc.units(audio)


class EmbedForm(torch.nn.Module):
    def __init__(self, enc: ContentEncoder):
        super().__init__()
        self.enc = enc

    def forward(self, source):
        return self.enc.embed(source.squeeze(1))


def build(cfg: EncoderConfig, seed: int) -> ContentEncoder:
    """The encoder with every parameter drawn from (seed, name): matrices N(0, fan_in^-1/2),
    1-D weights (LayerNorm, GroupNorm) 1 + N(0, 0.02), other 1-D tensors N(0, 0.02); the weight-normed
    positional conv gets g = |v| so its effective weight is v."""
    torch.manual_seed(seed)
    enc = ContentEncoder(cfg).eval()
    params = dict(enc.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            shape = tuple(p.shape)
            if name.endswith("original0"):
                continue
            if p.dim() == 1:
                value = normal(seed, name, shape, 0.02, mean=1.0 if name.endswith("weight") else 0.0)
            else:
                value = normal(seed, name, shape, float(np.prod(shape[1:])) ** -0.5)
            p.copy_(value)
        for name, p in params.items():
            if name.endswith("original0"):
                v = params[name[: -1] + "1"]
                dims = tuple(d for d in range(v.dim()) if p.shape[d] == 1)
                p.copy_(torch.linalg.vector_norm(v, dim=dims, keepdim=True))
    return enc


TRACE_SAMPLES = 16000


def export(enc: ContentEncoder, form: str, constant_folding: bool = True):
    audio = torch.from_numpy(np.random.Generator(np.random.PCG64(0)).standard_normal(
        (1, TRACE_SAMPLES)).astype(np.float32) * 0.1)
    if form == "units":
        proto = export_onnx(UnitsForm(enc), (audio,), ["audio"], ["units9", "unit12"],
                            {"audio": {1: "N"}, "units9": {1: "T"}, "unit12": {1: "T"}},
                            constant_folding=constant_folding)
        set_dim(proto.graph.input[0], 0, 1)
        for out, width in zip(proto.graph.output, (256, 768)):
            set_dim(out, 0, 1)
            set_dim(out, 2, width)
    else:
        proto = export_onnx(EmbedForm(enc), (audio[:, None, :],), ["source"], ["embed"],
                            {"source": {2: "N"}, "embed": {1: "T"}})
        set_dim(proto.graph.input[0], 0, 1)
        set_dim(proto.graph.input[0], 1, 1)
        set_dim(proto.graph.output[0], 0, 1)
        set_dim(proto.graph.output[0], 2, 768)
    return proto


def reference(enc: ContentEncoder, form: str, audio: np.ndarray):
    """PyTorch outputs for [1,N] audio, in the export's output order."""
    with torch.no_grad():
        x = torch.from_numpy(audio)
        if form == "units":
            return [t.numpy() for t in enc.units(x)]
        return [enc.embed(x).numpy()]
