"""Verifies the models models/generate_models.py wrote (see models/README.md):

* every synthesizer export runs at several lengths T (1, 7, 50, 200, 333) with the right output
  length; det exports match PyTorch (RVC's own, unpatched modules, loaded from the .pth) within
  1e-3 max abs; non-det exports are checked to be random, finite and in range; each passes the
  rules of RVC Live's format detection (engine/src/synthesizer_format.rs);
* content encoders match PyTorch at several lengths with ContentVec's frame rule;
* pitch models match their PyTorch originals on 110/220/440 Hz tones and a 150-400 Hz glide
  (median f0 within 1 %, and within 2 % of the true pitch);
* RMVPE (random weights): the mel form matches RVC's `mel2hidden` (pad to 32 frames, E2E, crop) at
  T = 1, 7, 50, 200, 333 within 1e-4; the wave form matches RVC's whole `infer_from_audio` (its
  MelSpectrogram, mel2hidden, numpy decode) on tones, a glide and noise of several lengths;
* 1-thread ONNX Runtime time of each model for a 1 s input.

Prints a table; exits non-zero on any failure. Usage:

    .cache/venv-models/bin/python models/check_models.py --dir .cache/models/rvc [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import warnings
import traceback

HERE = pathlib.Path(__file__).resolve().parent
# RVC's modules use torch.nn.utils.weight_norm, deprecated (and repeated per layer) in torch 2.x.
warnings.filterwarnings("ignore", category=FutureWarning, message=".*weight_norm.*")
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

TOLERANCE = 1e-3
SYNTH_T = (1, 7, 50, 200, 333)
# (T, skip_head, return_length, formant_length)
PARTIAL_CASES = ((1, 0, 1, 1), (7, 3, 4, 4), (50, 0, 50, 50), (81, 50, 31, 31), (200, 150, 40, 40),
                 (100, 60, 30, 36), (333, 300, 33, 25))


def session(data_or_path, threads: int = 2) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(data_or_path), opts, providers=["CPUExecutionProvider"])


def time_ms(path: pathlib.Path, feeds: dict, repeats: int = 3) -> float:
    """Median 1-thread ONNX Runtime time of one call, after one warm-up."""
    sess = session(path, threads=1)
    sess.run(None, feeds)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


# --- RVC Live's format rules (a Python mirror of engine/src/synthesizer_format.rs) ---------

def rust_format(sess: ort.InferenceSession, metadata: dict) -> str:
    ins = {i.name: i for i in sess.get_inputs()}
    outs = sess.get_outputs()
    if all(n in ins for n in ("phone", "phone_lengths", "ds", "rnd")):
        convention, feats = "webui", ins["phone"]
    elif all(n in ins for n in ("feats", "p_len", "sid")):
        partial = "skip_head" in ins and "return_length" in ins
        if not partial and ("skip_head" in ins or "return_length" in ins):
            raise AssertionError("only one of skip_head / return_length")
        convention, feats = ("partial" if partial else "wokada"), ins["feats"]
    else:
        raise AssertionError("unknown interface")
    has_f0 = "pitch" in ins
    if has_f0 != ("pitchf" in ins):
        raise AssertionError("only one of pitch / pitchf")
    if has_f0 and (ins["pitch"].type != "tensor(int64)" or ins["pitchf"].type != "tensor(float)"):
        raise AssertionError("pitch types")
    if len(feats.shape) != 3 or feats.type not in ("tensor(float)", "tensor(float16)"):
        raise AssertionError(f"features {feats.shape} {feats.type}")
    width = feats.shape[2]
    meta = json.loads(metadata["metadata"]) if "metadata" in metadata else None
    if not isinstance(width, int):
        raise AssertionError("feature width not fixed")
    if meta is not None and meta.get("embChannels") not in (None, width):
        raise AssertionError("metadata width")
    if width not in (256, 768):
        raise AssertionError(f"width {width}")
    if meta is not None and meta.get("f0") is not None and meta["f0"] != has_f0:
        raise AssertionError("metadata f0")
    if len(outs) != 1 or outs[0].type != "tensor(float)" or len(outs[0].shape) != (3 if convention == "webui" else 1):
        raise AssertionError(f"output {[(o.name, o.shape, o.type) for o in outs]}")
    rate = f" {meta['samplingRate']}" if meta else ""
    return f"{convention} v{1 if width == 256 else 2}{' f0' if has_f0 else ' nof0'}{rate}"


# --- synthesizers ---------------------------------------------------------------------------------

def check_synth(path: pathlib.Path, entry: dict, folder: pathlib.Path) -> dict:
    from rvc import export_partial, export_webui, export_wokada
    from rvc import synthesizer as S

    info = entry["info"]
    model, cfg = S.load_checkpoint(folder / info["checkpoint"])
    det, convention, fp16 = info["det"], info["convention"], info["fp16_feats"]
    if det:
        S.make_deterministic(model)
    sess = session(path)
    fmt = rust_format(sess, sess.get_modelmeta().custom_metadata_map)
    hop = cfg.hop
    worst, lengths, notes = 0.0, [], []

    def run_case(T, feeds, expected_len, reference):
        nonlocal worst
        y = sess.run(None, feeds)[0]
        if y.shape[-1] != expected_len or (convention == "webui" and y.shape[:2] != (1, 1)):
            raise AssertionError(f"T={T}: output {y.shape}, expected {expected_len} samples")
        if not np.all(np.isfinite(y)) or np.abs(y).max() > 1.0:
            raise AssertionError(f"T={T}: output not finite or outside [-1, 1]")
        if det:
            r = reference()
            err = float(np.abs(y - r).max())
            worst = max(worst, err)
            if err > TOLERANCE:
                raise AssertionError(f"T={T}: max abs error {err:.2e} > {TOLERANCE}")
        else:
            y2 = sess.run(None, feeds)[0]
            if T >= 7 and np.array_equal(y, y2):
                raise AssertionError(f"T={T}: output is deterministic, but this export should not be")
            rms = float(np.sqrt(np.mean(y ** 2)))
            if T >= 50 and not 0.01 < rms < 0.9:
                raise AssertionError(f"T={T}: RMS {rms:.3f} out of range")
        lengths.append(T)

    with torch.no_grad():
        if convention == "partial":
            for T, skip, ret, formant in PARTIAL_CASES:
                ex = S.make_inputs(cfg, T, seed=T)
                feeds = export_partial.feeds(cfg, ex, skip, ret, formant)
                t = {k: torch.from_numpy(v) for k, v in export_wokada.feeds(cfg, ex).items()}

                def ref(t=t, skip=skip, ret=ret, formant=formant):
                    return export_partial.reference(model, cfg, t["feats"], t["p_len"], t.get("pitch"), t.get("pitchf"),
                                                    t["sid"], skip, ret, formant).numpy()
                run_case(T, feeds, formant * hop, ref)
            notes.append("partial cases " + " ".join(f"{c[0]}/{c[1]}/{c[2]}/{c[3]}" for c in PARTIAL_CASES))
            timing_feeds = export_partial.feeds(cfg, S.make_inputs(cfg, 100), 0, 100)
        else:
            mod = export_webui if convention == "webui" else export_wokada
            for T in SYNTH_T:
                ex = S.make_inputs(cfg, T, seed=T)
                if convention == "webui":
                    feeds = export_webui.feeds(cfg, ex)
                    wrapper = export_webui.WebUiSynth(model, cfg)
                    torch_feeds = feeds
                else:
                    feeds = export_wokada.feeds(cfg, ex, fp16=fp16)
                    wrapper = export_wokada.WOkadaSynth(model, cfg, det=True)
                    torch_feeds = {**feeds, "feats": feeds["feats"].astype(np.float32)}

                def ref(wrapper=wrapper, torch_feeds=torch_feeds):
                    return wrapper(*[torch.from_numpy(v) for v in torch_feeds.values()]).numpy()
                run_case(T, feeds, T * hop, ref)
            timing_feeds = (export_webui.feeds(cfg, S.make_inputs(cfg, 100)) if convention == "webui"
                            else export_wokada.feeds(cfg, S.make_inputs(cfg, 100), fp16=fp16))
    return {"format": fmt, "error": worst if det else None, "lengths": lengths, "notes": notes,
            "ms_1s": time_ms(path, timing_feeds)}


# --- content encoders -----------------------------------------------------------------------------

def check_content(path: pathlib.Path, entry: dict, seed: int, cache: dict) -> dict:
    from rvc import content_encoder as C

    info = entry["info"]
    size = info["cfg_size"]
    if size not in cache:
        cache[size] = C.build(C.EncoderConfig(size), seed)
    enc = cache[size]
    sess = session(path)
    form = info["form"]
    lengths = (400, 719, 720, 4000, 12960, 16000, 40000) if size == "tiny" else (400, 720, 12960, 16000)
    worst = 0.0
    for n in lengths:
        audio = (np.random.Generator(np.random.PCG64(n)).standard_normal((1, n)) * 0.1).astype(np.float32)
        outs = sess.run(None, {"audio": audio} if form == "units" else {"source": audio[:, None, :]})
        refs = C.reference(enc, form, audio)
        for o, r in zip(outs, refs):
            if o.shape[1] != C.frames_for(n):
                raise AssertionError(f"N={n}: {o.shape[1]} frames, expected {C.frames_for(n)}")
            worst = max(worst, float(np.abs(o - r).max()))
    if worst > TOLERANCE:
        raise AssertionError(f"max abs error {worst:.2e} > {TOLERANCE}")
    audio = (np.random.Generator(np.random.PCG64(0)).standard_normal((1, 16000)) * 0.1).astype(np.float32)
    feeds = {"audio": audio} if form == "units" else {"source": audio[:, None, :]}
    shapes = ", ".join(f"{o.name} {o.shape}" for o in sess.get_outputs())
    return {"format": f"{form}: {shapes}", "error": worst, "lengths": list(lengths), "notes": [],
            "ms_1s": time_ms(path, feeds)}


# --- RMVPE ---------------------------------------------------------------------------------------

RMVPE_T = (1, 7, 50, 200, 333)
RMVPE_N = (513, 1000, 5120, 8000, 16000, 33333)


def check_rmvpe(path: pathlib.Path, entry: dict, seed: int, cache: dict) -> dict:
    from rvc import pitch_models as P
    from rvc import rmvpe as R

    info = entry["info"]
    size = info["cfg_size"]
    if size not in cache:
        cache[size] = R.build(R.RmvpeConfig(size), seed)
    model = cache[size]
    sess = session(path)
    dec = R.rvc_decoder()
    dec.model, dec.device, dec.is_half = model, torch.device("cpu"), False
    notes = []
    if info["form"] == "mel":
        worst = 0.0
        for T in RMVPE_T:
            mel = (np.random.Generator(np.random.PCG64(T)).standard_normal((1, R.N_MELS, T)) * 2 - 6).astype(np.float32)
            hidden = sess.run(None, {"mel": mel})[0]
            ref = dec.mel2hidden(torch.from_numpy(mel)).numpy()
            if hidden.shape != (1, T, R.BINS):
                raise AssertionError(f"T={T}: salience {hidden.shape}")
            worst = max(worst, float(np.abs(hidden - ref).max()))
        if worst > 1e-4:
            raise AssertionError(f"salience differs from RVC's mel2hidden by {worst:.2e}")
        shapes = ", ".join(f"{o.name} {o.shape}" for o in sess.get_outputs())
        feeds = {"mel": np.full((1, R.N_MELS, 101), -6.0, dtype=np.float32)}
        return {"format": shapes, "error": worst, "lengths": list(RMVPE_T), "notes": notes, "ms_1s": time_ms(path, feeds)}
    signals = {name: audio for name, (audio, _) in P.test_signals().items()}
    for n in RMVPE_N:
        signals[f"noise_{n}"] = (np.random.Generator(np.random.PCG64(n)).standard_normal(n) * 0.1).astype(np.float32)
    threshold = np.array([R.THRESHOLD], dtype=np.float32)
    worst, frames, voiced, disagree, off = 0.0, 0, 0, 0, 0
    for name, audio in signals.items():
        f0 = sess.run(None, {"waveform": audio[None], "threshold": threshold})[0][0]
        ref, _, _ = R.reference_f0(model, audio)
        if f0.shape != (len(audio) // R.HOP + 1,) or f0.shape != ref.shape:
            raise AssertionError(f"{name}: {f0.shape} frames vs RVC's {ref.shape}")
        both = (f0 > 0) & (ref > 0)
        rel = np.abs(f0[both] / ref[both] - 1)
        disagree += int(np.sum((f0 > 0) != (ref > 0)))
        off += int(np.sum(rel > 1e-4))
        worst = max([worst, *rel.tolist()])
        frames, voiced = frames + len(f0), voiced + int(both.sum())
    notes.append(f"{voiced} of {frames} frames voiced; {disagree} voicing and {off} f0 (> 1e-4) differences")
    if not frames // 5 < voiced < frames * 4 // 5:
        raise AssertionError(notes[-1] + ": the salience should straddle the threshold")
    if disagree > frames // 100 or off > frames // 100:
        raise AssertionError(notes[-1])
    audio = signals["tone_220"][None]
    shapes = ", ".join(f"{o.name} {o.shape}" for o in sess.get_outputs())
    return {"format": shapes, "error": worst, "lengths": list(RMVPE_N), "notes": notes,
            "ms_1s": time_ms(path, {"waveform": audio, "threshold": threshold})}


# --- pitch models ---------------------------------------------------------------------------------

def _truth_per_frame(truth: np.ndarray, frames: int, hop: int) -> np.ndarray:
    idx = np.minimum(np.arange(frames) * hop, len(truth) - 1)
    return truth[idx]


def check_pitch(path: pathlib.Path, entry: dict, cache: dict) -> dict:
    from rvc import pitch_models as P

    kind, info = entry["kind"], entry["info"]
    sess = session(path)
    signals = P.test_signals()
    worst_rel, worst_truth, notes = 0.0, 0.0, []
    name = path.name
    if kind == "crepe" and info["form"] == "frames":
        cap = info["model"].split("_")[1]
        model = cache.setdefault(cap, P.load_crepe(cap))
        frames = np.random.Generator(np.random.PCG64(1)).standard_normal((16, 1024)).astype(np.float32)
        with torch.no_grad():
            r = model(torch.from_numpy(frames)).numpy()
        err = float(np.abs(sess.run(None, {"frames": frames})[0] - r).max())
        if err > 1e-4:
            raise AssertionError(f"probabilities differ by {err:.2e}")
        return {"format": "frames [n,1024] -> probabilities [n,360]", "error": err, "lengths": [16], "notes": [],
                "ms_1s": time_ms(path, {"frames": np.tile(frames, (7, 1))[:101]})}
    for sig, (audio, truth) in signals.items():
        if kind == "fcpe":
            f0, conf = sess.run(None, {"audio": audio[None]})
            f0, voiced = f0[0], conf[0] > P.FCPE_THRESHOLD
            fm = cache.setdefault("fcpe", P.load_fcpe())
            ref, raw = P.fcpe_reference(fm, audio)
            ref_f0, ref_voiced, hop = raw, ref > 0, 160
        elif kind == "crepe":
            _, f0, per = sess.run(None, {"audio": audio[None]})
            f0, voiced = f0[0], per[0] >= P.CREPE_PERIODICITY_THRESHOLD
            ref_f0, ref_per = P.crepe_reference(info["model"].split("_")[1], audio)
            ref_voiced, hop = ref_per >= P.CREPE_PERIODICITY_THRESHOLD, 160
            if np.abs(per[0] - ref_per).max() > 1e-3:
                raise AssertionError(f"{sig}: periodicity differs by {np.abs(per[0] - ref_per).max():.2e}")
        else:  # swift_f0: no PyPI torch original; its own ONNX is the original
            pitch, conf = sess.run(None, {"audio": audio[None], "fmin": np.asarray(46.875, dtype=np.float32),
                                          "fmax": np.asarray(2093.75, dtype=np.float32)})
            f0, voiced, hop = pitch[0].astype(np.float32), conf[0] >= P.SWIFT_THRESHOLD, P.SWIFT_HOP
            ref_f0, ref_voiced = f0, voiced
        if len(f0) != len(ref_f0):
            raise AssertionError(f"{sig}: {len(f0)} frames vs {len(ref_f0)}")
        agree = float(np.mean(voiced == ref_voiced))
        if agree < 0.98:
            raise AssertionError(f"{sig}: voicing agrees on {agree:.1%} of frames")
        if voiced.sum() < len(voiced) // 2:
            raise AssertionError(f"{sig}: only {voiced.sum()} of {len(voiced)} frames voiced")
        med, ref_med = float(np.median(f0[voiced])), float(np.median(ref_f0[ref_voiced]))
        true_med = float(np.median(_truth_per_frame(truth, len(f0), hop)[voiced]))
        rel = abs(med / ref_med - 1)
        rel_truth = abs(med / true_med - 1)
        worst_rel, worst_truth = max(worst_rel, rel), max(worst_truth, rel_truth)
        notes.append(f"{sig}: {med:.1f} Hz (original {ref_med:.1f}, true {true_med:.1f})")
        if rel > 0.01:
            raise AssertionError(f"{sig}: median {med:.2f} Hz vs PyTorch {ref_med:.2f} Hz")
        if rel_truth > 0.02:
            raise AssertionError(f"{sig}: median {med:.2f} Hz vs true {true_med:.2f} Hz")
    audio = signals["tone_220"][0][None]
    feeds = {"audio": audio} if kind != "swift_f0" else {"audio": audio, "fmin": np.asarray(46.875, dtype=np.float32),
                                                          "fmax": np.asarray(2093.75, dtype=np.float32)}
    shapes = ", ".join(f"{o.name} {o.shape}" for o in sess.get_outputs())
    return {"format": shapes, "error": worst_rel, "truth_error": worst_truth, "lengths": [16000], "notes": notes,
            "ms_1s": time_ms(path, feeds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, required=True)
    parser.add_argument("--only", nargs="*", help="file names (or substrings) to check")
    parser.add_argument("--json", type=pathlib.Path, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(2)

    manifest = json.loads((args.dir / "manifest.json").read_text())
    seed = manifest.get("seed", 1234)
    cache_content, cache_pitch, cache_rmvpe = {}, {}, {}
    results, failures = {}, 0
    for name, entry in sorted(manifest["files"].items()):
        # Voice graph templates hold no weights; the engine's tests fill and check them.
        if not name.endswith(".onnx") or name.endswith(".template.onnx") or (
                args.only and not any(o in name for o in args.only)):
            continue
        path = args.dir / name
        t0 = time.time()
        try:
            if not path.is_file():
                raise AssertionError("missing")
            if entry["kind"] == "synthesizer":
                res = check_synth(path, entry, args.dir)
            elif entry["kind"] == "content_encoder":
                res = check_content(path, entry, seed, cache_content)
            elif entry["kind"] == "rmvpe":
                res = check_rmvpe(path, entry, seed, cache_rmvpe)
            else:
                res = check_pitch(path, entry, cache_pitch)
            res["ok"] = True
        except Exception as e:  # noqa: BLE001 - reported in the table
            res = {"ok": False, "failure": f"{type(e).__name__}: {e}"}
            if not isinstance(e, AssertionError):
                traceback.print_exc()
            failures += 1
        res["seconds"] = round(time.time() - t0, 1)
        res["bytes"] = entry.get("bytes")
        results[name] = res
        status = "ok  " if res["ok"] else "FAIL"
        err = res.get("error")
        print(f"{status} {name:44s} {(entry.get('bytes') or 0) / 1e6:7.1f} MB  "
              f"err {'-' if err is None else f'{err:.1e}':>7s}  "
              f"1-thread 1 s: {res.get('ms_1s', float('nan')):8.1f} ms  {res.get('format', res.get('failure'))}",
              flush=True)
        if entry["kind"] in ("fcpe", "crepe", "swift_f0", "rmvpe"):
            for note in res.get("notes", []):
                print(f"       {note}")
    print()
    print("| file | MB | check | max err | 1 thread, 1 s input (ms) | interface / format |")
    print("|---|---|---|---|---|---|")
    for name, res in results.items():
        err = res.get("error")
        print(f"| {name} | {res['bytes'] / 1e6:.1f} | {'ok' if res['ok'] else 'FAIL: ' + res['failure']} | "
              f"{'-' if err is None else f'{err:.1e}'} | {res.get('ms_1s', float('nan')):.1f} | {res.get('format', '')} |")
    print(f"\n{len(results) - failures} passed, {failures} failed")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
