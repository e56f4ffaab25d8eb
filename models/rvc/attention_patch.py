"""Length-independent relative-position attention for ONNX tracing.

RVC's `attentions.MultiHeadAttention` computes its relative-position shifts with Python `max(...)`,
`int(length)` and a Python `if` on tensor sizes. Under the ONNX tracer those become constants of
the trace length: an export traced at T = 200 then fails at any other T with a Reshape error (upstream
RVC keeps a separate `attentions_onnx.py` for this reason). This module replaces the three helpers
with index arithmetic on `arange` (Gather), which gives bit-identical results in PyTorch and stays
symbolic in the graph, so every export runs at any T >= 1.

Use `with patched(): torch.onnx.export(...)`; `install()`/`uninstall()` for longer scopes.
"""

from __future__ import annotations

import contextlib

import torch

from . import infer_pack

_ORIGINAL: dict[str, object] = {}


def _get_relative_embeddings(self, relative_embeddings: torch.Tensor, length) -> torch.Tensor:
    """[h, 2w+1, d] table -> [h, 2*length-1, d]: the embedding of each relative position
    -(length-1)..(length-1), zero outside the window (as the padded original)."""
    w = self.window_size
    rel = torch.arange(2 * length - 1, device=relative_embeddings.device) - (length - 1)
    idx = rel + w
    valid = ((idx >= 0) & (idx <= 2 * w)).to(relative_embeddings.dtype)
    idx = idx.clamp(0, 2 * w)
    return relative_embeddings.index_select(1, idx) * valid.view(1, -1, 1)


def _relative_position_to_absolute_position(self, x: torch.Tensor) -> torch.Tensor:
    """[b, h, l, 2l-1] -> [b, h, l, l]: out[..., i, j] = x[..., i, j - i + l - 1]."""
    b, h, length, _ = x.shape
    r = torch.arange(length, device=x.device)
    idx = r.view(1, -1) - r.view(-1, 1) + (length - 1)
    return torch.gather(x, 3, idx.view(1, 1, length, length).expand(b, h, length, length))


def _absolute_position_to_relative_position(self, x: torch.Tensor) -> torch.Tensor:
    """[b, h, l, l] -> [b, h, l, 2l-1]: out[..., i, k] = x[..., i, k + i - (l - 1)], zero where that
    column falls outside [0, l)."""
    b, h, length, _ = x.shape
    i = torch.arange(length, device=x.device).view(-1, 1)
    k = torch.arange(2 * length - 1, device=x.device).view(1, -1)
    col = k + i - (length - 1)
    valid = ((col >= 0) & (col < length)).to(x.dtype)
    col = col.clamp(0, length - 1)
    out = torch.gather(x, 3, col.view(1, 1, length, 2 * length - 1).expand(b, h, length, 2 * length - 1))
    return out * valid.view(1, 1, length, 2 * length - 1)


_PATCH = {
    "_get_relative_embeddings": _get_relative_embeddings,
    "_relative_position_to_absolute_position": _relative_position_to_absolute_position,
    "_absolute_position_to_relative_position": _absolute_position_to_relative_position,
}


def install() -> None:
    cls = infer_pack.load().attentions.MultiHeadAttention
    for name, fn in _PATCH.items():
        _ORIGINAL.setdefault(name, cls.__dict__[name])
        setattr(cls, name, fn)


def uninstall() -> None:
    cls = infer_pack.load().attentions.MultiHeadAttention
    for name, fn in _ORIGINAL.items():
        setattr(cls, name, fn)


@contextlib.contextmanager
def patched():
    install()
    try:
        yield
    finally:
        uninstall()
