"""Small ONNX models whose output is known exactly, for tests of the ONNX Runtime path.

Deterministic: the same script writes the same bytes. Usage:
    python models/generate_analytic.py --out .cache/models/analytic
"""

import argparse
import pathlib

import math

import onnx
from onnx import TensorProto, helper

OPSET = 17
IR_VERSION = 8


def affine(scale: float, offset: float) -> onnx.ModelProto:
    """y = scale * x + offset over a [1, N] float tensor of any length N."""
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Mul", ["x", "scale"], ["scaled"]),
            helper.make_node("Add", ["scaled", "offset"], ["y"]),
        ],
        name="affine",
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "N"])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "N"])],
        initializer=[
            helper.make_tensor("scale", TensorProto.FLOAT, [], [scale]),
            helper.make_tensor("offset", TensorProto.FLOAT, [], [offset]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rvc-live")
    model.ir_version = IR_VERSION
    model.metadata_props.add(key="rvc_live_analytic", value=f"y = {scale} * x + {offset}")
    onnx.checker.check_model(model)
    return model


def analytic_synthesizer(sample_rate: int, emb_channels: int = 768, amplitude: float = 0.5) -> onnx.ModelProto:
    """An RVC synthesiser in the RVC WebUI export's interface whose output is known exactly.

    Inputs `phone [1,T,C], phone_lengths [1], pitch [1,T], pitchf [1,T], ds [1], rnd [1,192,T]`,
    output `audio [1,1,T*hop]` with hop = sample_rate / 100: a sine of `amplitude` whose frequency
    is `pitchf` held for each frame, silent where `pitchf` is 0. Like RVC's NSF source, its phase
    starts at zero on every call. The features, coarse pitch, speaker and noise are accepted and
    ignored, so only the pitch path is checked through it.
    """
    hop = sample_rate // 100
    nodes = [
        # [1,T] -> [1,T,1] -> [1,T,hop] -> [1,1,T*hop]: each frame's pitch for each of its samples.
        helper.make_node("Unsqueeze", ["pitchf", "axis_last"], ["f_col"]),
        helper.make_node("Shape", ["pitchf"], ["pitch_shape"]),
        helper.make_node("Concat", ["pitch_shape", "hop_1d"], ["tiled_shape"], axis=0),
        helper.make_node("Expand", ["f_col", "tiled_shape"], ["f_tiled"]),
        helper.make_node("Reshape", ["f_tiled", "audio_shape"], ["f_samples"]),
        # Phase advances by 2*pi*f/sr per sample; the sum includes the current sample. Summed in
        # double precision: in single precision the phase drifts audibly within a second.
        helper.make_node("Cast", ["f_samples"], ["f_samples_f64"], to=TensorProto.DOUBLE),
        helper.make_node("Mul", ["f_samples_f64", "rad_per_hz_sample"], ["phase_step"]),
        helper.make_node("CumSum", ["phase_step", "axis_last_scalar"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["sine_f64"]),
        helper.make_node("Cast", ["sine_f64"], ["sine"], to=TensorProto.FLOAT),
        helper.make_node("Greater", ["f_samples", "zero"], ["voiced_bool"]),
        helper.make_node("Cast", ["voiced_bool"], ["voiced"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["voiced", "amplitude"], ["gain"]),
        helper.make_node("Mul", ["sine", "gain"], ["audio"]),
    ]
    initializers = [
        helper.make_tensor("axis_last", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("axis_last_scalar", TensorProto.INT64, [], [-1]),
        helper.make_tensor("hop_1d", TensorProto.INT64, [1], [hop]),
        helper.make_tensor("audio_shape", TensorProto.INT64, [3], [1, 1, -1]),
        helper.make_tensor("rad_per_hz_sample", TensorProto.DOUBLE, [], [2 * math.pi / sample_rate]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("amplitude", TensorProto.FLOAT, [], [amplitude]),
    ]
    graph = helper.make_graph(
        nodes,
        name="analytic_rvc_synthesizer",
        inputs=[
            helper.make_tensor_value_info("phone", TensorProto.FLOAT, [1, "T", emb_channels]),
            helper.make_tensor_value_info("phone_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("pitch", TensorProto.INT64, [1, "T"]),
            helper.make_tensor_value_info("pitchf", TensorProto.FLOAT, [1, "T"]),
            helper.make_tensor_value_info("ds", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("rnd", TensorProto.FLOAT, [1, 192, "T"]),
        ],
        outputs=[helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 1, "S"])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rvc-live")
    model.ir_version = IR_VERSION
    model.metadata_props.add(key="rvc_live_analytic", value=f"sine of amplitude {amplitude} at pitchf, {sample_rate} Hz")
    onnx.checker.check_model(model, full_check=True)
    return model


def write_if_changed(path: pathlib.Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.write_bytes(data)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_if_changed(args.out / "affine.onnx", affine(0.5, 0.25).SerializeToString())
    for rate in (32_000, 40_000, 48_000):
        model = analytic_synthesizer(rate)
        write_if_changed(args.out / f"analytic_synth_v2_{rate // 1000}k.onnx", model.SerializeToString())


if __name__ == "__main__":
    main()
