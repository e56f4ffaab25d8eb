"""Small ONNX models whose output is known exactly, for tests of the ONNX Runtime path.

Deterministic: the same script writes the same bytes. Usage:
    python models/generate_analytic.py --out .cache/models/analytic
"""

import argparse
import pathlib

import json
import math

import numpy as np
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


def _sine_nodes(pitchf: str, audio_shape: list[int], sample_rate: int, amplitude: float, prefix: str = ""):
    """Nodes turning per-frame pitch [1,T] into a sine at that pitch, held for each frame's hop
    samples, phase starting at zero, silent where the pitch is 0. Returns (nodes, initializers,
    output name)."""
    hop = sample_rate // 100
    p = prefix
    nodes = [
        # [1,T] -> [1,T,1] -> [1,T,hop] -> audio_shape: each frame's pitch for each of its samples.
        helper.make_node("Unsqueeze", [pitchf, p + "axis_last"], [p + "f_col"]),
        helper.make_node("Shape", [pitchf], [p + "pitch_shape"]),
        helper.make_node("Concat", [p + "pitch_shape", p + "hop_1d"], [p + "tiled_shape"], axis=0),
        helper.make_node("Expand", [p + "f_col", p + "tiled_shape"], [p + "f_tiled"]),
        helper.make_node("Reshape", [p + "f_tiled", p + "audio_shape"], [p + "f_samples"]),
        # Phase advances by 2*pi*f/sr per sample; the sum includes the current sample. Summed in
        # double precision: in single precision the phase drifts audibly within a second.
        helper.make_node("Cast", [p + "f_samples"], [p + "f_samples_f64"], to=TensorProto.DOUBLE),
        helper.make_node("Mul", [p + "f_samples_f64", p + "rad_per_hz_sample"], [p + "phase_step"]),
        helper.make_node("CumSum", [p + "phase_step", p + "axis_last_scalar"], [p + "phase"]),
        helper.make_node("Sin", [p + "phase"], [p + "sine_f64"]),
        helper.make_node("Cast", [p + "sine_f64"], [p + "sine"], to=TensorProto.FLOAT),
        helper.make_node("Greater", [p + "f_samples", p + "zero"], [p + "voiced_bool"]),
        helper.make_node("Cast", [p + "voiced_bool"], [p + "voiced"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [p + "voiced", p + "amplitude"], [p + "gain"]),
        helper.make_node("Mul", [p + "sine", p + "gain"], [p + "audio_out"]),
    ]
    initializers = [
        helper.make_tensor(p + "axis_last", TensorProto.INT64, [1], [-1]),
        helper.make_tensor(p + "axis_last_scalar", TensorProto.INT64, [], [-1]),
        helper.make_tensor(p + "hop_1d", TensorProto.INT64, [1], [hop]),
        helper.make_tensor(p + "audio_shape", TensorProto.INT64, [len(audio_shape)], audio_shape),
        helper.make_tensor(p + "rad_per_hz_sample", TensorProto.DOUBLE, [], [2 * math.pi / sample_rate]),
        helper.make_tensor(p + "zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor(p + "amplitude", TensorProto.FLOAT, [], [amplitude]),
    ]
    return nodes, initializers, p + "audio_out"


def _finish(graph: onnx.GraphProto, description: str, metadata: dict | None = None) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rvc-live")
    model.ir_version = IR_VERSION
    model.metadata_props.add(key="rvc_live_analytic", value=description)
    if metadata is not None:
        model.metadata_props.add(key="metadata", value=json.dumps(metadata, sort_keys=True))
    onnx.checker.check_model(model, full_check=True)
    return model


def analytic_synthesizer(
    sample_rate: int, emb_channels: int = 768, amplitude: float = 0.5, frames: int | str = "T"
) -> onnx.ModelProto:
    """An RVC synthesizer in the RVC WebUI export's interface whose output is known exactly.

    Inputs `phone [1,T,C], phone_lengths [1], pitch [1,T], pitchf [1,T], ds [1], rnd [1,192,T]`,
    output `audio [1,1,T*hop]` with hop = sample_rate / 100: a sine of `amplitude` whose frequency
    is `pitchf` held for each frame, silent where `pitchf` is 0. Like RVC's NSF source, its phase
    starts at zero on every call. The features, coarse pitch, speaker and noise are accepted and
    ignored, so only the pitch path is checked through it. A fixed `frames` makes an export that
    only runs at one length, like one whose attention was traced without RVC's ONNX patch.
    """
    t = frames
    nodes, inits, out = _sine_nodes("pitchf", [1, 1, -1], sample_rate, amplitude)
    nodes.append(helper.make_node("Identity", [out], ["audio"]))
    graph = helper.make_graph(
        nodes,
        name="analytic_rvc_synthesizer",
        inputs=[
            helper.make_tensor_value_info("phone", TensorProto.FLOAT, [1, t, emb_channels]),
            helper.make_tensor_value_info("phone_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("pitch", TensorProto.INT64, [1, t]),
            helper.make_tensor_value_info("pitchf", TensorProto.FLOAT, [1, t]),
            helper.make_tensor_value_info("ds", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("rnd", TensorProto.FLOAT, [1, 192, t]),
        ],
        outputs=[helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 1, "S"])],
        initializer=inits,
    )
    return _finish(graph, f"sine of amplitude {amplitude} at pitchf, {sample_rate} Hz")


def wokada_metadata(sample_rate: int, emb_channels: int, f0: bool) -> dict:
    """The JSON w-okada's exporter stores under the `metadata` key."""
    return {
        "application": "VC_CLIENT",
        "version": "2.1",
        "modelType": "pyTorchRVCv2" if emb_channels == 768 else "pyTorchRVC",
        "samplingRate": sample_rate,
        "f0": f0,
        "embChannels": emb_channels,
        "embedder": "hubert_base",
        "embOutputLayer": 12 if emb_channels == 768 else 9,
        "useFinalProj": emb_channels == 256,
    }


def analytic_synthesizer_wokada(
    sample_rate: int,
    emb_channels: int = 768,
    f0: bool = True,
    partial: bool = False,
    feats_type: int = TensorProto.FLOAT,
    amplitude: float = 0.5,
    audio_type: int = TensorProto.FLOAT,
) -> onnx.ModelProto:
    """The same analytic voice in w-okada's export interface: `feats, p_len, [pitch, pitchf,] sid`
    -> 1-D `audio`, with its metadata JSON. `partial` adds the partial-decoding scalars
    `skip_head, return_length, formant_length`: only frames `[skip_head, skip_head +
    return_length)` are rendered (formant_length is accepted and must equal return_length here).
    Without f0 the voice is silent: there is no pitch to sing at.
    """
    inputs = [
        helper.make_tensor_value_info("feats", feats_type, [1, "T", emb_channels]),
        helper.make_tensor_value_info("p_len", TensorProto.INT64, [1]),
    ]
    nodes, inits = [], []
    if f0:
        inputs += [
            helper.make_tensor_value_info("pitch", TensorProto.INT64, [1, "T"]),
            helper.make_tensor_value_info("pitchf", TensorProto.FLOAT, [1, "T"]),
        ]
    inputs.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    if partial:
        inputs += [helper.make_tensor_value_info(name, TensorProto.INT64, []) for name in
                   ("skip_head", "return_length", "formant_length")]
    if f0:
        source = "pitchf"
    else:
        # Silence with one frame per feature frame: zero pitch everywhere.
        nodes += [
            helper.make_node("Shape", ["feats"], ["feats_shape"]),
            helper.make_node("Slice", ["feats_shape", "zero_i", "two_i"], ["bt"]),
            helper.make_node("ConstantOfShape", ["bt"], ["no_pitch"],
                             value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
        ]
        inits += [helper.make_tensor("zero_i", TensorProto.INT64, [1], [0]),
                  helper.make_tensor("two_i", TensorProto.INT64, [1], [2])]
        source = "no_pitch"
    if partial:
        # Keep frames [skip_head, skip_head + return_length) of the pitch before rendering.
        nodes += [
            helper.make_node("Unsqueeze", ["skip_head", "axis0"], ["start"]),
            helper.make_node("Add", ["skip_head", "return_length"], ["end_scalar"]),
            helper.make_node("Unsqueeze", ["end_scalar", "axis0"], ["end"]),
            helper.make_node("Slice", [source, "start", "end", "axis1"], ["kept_pitch"]),
        ]
        inits += [helper.make_tensor("axis0", TensorProto.INT64, [1], [0]),
                  helper.make_tensor("axis1", TensorProto.INT64, [1], [1])]
        source = "kept_pitch"
    sine_nodes, sine_inits, out = _sine_nodes(source, [-1], sample_rate, amplitude)
    nodes += sine_nodes
    inits += sine_inits
    if audio_type == TensorProto.FLOAT:
        nodes.append(helper.make_node("Clip", [out, "lo", "hi"], ["audio"]))
    else:
        # w-okada's fp16 exports compute and return audio in half precision.
        nodes += [helper.make_node("Clip", [out, "lo", "hi"], ["audio_f32"]),
                  helper.make_node("Cast", ["audio_f32"], ["audio"], to=audio_type)]
    inits += [helper.make_tensor("lo", TensorProto.FLOAT, [], [-1.0]), helper.make_tensor("hi", TensorProto.FLOAT, [], [1.0])]
    graph = helper.make_graph(
        nodes,
        name="analytic_rvc_synthesizer_wokada",
        inputs=inputs,
        outputs=[helper.make_tensor_value_info("audio", audio_type, ["S"])],
        initializer=inits,
    )
    kind = "partial decoding" if partial else "w-okada"
    return _finish(graph, f"{kind} analytic voice, {sample_rate} Hz", wokada_metadata(sample_rate, emb_channels, f0))


def analytic_content_encoder(form: str) -> onnx.ModelProto:
    """A content encoder with ContentVec's framing, in either common interface.

    ContentVec's convolutional front end turns N samples at 16 kHz into floor((N - 400) / 320) + 1
    frames. This one is a single strided convolution with that receptive field and stride whose
    output channel c is the mean of the window times (c + 1): exact, and easy to check.
    `form="units"`: `audio [1,N] -> units9 [1,T,256], unit12 [1,T,768]`;
    `form="embed"`: `source [1,1,N] -> embed [1,T,768]`.
    """
    def conv(name: str, channels: int, source: str):
        weight = np.stack([np.full((1, 400), (c + 1) / 400.0, np.float32) for c in range(channels)])
        return (
            [helper.make_node("Conv", [source, name + "_w"], [name + "_ct"], strides=[320]),
             helper.make_node("Transpose", [name + "_ct"], [name], perm=[0, 2, 1])],
            [helper.make_tensor(name + "_w", TensorProto.FLOAT, weight.shape, weight.ravel())],
        )

    if form == "units":
        inputs = [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "N"])]
        nodes = [helper.make_node("Unsqueeze", ["audio", "axis1"], ["x"])]
        inits = [helper.make_tensor("axis1", TensorProto.INT64, [1], [1])]
        outputs = []
        for name, channels in (("units9", 256), ("unit12", 768)):
            n, i = conv(name, channels, "x")
            nodes += n
            inits += i
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, "T", channels]))
    else:
        inputs = [helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 1, "N"])]
        nodes, inits = conv("embed", 768, "source")
        outputs = [helper.make_tensor_value_info("embed", TensorProto.FLOAT, [1, "T", 768])]
    graph = helper.make_graph(nodes, name=f"analytic_content_encoder_{form}", inputs=inputs, outputs=outputs,
                              initializer=inits)
    return _finish(graph, f"ContentVec framing, channel c = (c + 1) * window mean, {form} interface")


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
    models = {"affine.onnx": affine(0.5, 0.25)}
    for rate in (32_000, 40_000, 48_000):
        models[f"analytic_synth_v2_{rate // 1000}k.onnx"] = analytic_synthesizer(rate)
    # A second voice that differs from the first only in loudness, so voice swaps can be heard.
    models["analytic_synth_v2_40k_quiet.onnx"] = analytic_synthesizer(40_000, amplitude=0.25)
    # Eight voices at eight levels (0.10 to 0.45), one per voice slot, so slot switches can be heard.
    for percent in range(10, 50, 5):
        models[f"analytic_synth_v2_40k_level{percent}.onnx"] = analytic_synthesizer(40_000, amplitude=percent / 100)
    models["analytic_synth_v1_40k.onnx"] = analytic_synthesizer(40_000, emb_channels=256)
    models["analytic_synth_wokada_v2_48k.onnx"] = analytic_synthesizer_wokada(48_000)
    models["analytic_synth_wokada_v2_40k_fp16.onnx"] = analytic_synthesizer_wokada(
        40_000, feats_type=TensorProto.FLOAT16, audio_type=TensorProto.FLOAT16)
    models["analytic_synth_wokada_v1_32k_nof0.onnx"] = analytic_synthesizer_wokada(32_000, 256, f0=False)
    models["analytic_synth_partial_v2_40k.onnx"] = analytic_synthesizer_wokada(40_000, partial=True)
    models["analytic_content_units.onnx"] = analytic_content_encoder("units")
    models["analytic_content_embed.onnx"] = analytic_content_encoder("embed")
    # Files a user might pick by mistake, each refused with its own reason.
    models["bad_synth_width_512.onnx"] = analytic_synthesizer(40_000, emb_channels=512)
    models["bad_synth_fixed_length.onnx"] = analytic_synthesizer(40_000, frames=20)
    for name, model in models.items():
        write_if_changed(args.out / name, model.SerializeToString())

if __name__ == "__main__":
    main()
