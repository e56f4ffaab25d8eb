#!/usr/bin/env python3
"""The reference for `cargo xtask bench`: RVC's published realtime algorithm on onnxruntime.

A port of the per-block loop of the RVC WebUI realtime GUI (`gui_v1.py` `audio_callback` and
`infer/lib/rtrvc.py` `RVC.infer`, branch 20240604), step for step, with the same ONNX models,
block, context and thread count as RVC Live's engine, so the two are timed doing the same job:

1. shift the device-rate ring (extra + crossfade + SOLA search + block) and the 16 kHz ring;
   resample only the newest block + 2 frames to 16 kHz and drop the first 160 samples;
2. ContentVec over the whole 16 kHz ring; append a copy of the last frame, repeat x2, cut to
   ``p_len = len // 160`` frames;
3. pitch over the newest ``block_16k + 800`` samples only; shift the result into a 1024-frame
   cache (dropping 3 leading and 1 trailing frames), and read the last ``p_len`` frames of it;
4. the synthesizer with partial decoding: ``skip_head = extra`` frames, ``return_length =
   block + sola_buffer + sola_search`` frames;
5. resample the voice's rate to the device rate;
6. SOLA: normalised cross-correlation of the first ``sola_buffer + sola_search`` samples with the
   previous tail, then a sin^2 crossfade; keep the next tail; emit one block.

No PyPI package in the environment runs RVC's live loop: ``inferrvc`` ships RVC's offline
pipeline and a ``models.py`` without ``skip_head``/``return_length``, and runs PyTorch checkpoints,
not ONNX. Hence this port (MIT, like the code it restates).

Choices where the GUI's environment differs from ours (see bench/README.md):

* Resampling: the GUI uses ``torchaudio.transforms.Resample`` (sinc, Hann window, 6 zero
  crossings, roll-off 0.99). :class:`SincResampler` is the same kernel, applied with numpy, so
  the reference neither loads PyTorch nor competes with its thread pool.
* Pitch: FCPE (``fcpe.onnx``, ``local_argmax`` decoded in-graph), voiced where confidence >
  0.006, as the GUI's ``get_f0_fcpe`` does.
* The stream runs at the device rate (48 kHz, the GUI's ``sr_type = "sr_device"``) like a plugin
  on a 48 kHz host; gate, noise reduction, index, formant and envelope mixing are off (``threhold
  = -60``, ``rms_mix_rate = 1``), as they are in the Rust benchmark.
* Sessions: ``intra_op_num_threads = threads``, one inter-op thread, spinning off — RVC Live's
  session settings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STAGES = ("resample in", "content encoder", "pitch", "synthesizer", "resample out + SOLA")


def _limit_blas_threads(threads: int) -> None:
    """Keep numpy's BLAS pool to the benchmark's thread count; must run before numpy loads."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


class SincResampler:
    """torchaudio's ``Resample`` (``sinc_interp_hann``, width 6, roll-off 0.99) in numpy.

    Same kernel (``_get_sinc_resample_kernel``) and same application
    (``_apply_sinc_resample_kernel``: pad ``width`` left and ``width + orig`` right, strided
    correlation, output cut to ``ceil(new * n / orig)``).
    """

    def __init__(self, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6, rolloff: float = 0.99):
        import numpy as np

        gcd = math.gcd(orig_freq, new_freq)
        self.orig, self.new = orig_freq // gcd, new_freq // gcd
        base = min(self.orig, self.new) * rolloff
        self.width = math.ceil(lowpass_filter_width * self.orig / base)
        idx = np.arange(-self.width, self.width + self.orig, dtype=np.float64)[None, :] / self.orig
        t = np.arange(0, -self.new, -1, dtype=np.float64)[:, None] / self.new + idx
        t = np.clip(t * base, -lowpass_filter_width, lowpass_filter_width)
        window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
        t = t * math.pi
        with np.errstate(invalid="ignore", divide="ignore"):
            kernel = np.where(t == 0, 1.0, np.sin(t) / t)
        # torchaudio builds the kernel in float32; so does the GUI.
        self.kernel = (kernel * window * base / self.orig).astype(np.float32)  # [new, taps]

    def __call__(self, x):
        import numpy as np

        n = x.shape[0]
        padded = np.pad(x, (self.width, self.width + self.orig))
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.kernel.shape[1])[:: self.orig]
        out = (frames @ self.kernel.T).reshape(-1)
        return out[: math.ceil(self.new * n / self.orig)]


def open_session(path: Path, threads: int):
    """An onnxruntime session with RVC Live's settings."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle sessions spinning on a busy core steal it from the one running (2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


@dataclass
class Models:
    """The ONNX files: a partial-decoding v2 synthesizer, ContentVec (units), FCPE."""

    voice: Path
    content_encoder: Path
    pitch_model: Path


@dataclass
class RealtimeRvc:
    """The GUI's stream state for one (block, extra) setting, at ``rate`` Hz."""

    models: Models
    threads: int
    block_time: float
    extra_time: float
    crossfade_time: float = 0.04
    rate: int = 48_000
    f0_up_key: float = 0.0
    stage_seconds: list[float] = field(default_factory=lambda: [0.0] * len(STAGES))

    def __post_init__(self) -> None:
        import numpy as np

        self.synth = open_session(self.models.voice, self.threads)
        self.content = open_session(self.models.content_encoder, self.threads)
        self.fcpe = open_session(self.models.pitch_model, self.threads)
        meta = self.synth.get_modelmeta().custom_metadata_map
        self.tgt_sr = int(json.loads(meta["metadata"])["samplingRate"]) if "metadata" in meta else 40_000
        self.content_output = "unit12"  # v2; v1 voices read "units9"

        # gui_v1.py start_vc, with sola_search = one frame (10 ms).
        zc = self.rate // 100
        self.zc = zc
        frames = lambda seconds: int(np.round(seconds * self.rate / zc)) * zc  # noqa: E731
        self.block_frame = frames(self.block_time)
        self.block_frame_16k = 160 * self.block_frame // zc
        self.crossfade_frame = frames(self.crossfade_time)
        self.sola_buffer_frame = min(self.crossfade_frame, 4 * zc)
        self.sola_search_frame = zc
        self.extra_frame = frames(self.extra_time)
        ring = self.extra_frame + self.crossfade_frame + self.sola_search_frame + self.block_frame
        self.input_wav = np.zeros(ring, dtype=np.float32)
        self.input_wav_res = np.zeros(160 * ring // zc, dtype=np.float32)
        self.sola_buffer = np.zeros(self.sola_buffer_frame, dtype=np.float32)
        self.skip_head = self.extra_frame // zc
        self.return_length = (self.block_frame + self.sola_buffer_frame + self.sola_search_frame) // zc
        self.fade_in_window = (np.sin(0.5 * np.pi * np.linspace(0.0, 1.0, self.sola_buffer_frame)) ** 2).astype(
            np.float32
        )
        self.fade_out_window = 1 - self.fade_in_window
        self.resampler = SincResampler(self.rate, 16_000)
        self.resampler2 = SincResampler(self.tgt_sr, self.rate) if self.tgt_sr != self.rate else None
        # rtrvc.py RVC.__init__
        self.cache_pitch = np.zeros(1024, dtype=np.int64)
        self.cache_pitchf = np.zeros(1024, dtype=np.float32)
        self.f0_min, self.f0_max = 50.0, 1100.0
        self.f0_mel_min = 1127 * np.log(1 + self.f0_min / 700)
        self.f0_mel_max = 1127 * np.log(1 + self.f0_max / 700)

    def reset(self) -> None:
        """Back to the state after start_vc."""
        for buffer in (self.input_wav, self.input_wav_res, self.sola_buffer, self.cache_pitch, self.cache_pitchf):
            buffer.fill(0)

    def process(self, indata):
        """One ``audio_callback``: ``block_frame`` samples in, as many out."""
        import numpy as np

        t0 = time.perf_counter()
        block, block_16k = self.block_frame, self.block_frame_16k
        self.input_wav[:-block] = self.input_wav[block:]
        self.input_wav[-block:] = indata
        self.input_wav_res[:-block_16k] = self.input_wav_res[block_16k:]
        self.input_wav_res[-160 * (block // self.zc + 1) :] = self.resampler(self.input_wav[-block - 2 * self.zc :])[
            160:
        ]
        t1 = time.perf_counter()

        # rtrvc.py infer: features over the whole ring.
        feats = self.content.run([self.content_output], {"audio": self.input_wav_res[None, :]})[0]
        feats = np.concatenate((feats, feats[:, -1:, :]), axis=1)
        p_len = self.input_wav_res.shape[0] // 160
        feats = np.repeat(feats, 2, axis=1)[:, :p_len, :]
        t2 = time.perf_counter()

        # Pitch over the newest block only (+ 800 samples), into the frame cache.
        f0_extractor_frame = block_16k + 800
        pitch, pitchf = self.get_f0(self.input_wav_res[-f0_extractor_frame:], self.f0_up_key)
        shift = block_16k // 160
        self.cache_pitch[:-shift] = self.cache_pitch[shift:]
        self.cache_pitchf[:-shift] = self.cache_pitchf[shift:]
        self.cache_pitch[4 - pitch.shape[0] :] = pitch[3:-1]
        self.cache_pitchf[4 - pitch.shape[0] :] = pitchf[3:-1]
        cache_pitch = self.cache_pitch[None, -p_len:]
        cache_pitchf = self.cache_pitchf[None, -p_len:]
        t3 = time.perf_counter()

        feed = {
            "feats": feats.astype(np.float32, copy=False),
            "p_len": np.array([p_len], dtype=np.int64),
            "pitch": np.ascontiguousarray(cache_pitch),
            "pitchf": np.ascontiguousarray(cache_pitchf),
            "sid": np.array([0], dtype=np.int64),
            "skip_head": np.array(self.skip_head, dtype=np.int64),
            "return_length": np.array(self.return_length, dtype=np.int64),
            # No formant shift: return_length2 == return_length.
            "formant_length": np.array(self.return_length, dtype=np.int64),
        }
        infer_wav = self.synth.run(["audio"], feed)[0].reshape(-1)
        t4 = time.perf_counter()

        if self.resampler2 is not None:
            infer_wav = self.resampler2(infer_wav).astype(np.float32)
        out = self.sola(infer_wav)
        t5 = time.perf_counter()
        for i, seconds in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            self.stage_seconds[i] = seconds
        return out

    def get_f0(self, x, f0_up_key: float):
        """rtrvc.py get_f0 with f0method = "fcpe", then get_f0_post."""
        import numpy as np

        f0, confidence = self.fcpe.run(["f0", "confidence"], {"audio": x[None, :]})
        f0 = np.where(confidence[0] > 0.006, f0[0], 0.0).astype(np.float32)
        f0 *= pow(2, f0_up_key / 12)
        f0_mel = 1127 * np.log(1 + f0 / 700)
        voiced = f0_mel > 0
        f0_mel[voiced] = (f0_mel[voiced] - self.f0_mel_min) * 254 / (self.f0_mel_max - self.f0_mel_min) + 1
        f0_mel[f0_mel <= 1] = 1
        f0_mel[f0_mel > 255] = 255
        return np.round(f0_mel).astype(np.int64), f0

    def sola(self, infer_wav):
        """gui_v1.py's SOLA (from DDSP-SVC) and sin^2 crossfade; returns one block."""
        import numpy as np

        buffer, search = self.sola_buffer_frame, self.sola_search_frame
        conv_input = infer_wav[: buffer + search]
        # F.conv1d is a cross-correlation, as np.correlate is.
        cor_nom = np.correlate(conv_input, self.sola_buffer, mode="valid")
        cor_den = np.sqrt(np.correlate(conv_input**2, np.ones(buffer, dtype=np.float32), mode="valid") + 1e-8)
        sola_offset = int(np.argmax(cor_nom / cor_den))
        infer_wav = infer_wav[sola_offset:].copy()
        infer_wav[:buffer] *= self.fade_in_window
        infer_wav[:buffer] += self.sola_buffer * self.fade_out_window
        self.sola_buffer[:] = infer_wav[self.block_frame : self.block_frame + buffer]
        return infer_wav[: self.block_frame]


def timing(name: str, ms: list[float]) -> dict:
    """Median, p99 (nearest rank, as the Rust side computes it), mean and max of ``ms``."""
    ordered = sorted(ms)
    at = lambda q: ordered[round((len(ordered) - 1) * q)] if ordered else 0.0  # noqa: E731
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return {"name": name, "median_ms": at(0.5), "p99_ms": at(0.99), "mean_ms": mean, "max_ms": at(1.0)}


def raise_priority() -> bool:
    """Highest scheduling priority where permitted (root), as the Rust benchmark asks for, so
    other work on a shared machine disturbs the timings less; onnxruntime's threads, started
    later, inherit it."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -20)
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux: KiB, macOS: bytes)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def measure(audio, models: Models, block_ms: float, context_ms: float, threads: int, warmup: int) -> dict:
    """Stream the whole file through one setting and time every block and stage."""
    engine = RealtimeRvc(models, threads, block_time=block_ms / 1000, extra_time=context_ms / 1000)
    block = engine.block_frame
    blocks = len(audio) // block
    if blocks <= warmup:
        raise SystemExit(f"the input holds {blocks} blocks of {block_ms} ms; more are needed")
    for i in range(warmup):
        engine.process(audio[i * block : (i + 1) * block])
    engine.reset()
    per_stage: list[list[float]] = [[] for _ in STAGES]
    totals: list[float] = []
    for i in range(blocks):
        started = time.perf_counter()
        engine.process(audio[i * block : (i + 1) * block])
        totals.append((time.perf_counter() - started) * 1e3)
        for times, seconds in zip(per_stage, engine.stage_seconds):
            times.append(seconds * 1e3)
    block_real_ms = block * 1000 / engine.rate
    return {
        "block_ms": block_real_ms,
        "context_ms": engine.extra_frame * 1000 / engine.rate,
        "blocks": blocks,
        "stages": [timing(name, ms) for name, ms in zip(STAGES, per_stage)],
        "total": timing("total", totals),
        "rtf": sum(totals) / (blocks * block_real_ms),
        "peak_rss_mib": peak_rss_mib(),
    }


def read_mono(path: Path, rate: int):
    """The file mixed down to mono float32; it must already be at ``rate``."""
    import numpy as np
    import soundfile

    audio, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    if sr != rate:
        raise SystemExit(f"{path}: {sr} Hz; the benchmark needs {rate} Hz")
    return np.ascontiguousarray(audio.mean(axis=1, dtype=np.float32))


def parse_list(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="48 kHz WAV file")
    parser.add_argument("--voice", type=Path, required=True, help="partial-decoding RVC v2 synthesizer .onnx")
    parser.add_argument("--content-encoder", type=Path, required=True, help="ContentVec .onnx (units9/unit12)")
    parser.add_argument("--pitch-model", type=Path, required=True, help="fcpe.onnx")
    parser.add_argument("--blocks", type=parse_list, default=[100, 120, 150, 200, 300], help="block lengths, ms")
    parser.add_argument("--contexts", type=parse_list, default=[250, 500], help="extra (context) lengths, ms")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads per model")
    parser.add_argument("--warmup", type=int, default=2, help="blocks converted before timing")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    _limit_blas_threads(args.threads)
    raised_priority = raise_priority()
    models = Models(args.voice, args.content_encoder, args.pitch_model)
    audio = read_mono(args.input, 48_000)
    points = []
    for context_ms in args.contexts:
        for block_ms in args.blocks:
            point = measure(audio, models, block_ms, context_ms, args.threads, args.warmup)
            total = point["total"]
            print(
                f"reference: block {point['block_ms']:4.0f} ms, context {point['context_ms']:4.0f} ms: "
                f"median {total['median_ms']:.1f} ms, p99 {total['p99_ms']:.1f} ms, RTF {point['rtf']:.3f}",
                file=sys.stderr,
            )
            points.append(point)
    result = {
        "engine": "reference (RVC realtime algorithm, Python + onnxruntime)",
        "input": str(args.input),
        "audio_seconds": len(audio) / 48_000,
        "sample_rate": 48_000,
        "threads": args.threads,
        "raised_priority": raised_priority,
        "points": points,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
