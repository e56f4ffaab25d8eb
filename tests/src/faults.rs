//! Fault injection: sessions with broken models (`models/generate_faults.py`) and panics injected
//! through the plugin's `RVC_LIVE_TEST_PANIC` hook.
//!
//! A session runs in a process of its own (`rvc-live-fault-host`): the plugin's log goes to that
//! process's standard error, where the test reads which model misbehaved, the test hook's
//! environment variable stays out of the other tests' way, and an abort or a hang ends the child,
//! not the suite. The parent builds the input, the child plays it through the plugin and writes
//! each activation's raw output (latency not removed) to a WAV file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};

use crate::analysis::zero_crossing_frequency;
use crate::blocks::{RandomBlocks, fixed};
use crate::host::{AudioConfig, Pace, PluginHost};
use crate::state::{NiceState, VoiceSelection};
use crate::subprocess::{self, ChildRun};
use crate::{RenderMode, wav};

pub const RATE: f64 = 48_000.0;
/// Host buffer; the latency formula counts it.
pub const MAX_FRAMES: u32 = 512;
pub const TONE_HZ: f64 = 220.0;
/// A tone the voice converts; also what plays when nothing converts it.
pub const QUIET: f32 = 0.3;
/// Above the loud-NaN encoder's 0.5 threshold.
pub const LOUD: f32 = 0.9;
/// What the analytic voice sings at (`analytic_synth_*`), and its quiet variant.
pub const VOICE_AMPLITUDE: f32 = 0.5;
pub const QUIET_VOICE_AMPLITUDE: f32 = 0.25;
/// Silence after every input, so the last second of input also comes out.
pub const TAIL_SECONDS: f64 = 0.5;

/// The voice the fault files are made from: the analytic voice in the partial-decoding convention.
pub const ANALYTIC_VOICE: &str = "analytic_synth_partial_v2_40k.onnx";
pub const ANALYTIC_ENCODER: &str = "analytic_content_units.onnx";
/// The pitch model the pitch-model faults are made from.
pub const PITCH_MODEL: &str = "crepe_tiny.onnx";

pub use rvc_live_test_support::models::{analytic as analytic_model, fault as fault_model, model};

/// Which of the voice's models a fault is in, named as the plugin names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Voice,
    ContentEncoder,
    PitchModel,
}

impl Stage {
    pub fn file_prefix(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::ContentEncoder => "content-encoder",
            Self::PitchModel => "pitch-model",
        }
    }

    /// How every message names it.
    pub fn role(self) -> &'static str {
        match self {
            Self::Voice => "the voice model",
            Self::ContentEncoder => "the content encoder",
            Self::PitchModel => "the pitch model",
        }
    }
}

/// A fault `generate_faults.py` appends to a model's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Nan,
    Inf,
    NegInf,
    Huge,
    Zeros,
    FrameShort,
    FrameLong,
    Int64,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::Nan => "nan",
            Self::Inf => "inf",
            Self::NegInf => "neg-inf",
            Self::Huge => "huge",
            Self::Zeros => "zeros",
            Self::FrameShort => "frame-short",
            Self::FrameLong => "frame-long",
            Self::Int64 => "int64",
        }
    }

    /// The word a refusal must contain; `None` for the fault that is a valid output.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Self::Nan => Some("NaN"),
            Self::Inf | Self::NegInf => Some("infinite"),
            Self::Huge => Some("out-of-range"),
            Self::FrameShort | Self::FrameLong => Some("frames"),
            Self::Int64 => Some("int64"),
            Self::Zeros => None,
        }
    }
}

/// `{stage}-{fault}.onnx`.
pub fn fault_file(stage: Stage, fault: Fault) -> PathBuf {
    fault_model(&format!("{}-{}.onnx", stage.file_prefix(), fault.name()))
}

/// The analytic voice with the analytic encoder and the built-in pitch tracker.
pub fn analytic_selection() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic_model(ANALYTIC_VOICE)),
        content_encoder: Some(analytic_model(ANALYTIC_ENCODER)),
        ..Default::default()
    }
}

/// The analytic selection with one stage's model replaced by `faulty` (a pitch model is added for
/// the pitch-model stage; the others use the built-in tracker).
pub fn selection_with(stage: Stage, faulty: PathBuf) -> VoiceSelection {
    let mut voice = analytic_selection();
    match stage {
        Stage::Voice => voice.synthesizer = Some(faulty),
        Stage::ContentEncoder => voice.content_encoder = Some(faulty),
        Stage::PitchModel => voice.pitch_model = Some(faulty),
    }
    voice
}

// ---- the session the child runs ----

/// A voice chosen while the plugin runs, as a host loading a preset does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swap {
    /// Input sample before which the new state is loaded.
    pub at: usize,
    pub voice: VoiceSelection,
    /// Wall time the host waits after loading it, for the loader.
    pub settle_ms: u64,
}

/// What the child does: choose `voice` through the saved state, then `passes` times activate,
/// play the whole input, deactivate. `swap` happens during the first pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub voice: Option<VoiceSelection>,
    pub swap: Option<Swap>,
    /// Real-time render mode with calls paced at the audio rate; else offline, as fast as it goes.
    pub realtime: bool,
    pub passes: usize,
}

impl Session {
    pub fn offline(voice: Option<VoiceSelection>) -> Self {
        Self { voice, swap: None, realtime: false, passes: 1 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    /// The latency reported in each pass.
    pub latencies: Vec<u32>,
    /// After the swap, in the first pass.
    pub latency_after_swap: Option<u32>,
    pub process_calls: u64,
    pub longest_call_ms: f64,
    pub wall_seconds: f64,
}

/// Play `input` through the plugin as `session` says. Returns each pass's raw output.
pub fn run_session(
    plugin: &Path,
    session: &Session,
    input: &[Vec<f32>],
) -> anyhow::Result<(SessionReport, Vec<Vec<Vec<f32>>>)> {
    let started = Instant::now();
    let mut host = PluginHost::load(plugin)?;
    host.select_layout(input.len() as u32)?;
    let base = NiceState::decode(&host.save_state()?)?;
    let load = |host: &mut PluginHost, voice: &VoiceSelection| -> anyhow::Result<()> {
        let mut state = base.clone();
        state.set_voice(voice);
        host.load_state(&state.encode())
    };
    if let Some(voice) = &session.voice {
        load(&mut host, voice)?;
    }
    let mode = if session.realtime { RenderMode::Realtime } else { RenderMode::Offline };
    let pace = if session.realtime { Pace::RealTime } else { Pace::Unpaced };
    let blocks = |pass: usize| -> Box<dyn Iterator<Item = usize>> {
        if session.realtime {
            Box::new(fixed(MAX_FRAMES as usize))
        } else {
            Box::new(RandomBlocks::new(pass as u64 + 1, MAX_FRAMES as usize))
        }
    };
    let mut report = SessionReport::default();
    let mut outputs = Vec::new();
    for pass in 0..session.passes {
        host.set_render_mode(mode)?;
        host.activate(AudioConfig::new(RATE, MAX_FRAMES))?;
        report.latencies.push(host.latency()?);
        let mut sizes = blocks(pass);
        let len = input[0].len();
        let split = session.swap.as_ref().filter(|_| pass == 0).map_or(len, |s| s.at.min(len));
        let part = |range: std::ops::Range<usize>| input.iter().map(|c| c[range.clone()].to_vec()).collect::<Vec<_>>();
        let mut output = host.process_signal(&part(0..split), &mut sizes, pace)?;
        if let Some(swap) = session.swap.as_ref().filter(|_| pass == 0) {
            load(&mut host, &swap.voice)?;
            std::thread::sleep(Duration::from_millis(swap.settle_ms));
            let rest = host.process_signal(&part(split..len), &mut sizes, pace)?;
            for (channel, more) in output.iter_mut().zip(rest) {
                channel.extend(more);
            }
            report.latency_after_swap = Some(host.latency()?);
        }
        host.deactivate()?;
        outputs.push(output);
    }
    report.process_calls = host.process_calls();
    report.longest_call_ms = host.longest_process_call().as_secs_f64() * 1000.0;
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok((report, outputs))
}

/// Where a pass's output goes: `{prefix}-pass{k}.wav`.
pub fn pass_file(prefix: &Path, pass: usize) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(format!("-pass{pass}.wav"));
    PathBuf::from(name)
}

// ---- the parent's side ----

/// A finished child session.
#[derive(Debug)]
pub struct ChildSession {
    pub run: ChildRun,
    pub report: SessionReport,
    /// Each pass's raw output, one `Vec` per channel.
    pub outputs: Vec<Vec<Vec<f32>>>,
}

impl ChildSession {
    /// The plugin's log.
    pub fn log(&self) -> &str {
        &self.run.stderr
    }

    /// The failed conversions each `RVC Live stopped: …` line counts, one line per deactivation.
    pub fn failed_conversions(&self) -> Vec<u64> {
        failed_conversions(&self.run.stderr)
    }
}

/// Run `session` on `input` in a child `rvc-live-fault-host` with extra environment variables.
/// Fails (with everything the child printed) unless it exits normally and writes every pass: the
/// host must survive whatever the plugin met.
pub fn run_in_child(
    host_binary: &Path,
    plugin: &Path,
    session: &Session,
    input: &[Vec<f32>],
    env: &[(&str, &str)],
    timeout: Duration,
) -> anyhow::Result<ChildSession> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rvc-live-faults-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    let (input_path, session_path, prefix) = (dir.join("input.wav"), dir.join("session.json"), dir.join("output"));
    wav::write(&input_path, &wav::Audio { sample_rate: RATE as u32, channels: input.to_vec() })?;
    std::fs::write(&session_path, serde_json::to_string(session)?)?;
    let args = [
        "--plugin",
        plugin.to_str().context("a UTF-8 plugin path")?,
        "--session",
        session_path.to_str().context("a UTF-8 temp path")?,
        "--input",
        input_path.to_str().context("a UTF-8 temp path")?,
        "--output",
        prefix.to_str().context("a UTF-8 temp path")?,
    ];
    let run = subprocess::run(host_binary, &args, env, timeout)?;
    ensure!(!run.aborted(), "the host process aborted:\n{}", run.describe());
    ensure!(run.status.success(), "the host process failed:\n{}", run.describe());
    let line = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("no report from the child:\n{}", run.describe()))?;
    let report: SessionReport = serde_json::from_str(line)?;
    let mut outputs = Vec::new();
    for pass in 0..session.passes {
        let audio = wav::read(&pass_file(&prefix, pass)).with_context(|| run.describe())?;
        outputs.push(audio.channels);
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(ChildSession { run, report, outputs })
}

// ---- signals and measurements ----

/// `seconds` of silence.
pub fn silence(seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * RATE) as usize]
}

/// A tone at [`TONE_HZ`] whose amplitude steps through `(seconds, amplitude)` segments with a
/// continuous phase, followed by [`TAIL_SECONDS`] of silence.
pub fn tone_segments(segments: &[(f64, f32)]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut n = 0usize;
    for &(seconds, amplitude) in segments {
        for _ in 0..(seconds * RATE) as usize {
            let phase = 2.0 * std::f64::consts::PI * TONE_HZ * n as f64 / RATE;
            out.push(amplitude * phase.sin() as f32);
            n += 1;
        }
    }
    out.extend(silence(TAIL_SECONDS));
    out
}

/// The same signal on both channels: what is dry and what is the identity coincide, so the
/// fault tests do not depend on how no-voice handles stereo (`clap_passthrough` checks that).
pub fn dual_mono(x: Vec<f32>) -> Vec<Vec<f32>> {
    vec![x.clone(), x]
}

/// Output samples that carry the input between `start` and `end` seconds.
pub fn output_window(start: f64, end: f64, latency: usize) -> std::ops::Range<usize> {
    (start * RATE) as usize + latency..(end * RATE) as usize + latency
}

pub fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// `Err` with what it is instead, unless `x` is the analytic voice singing [`TONE_HZ`] at
/// `amplitude` (peak within 3 %, frequency within 1 %).
pub fn sings(x: &[f32], amplitude: f32) -> Result<(), String> {
    let level = peak(x);
    let frequency = zero_crossing_frequency(x, RATE);
    if (level / amplitude - 1.0).abs() < 0.03 && (frequency / TONE_HZ - 1.0).abs() < 0.01 {
        Ok(())
    } else {
        Err(format!("peak {level} at {frequency:.1} Hz, not the voice's {amplitude} at {TONE_HZ} Hz"))
    }
}

/// `Err` unless `output[range]` equals `input` delayed by `latency` within `tolerance` on every
/// channel.
pub fn plays_dry(
    output: &[Vec<f32>],
    input: &[Vec<f32>],
    latency: usize,
    range: std::ops::Range<usize>,
    tolerance: f32,
) -> Result<(), String> {
    for (c, (out, x)) in output.iter().zip(input).enumerate() {
        for n in range.clone() {
            let expected = if n >= latency { x.get(n - latency).copied().unwrap_or(0.0) } else { 0.0 };
            let error = (out[n] - expected).abs();
            if error > tolerance || error.is_nan() {
                return Err(format!(
                    "channel {c}, sample {n} is {} where the dry input delayed by {latency} is {expected} (error \
                     {error}, tolerance {tolerance})",
                    out[n]
                ));
            }
        }
    }
    Ok(())
}

/// The lines of `log` that say a voice could not load, with every path in `paths` replaced by
/// `<model>`, so a word looked for in the reason is not found in a file name instead
/// (`voice-nan.onnx`).
pub fn refusals(log: &str, paths: &[&Path]) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("Could not load the voice"))
        .map(|l| paths.iter().fold(l.to_string(), |line, p| line.replace(&*p.to_string_lossy(), "<model>")))
        .collect()
}

/// Whether a refusal names `stage` and gives `reason` (case-insensitive, except "NaN", which
/// must be spelt so).
pub fn names(line: &str, stage: Stage, reason: &str) -> bool {
    let lower = line.to_lowercase();
    let reason_found = if reason == "NaN" { line.contains("NaN") } else { lower.contains(&reason.to_lowercase()) };
    lower.contains(stage.role()) && reason_found
}

/// The failed conversions of every `RVC Live stopped:` line of `log`, one per deactivation.
pub fn failed_conversions(log: &str) -> Vec<u64> {
    crate::subprocess::StopLog::parse_all(log).iter().map(|stop| stop.failed_conversions).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_conversions_are_read_from_every_stop_line() {
        let log = " INFO RVC Live stopped: 29 blocks, block compute p50 1.0 ms p99 2.0 ms max 3.0 ms (budget 120.0 ms), \
                   2 underruns (1234 samples from the fallback), 0 overflows, 13 failed conversions, 4 gated, 0 voice \
                   swaps\n INFO RVC Live stopped: 3 blocks, block compute p50 0.0 ms p99 0.0 ms max 0.0 ms (budget \
                   120.0 ms), 0 underruns (0 samples from the fallback), 0 overflows, 0 failed conversions, 0 gated, 0 \
                   voice swaps\n";
        assert_eq!(failed_conversions(log), vec![13, 0]);
    }

    #[test]
    fn refusals_hide_the_paths_and_name_the_stage() {
        let path = Path::new("/m/voice-nan.onnx");
        let log = "ERROR RVC Live Could not load the voice /m/voice-nan.onnx: the voice model produced NaN values\n";
        let lines = refusals(log, &[path]);
        assert_eq!(lines.len(), 1);
        assert!(names(&lines[0], Stage::Voice, "NaN"));
        assert!(!names(&lines[0], Stage::ContentEncoder, "NaN"));
        let lines = refusals("Could not load the voice /m/voice-nan.onnx: the voice model gave nan\n", &[path]);
        assert!(!names(&lines[0], Stage::Voice, "NaN"), "NaN is spelt so; the file name does not count");
    }
}
