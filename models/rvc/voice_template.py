"""Voice graph templates: the partial-decoding graph (`export_partial.py`) of one RVC configuration
with its weights taken out, for the engine to fill from a user's `.pth` (engine/src/voice_graph/).

A template is exported without constant folding, so every weight stays an initializer under its
state-dict name (the weight-normalised convolutions folded to `*.weight`, as RVC's inference model
has them) and ONNX Runtime folds the rest when it opens the built model. Those initializers keep
their type and shape but their bytes move out: they are marked as external data whose location is
`checkpoint`, which the engine replaces with the `.pth`'s tensors. Every other initializer (shape
constants, `arange` bounds) is checked not to depend on the weights: the template is exported from
two different seeds and they must agree byte for byte.

The template's metadata records the configuration it fits (`rvc_live_template`: version, f0 and
RVC's 18-value `config` list with the speaker count left out), which is how the engine picks one.
"""

from __future__ import annotations

import onnx

from . import export_partial
from .configs import SynthConfig
from .graph_template import template_from
from .synthesizer import load_checkpoint, make_checkpoint

# Entries of RVC's `config` list the inference graph does not depend on: spec_channels and
# segment_size (training only) and spk_embed_dim (the checkpoint's `emb_g` rows decide it).
UNUSED_CONFIG = (0, 1, 15)
WRAPPER_PREFIX = "m."


def _export(cfg: SynthConfig, seed: int, det: bool) -> tuple[onnx.ModelProto, set[str]]:
    model, _ = load_checkpoint(make_checkpoint(cfg, seed))
    # The exporter names a weight by its path in the wrapper (`m.` + its state-dict key).
    params = {f"{WRAPPER_PREFIX}{key}" for key in model.state_dict()}
    return export_partial.export(model, cfg, det, constant_folding=False), params


def fitting(cfg: SynthConfig) -> dict:
    """What a checkpoint must hold for this template: the key the engine compares."""
    config = cfg.config_list()
    for i in UNUSED_CONFIG:
        config[i] = None
    return {"version": cfg.version, "f0": cfg.f0, "config": config}


def template(cfg: SynthConfig, det: bool = False) -> onnx.ModelProto:
    """The partial-decoding graph of `cfg` with the weights' bytes taken out."""
    doc = (f"RVC {cfg.version} {cfg.sr_tag} {cfg.size}{'' if cfg.f0 else ' no-f0'} partial-decoding "
           f"graph template{' (det)' if det else ''}")
    return template_from(lambda seed: _export(cfg, seed, det), WRAPPER_PREFIX, cfg.stem, fitting(cfg), doc)
