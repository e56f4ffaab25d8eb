"""A graph template: an ONNX export with its weights' bytes taken out, for the engine to fill from
a user's checkpoint (engine/src/graph_template.rs). Shared by the voice templates
(voice_template.py) and RMVPE's (rmvpe_template.py).

The export is made without constant folding, so every weight stays an initializer under its
state-dict name (renamed from the wrapper's path), and ONNX Runtime folds the rest when it opens
the built model. The weights keep type and shape but their bytes move out: they are marked as
external data at location `checkpoint`. Every other initializer must be the same in an export
from other weights (`other`), which proves nothing left in the template depends on them.
"""

from __future__ import annotations

import json

import onnx

# The location the engine's filler looks for.
CHECKPOINT_LOCATION = "checkpoint"
# Metadata key of what the template fits.
FITS_KEY = "rvc_live_template"
# The two sets of weights a template is exported from: what is left in it must not differ.
TEMPLATE_SEEDS = (11, 12)


def template_from(export, prefix: str, what: str, fits: dict, doc: str, rename=None) -> onnx.ModelProto:
    """The template of `export(seed) -> (proto, params)`: exported from both seeds, the first with
    its weights' bytes taken out (see `strip_weights`)."""
    proto, params = export(TEMPLATE_SEEDS[0])
    other, _ = export(TEMPLATE_SEEDS[1])
    return strip_weights(proto, other, params, prefix, what, fits, doc, rename)


def strip_weights(proto: onnx.ModelProto, other: onnx.ModelProto, params: set[str], prefix: str, what: str,
                  fits: dict, doc: str, rename=None) -> onnx.ModelProto:
    """Take the bytes of every initializer named in `params` (wrapper paths, `prefix` + state-dict
    key) out of `proto`, renaming it to its state-dict key (or to `rename(key)`, the name the
    users' checkpoints give it); check the rest against `other`."""
    others = {init.name: init for init in other.graph.initializer}
    renamed = {}
    for init in proto.graph.initializer:
        if init.name not in params:
            if init.SerializeToString() != others[init.name].SerializeToString():
                raise AssertionError(f"initializer {init.name} of {what} depends on the weights")
            continue
        name, dims, data_type = init.name, list(init.dims), init.data_type
        if data_type != onnx.TensorProto.FLOAT:
            raise AssertionError(f"weight {init.name} of {what} is not float32")
        init.Clear()
        init.name = name[len(prefix):] if rename is None else rename(name[len(prefix):])
        renamed[name] = init.name
        init.dims.extend(dims)
        init.data_type = data_type
        init.data_location = onnx.TensorProto.EXTERNAL
        init.external_data.add(key="location", value=CHECKPOINT_LOCATION)
    for node in proto.graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    missing = params - set(renamed)
    # Parameters the graph does not use would be silently ignored by the filler; say so here.
    if missing:
        raise AssertionError(f"{what}: parameters not in the graph: {sorted(missing)[:5]}")
    del proto.metadata_props[:]
    proto.metadata_props.add(key=FITS_KEY, value=json.dumps(fits, sort_keys=True))
    proto.producer_name = "rvc-live-models"
    proto.producer_version = "1"
    proto.doc_string = f"{doc}: {len(renamed)} weights to fill from a checkpoint"
    return proto
