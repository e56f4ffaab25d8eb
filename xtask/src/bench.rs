//! `cargo xtask bench`: RVC Live's engine against the reference (RVC's realtime algorithm, ported
//! to Python on onnxruntime, `bench/reference_engine.py`) with the same models, blocks, contexts
//! and threads, plus the audio thread's time per `process()` call.
//!
//! Each grid point runs in a process of its own, ours then the reference's, so each peak-memory
//! figure is that setting's and a slow spell on the shared machine hits both engines alike.
//! `rvc-live-bench report` joins the results into the table and `target/bench/bench.json`.
//!
//! `--soak` runs the soak instead (`rvc-live-soak`, `tests/src/soak.rs`): the release plugin in a
//! real-time paced CLAP host for ten minutes of speech, switching voices and moving parameters,
//! and what that did to underruns, block compute times and memory (`target/bench/soak.json`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::bundles::{self, BUNDLE_NAME};
use crate::models::{self, ModelSet};
use crate::{command, onnxruntime, paths, python_env, system_packages};

/// What to measure. The defaults are the grid, plus the plugin's default block (120 ms),
/// with the full-size models.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The CI form: tiny models, a 5 s file, two settings, a 2 s audio-thread run.
    #[arg(long)]
    quick: bool,
    /// ONNX Runtime intra-op threads per model, for both engines.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Block lengths in ms (default 100,120,150,200,300; quick: 120,200).
    #[arg(long, value_delimiter = ',')]
    blocks: Vec<f32>,
    /// Contexts in ms (default 250,500; quick: 250).
    #[arg(long, value_delimiter = ',')]
    contexts: Vec<f32>,
    /// Length of the speech file in seconds (default 30; quick: 5). With `--soak`, the soak's
    /// length (default 600; quick: 60).
    #[arg(long)]
    seconds: Option<u32>,
    /// Run our engine with the int8 copies of the content encoder and the voice's decoder (the
    /// plugin's fast, approximate precision) instead of the float models, as the files are: what
    /// the copies gain.
    #[arg(long)]
    int8_models: bool,
    /// Instead of the engine benchmark, the soak: the release plugin in a real-time paced CLAP host
    /// at its default stream settings, speech in, a voice switch every 30 s, parameter automation
    /// every second; underruns, block compute times and memory (`target/bench/soak.json`).
    #[arg(long)]
    soak: bool,
    /// With `--soak`: a CPU hog on every core for 30 s in the middle of the run
    /// (`target/bench/soak-hog.json`).
    #[arg(long, requires = "soak")]
    hog: bool,
    /// Instead of the engine benchmark, the remote engine: 1, 2, 3 and 4 streams (quick: 1 and
    /// 2) converting at once in real time on one `rvc-live serve` on a loopback port, each for
    /// `--seconds` (default 20; quick: 5): blocks back in time, what the network path adds per
    /// block, the server's CPU per stream (`target/bench/remote.json`).
    #[arg(long, conflicts_with = "soak")]
    remote: bool,
}

/// The models one engine run needs, as paths.
struct Fixtures {
    voice: PathBuf,
    content_encoder: PathBuf,
    pitch_model: PathBuf,
}

/// Vectors in the bench's retrieval index: as many as about half an hour of a voice's training
/// audio gives (RVC's index of ten minutes holds about 30 000); quick: a tenth.
const INDEX_VECTORS: u32 = 100_000;
const QUICK_INDEX_VECTORS: u32 = 10_000;

pub fn run(options: &Options) -> anyhow::Result<()> {
    if options.soak {
        return soak(options);
    }
    if options.remote {
        return remote(options);
    }
    let quick = options.quick;
    let or = |given: &[f32], full: &[f32], quick_default: &[f32]| {
        if !given.is_empty() {
            given.to_vec()
        } else if quick {
            quick_default.to_vec()
        } else {
            full.to_vec()
        }
    };
    let blocks = or(&options.blocks, &[100.0, 120.0, 150.0, 200.0, 300.0], &[120.0, 200.0]);
    let contexts = or(&options.contexts, &[250.0, 500.0], &[250.0]);
    let seconds = options.seconds.unwrap_or(if quick { 5 } else { 30 });

    system_packages::ensure()?;
    onnxruntime::provision()?;
    let rvc = models::generate_set(if quick { ModelSet::Ci } else { ModelSet::Full })?.join("rvc");
    let fixtures = Fixtures::for_set(&rvc, quick);
    let python = python_env::MODELS.provision()?;
    let speech = speech_file(&python, seconds)?;
    let index = index_file(if quick { QUICK_INDEX_VECTORS } else { INDEX_VECTORS })?;

    let out = Path::new("target/bench");
    std::fs::create_dir_all(out)?;
    // First: building the bundle builds the bench binary too (same package, same flags).
    let audio_thread = audio_thread(out, if quick { 2 } else { 10 })?;
    command::run(command::cargo().args(["build", "--release", "-p", "rvc_live_engine", "--bin", "rvc-live-bench"]))?;
    let bench = Path::new("target/release/rvc-live-bench");

    let mut report = Command::new(bench);
    report.arg("report");
    for &context in &contexts {
        for &block in &blocks {
            let name = format!("{block:.0}ms-{context:.0}ms");
            let (ours, reference) = (out.join(format!("ours-{name}.json")), out.join(format!("reference-{name}.json")));
            let grid = [
                format!("--blocks={block}"),
                format!("--contexts={context}"),
                format!("--threads={}", options.threads),
            ];
            let mut ours_run = Command::new(bench);
            engine(ours_run.arg("run"), &speech, &fixtures)
                .args(&grid)
                .arg("--index")
                .arg(&index)
                .arg("--json")
                .arg(&ours);
            if options.int8_models {
                ours_run.arg("--int8-models");
            }
            command::run(&mut ours_run)?;
            command::run(
                engine(Command::new(&python).arg("bench/reference_engine.py"), &speech, &fixtures)
                    .args(&grid)
                    .arg("--json")
                    .arg(&reference),
            )?;
            report.arg("--ours").arg(ours).arg("--reference").arg(reference);
        }
    }
    command::run(report.arg("--audio-thread").arg(audio_thread).arg("--json").arg(out.join("bench.json")))
}

impl Fixtures {
    /// The full-size v2 40 kHz voice (partial decoding, as RVC's real-time GUI runs it), ContentVec
    /// and FCPE; quick: their tiny stand-ins.
    fn for_set(rvc: &Path, quick: bool) -> Self {
        let (voice, content_encoder) = if quick {
            ("rvc_v2_40k_tiny_partial.onnx", "contentvec_tiny_units.onnx")
        } else {
            ("rvc_v2_40k_partial.onnx", "contentvec_units.onnx")
        };
        Self { voice: rvc.join(voice), content_encoder: rvc.join(content_encoder), pitch_model: rvc.join("fcpe.onnx") }
    }
}

/// The remote engine's benchmark: `rvc-live-bench remote-streams` with this set's voice, ContentVec
/// and FCPE, against the release `rvc-live serve`.
fn remote(options: &Options) -> anyhow::Result<()> {
    let quick = options.quick;
    system_packages::ensure()?;
    let runtime = onnxruntime::provision()?;
    let rvc = models::generate_set(if quick { ModelSet::Ci } else { ModelSet::Full })?.join("rvc");
    let fixtures = Fixtures::for_set(&rvc, quick);
    let python = python_env::MODELS.provision()?;
    let speech = speech_file(&python, 30)?;
    command::run(command::cargo().args(["build", "--release", "-p", "rvc_live_engine", "--bins"]))?;
    let out = Path::new("target/bench");
    std::fs::create_dir_all(out)?;
    let seconds = options.seconds.unwrap_or(if quick { 5 } else { 20 });
    command::run(
        engine(Command::new("target/release/rvc-live-bench").arg("remote-streams"), &speech, &fixtures)
            .arg(format!("--streams={}", if quick { "1,2" } else { "1,2,3,4" }))
            .arg(format!("--seconds={seconds}"))
            .arg("--json")
            .arg(out.join("remote.json"))
            .env("RVC_LIVE_ONNXRUNTIME", runtime),
    )
}

/// `.cache/bench/speech-{seconds}s.wav`, written by `bench/make_speech.py`.
fn speech_file(python: &Path, seconds: u32) -> anyhow::Result<PathBuf> {
    let speech = paths::cache("bench").join(format!("speech-{seconds}s.wav"));
    command::run(Command::new(python).arg("bench/make_speech.py").arg(&speech).arg(format!("--seconds={seconds}")))?;
    Ok(speech)
}

/// `.cache/bench/index-v2-{vectors}.index`, written by `bench/make_index.py` with faiss as RVC's
/// `train_index.py` writes a voice's index.
fn index_file(vectors: u32) -> anyhow::Result<PathBuf> {
    let index = paths::cache("bench").join(format!("index-v2-{vectors}.index"));
    let python = python_env::provision()?;
    command::run(Command::new(python).arg("bench/make_index.py").arg(&index).arg(format!("--vectors={vectors}")))?;
    Ok(index)
}

/// The soak: build the release bundle and `rvc-live-soak`, and run it over 30 s of speech looped
/// (with a pause after each pass), switching between the bench's voice and a second voice of the
/// same set: the same architecture in another file (its deterministic export), another speaker.
fn soak(options: &Options) -> anyhow::Result<()> {
    let quick = options.quick;
    let seconds = options.seconds.unwrap_or(if quick { 60 } else { 600 });
    system_packages::ensure()?;
    onnxruntime::provision()?;
    let rvc = models::generate_set(if quick { ModelSet::Ci } else { ModelSet::Full })?.join("rvc");
    let fixtures = Fixtures::for_set(&rvc, quick);
    let second_voice = fixtures.voice.with_file_name(if quick {
        "rvc_v2_40k_tiny_partial_det.onnx"
    } else {
        "rvc_v2_40k_partial_det.onnx"
    });
    let python = python_env::MODELS.provision()?;
    let speech = speech_file(&python, 30)?;

    let out = Path::new("target/bench");
    std::fs::create_dir_all(out)?;
    let bundled = bundles::bundle(&["--release"])?;
    command::run(command::cargo().args(["build", "--release", "-p", "rvc_live_hosts", "--bin", "rvc-live-soak"]))?;
    let json = out.join(if options.hog { "soak-hog.json" } else { "soak.json" });
    let mut soak = Command::new("target/release/rvc-live-soak");
    soak.arg("--plugin")
        .arg(bundled.join(format!("{BUNDLE_NAME}.clap")))
        .arg("--speech")
        .arg(&speech)
        .arg("--voice")
        .arg(&fixtures.voice)
        .arg("--voice")
        .arg(&second_voice)
        .arg("--content-encoder")
        .arg(&fixtures.content_encoder)
        .arg("--pitch-model")
        .arg(&fixtures.pitch_model)
        .arg(format!("--seconds={seconds}"))
        .arg("--json")
        .arg(&json)
        // The soak reads the plugin's stop line from the log file it chooses.
        .env_remove("NICE_LOG");
    if options.hog {
        soak.arg("--hog");
    }
    command::run(&mut soak)
}

/// The arguments both engines take: the input and the models.
fn engine<'a>(command: &'a mut Command, speech: &Path, fixtures: &Fixtures) -> &'a mut Command {
    command
        .arg(speech)
        .arg("--voice")
        .arg(&fixtures.voice)
        .arg("--content-encoder")
        .arg(&fixtures.content_encoder)
        .arg("--pitch-model")
        .arg(&fixtures.pitch_model)
}

/// Time the release plugin's `process()` in a CLAP host (64- and 512-sample buffers, paced at
/// 48 kHz), and keep the JSON line it ends with for the report.
fn audio_thread(out: &Path, seconds: u32) -> anyhow::Result<PathBuf> {
    let bundled = bundles::bundle(&["--release"])?;
    command::run(command::cargo().args(["build", "--release", "-p", "rvc_live_hosts", "--bin", "rvc-live-host"]))?;
    let mut host = Command::new("target/release/rvc-live-host");
    host.arg("bench-audio-thread")
        .arg("--plugin")
        .arg(bundled.join(format!("{BUNDLE_NAME}.clap")))
        .args(["--buffers", "64,512"])
        .arg(format!("--seconds={seconds}"));
    eprintln!("+ target/release/rvc-live-host bench-audio-thread … --seconds={seconds}");
    let result = host.stderr(Stdio::inherit()).output().context("could not start rvc-live-host")?;
    let stdout = String::from_utf8_lossy(&result.stdout);
    print!("{stdout}");
    if !result.status.success() {
        bail!("rvc-live-host bench-audio-thread failed ({})", result.status);
    }
    let json = stdout.lines().rev().find(|l| l.starts_with('[')).context("rvc-live-host printed no JSON")?;
    let path = out.join("audio_thread.json");
    std::fs::write(&path, json)?;
    Ok(path)
}
