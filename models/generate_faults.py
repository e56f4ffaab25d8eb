"""Fault-injection fixtures: generated models with a fault appended to their outputs.

Each file is an existing generated model whose outputs pass through a few extra nodes before they
leave the graph, so it loads like the original and misbehaves in one known way:

    nan          every value NaN (the output times ONNX `Sqrt(-1)`)
    inf          every value +infinity
    neg-inf      every value -infinity
    huge         every value 1e30
    zeros        every value 0 (a valid output: silence, no features, no pitch)
    frame-short  one frame too few along the time axis (a voice: `hop` samples fewer)
    frame-long   one frame too many (the last frame repeated)
    int64        the main output cast to int64 (wrong dtype)

for the three stages, `voice-*`, `content-encoder-*` and `pitch-model-*`, plus
`content-encoder-loud-nan.onnx`: the content encoder's features become NaN in any call whose input
peak exceeds 0.5, and are exactly the original's otherwise (a model that turns bad mid-stream).

Base models (see models/README.md):
  voice            analytic/analytic_synth_partial_v2_40k.onnx (partial decoding, 40 kHz, hop 400)
  content encoder  analytic/analytic_content_units.onnx (ContentVec framing, units9 + unit12)
  pitch model      rvc/crepe_tiny.onnx (the smallest pitch model the plugin reads; needs the ci set
                   of generate_models.py: without it the pitch-model faults are not written)

Deterministic (numpy + onnx only, no PyTorch): the same inputs give the same bytes. Usage:
    python models/generate_faults.py --models .cache/models --out .cache/models/faults [--check]
`--check` (needs onnxruntime) runs every file and prints each output's dtype, shape and values.
"""

import argparse
import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from generate_analytic import write_if_changed

FAULTS = ("nan", "inf", "neg-inf", "huge", "zeros", "frame-short", "frame-long", "int64")
# Every value of the output replaced by this constant (same shape and dtype).
FILLS = {"inf": float("inf"), "neg-inf": float("-inf"), "huge": 1e30, "zeros": 0.0}
INT64_MAX = np.iinfo(np.int64).max


class Stage:
    """A base model and how its outputs are laid out."""

    def __init__(self, name: str, path: pathlib.Path, outputs: dict[str, int], main: list[str], frame: int):
        self.name = name
        self.path = path
        # Output name -> its time axis.
        self.outputs = outputs
        # The outputs the int64 fault casts.
        self.main = main
        # Elements per frame along the time axis: a voice's hop in samples, else 1.
        self.frame = frame


def voice_hop(model: onnx.ModelProto) -> int:
    meta = {p.key: p.value for p in model.metadata_props}
    return int(json.loads(meta["metadata"])["samplingRate"]) // 100


def stages(models: pathlib.Path) -> list[Stage]:
    voice = models / "analytic" / "analytic_synth_partial_v2_40k.onnx"
    encoder = models / "analytic" / "analytic_content_units.onnx"
    pitch = models / "rvc" / "crepe_tiny.onnx"
    for required in (voice, encoder):
        if not required.is_file():
            sys.exit(f"{required} is missing: run models/generate_analytic.py first (`cargo xtask models`)")
    out = [
        Stage("voice", voice, {"audio": 0}, ["audio"], voice_hop(onnx.load(voice))),
        Stage("content-encoder", encoder, {"units9": 1, "unit12": 1}, ["units9", "unit12"], 1),
    ]
    if pitch.is_file():
        out.append(Stage("pitch-model", pitch, {"probabilities": 1, "f0": 1, "periodicity": 1}, ["f0"], 1))
    else:
        print(f"{pitch} is missing (generate_models.py --set ci): no pitch-model faults", file=sys.stderr)
    return out


def rename_outputs(graph: onnx.GraphProto, names: list[str]) -> dict[str, str]:
    """Renames each graph output `name` to `name__original` wherever the graph produces or reads
    it, so new nodes can produce `name` from it. Returns the map."""
    renamed = {name: f"{name}__original" for name in names}
    for node in graph.node:
        node.output[:] = [renamed.get(o, o) for o in node.output]
        node.input[:] = [renamed.get(i, i) for i in node.input]
    for info in graph.value_info:
        if info.name in renamed:
            info.name = renamed[info.name]
    return renamed


def time_slice(source: str, target: str, axis: int, start: int, end: int, prefix: str):
    consts = [
        helper.make_tensor(prefix + "_starts", TensorProto.INT64, [1], [start]),
        helper.make_tensor(prefix + "_ends", TensorProto.INT64, [1], [end]),
        helper.make_tensor(prefix + "_axes", TensorProto.INT64, [1], [axis]),
    ]
    node = helper.make_node("Slice", [source, prefix + "_starts", prefix + "_ends", prefix + "_axes"], [target])
    return [node], consts


def fault_nodes(fault: str, source: str, target: str, axis: int, frame: int, prefix: str):
    """Nodes turning the original output `source` into the faulty `target`; (nodes, initializers)."""
    if fault == "nan":
        consts = [helper.make_tensor(prefix + "_minus_one", TensorProto.FLOAT, [], [-1.0])]
        nodes = [
            helper.make_node("Sqrt", [prefix + "_minus_one"], [prefix + "_nan"]),
            helper.make_node("Mul", [source, prefix + "_nan"], [target]),
        ]
        return nodes, consts
    if fault in FILLS:
        value = helper.make_tensor(prefix + "_value", TensorProto.FLOAT, [1], [FILLS[fault]])
        nodes = [
            helper.make_node("Shape", [source], [prefix + "_shape"]),
            helper.make_node("ConstantOfShape", [prefix + "_shape"], [target], value=value),
        ]
        return nodes, []
    if fault == "frame-short":
        return time_slice(source, target, axis, 0, -frame, prefix)
    if fault == "frame-long":
        nodes, consts = time_slice(source, prefix + "_last", axis, -frame, INT64_MAX, prefix)
        nodes.append(helper.make_node("Concat", [source, prefix + "_last"], [target], axis=axis))
        return nodes, consts
    if fault == "int64":
        return [helper.make_node("Cast", [source], [target], to=TensorProto.INT64)], []
    raise ValueError(fault)


def with_fault(stage: Stage, fault: str) -> onnx.ModelProto:
    model = onnx.load(stage.path)
    graph = model.graph
    names = list(stage.outputs) if fault != "int64" else stage.main
    renamed = rename_outputs(graph, names)
    for name in names:
        prefix = f"fault_{name}"
        nodes, consts = fault_nodes(fault, renamed[name], name, stage.outputs[name], stage.frame, prefix)
        graph.node.extend(nodes)
        graph.initializer.extend(consts)
    if fault == "int64":
        for output in graph.output:
            if output.name in names:
                output.type.tensor_type.elem_type = TensorProto.INT64
    return finish(model, stage, f"{fault}: {describe(stage, fault)}")


def describe(stage: Stage, fault: str) -> str:
    outputs = ", ".join(stage.main if fault == "int64" else stage.outputs)
    unit = f"{stage.frame} samples (one frame)" if stage.frame > 1 else "one frame"
    return {
        "nan": f"{outputs} times Sqrt(-1): every value NaN",
        "inf": f"{outputs}: every value +inf",
        "neg-inf": f"{outputs}: every value -inf",
        "huge": f"{outputs}: every value 1e30",
        "zeros": f"{outputs}: every value 0",
        "frame-short": f"{outputs}: {unit} fewer along the time axis",
        "frame-long": f"{outputs}: {unit} more along the time axis (the last repeated)",
        "int64": f"{outputs} cast to int64",
    }[fault]


def loud_nan(stage: Stage) -> onnx.ModelProto:
    """The content encoder, except that its features are NaN in any call whose input audio peak
    exceeds 0.5: `Where(ReduceMax(Abs(audio)) > 0.5, NaN, features)`."""
    model = onnx.load(stage.path)
    graph = model.graph
    audio = graph.input[0].name
    renamed = rename_outputs(graph, list(stage.outputs))
    graph.node.extend([
        helper.make_node("Abs", [audio], ["loud_abs"]),
        helper.make_node("ReduceMax", ["loud_abs"], ["loud_peak"], keepdims=0),
        helper.make_node("Greater", ["loud_peak", "loud_threshold"], ["loud"]),
        helper.make_node("Sqrt", ["loud_minus_one"], ["loud_nan"]),
    ])
    graph.initializer.extend([
        helper.make_tensor("loud_threshold", TensorProto.FLOAT, [], [0.5]),
        helper.make_tensor("loud_minus_one", TensorProto.FLOAT, [], [-1.0]),
    ])
    for name in stage.outputs:
        graph.node.append(helper.make_node("Where", ["loud", "loud_nan", renamed[name]], [name]))
    return finish(model, stage, "loud-nan: features NaN in a call whose input peak exceeds 0.5, else the original")


def finish(model: onnx.ModelProto, stage: Stage, description: str) -> onnx.ModelProto:
    model.metadata_props.add(key="rvc_live_fault", value=f"{stage.name} ({stage.path.name}) {description}")
    onnx.checker.check_model(model, full_check=True)
    return model


# ---- --check: run every file and say what comes out ----

def check_inputs(stage: str, model: onnx.ModelProto, loud: bool) -> dict:
    """An input each stage expects: 0.6 s of a 220 Hz tone (16 kHz for the encoder and pitch model;
    60 frames at 220 Hz for the voice, decoding frames [10, 50))."""
    if stage == "voice":
        frames = 60
        inputs = {
            "feats": np.zeros((1, frames, 768), np.float32),
            "p_len": np.array([frames], np.int64),
            "pitch": np.full((1, frames), 50, np.int64),
            "pitchf": np.full((1, frames), 220.0, np.float32),
            "sid": np.array([0], np.int64),
            "skip_head": np.array(10, np.int64),
            "return_length": np.array(40, np.int64),
            "formant_length": np.array(40, np.int64),
        }
        return inputs
    amplitude = 0.9 if loud else 0.3
    audio = (amplitude * np.sin(2 * np.pi * 220 * np.arange(9600) / 16000)).astype(np.float32)[None, :]
    return {model.graph.input[0].name: audio}


def check(out: pathlib.Path, names: list[str], models: pathlib.Path) -> None:
    import onnxruntime as ort

    bases = {s.name: s.path for s in stages(models)}
    for name in names:
        path = out / name
        model = onnx.load(path)
        stage = next(s for s in ("content-encoder", "pitch-model", "voice") if name.startswith(s))
        sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (path, bases[stage])]
        for loud in ((False, True) if "loud" in name else (False,)):
            feeds = check_inputs(stage, model, loud)
            got, base = (dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds))) for s in sessions)
            for key, value in got.items():
                ref = base[key]
                finite = np.isfinite(value.astype(np.float64)).mean() * 100
                values = np.unique(value)
                shown = values if values.size <= 2 else f"[{value.min():.3g}, {value.max():.3g}]"
                same = value.dtype == ref.dtype and value.shape == ref.shape and np.array_equal(value, ref)
                print(f"{name}{' (loud input)' if loud else ''}: {key} {value.dtype} {list(value.shape)} "
                      f"(original {ref.dtype} {list(ref.shape)}), {finite:.0f} % finite, values {shown}"
                      f"{', identical to the original' if same else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=pathlib.Path, required=True, help="folder holding analytic/ and rvc/")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--check", action="store_true", help="run every file with onnxruntime and report")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for stage in stages(args.models):
        for fault in FAULTS:
            name = f"{stage.name}-{fault}.onnx"
            write_if_changed(args.out / name, with_fault(stage, fault).SerializeToString())
            written.append(name)
        if stage.name == "content-encoder":
            write_if_changed(args.out / "content-encoder-loud-nan.onnx", loud_nan(stage).SerializeToString())
            written.append("content-encoder-loud-nan.onnx")
    if args.check:
        check(args.out, written, args.models)


if __name__ == "__main__":
    main()
