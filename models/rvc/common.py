"""Shared helpers: seeded weights, file writing, ONNX export and description.

Every random number comes from numpy's PCG64 seeded by (seed, crc32(parameter name)), so the weights
depend neither on torch's initialisers nor on the order modules are built in.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib
import warnings
import zlib
from collections import Counter

import numpy as np
import onnx
import torch

OPSET = 17


def rng_for(seed: int, name: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, zlib.crc32(name.encode())]))


def normal(seed: int, name: str, shape, std: float, mean: float = 0.0) -> torch.Tensor:
    values = rng_for(seed, name).standard_normal(size=tuple(shape)) * std + mean
    return torch.from_numpy(values.astype(np.float32))


def write_if_changed(path: pathlib.Path, data: bytes) -> bool:
    """Writes `data` unless the file already holds exactly it. Returns whether it wrote."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(module: torch.nn.Module, args: tuple, input_names, output_names, dynamic_axes,
                opset: int = OPSET, constant_folding: bool = True) -> onnx.ModelProto:
    """Traces `module` with the TorchScript exporter (deterministic, unlike dynamo) and returns the
    model proto."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, args, buf,
            input_names=list(input_names), output_names=list(output_names), dynamic_axes=dynamic_axes,
            opset_version=opset, do_constant_folding=constant_folding, dynamo=False,
        )
    return onnx.load_from_string(buf.getvalue())


def set_dim(value_info, axis: int, value) -> None:
    """Pins (int) or names (str) one dimension of a graph input/output."""
    dim = value_info.type.tensor_type.shape.dim[axis]
    if isinstance(value, int):
        dim.ClearField("dim_param")
        dim.dim_value = value
    else:
        dim.ClearField("dim_value")
        dim.dim_param = value


def finish(model: onnx.ModelProto, metadata: dict[str, str], doc: str) -> bytes:
    """Adds metadata (sorted, so the bytes are stable), checks and serialises."""
    model.producer_name = "rvc-live-models"
    model.producer_version = "1"
    model.doc_string = doc
    del model.metadata_props[:]
    for key in sorted(metadata):
        model.metadata_props.add(key=key, value=str(metadata[key]))
    onnx.checker.check_model(model)
    return model.SerializeToString()


def describe(model_bytes: bytes) -> dict:
    """The interface of a serialised model: inputs, outputs (name, dtype, dims), opset, op counts."""
    model = onnx.load_from_string(model_bytes)

    def io_of(values):
        out = []
        for v in values:
            t = v.type.tensor_type
            dims = [d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else "?")
                    for d in t.shape.dim]
            out.append({"name": v.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                        "shape": dims})
        return out

    ops = Counter(n.op_type for n in model.graph.node)
    return {
        "inputs": io_of(model.graph.input),
        "outputs": io_of(model.graph.output),
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "ir_version": model.ir_version,
        "nodes": sum(ops.values()),
        "random_ops": sorted(op for op in ops if op.startswith("Random")),
        "metadata": {p.key: p.value for p in model.metadata_props},
    }


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
