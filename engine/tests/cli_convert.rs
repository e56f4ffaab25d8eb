//! `rvc-live convert`: a WAV file through the streaming engine, from the command line.

mod common;

use std::path::Path;
use std::process::Command;

fn write_tone(path: &Path, rate: u32, frequency: f64, seconds: f64) {
    let spec =
        hound::WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..(f64::from(rate) * seconds) as usize {
        let v = (0.4 * (2.0 * std::f64::consts::PI * frequency * n as f64 / f64::from(rate)).sin() * 32767.0) as i16;
        writer.write_sample(v).unwrap();
        writer.write_sample(v).unwrap();
    }
    writer.finalize().unwrap();
}

#[test]
fn convert_writes_the_converted_voice_aligned_with_the_input() {
    let dir = std::env::temp_dir().join(format!("rvc-live-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("tone.wav"), dir.join("converted.wav"));
    write_tone(&input, 44_100, 200.0, 2.0);

    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .arg("convert")
        .args([&input, &output])
        .arg("--voice")
        .arg(common::analytic("analytic_synth_v2_40k.onnx"))
        .arg("--content-encoder")
        .arg(common::analytic("analytic_content_units.onnx"))
        .args(["--pitch", "-12"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{log}");
    assert!(log.contains("latency") && log.contains("real-time factor"), "{log}");

    let mut reader = hound::WavReader::open(&output).unwrap();
    assert_eq!(reader.spec().sample_rate, 44_100);
    let converted: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(converted.len(), 88_200, "as long as the input, latency removed");
    let measured = common::zero_crossing_frequency(&converted[44_100..80_000], 44_100.0);
    assert!((measured / 100.0 - 1.0).abs() < 0.01, "200 Hz an octave down sang {measured} Hz");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convert_names_the_file_it_cannot_use() {
    let dir = std::env::temp_dir().join(format!("rvc-live-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("tone.wav");
    write_tone(&input, 48_000, 200.0, 0.5);
    let convert = |input: &Path, voice: &str| {
        let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .arg("convert")
            .args([input, &dir.join("out.wav")])
            .args(["--voice", voice, "--content-encoder"])
            .arg(common::analytic("analytic_content_units.onnx"))
            .output()
            .unwrap();
        assert!(!run.status.success());
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    let log = convert(&dir.join("missing.wav"), "/nonexistent/voice.onnx");
    assert!(log.contains("missing.wav"), "{log}");
    let log = convert(&input, "/nonexistent/voice.onnx");
    assert!(log.contains("cannot use this voice") && log.contains("/nonexistent/voice.onnx does not exist"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--index`: a usable index is searched (the log says which); one the voice cannot use stops the
/// conversion with the reason, since the user asked for it by name.
#[test]
fn convert_searches_the_index_it_is_given_and_refuses_one_it_cannot_use() {
    let dir = std::env::temp_dir().join(format!("rvc-live-cli-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("tone.wav");
    write_tone(&input, 48_000, 200.0, 1.0);
    let convert = |index: &str| {
        Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .arg("convert")
            .args([&input, &dir.join("out.wav")])
            .arg("--voice")
            .arg(common::analytic("analytic_synth_v2_40k.onnx"))
            .arg("--content-encoder")
            .arg(common::analytic("analytic_content_units.onnx"))
            .arg("--index")
            .arg(common::model("index", index))
            .args(["--index-rate", "0.5", "--protect", "0.2"])
            .output()
            .unwrap()
    };
    let run = convert("ivf_flat_v2_sparse.index");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{log}");
    assert!(log.contains("index: 12 vectors 768 wide in 64 lists, nprobe 4"), "{log}");
    let run = convert("ivf_flat_v1_full.index");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{log}");
    assert!(log.contains("cannot use the index") && log.contains("256-wide features (RVC v1)"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convert_takes_a_pth_voice_as_users_download_it() {
    let dir = std::env::temp_dir().join(format!("rvc-live-cli-pth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("tone.wav"), dir.join("converted.wav"));
    write_tone(&input, 48_000, 180.0, 1.5);
    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .arg("convert")
        .args([&input, &output])
        .arg("--voice")
        .arg(common::generated("rvc_v2_40k_tiny.pth"))
        .arg("--content-encoder")
        .arg(common::generated("contentvec_tiny_units.onnx"))
        .env("RVC_LIVE_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{log}");
    let mut reader = hound::WavReader::open(&output).unwrap();
    let samples: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(samples.len(), 72_000, "as long as the input");
    assert!(samples.iter().any(|s| s.abs() > 0.01), "the converted file is silent:\n{log}");
    let cached: Vec<_> = std::fs::read_dir(dir.join("cache/voices")).unwrap().collect();
    assert_eq!(cached.len(), 1, "the built model went to the cache folder it was given");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// RVC's `hubert_base.pt` (fairseq's layout, its configuration pickled as fairseq's objects) is
/// built into the content encoder's units model: a conversion with it is the conversion with the
/// ONNX export of the same weights.
#[test]
fn convert_takes_rvcs_hubert_base_pt_as_the_content_encoder() {
    let dir = std::env::temp_dir().join(format!("rvc-live-cli-hubert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("tone.wav");
    write_tone(&input, 48_000, 180.0, 1.5);
    let convert = |encoder: &str, output: &Path| {
        let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .arg("convert")
            .args([&input, output])
            .arg("--voice")
            .arg(common::generated("rvc_v2_40k_tiny_partial_det.onnx"))
            .arg("--content-encoder")
            .arg(common::generated(encoder))
            .env("RVC_LIVE_CACHE_DIR", dir.join("cache"))
            .output()
            .unwrap();
        assert!(run.status.success(), "{encoder}: {}", String::from_utf8_lossy(&run.stderr));
        let mut reader = hound::WavReader::open(output).unwrap();
        reader.samples::<f32>().map(Result::unwrap).collect::<Vec<f32>>()
    };
    let from_pt = convert("hubert_base_tiny.pt", &dir.join("from-pt.wav"));
    let from_onnx = convert("contentvec_tiny_units.onnx", &dir.join("from-onnx.wav"));
    assert_eq!(from_pt.len(), from_onnx.len());
    assert!(from_onnx.iter().any(|s| s.abs() > 0.01), "the reference conversion is silent");
    let error = from_pt.iter().zip(&from_onnx).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(error <= 1e-3, "max difference {error} between the .pt and the ONNX export of its weights");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `rvc-live info`: what each kind of file is, and for a file RVC Live cannot use, why (exit
/// status non-zero).
#[test]
fn info_says_what_a_file_is_or_why_it_cannot_be_used() {
    let info = |path: &Path| {
        let run = Command::new(env!("CARGO_BIN_EXE_rvc-live")).arg("info").arg(path).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        (run.status.success(), text)
    };
    for (path, expected) in [
        (
            common::model("index", "ivf_flat_v1_full.index"),
            "for RVC v1 voices\n  3000 vectors 256 wide in 24 lists, nprobe 1",
        ),
        (
            common::analytic("analytic_synth_v1_40k.onnx"),
            "v1 (256-wide features), with f0, 40000 Hz, no formant shift (no formant length)",
        ),
        (
            common::model("demo", "demo_synth_v2_40k.onnx"),
            "an RVC voice (partial decoding)\n  v2 (768-wide features), with f0, 40000 Hz, takes a formant shift",
        ),
        (common::analytic("analytic_content_units.onnx"), "a content encoder"),
        (
            common::generated("rvc_v2_40k_tiny_applio.pth"),
            "an RVC voice checkpoint (Applio, v2, 40 kHz, with pitch, 300 epochs, HiFi-GAN vocoder)\n  \
             builds as RVC v2 40 kHz with pitch, 4 speakers, fp16 weights",
        ),
        (common::generated("rvc_v2_40k_tiny_training.pth"), "builds as RVC v2 40 kHz with pitch, 4 speakers, fp32"),
        (common::generated("rmvpe_tiny.pt"), "RVC's RMVPE pitch model as a torch checkpoint (builds as rmvpe_tiny"),
        (
            common::generated("hubert_base_tiny.pt"),
            "RVC's HuBERT content encoder as fairseq's checkpoint (builds as hubert_base_tiny",
        ),
    ] {
        let (ok, text) = info(&path);
        assert!(ok && text.contains(expected), "{}: {text}", path.display());
    }
    for (path, expected) in [
        (common::model("index", "trained_ivf_flat.index"), "the index holds no vectors"),
        (common::model("index", "ivf_pq.index"), "IVF-PQ"),
        (common::analytic("bad_synth_width_512.onnx"), "its features are 512 wide"),
        (Path::new("/nonexistent/voice.pth").to_owned(), "no such file"),
        (common::generated("rvc_v2_40k_tiny_hostile.pth"), "its pickle calls `posix.system`"),
        (common::generated("rvc_v2_40k_tiny_refinegan.pth"), "RefineGAN vocoder"),
    ] {
        let (ok, text) = info(&path);
        assert!(!ok && text.contains(expected), "{}: {text}", path.display());
    }
}

/// A formant shift outside the control's range is refused with the range, before anything loads.
#[test]
fn a_formant_shift_outside_its_range_is_refused() {
    let (lowest, highest) = (*rvc_live_engine::formant::RANGE.start(), *rvc_live_engine::formant::RANGE.end());
    for value in [highest + 1.0, lowest - 0.5, f32::NAN] {
        let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .args(["convert", "in.wav", "out.wav", "--voice", "v.onnx", "--content-encoder", "c.onnx", "--formant"])
            .arg(value.to_string())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "--formant {value} was taken");
        assert!(stderr.contains(&format!("a formant shift is {lowest} to {highest} semitones")), "{stderr}");
    }
}
