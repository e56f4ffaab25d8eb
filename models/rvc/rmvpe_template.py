"""RMVPE's graph template: RVC's E2E network in the mel-input form RVC's `rmvpe.onnx` has
(`rmvpe.py: export(..., "mel")`), its weights taken out, for the engine to fill from a user's
`rmvpe.pt` (a plain state dict of E2E). See graph_template.py."""

from __future__ import annotations

import types

import onnx
import torch

from . import rmvpe
from .common import normal
from .graph_template import template_from

WRAPPER_PREFIX = "model."


def _batch_norm_as_arithmetic(self, x):
    """BatchNorm in eval mode written out, so the exporter keeps its four tensors as initializers:
    traced as a BatchNormalization node after a convolution, it would fold it into the
    convolution's weight under the convolution's name, which a checkpoint's weight cannot fill.
    ONNX Runtime folds the arithmetic on constants when it opens the built model."""
    scale = self.weight / torch.sqrt(self.running_var + self.eps)
    shift = self.bias - self.running_mean * scale
    return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


def _export(cfg: rmvpe.RmvpeConfig, seed: int) -> tuple[onnx.ModelProto, set[str]]:
    model = rmvpe.build(cfg, seed)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.forward = types.MethodType(_batch_norm_as_arithmetic, module)
            # The built model's running statistics are the same in most layers (mean 0, var 1),
            # and the exporter would merge equal tensors into one initializer.
            with torch.no_grad():
                module.running_mean.copy_(normal(seed, name + ".running_mean", module.running_mean.shape, 0.1))
                module.running_var.copy_(1.0 + normal(seed, name + ".running_var", module.running_var.shape, 0.1).abs())
    # BatchNorm's batch counter is training state the graph never reads.
    params = {f"{WRAPPER_PREFIX}{key}" for key in model.state_dict() if not key.endswith("num_batches_tracked")}
    return rmvpe.export(model, "mel", constant_folding=False), params


def fitting(cfg: rmvpe.RmvpeConfig) -> dict:
    return {"model": "rmvpe", "form": "mel", "e2e": cfg.to_json()}


def template(cfg: rmvpe.RmvpeConfig) -> onnx.ModelProto:
    return template_from(lambda seed: _export(cfg, seed), WRAPPER_PREFIX, cfg.stem, fitting(cfg),
                         f"RMVPE ({cfg.size}) mel-input graph template")
