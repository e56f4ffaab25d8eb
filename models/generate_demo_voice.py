"""The demo voice: a source-filter vocoder in RVC's interfaces, so the demo speaks instead of beeping.

No trained RVC voice can be had without a model hub, and the analytic voice sings a pure tone. This
one keeps what RVC keeps of the speaker's words: the content encoder reports each 20 ms frame's
spectral envelope, and the synthesizer renders it again at the pitch the engine gives it — the
harmonics of `pitchf` where the frame is voiced, noise where it is not, both shaped by that
envelope. Through the whole engine the sentence comes back intelligible, at the new pitch. A real
RVC voice does what no envelope can: it replaces the speaker's timbre with the one it was trained on.

Both are plain ONNX graphs of fixed weights (DFT and mel matrices, no training), written
deterministically:
- `demo_content_envelope.onnx`, the content encoder in the units interface (`audio [1,N]` at
  16 kHz -> `units9 [1,T,256]`, `unit12 [1,T,768]`, ContentVec's framing: 400-sample windows every
  320). Channels 0..BANDS hold the natural log of the one-sided power spectral density (amplitude²
  per Hz) in BANDS mel bands up to 8 kHz, smoothed across bands by keeping the first LIFTER
  cepstral coefficients; the other channels are 0.
- `demo_synth_v2_40k.onnx`, the synthesizer in the partial-decoding export interface (`feats, p_len,
  pitch, pitchf, sid, skip_head, return_length, formant_length` -> `audio [formant_length*400]` at
  40 kHz). Harmonic k of f0 gets amplitude sqrt(2·f0·S(k·f0)), so the output has the input's power
  density whatever its pitch; unvoiced frames get Gaussian noise of density S through a windowed
  inverse DFT with overlap-add. It takes a formant shift as RVC's voices do: the decoded frames'
  envelope and source are stretched to `formant_length` frames, the source's pitch lowered by the
  stretch, and the engine resamples the render back, which moves the envelope and keeps the pitch.

Usage: python models/generate_demo_voice.py --out .cache/models/demo
"""

import argparse
import json
import math
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from generate_analytic import write_if_changed

OPSET = 17
IR_VERSION = 8

# Content side (16 kHz, ContentVec's framing).
CONTENT_RATE = 16_000
WINDOW = 400
HOP_IN = 320
BANDS = 40
TOP_HZ = 8_000.0
LIFTER = 20

# Voice side.
VOICE_RATE = 40_000
HOP_OUT = VOICE_RATE // 100
HARMONICS = 96
NOISE_SPACING_HZ = 50.0
NOISE_BINS = int(TOP_HZ / NOISE_SPACING_HZ)
NOISE_SEED = 1234.0
# Power density floor: -140 dB re 1/Hz keeps the log finite in digital silence.
DENSITY_FLOOR = 1e-14


def mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def band_centres_mel() -> np.ndarray:
    """BANDS triangle centres, equally spaced in mel between 0 Hz and TOP_HZ (both excluded)."""
    return np.linspace(0.0, mel(TOP_HZ), BANDS + 2)[1:-1]


def band_position(hz) -> np.ndarray:
    """Fractional band index of a frequency, clamped to the first and last band."""
    centres = band_centres_mel()
    step = centres[1] - centres[0]
    return np.clip((mel(hz) - centres[0]) / step, 0.0, BANDS - 1)


def mel_filterbank(bin_hz: np.ndarray) -> np.ndarray:
    """[bins, BANDS] triangles, each normalised to sum to 1: a band's value is the mean power
    per bin under it, so a flat density gives the same value in every band."""
    edges = mel_to_hz(np.linspace(0.0, mel(TOP_HZ), BANDS + 2))
    bank = np.zeros((len(bin_hz), BANDS))
    for b in range(BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        rising = (bin_hz - lo) / (mid - lo)
        falling = (hi - bin_hz) / (hi - mid)
        bank[:, b] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank / bank.sum(axis=0, keepdims=True)


def lifter_matrix() -> np.ndarray:
    """[BANDS, BANDS]: log band values -> the same with only the first LIFTER cepstral
    coefficients (orthonormal DCT-II and its inverse), a smooth envelope without the input's
    harmonics, which the low bands resolve."""
    n = np.arange(BANDS)
    dct = np.sqrt(2.0 / BANDS) * np.cos(np.pi * (n[None, :] + 0.5) * n[:, None] / BANDS)
    dct[0] /= np.sqrt(2.0)
    keep = np.diag((n < LIFTER).astype(np.float64))
    return dct.T @ keep @ dct


def tensor(name: str, array: np.ndarray, dtype=np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype), name)


def scalar_i64(name: str, *values: int) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))


def finish(graph: onnx.GraphProto, description: str) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rvc-live")
    model.ir_version = IR_VERSION
    model.metadata_props.add(key="rvc_live_demo", value=description)
    onnx.checker.check_model(model, full_check=True)
    return model


def content_envelope() -> onnx.ModelProto:
    n = np.arange(WINDOW)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / WINDOW)
    bins = WINDOW // 2 + 1
    bin_hz = np.arange(bins) * CONTENT_RATE / WINDOW
    angle = 2.0 * np.pi * np.outer(np.arange(bins), n) / WINDOW
    # Real and imaginary parts of the windowed DFT as one strided convolution: [2*bins, 1, WINDOW].
    dft = np.concatenate([window * np.cos(angle), -window * np.sin(angle)])[:, None, :]
    # One-sided density: a band's mean bin power P gives S = 2 P / (rate * sum(w^2)).
    bank = mel_filterbank(bin_hz) * (2.0 / (CONTENT_RATE * np.sum(window**2)))
    smooth = lifter_matrix().T
    nodes = [
        helper.make_node("Unsqueeze", ["audio", "axis1"], ["x"]),
        helper.make_node("Conv", ["x", "dft"], ["spectrum"], strides=[HOP_IN]),  # [1, 2*bins, T]
        helper.make_node("Transpose", ["spectrum"], ["spectrum_t"], perm=[0, 2, 1]),
        helper.make_node("Mul", ["spectrum_t", "spectrum_t"], ["squares"]),
        helper.make_node("Split", ["squares", "halves"], ["re2", "im2"], axis=2),
        helper.make_node("Add", ["re2", "im2"], ["power"]),  # [1, T, bins]
        helper.make_node("MatMul", ["power", "bank"], ["density"]),  # [1, T, BANDS]
        helper.make_node("Max", ["density", "floor"], ["density_floored"]),
        helper.make_node("Log", ["density_floored"], ["log_density"]),
        helper.make_node("MatMul", ["log_density", "smooth"], ["envelope"]),
        helper.make_node("Pad", ["envelope", "pad_768"], ["unit12"]),
        helper.make_node("Pad", ["envelope", "pad_256"], ["units9"]),
    ]
    inits = [
        scalar_i64("axis1", 1),
        tensor("dft", dft),
        scalar_i64("halves", bins, bins),
        tensor("bank", bank),
        tensor("floor", DENSITY_FLOOR),
        tensor("smooth", smooth),
        scalar_i64("pad_768", 0, 0, 0, 0, 0, 768 - BANDS),
        scalar_i64("pad_256", 0, 0, 0, 0, 0, 256 - BANDS),
    ]
    graph = helper.make_graph(
        nodes,
        "demo_content_envelope",
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "N"])],
        [
            helper.make_tensor_value_info("units9", TensorProto.FLOAT, [1, "T", 256]),
            helper.make_tensor_value_info("unit12", TensorProto.FLOAT, [1, "T", 768]),
        ],
        inits,
    )
    return finish(
        graph,
        json.dumps({"kind": "spectral envelope", "bands": BANDS, "top_hz": TOP_HZ, "lifter": LIFTER,
                    "unit": "ln(amplitude^2 per Hz)"}),
    )


def frames_to_samples(prefix: str, frames: str, channels: int, out: str):
    """Nodes: [1, T, C] per-frame values -> [1, C, T*HOP_OUT], linear between frame centres and
    held past the first and last centre (each edge frame repeated once before a triangle
    ConvTranspose, then cropped so frame t's centre falls on sample t*HOP_OUT + HOP_OUT/2)."""
    p = prefix
    triangle = 1.0 - np.abs(np.arange(2 * HOP_OUT) - HOP_OUT) / HOP_OUT
    nodes = [
        helper.make_node("Transpose", [frames], [p + "ct"], perm=[0, 2, 1]),
        helper.make_node("Pad", [p + "ct", p + "pad"], [p + "padded"], mode="edge"),
        helper.make_node("ConvTranspose", [p + "padded", p + "triangle"], [p + "spread"],
                         strides=[HOP_OUT], group=channels),
        helper.make_node("Shape", [frames], [p + "shape"]),
        helper.make_node("Slice", [p + "shape", scalar_name("one"), scalar_name("two")], [p + "t"]),
        helper.make_node("Mul", [p + "t", scalar_name("hop")], [p + "samples"]),
        helper.make_node("Add", [p + "samples", scalar_name("crop")], [p + "end"]),
        helper.make_node("Slice", [p + "spread", scalar_name("crop"), p + "end", scalar_name("two")], [out]),
    ]
    inits = [
        scalar_i64(p + "pad", 0, 0, 1, 0, 0, 1),
        tensor(p + "triangle", np.tile(triangle, (channels, 1, 1))),
    ]
    return nodes, inits


def scalar_name(name: str) -> str:
    return "c_" + name


def shared_constants():
    return [
        scalar_i64(scalar_name("one"), 1),
        scalar_i64(scalar_name("two"), 2),
        scalar_i64(scalar_name("hop"), HOP_OUT),
        scalar_i64(scalar_name("crop"), 3 * HOP_OUT // 2),
    ]


def envelope_at(prefix: str, envelope: str, hz: str, out: str):
    """Nodes: ln S at frequencies `hz` [1, T, K] from the envelope [1, T, BANDS], linear in mel
    between band centres: [1, T, K]."""
    p = prefix
    centres = band_centres_mel()
    step = centres[1] - centres[0]
    nodes = [
        # mel(f) = 2595 / ln 10 * ln(1 + f / 700)
        helper.make_node("Mul", [hz, p + "inv700"], [p + "ratio"]),
        helper.make_node("Add", [p + "ratio", p + "one_f"], [p + "ratio1"]),
        helper.make_node("Log", [p + "ratio1"], [p + "ln"]),
        helper.make_node("Mul", [p + "ln", p + "mel_per_ln"], [p + "mel"]),
        helper.make_node("Sub", [p + "mel", p + "first_centre"], [p + "from_first"]),
        helper.make_node("Mul", [p + "from_first", p + "inv_step"], [p + "position_raw"]),
        helper.make_node("Clip", [p + "position_raw", p + "zero_f", p + "last_band"], [p + "position"]),
        helper.make_node("Unsqueeze", [p + "position", p + "axis_last"], [p + "position_col"]),
        helper.make_node("Sub", [p + "position_col", p + "band_index"], [p + "distance"]),
        helper.make_node("Abs", [p + "distance"], [p + "abs_distance"]),
        helper.make_node("Sub", [p + "one_f", p + "abs_distance"], [p + "closeness"]),
        helper.make_node("Relu", [p + "closeness"], [p + "weights"]),  # [1, T, K, BANDS]
        helper.make_node("Unsqueeze", [envelope, p + "axis2"], [p + "envelope_row"]),  # [1, T, 1, BANDS]
        helper.make_node("Mul", [p + "weights", p + "envelope_row"], [p + "weighted"]),
        helper.make_node("ReduceSum", [p + "weighted", p + "axis_last"], [out], keepdims=0),
    ]
    inits = [
        tensor(p + "inv700", 1.0 / 700.0),
        tensor(p + "one_f", 1.0),
        tensor(p + "zero_f", 0.0),
        tensor(p + "mel_per_ln", 2595.0 / math.log(10.0)),
        tensor(p + "first_centre", centres[0]),
        tensor(p + "inv_step", 1.0 / step),
        tensor(p + "last_band", float(BANDS - 1)),
        scalar_i64(p + "axis_last", -1),
        scalar_i64(p + "axis2", 2),
        tensor(p + "band_index", np.arange(BANDS)),
    ]
    return nodes, inits


def stretch_nodes():
    """Nodes: the decoded frames [skip_head, skip_head + return_length) of the envelope and the
    pitch, stretched to formant_length frames (linear, as RVC's F.interpolate: half-pixel centres,
    edges held; the identity when the lengths agree), and the source pitch lowered by the stretch
    as RVC's stretched NSF source is, so the rendered pitch is what the engine asked for before it
    raised it by as much."""
    return [
        helper.make_node("Slice", ["feats", "zero_1", "bands_1", "two_1"], ["envelope_all"]),  # [1, T, BANDS]
        helper.make_node("Unsqueeze", ["skip_head", "axis0"], ["start"]),
        helper.make_node("Add", ["skip_head", "return_length"], ["end_scalar"]),
        helper.make_node("Unsqueeze", ["end_scalar", "axis0"], ["end"]),
        helper.make_node("Slice", ["envelope_all", "start", "end", "axis1"], ["envelope_kept"]),  # [1, R, BANDS]
        helper.make_node("Slice", ["pitchf", "start", "end", "axis1"], ["pitch_kept"]),  # [1, R]
        helper.make_node("Unsqueeze", ["formant_length", "axis0"], ["stretched_1"]),
        # Envelope and pitch side by side, [1, R, BANDS + 1] -> [1, BANDS + 1, 1, R], resized along
        # the last axis -> [1, F, BANDS + 1], and apart again.
        helper.make_node("Unsqueeze", ["pitch_kept", "axis2"], ["pitch_kept_col"]),
        helper.make_node("Concat", ["envelope_kept", "pitch_kept_col"], ["frames_kept"], axis=2),
        helper.make_node("Transpose", ["frames_kept"], ["frames_ct"], perm=[0, 2, 1]),
        helper.make_node("Unsqueeze", ["frames_ct", "axis2"], ["frames_4d"]),
        helper.make_node("Concat", ["stretch_size_head", "stretched_1"], ["stretch_sizes"], axis=0),
        helper.make_node("Resize", ["frames_4d", "", "", "stretch_sizes"], ["stretched_4d"],
                         mode="linear", coordinate_transformation_mode="half_pixel"),
        helper.make_node("Squeeze", ["stretched_4d", "axis2"], ["stretched_ct"]),
        helper.make_node("Transpose", ["stretched_ct"], ["stretched_frames"], perm=[0, 2, 1]),
        helper.make_node("Split", ["stretched_frames", "stretch_split"], ["envelope", "pitch_stretched_col"], axis=2),
        helper.make_node("Squeeze", ["pitch_stretched_col", "axis2"], ["pitch_stretched"]),  # [1, F]
        helper.make_node("Cast", ["return_length"], ["return_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["formant_length"], ["stretched_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["return_f", "stretched_f"], ["source_ratio"]),
        helper.make_node("Mul", ["pitch_stretched", "source_ratio"], ["source_pitch"]),  # [1, F]
    ], [
        scalar_i64("axis0", 0),
        scalar_i64("axis1", 1),
        scalar_i64("axis2", 2),
        scalar_i64("stretch_size_head", 1, BANDS + 1, 1),
        scalar_i64("stretch_split", BANDS, 1),
    ]


def synthesizer() -> onnx.ModelProto:
    nodes, stretch_inits = stretch_nodes()
    nodes += [
        helper.make_node("Greater", ["source_pitch", "half_hz"], ["voiced_bool"]),
        helper.make_node("Cast", ["voiced_bool"], ["voiced"], to=TensorProto.FLOAT),  # [1, F]
        helper.make_node("Sub", ["one_f", "voiced"], ["unvoiced"]),
        helper.make_node("Unsqueeze", ["voiced", "axis_last"], ["voiced_col"]),  # [1, F, 1]
        helper.make_node("Unsqueeze", ["unvoiced", "axis_last"], ["unvoiced_col"]),
        helper.make_node("Max", ["source_pitch", "one_f"], ["f0"]),
        helper.make_node("Unsqueeze", ["f0", "axis_last"], ["f0_col"]),
        # Harmonic amplitudes per frame: sqrt(2 f0 S(k f0)), faded out over the last 400 Hz below 8 kHz.
        helper.make_node("Mul", ["f0_col", "harmonic_numbers"], ["harmonic_hz"]),  # [1, F, K]
    ]
    inits = stretch_inits + [
        scalar_i64("zero_1", 0),
        scalar_i64("bands_1", BANDS),
        scalar_i64("two_1", 2),
        scalar_i64("axis_last", -1),
        tensor("zero_f", 0.0),
        # A frame is voiced where its source pitch is: stretching blends a pitch with a neighbour's 0.
        tensor("half_hz", 0.5),
        tensor("one_f", 1.0),
        tensor("half_f", 0.5),
        tensor("harmonic_numbers", np.arange(1, HARMONICS + 1)),
        tensor("top_hz", TOP_HZ),
        tensor("inv_fade_hz", 1.0 / 400.0),
    ]
    n, i = envelope_at("h_", "envelope", "harmonic_hz", "harmonic_log_density")
    nodes += n
    inits += i
    nodes += [
        helper.make_node("Log", ["f0_col"], ["ln_f0"]),
        helper.make_node("Add", ["harmonic_log_density", "ln_f0"], ["h_log_a2"]),
        helper.make_node("Add", ["h_log_a2", "ln2"], ["h_log_a2_full"]),
        helper.make_node("Mul", ["h_log_a2_full", "half_f"], ["h_log_a"]),
        helper.make_node("Exp", ["h_log_a"], ["h_a"]),
        helper.make_node("Sub", ["top_hz", "harmonic_hz"], ["below_top"]),
        helper.make_node("Mul", ["below_top", "inv_fade_hz"], ["fade_raw"]),
        helper.make_node("Clip", ["fade_raw", "zero_f", "one_f"], ["fade"]),
        helper.make_node("Mul", ["h_a", "fade"], ["h_a_faded"]),
        helper.make_node("Mul", ["h_a_faded", "voiced_col"], ["harmonic_amplitude"]),  # [1, T, K]
    ]
    inits.append(tensor("ln2", math.log(2.0)))
    n, i = frames_to_samples("ha_", "harmonic_amplitude", HARMONICS, "harmonic_amplitude_samples")
    nodes += n
    inits += i
    # Phase of the fundamental per sample, the pitch held over each frame's samples, summed in
    # double precision (in single precision the phase drifts within a second); harmonic k's phase
    # is k times it, wrapped before the float sine.
    nodes += [
        helper.make_node("Unsqueeze", ["source_pitch", "axis_last"], ["pitch_col"]),
        helper.make_node("Shape", ["source_pitch"], ["pitch_shape"]),
        helper.make_node("Concat", ["pitch_shape", "hop_1"], ["tiled_shape"], axis=0),
        helper.make_node("Expand", ["pitch_col", "tiled_shape"], ["pitch_tiled"]),
        helper.make_node("Reshape", ["pitch_tiled", "row_shape"], ["pitch_samples"]),  # [1, 1, S]
        helper.make_node("Cast", ["pitch_samples"], ["pitch_samples_f64"], to=TensorProto.DOUBLE),
        helper.make_node("Mul", ["pitch_samples_f64", "cycles_per_hz_sample"], ["cycle_step"]),
        helper.make_node("CumSum", ["cycle_step", "axis_last_scalar"], ["cycles"]),
        helper.make_node("Mul", ["cycles", "harmonic_numbers_f64"], ["harmonic_cycles"]),  # [1, K, S]
        helper.make_node("Mod", ["harmonic_cycles", "one_f64"], ["harmonic_fraction"], fmod=1),
        helper.make_node("Cast", ["harmonic_fraction"], ["harmonic_fraction_f32"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["harmonic_fraction_f32", "two_pi"], ["harmonic_phase"]),
        helper.make_node("Sin", ["harmonic_phase"], ["harmonic_sines"]),
        helper.make_node("Mul", ["harmonic_sines", "harmonic_amplitude_samples"], ["harmonic_parts"]),
        helper.make_node("ReduceSum", ["harmonic_parts", "axis1"], ["harmonic_sum"], keepdims=1),  # [1, 1, S]
    ]
    inits += [
        scalar_i64("hop_1", HOP_OUT),
        scalar_i64("row_shape", 1, 1, -1),
        helper.make_tensor("cycles_per_hz_sample", TensorProto.DOUBLE, [], [1.0 / VOICE_RATE]),
        helper.make_tensor("axis_last_scalar", TensorProto.INT64, [], [-1]),
        tensor("harmonic_numbers_f64", np.arange(1, HARMONICS + 1)[None, :, None], np.float64),
        helper.make_tensor("one_f64", TensorProto.DOUBLE, [], [1.0]),
        tensor("two_pi", 2.0 * math.pi),
    ]
    # Noise for unvoiced frames: per frame, Gaussian spectra at NOISE_BINS frequencies 50 Hz apart
    # scaled to sqrt(50 S(f)), back to time through a sine-windowed inverse DFT and overlapped by
    # half a window (the sine window's squares sum to one, so the density is kept).
    noise_hz = NOISE_SPACING_HZ * np.arange(1, NOISE_BINS + 1)
    position = band_position(noise_hz)
    interp = np.maximum(0.0, 1.0 - np.abs(position[None, :] - np.arange(BANDS)[:, None]))  # [BANDS, F]
    fade = np.clip((TOP_HZ - noise_hz) / 400.0, 0.0, 1.0)
    length = 2 * HOP_OUT
    m = np.arange(length)
    window = np.sin(np.pi * (m + 0.5) / length)
    angle = 2.0 * np.pi * np.outer(noise_hz, m) / VOICE_RATE
    inverse_dft = np.concatenate([window * np.cos(angle), -window * np.sin(angle)])[:, None, :]  # [2F, 1, L]
    nodes += [
        helper.make_node("MatMul", ["envelope", "noise_interp"], ["noise_log_density"]),  # [1, T, F]
        helper.make_node("Add", ["noise_log_density", "ln_spacing"], ["n_log_a2"]),
        helper.make_node("Mul", ["n_log_a2", "half_f"], ["n_log_a"]),
        helper.make_node("Exp", ["n_log_a"], ["n_a"]),
        helper.make_node("Mul", ["n_a", "noise_fade"], ["n_a_faded"]),
        helper.make_node("Mul", ["n_a_faded", "unvoiced_col"], ["noise_amplitude"]),
        helper.make_node("Concat", ["noise_amplitude", "noise_amplitude"], ["noise_amplitude_2"], axis=2),
        helper.make_node("Pad", ["noise_amplitude_2", "frame_pad"], ["noise_amplitude_padded"], mode="edge"),
        helper.make_node("RandomNormalLike", ["noise_amplitude_padded"], ["gaussian"], seed=NOISE_SEED),
        helper.make_node("Mul", ["noise_amplitude_padded", "gaussian"], ["noise_spectra"]),
        helper.make_node("Transpose", ["noise_spectra"], ["noise_spectra_ct"], perm=[0, 2, 1]),
        helper.make_node("ConvTranspose", ["noise_spectra_ct", "inverse_dft"], ["noise_spread"], strides=[HOP_OUT]),
        helper.make_node("Shape", ["source_pitch"], ["frames_shape"]),
        helper.make_node("Slice", ["frames_shape", scalar_name("one"), scalar_name("two")], ["frames"]),
        helper.make_node("Mul", ["frames", scalar_name("hop")], ["samples"]),
        helper.make_node("Add", ["samples", "noise_crop"], ["noise_end"]),
        helper.make_node("Slice", ["noise_spread", "noise_crop", "noise_end", scalar_name("two")], ["noise"]),
        helper.make_node("Add", ["harmonic_sum", "noise"], ["mixed"]),
        helper.make_node("Clip", ["mixed", "minus_one_f", "one_f"], ["clipped"]),
        helper.make_node("Reshape", ["clipped", "flat"], ["audio"]),
    ]
    inits += [
        tensor("noise_interp", interp),
        tensor("ln_spacing", math.log(NOISE_SPACING_HZ)),
        tensor("noise_fade", fade),
        scalar_i64("frame_pad", 0, 1, 0, 0, 1, 0),
        tensor("inverse_dft", inverse_dft),
        # Padded frame t+1's window centre (t+1)*HOP + HOP lands on t*HOP + HOP/2.
        scalar_i64("noise_crop", 3 * HOP_OUT // 2),
        tensor("minus_one_f", -1.0),
        scalar_i64("flat", -1),
    ]
    inits += shared_constants()
    graph = helper.make_graph(
        nodes,
        "demo_rvc_synthesizer",
        [
            helper.make_tensor_value_info("feats", TensorProto.FLOAT, [1, "T", 768]),
            helper.make_tensor_value_info("p_len", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("pitch", TensorProto.INT64, [1, "T"]),
            helper.make_tensor_value_info("pitchf", TensorProto.FLOAT, [1, "T"]),
            helper.make_tensor_value_info("sid", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("skip_head", TensorProto.INT64, []),
            helper.make_tensor_value_info("return_length", TensorProto.INT64, []),
            helper.make_tensor_value_info("formant_length", TensorProto.INT64, []),
        ],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["S"])],
        inits,
    )
    model = finish(
        graph,
        json.dumps({"kind": "source-filter vocoder", "rate": VOICE_RATE, "harmonics": HARMONICS,
                    "noise_spacing_hz": NOISE_SPACING_HZ, "bands": BANDS}),
    )
    # The interface facts w-okada's exports keep under `metadata`, which the engine checks.
    model.metadata_props.add(key="metadata", value=json.dumps(
        {"samplingRate": VOICE_RATE, "f0": True, "embChannels": 768}, sort_keys=True))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_if_changed(args.out / "demo_content_envelope.onnx", content_envelope().SerializeToString())
    write_if_changed(args.out / "demo_synth_v2_40k.onnx", synthesizer().SerializeToString())


if __name__ == "__main__":
    main()
