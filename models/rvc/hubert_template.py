"""HuBERT's graph template: the content encoder in its "units" form (content_encoder.py: layer 9
through ContentVec's final projection for v1 voices, layer 12 for v2), its weights taken out under
the names fairseq gives them in RVC's `hubert_base.pt`, for the engine to fill from that file's
`model` dictionary (see graph_template.py). Also writes such a checkpoint for the tests: fairseq's
layout, its configuration pickled as objects of fairseq's and omegaconf's classes.
"""

from __future__ import annotations

import io
import re
import sys
import types
from collections import OrderedDict

import onnx
import torch

from . import content_encoder as C
from .graph_template import template_from

WRAPPER_PREFIX = "enc."

# transformers' HubertModel name (under `hubert.`) -> fairseq's, as fairseq's HubertModel saves it.
_FAIRSEQ_NAMES = [
    (r"hubert\.feature_extractor\.conv_layers\.(\d+)\.conv\.(\w+)", r"feature_extractor.conv_layers.\1.0.\2"),
    (r"hubert\.feature_extractor\.conv_layers\.0\.layer_norm\.(\w+)", r"feature_extractor.conv_layers.0.2.\1"),
    (r"hubert\.feature_projection\.layer_norm\.(\w+)", r"layer_norm.\1"),
    (r"hubert\.feature_projection\.projection\.(\w+)", r"post_extract_proj.\1"),
    (r"hubert\.encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original0", r"encoder.pos_conv.0.weight_g"),
    (r"hubert\.encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original1", r"encoder.pos_conv.0.weight_v"),
    (r"hubert\.encoder\.pos_conv_embed\.conv\.bias", r"encoder.pos_conv.0.bias"),
    (r"hubert\.encoder\.layer_norm\.(\w+)", r"encoder.layer_norm.\1"),
    (r"hubert\.encoder\.layers\.(\d+)\.attention\.(\w+)_proj\.(\w+)", r"encoder.layers.\1.self_attn.\2_proj.\3"),
    (r"hubert\.encoder\.layers\.(\d+)\.layer_norm\.(\w+)", r"encoder.layers.\1.self_attn_layer_norm.\2"),
    (r"hubert\.encoder\.layers\.(\d+)\.feed_forward\.intermediate_dense\.(\w+)", r"encoder.layers.\1.fc1.\2"),
    (r"hubert\.encoder\.layers\.(\d+)\.feed_forward\.output_dense\.(\w+)", r"encoder.layers.\1.fc2.\2"),
    (r"hubert\.encoder\.layers\.(\d+)\.final_layer_norm\.(\w+)", r"encoder.layers.\1.final_layer_norm.\2"),
    (r"final_proj\.(\w+)", r"final_proj.\1"),
]
# Used only when training masks frames.
UNUSED = ("hubert.masked_spec_embed",)


def fairseq_name(name: str) -> str:
    for pattern, replacement in _FAIRSEQ_NAMES:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(f"no fairseq name for {name}")


def _export(cfg: C.EncoderConfig, seed: int) -> tuple[onnx.ModelProto, set[str]]:
    enc = C.build(cfg, seed)
    params = {f"{WRAPPER_PREFIX}{k}" for k in enc.state_dict() if k not in UNUSED}
    return C.export(enc, "units", constant_folding=False), params


def fitting(cfg: C.EncoderConfig) -> dict:
    return {"model": "hubert", "form": "units", "encoder": cfg.to_json()}


def template(cfg: C.EncoderConfig) -> onnx.ModelProto:
    return template_from(lambda seed: _export(cfg, seed), WRAPPER_PREFIX, f"hubert_{cfg.size}", fitting(cfg),
                         f"HuBERT ({cfg.size}) units-form graph template, fairseq names", rename=fairseq_name)


def _fake_class(module: str, name: str):
    """A class pickled under fairseq's or omegaconf's name, as their objects are in hubert_base.pt."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        name_so_far = ".".join(parts[:i])
        if name_so_far not in sys.modules:
            sys.modules[name_so_far] = types.ModuleType(name_so_far)
    cls = type(name, (), {"__module__": module})
    setattr(sys.modules[module], name, cls)
    return cls


def fairseq_checkpoint_bytes(enc: C.ContentEncoder) -> bytes:
    """`enc`'s weights as fairseq saves a HuBERT checkpoint: the state dict under `model` (fairseq's
    names), the configuration under `cfg` as an omegaconf DictConfig holding fairseq dataclasses,
    `args` None."""
    state = OrderedDict((fairseq_name(k), v.detach().clone()) for k, v in enc.state_dict().items()
                        if k not in UNUSED)
    config = _fake_class("omegaconf.dictconfig", "DictConfig")()
    model_config = _fake_class("fairseq.models.hubert.hubert", "HubertConfig")()
    model_config.__dict__.update(label_rate=50.0, extractor_mode="default", encoder_layers=12)
    config.__dict__.update(_content={"model": model_config, "task": {"_name": "hubert_pretraining"}})
    buf = io.BytesIO()
    torch.save(OrderedDict(args=None, cfg=config, model=state, optimizer_history=[], task_state={}), buf)
    return buf.getvalue()
