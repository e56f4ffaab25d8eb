//! `rvc-live convert` with broken models (`models/generate_faults.py`): every model that gives NaN,
//! infinite, absurd, mis-framed or wrongly typed output is refused within seconds with a message
//! naming it (exit status non-zero, never a hang); an all-zero model is valid and converts; a
//! content encoder that turns NaN when the input gets loud fails those blocks, passes the input
//! through for them, writes the file and says so in its exit status.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
const TIMEOUT: Duration = Duration::from_secs(60);

fn fault(name: &str) -> PathBuf {
    common::model("faults", name)
}

struct Run {
    status: ExitStatus,
    stderr: String,
    took: Duration,
}

/// A scratch folder of this test's own.
fn scratch(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rvc-live-cli-faults-{}-{}-{what}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A stereo 32-bit float WAV of a 220 Hz tone whose amplitude steps through `(seconds, amplitude)`.
fn write_tone(path: &Path, segments: &[(f64, f32)]) -> usize {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let mut n = 0usize;
    for &(seconds, amplitude) in segments {
        for _ in 0..(seconds * f64::from(RATE)) as usize {
            let v = amplitude * (2.0 * std::f64::consts::PI * 220.0 * n as f64 / f64::from(RATE)).sin() as f32;
            writer.write_sample(v).unwrap();
            writer.write_sample(v).unwrap();
            n += 1;
        }
    }
    writer.finalize().unwrap();
    n
}

/// `rvc-live convert input output --voice .. --content-encoder .. [--pitch-model ..]`, with extra
/// environment variables, killed (and the test failed) if it runs longer than [`TIMEOUT`].
fn convert(
    input: &Path,
    output: &Path,
    voice: &Path,
    encoder: &Path,
    pitch: Option<&Path>,
    env: &[(&str, &str)],
) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rvc-live"));
    command.arg("convert").args([input, output]).arg("--voice").arg(voice).arg("--content-encoder").arg(encoder);
    if let Some(pitch) = pitch {
        command.arg("--pitch-model").arg(pitch);
    }
    let started = Instant::now();
    let mut child = command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = drain.join().unwrap_or_default();
            panic!("rvc-live convert with {} hung: killed after {TIMEOUT:?}\n--- stderr\n{stderr}", voice.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run { status, stderr: drain.join().unwrap_or_default(), took: started.elapsed() }
}

/// Which stage a fault file is in, the file's base models around it, and the role's name.
fn models_for(stage: &str, faulty: PathBuf) -> (PathBuf, PathBuf, Option<PathBuf>, &'static str) {
    let voice = common::analytic("analytic_synth_partial_v2_40k.onnx");
    let encoder = common::analytic("analytic_content_units.onnx");
    match stage {
        "voice" => (faulty, encoder, None, "the voice model"),
        "content-encoder" => (voice, faulty, None, "the content encoder"),
        "pitch-model" => (voice, encoder, Some(faulty), "the pitch model"),
        _ => unreachable!("{stage}"),
    }
}

/// The stderr of a run with every model path replaced by `<model>`, so a word looked for in a
/// message is not found in a file name (`voice-nan.onnx`) instead.
fn without_paths(stderr: &str, paths: &[&Path]) -> String {
    paths.iter().fold(stderr.to_string(), |text, p| text.replace(&*p.to_string_lossy(), "<model>"))
}

fn refused(stage: &str, fault_name: &str, reason: &str) {
    let name = format!("{stage}-{fault_name}.onnx");
    let (voice, encoder, pitch, role) = models_for(stage, fault(&name));
    let dir = scratch(&name);
    let input = dir.join("tone.wav");
    write_tone(&input, &[(1.0, 0.3)]);
    let run = convert(&input, &dir.join("out.wav"), &voice, &encoder, pitch.as_deref(), &[]);
    let mut paths = vec![voice.as_path(), encoder.as_path()];
    paths.extend(pitch.as_deref());
    let text = without_paths(&run.stderr, &paths);
    assert!(!run.status.success(), "{name} was accepted:\n{}", run.stderr);
    assert!(run.status.code().is_some(), "{name}: rvc-live died from a signal ({}):\n{}", run.status, run.stderr);
    let lower = text.to_lowercase();
    let reason_found = if reason == "NaN" { text.contains("NaN") } else { lower.contains(&reason.to_lowercase()) };
    assert!(
        lower.contains(role) && reason_found,
        "{name}: the message does not name {role} and {reason:?}:\n{}",
        run.stderr
    );
    assert!(run.took < Duration::from_secs(30), "{name}: took {:?} to refuse", run.took);
    std::fs::remove_dir_all(&dir).unwrap();
}

macro_rules! refused {
    ($($name:ident: $stage:literal, $fault:literal, $reason:literal;)*) => {
        $(
            #[test]
            fn $name() {
                refused($stage, $fault, $reason);
            }
        )*
    };
}

refused! {
    voice_nan_is_refused: "voice", "nan", "NaN";
    voice_inf_is_refused: "voice", "inf", "infinite";
    voice_neg_inf_is_refused: "voice", "neg-inf", "infinite";
    voice_huge_is_refused: "voice", "huge", "out-of-range";
    voice_frame_short_is_refused: "voice", "frame-short", "frames";
    voice_frame_long_is_refused: "voice", "frame-long", "frames";
    voice_int64_is_refused: "voice", "int64", "int64";
    content_encoder_nan_is_refused: "content-encoder", "nan", "NaN";
    content_encoder_inf_is_refused: "content-encoder", "inf", "infinite";
    content_encoder_neg_inf_is_refused: "content-encoder", "neg-inf", "infinite";
    content_encoder_huge_is_refused: "content-encoder", "huge", "out-of-range";
    content_encoder_frame_short_is_refused: "content-encoder", "frame-short", "frames";
    content_encoder_frame_long_is_refused: "content-encoder", "frame-long", "frames";
    content_encoder_int64_is_refused: "content-encoder", "int64", "int64";
    pitch_model_nan_is_refused: "pitch-model", "nan", "NaN";
    pitch_model_inf_is_refused: "pitch-model", "inf", "infinite";
    pitch_model_neg_inf_is_refused: "pitch-model", "neg-inf", "infinite";
    pitch_model_huge_is_refused: "pitch-model", "huge", "out-of-range";
    pitch_model_frame_short_is_refused: "pitch-model", "frame-short", "frames";
    pitch_model_frame_long_is_refused: "pitch-model", "frame-long", "frames";
    pitch_model_int64_is_refused: "pitch-model", "int64", "int64";
}

fn read_output(path: &Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader.samples::<f32>().map(Result::unwrap).collect()
}

/// An all-zero output is valid: the file converts, as long as the input and finite.
fn zeros_convert(stage: &str) {
    let name = format!("{stage}-zeros.onnx");
    let (voice, encoder, pitch, _) = models_for(stage, fault(&name));
    let dir = scratch(&name);
    let (input, output) = (dir.join("tone.wav"), dir.join("out.wav"));
    let frames = write_tone(&input, &[(1.5, 0.3)]);
    let run = convert(&input, &output, &voice, &encoder, pitch.as_deref(), &[]);
    assert!(run.status.success(), "{name} was not converted:\n{}", run.stderr);
    let converted = read_output(&output);
    assert_eq!(converted.len(), frames, "{name}: as long as the input");
    assert!(converted.iter().all(|v| v.is_finite()), "{name}: non-finite output");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn voice_zeros_converts() {
    zeros_convert("voice");
}

#[test]
fn content_encoder_zeros_converts() {
    zeros_convert("content-encoder");
}

#[test]
fn pitch_model_zeros_converts() {
    zeros_convert("pitch-model");
}

/// The loud passage's blocks fail and pass the input through; the file is still written, and the
/// exit status and the summary say blocks failed and why.
#[test]
fn a_content_encoder_turning_nan_when_loud_writes_the_file_and_fails_the_run() {
    let encoder = fault("content-encoder-loud-nan.onnx");
    let voice = common::analytic("analytic_synth_partial_v2_40k.onnx");
    let dir = scratch("loud-nan");
    let (input, output) = (dir.join("speech.wav"), dir.join("out.wav"));
    let frames = write_tone(&input, &[(1.5, 0.3), (1.0, 0.9), (1.5, 0.3)]);
    let run = convert(&input, &output, &voice, &encoder, None, &[]);
    let text = without_paths(&run.stderr, &[&voice, &encoder]);
    assert!(!run.status.success(), "blocks failed, yet the exit status is success:\n{}", run.stderr);
    assert!(run.status.code().is_some(), "rvc-live died from a signal ({}):\n{}", run.status, run.stderr);
    assert!(text.contains("blocks failed"), "no count of failed blocks:\n{}", run.stderr);
    assert!(text.contains("the content encoder produced NaN"), "the reason is not given:\n{}", run.stderr);
    let converted = read_output(&output);
    assert_eq!(converted.len(), frames, "the output file is as long as the input");
    assert!(converted.iter().all(|v| v.is_finite()), "non-finite output");
    // The middle of the loud passage is the input itself (mono, latency removed).
    let rate = RATE as usize;
    let tone = |n: usize| 0.9 * (2.0 * std::f64::consts::PI * 220.0 * n as f64 / f64::from(RATE)).sin() as f32;
    let middle = rate * 17 / 10..rate * 23 / 10;
    for (n, &sample) in converted.iter().enumerate().take(middle.end).skip(middle.start) {
        assert!(
            (sample - tone(n)).abs() < 1e-5,
            "sample {n} is {sample} where the input passed through is {}",
            tone(n)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The inference thread dies (the test hook `RVC_LIVE_TEST_PANIC`): the command notices, writes
/// what it has (the input passed through from there on) and exits with an error instead of
/// waiting forever for output.
#[test]
fn a_panic_on_the_inference_thread_ends_the_run_with_an_error_not_a_hang() {
    let voice = common::analytic("analytic_synth_partial_v2_40k.onnx");
    let encoder = common::analytic("analytic_content_units.onnx");
    let dir = scratch("inference-panic");
    let (input, output) = (dir.join("tone.wav"), dir.join("out.wav"));
    let frames = write_tone(&input, &[(3.0, 0.3)]);
    let run = convert(&input, &output, &voice, &encoder, None, &[("RVC_LIVE_TEST_PANIC", "inference:3")]);
    assert!(!run.status.success(), "the worker died, yet the exit status is success:\n{}", run.stderr);
    assert!(run.status.code().is_some(), "rvc-live died from a signal ({}):\n{}", run.status, run.stderr);
    let last = run.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(
        last.starts_with("rvc-live:") && last.contains("RVC Live test panic"),
        "the error does not give the panic's message:\n{}",
        run.stderr
    );
    let converted = read_output(&output);
    assert_eq!(converted.len(), frames, "the output file is as long as the input");
    assert!(converted.iter().all(|v| v.is_finite()), "non-finite output");
    std::fs::remove_dir_all(&dir).unwrap();
}
