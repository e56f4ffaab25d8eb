//! The soak: minutes of live use in a CLAP host, to catch what only time shows (a counter that
//! creeps, memory that grows with every voice switch, a late block once in ten thousand).
//!
//! The release `.clap` runs in real-time render mode at the stream settings a fresh instance
//! starts with, its calls paced at the audio rate. The input is speech with pauses, looped. Every
//! [`SoakPlan::swap_every`] seconds the saved voice switches between two voice files, by loading
//! a state while audio plays, as a DAW loading a preset does; every second some parameters move, as
//! automation lanes do. The host's resident memory is sampled every few seconds, from just after
//! the first voice loaded. At the end the plugin's stop line (its log when it deactivates) gives
//! the counters and the inference thread's block compute times.
//!
//! With a [`HogPlan`], busy-looping threads take every core for a while in the middle: the output
//! must fall back to the dry input and come back once they stop. Each output buffer is compared
//! with the input delayed by the reported latency, which is what the fallback plays at 100 % wet
//! and 0 dB output: equal within [`EXACT`] is dry, anything else is the converted voice (or a
//! fade). Buffers whose input is silent cannot tell, nor can those where the automation has moved
//! the dry/wet mix or the output gain away from unity.
//!
//! The soak measures and judges against the goals, but a missed goal is a figure, not an error.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::subprocess::{STOP_PREFIX, StopLog};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::RenderMode;
use crate::host::{AudioConfig, PluginHost};
use crate::params::{ParamDescriptor, ids};
use crate::state::{NiceState, VoiceSelection};

/// "The dry input": the fallback only delays and copies, so anything further off is not it.
pub const EXACT: f32 = 1e-6;
/// A buffer whose delayed input peaks below this cannot tell dry from a converted voice that is
/// itself silent (a gated block): ten times the tolerance.
pub const AUDIBLE: f32 = 1e-4;
/// Goal: memory at the end within this much of memory just after the first voice loaded.
pub const MEMORY_GROWTH_GOAL_PERCENT: f64 = 5.0;
/// Goal: the hog run is back on the converted voice within this many blocks of the hog ending.
pub const RECOVERY_GOAL_BLOCKS: f64 = 2.0;
/// How long after the dry/wet mix and output gain return to unity their smoothers have surely
/// arrived (nice-plug's are 20 and 50 ms), so the dry comparison holds again.
const SMOOTHING_SETTLED_SECONDS: f64 = 0.1;
/// Buffers either side of a change between dry and converted output that count as its
/// surroundings for the click measure: the fallback fade is 5 ms, less than one buffer.
const TRANSITION_BUFFERS: usize = 1;
/// Converted buffers (away from any change to or from dry) the click measure needs to compare
/// with: about a second.
const MIN_CONVERTED_FOR_CLICKS: usize = 100;
/// How long after the hog ends a new fallback still counts as the hog's.
const HOG_AFTERMATH_SECONDS: f64 = 2.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakPlan {
    pub plugin: PathBuf,
    /// Speech (a WAV file at `sample_rate`, mixed to mono), looped for as long as the soak runs.
    pub speech: PathBuf,
    /// Silence after each pass of the speech, so the switches do not always land on the same word
    /// and there are pauses longer than a sentence gap.
    pub pause_seconds: f64,
    /// The two voices to switch between; the first is the one the plugin activates with.
    pub voices: [VoiceSelection; 2],
    pub seconds: f64,
    pub sample_rate: f64,
    /// Host buffer size: every call has exactly this many frames.
    pub buffer: usize,
    pub swap_every: f64,
    pub automate_every: f64,
    pub memory_every: f64,
    pub hog: Option<HogPlan>,
    /// Seed of the automation values.
    pub seed: u64,
    /// The file the plugin logs to (the caller sets `NICE_LOG` to it before the plugin loads).
    pub log: PathBuf,
    /// Also write the output's first channel and the delayed input here (32-bit float, stereo).
    pub dump: Option<PathBuf>,
}

/// Busy threads at the process's own priority, taking every core.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HogPlan {
    pub start_seconds: f64,
    pub seconds: f64,
    pub threads: usize,
}

impl HogPlan {
    /// `seconds` of hog centred in a soak of `soak_seconds`, one thread per core.
    pub fn centred(soak_seconds: f64, seconds: f64) -> Self {
        let seconds = seconds.min(soak_seconds);
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self { start_seconds: (soak_seconds - seconds) / 2.0, seconds, threads }
    }
}

/// Everything the soak measured, written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub mode: String,
    pub plugin: PathBuf,
    pub speech: PathBuf,
    pub voices: [VoiceSelection; 2],
    pub sample_rate: f64,
    pub buffer: usize,
    pub seconds: f64,
    /// The stream settings of a fresh instance, as its state holds them: the soak runs these.
    pub stream_settings: serde_json::Value,
    pub latency_samples: u32,
    pub latency_ms: f64,
    /// How long `activate` took, loading the first voice.
    pub activate_seconds: f64,
    pub host: HostFigures,
    pub swaps: SwapFigures,
    pub automation: AutomationFigures,
    /// The plugin's counters from its stop line; `None` if no stop line was found.
    pub plugin_counters: Option<StopLog>,
    pub stop_line: Option<String>,
    /// Log lines that report errors or failed loads.
    pub log_errors: Vec<String>,
    pub memory: MemoryFigures,
    pub output: OutputFigures,
    pub hog: Option<HogFigures>,
    pub verdicts: Vec<Verdict>,
    pub wall_seconds: f64,
}

/// How well the host itself kept time: a late call is an underrun the plugin cannot help.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostFigures {
    pub process_calls: u64,
    /// Calls made more than one buffer's duration after their input was due.
    pub late_calls: u64,
    pub max_lateness_ms: f64,
    /// `process()` on the audio thread, µs.
    pub process_p50_us: f64,
    pub process_p99_us: f64,
    pub process_max_us: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SwapFigures {
    /// Voice switches the host made (state loads), and when (seconds of audio).
    pub requested: usize,
    pub at_seconds: Vec<f64>,
    /// The longest state load, on the host's thread.
    pub longest_state_load_ms: f64,
    /// "Loaded …" lines in the plugin's log during the run: the first voice and every switch.
    pub loads_logged: usize,
    /// For each switch, from the state load to the log saying the voice loaded (or could not),
    /// to a quarter of a second; `None` for a load still running at the end.
    pub load_seconds: Vec<Option<f64>>,
    /// Whether a voice was still loading when the last memory sample was taken (it then holds a
    /// load's working memory).
    pub loading_at_end: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AutomationFigures {
    pub parameters: Vec<String>,
    /// Parameter changes sent.
    pub events: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryFigures {
    /// VmRSS before activating (the plugin loaded, no voice).
    pub before_activate_mib: f64,
    /// VmRSS right after `activate` loaded the first voice.
    pub start_mib: f64,
    /// The last sample before the first voice switch: the first voice after a while of converting
    /// (ONNX Runtime sizes its buffers on the first runs).
    pub settled_mib: f64,
    /// The last sample, just before deactivating.
    pub end_mib: f64,
    pub max_mib: f64,
    pub growth_percent: f64,
    /// End against `settled_mib`.
    pub growth_since_settled_percent: f64,
    /// VmHWM at the end: the peak, voice loads included.
    pub peak_mib: f64,
    /// The sample just before each voice switch: memory with one voice settled, switch after
    /// switch.
    pub before_each_swap_mib: Vec<f64>,
    /// `(seconds, MiB)` every few seconds.
    pub samples: Vec<(f64, f64)>,
}

/// What the output itself shows, buffer by buffer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutputFigures {
    pub non_finite_samples: u64,
    /// Buffers that were the dry input, another signal, silent in and out, or not judged (the mix
    /// was moving).
    pub dry_buffers: usize,
    pub converted_buffers: usize,
    pub quiet_buffers: usize,
    pub unjudged_buffers: usize,
    /// Stretches of dry output, in seconds of output from activation.
    pub fallbacks: Vec<Fallback>,
    pub fallback_seconds: f64,
    /// Largest sample-to-sample step in the first output channel around changes between dry and
    /// converted, in converted output away from them, and in the input.
    pub max_step_at_transitions: Option<f32>,
    pub max_step_converted: f32,
    pub max_step_input: f32,
    /// Converted buffers away from the changes, which `max_step_converted` covers.
    pub converted_buffers_elsewhere: usize,
}

/// One stretch of dry output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fallback {
    pub start_seconds: f64,
    /// End of its last dry buffer.
    pub end_seconds: f64,
    /// Silent buffers after it before converted output showed again: the end is somewhere in there.
    pub undecided_after_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HogFigures {
    pub plan: HogPlan,
    /// When the hog really ran, in seconds of output.
    pub started_seconds: f64,
    pub ended_seconds: f64,
    /// Fallbacks that started while the hog ran or within 2 s after it, and their dry time.
    pub fallbacks_during: usize,
    pub fallback_seconds_during: f64,
    /// From the hog's end to the end of the last dry buffer of the fallbacks that overlap it (and
    /// its first 2 s after): negative when the output was back before the hog ended; `None` when it
    /// never fell back then.
    pub recovery_ms: Option<f64>,
    pub recovery_blocks: Option<f64>,
    pub recovery_undecided_ms: Option<f64>,
    /// Fallbacks that started outside the hog and its aftermath: before it (one that lasts into
    /// the hog too) or later.
    pub fallbacks_outside: usize,
}

/// A goal and whether the run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub goal: String,
    /// `None`: not measured (no stop line, nothing to judge).
    pub pass: Option<bool>,
    pub figure: String,
}

impl Verdict {
    fn new(goal: &str, pass: Option<bool>, figure: String) -> Self {
        Self { goal: goal.into(), pass, figure }
    }

    pub fn label(&self) -> &'static str {
        match self.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "n/a",
        }
    }
}

/// A process's memory line from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in MiB.
pub fn proc_status_mib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))?;
    let kib: f64 = line[key.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

fn own_memory_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status").ok().and_then(|s| proc_status_mib(&s, key)).unwrap_or(f64::NAN)
}

/// Threads that spin until told to stop.
struct Hog {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Hog {
    fn start(threads: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|i| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(format!("soak-hog-{i}"))
                    .spawn(move || {
                        let mut x = i as u64 + 1;
                        while !stop.load(Ordering::Relaxed) {
                            for _ in 0..10_000 {
                                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
                            }
                        }
                    })
                    .expect("spawning a hog thread")
            })
            .collect();
        Self { stop, threads }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Follows the plugin's log file from where it was when the soak started: echoes new lines to
/// stderr (the plugin's log is the soak's progress too) and keeps what the report needs.
struct LogTail {
    stop: Arc<AtomicBool>,
    /// When each voice load ended (loaded or refused), as the log said it.
    loads: Arc<Mutex<Vec<Instant>>>,
    thread: JoinHandle<anyhow::Result<LogSeen>>,
}

/// The log lines that end a voice load: loaded, or refused.
const LOAD_ENDS: [&str; 2] = ["RVC Live Loaded ", "Could not load the voice"];

#[derive(Debug, Default)]
struct LogSeen {
    text_since_start: String,
}

impl LogTail {
    fn start(path: &Path) -> anyhow::Result<Self> {
        let offset = std::fs::metadata(path).map_or(0, |m| m.len());
        let path = path.to_path_buf();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let loads = Arc::new(Mutex::new(Vec::with_capacity(64)));
        let loads_seen = loads.clone();
        let thread = std::thread::Builder::new().name("soak-log".into()).spawn(move || {
            let mut seen = LogSeen::default();
            let mut offset = offset;
            let mut partial = String::new();
            loop {
                let stopping = stopping.load(Ordering::Relaxed);
                if let Ok(mut file) = File::open(&path) {
                    file.seek(SeekFrom::Start(offset))?;
                    let mut bytes = Vec::new();
                    file.read_to_end(&mut bytes)?;
                    offset += bytes.len() as u64;
                    partial.push_str(&String::from_utf8_lossy(&bytes));
                    while let Some(end) = partial.find('\n') {
                        let line: String = partial.drain(..=end).collect();
                        eprint!("  plugin: {line}");
                        if LOAD_ENDS.iter().any(|l| line.contains(l)) {
                            loads_seen.lock().unwrap_or_else(|e| e.into_inner()).push(Instant::now());
                        }
                        seen.text_since_start.push_str(&line);
                    }
                }
                if stopping {
                    seen.text_since_start.push_str(&partial);
                    return Ok(seen);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })?;
        Ok(Self { stop, loads, thread })
    }

    /// When the voice loads so far ended.
    fn loads(&self) -> Vec<Instant> {
        self.loads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn finish(self) -> anyhow::Result<LogSeen> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| anyhow::anyhow!("the log reader panicked"))?
    }
}

/// One output buffer as the analysis sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Dry,
    Converted,
    /// Silent in and out: either path.
    Quiet,
    /// The dry/wet mix or the output gain was away from unity.
    Unjudged,
}

#[derive(Debug, Clone, Copy)]
struct BufferRecord {
    label: Label,
    /// Largest step in the first output channel, including the step into the buffer.
    max_step: f32,
}

/// The parameters the automation moves, and the ranges it moves them in (plain values, given to
/// the plugin as text so its own parsing does the conversion).
struct Automation {
    rng: SmallRng,
    /// Every second: `(parameter, low, high)`.
    always: Vec<(ParamDescriptor, f64, f64)>,
    /// Every fourth second off unity and back the next: dry/wet and output gain.
    mix: Option<[ParamDescriptor; 2]>,
    events: usize,
}

impl Automation {
    fn new(host: &mut PluginHost, seed: u64, move_mix: bool) -> anyhow::Result<Self> {
        let always = vec![
            (host.param(ids::PITCH.0)?, -4.0, 4.0),
            (host.param(ids::INPUT_GAIN.0)?, -6.0, 6.0),
            (host.param(ids::GATE.0)?, -90.0, -55.0),
            (host.param(ids::ENVELOPE.0)?, 0.0, 100.0),
        ];
        let mix = if move_mix { Some([host.param(ids::DRY_WET.0)?, host.param(ids::OUTPUT_GAIN.0)?]) } else { None };
        Ok(Self { rng: SmallRng::seed_from_u64(seed), always, mix, events: 0 })
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.always.iter().map(|(p, ..)| p.name.clone()).collect();
        names.extend(self.mix.iter().flatten().map(|p| p.name.clone()));
        names
    }

    fn set_text(&mut self, host: &mut PluginHost, param: &ParamDescriptor, text: &str) -> anyhow::Result<()> {
        let value = host.param_text_to_value(param, text)?;
        host.set_param(param, value)?;
        self.events += 1;
        Ok(())
    }

    /// Second `k`'s changes. Returns whether the mix is at unity from now on (`Some(true)`),
    /// leaves it (`Some(false)`), or is untouched (`None`).
    fn step(&mut self, host: &mut PluginHost, k: u64) -> anyhow::Result<Option<bool>> {
        for i in 0..self.always.len() {
            let (param, low, high) = self.always[i].clone();
            let v = self.rng.random_range(low..=high);
            self.set_text(host, &param, &format!("{v:.2}"))?;
        }
        let Some([dry_wet, gain]) = self.mix.clone() else { return Ok(None) };
        match k % 4 {
            1 => {
                let wet = self.rng.random_range(50.0..=95.0);
                let db = self.rng.random_range(-6.0..=3.0);
                self.set_text(host, &dry_wet, &format!("{wet:.1}"))?;
                self.set_text(host, &gain, &format!("{db:.1}"))?;
                Ok(Some(false))
            }
            2 => {
                for param in [&dry_wet, &gain] {
                    host.set_param(param, param.default)?;
                    self.events += 1;
                }
                Ok(Some(true))
            }
            _ => Ok(None),
        }
    }
}

/// The speech, once through, followed by the pause: the soak's input repeats it.
fn load_input(plan: &SoakPlan) -> anyhow::Result<Vec<f32>> {
    let audio = crate::wav::read(&plan.speech)?;
    ensure!(
        f64::from(audio.sample_rate) == plan.sample_rate,
        "{} is at {} Hz; the soak runs at {} Hz",
        plan.speech.display(),
        audio.sample_rate,
        plan.sample_rate
    );
    let mut x = crate::signals::mono_mix(&audio.channels);
    ensure!(!x.is_empty(), "{} is empty", plan.speech.display());
    x.extend(std::iter::repeat_n(0.0, (plan.pause_seconds * plan.sample_rate).round() as usize));
    Ok(x)
}

/// The state a fresh instance saves, with `voice` chosen: everything else as the plugin defaults it
/// (or as it is now, when `base` is the current state).
fn with_voice(base: &[u8], voice: &VoiceSelection) -> anyhow::Result<Vec<u8>> {
    let mut state = NiceState::decode(base)?;
    state.set_voice(voice);
    Ok(state.encode())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Run the soak.
pub fn run(plan: &SoakPlan) -> anyhow::Result<SoakReport> {
    let started = Instant::now();
    let rate = plan.sample_rate;
    let input = load_input(plan)?;
    let total = (plan.seconds * rate).round() as usize;
    let buffers = total.div_ceil(plan.buffer);
    ensure!(buffers > 0, "a soak of {} s has no buffers", plan.seconds);

    let log = LogTail::start(&plan.log)?;
    let mut host = PluginHost::load(&plan.plugin)?;
    let fresh = host.save_state()?;
    let fresh_state = NiceState::decode(&fresh)?;
    let stream_settings = fresh_state
        .fields
        .get("stream")
        .map(|s| serde_json::from_str(s))
        .transpose()
        .context("the fresh state's stream settings")?
        .unwrap_or(serde_json::Value::Null);
    let block_ms = stream_settings.get("block_ms").and_then(serde_json::Value::as_f64);
    host.load_state(&with_voice(&fresh, &plan.voices[0])?)?;
    host.set_render_mode(RenderMode::Realtime)?;
    let mut automation = Automation::new(&mut host, plan.seed, plan.hog.is_none())?;

    // Everything the run keeps is allocated (and touched) before the first memory sample, so the
    // host's own bookkeeping does not show up as growth.
    let channels_in = host.input_channels();
    let channels_out = host.output_channels();
    let mut ins = vec![vec![0.0f32; plan.buffer]; channels_in];
    let mut outs = vec![vec![0.0f32; plan.buffer]; channels_out];
    let mut records = vec![BufferRecord { label: Label::Quiet, max_step: -1.0 }; buffers];
    let mut call_us = vec![-1.0f64; buffers];
    let memory_samples = (plan.seconds / plan.memory_every).ceil() as usize + 2;
    let mut memory = MemoryFigures { samples: Vec::with_capacity(memory_samples), ..MemoryFigures::default() };
    memory.samples.extend((0..memory_samples).map(|_| (f64::NAN, f64::NAN)));
    memory.samples.clear();
    memory.before_each_swap_mib.reserve(64);
    let mut swaps = SwapFigures { at_seconds: Vec::with_capacity(64), ..SwapFigures::default() };
    let mut swap_requests: Vec<Instant> = Vec::with_capacity(64);
    let mut dump = match &plan.dump {
        Some(path) => Some(hound::WavWriter::new(
            BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?),
            hound::WavSpec {
                channels: 2,
                sample_rate: rate as u32,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
        )?),
        None => None,
    };

    memory.before_activate_mib = own_memory_mib("VmRSS");
    let activating = Instant::now();
    host.activate(AudioConfig::new(rate, plan.buffer as u32))?;
    let activate_seconds = activating.elapsed().as_secs_f64();
    let latency = host.latency()? as usize;
    memory.start_mib = own_memory_mib("VmRSS");
    memory.samples.push((0.0, memory.start_mib));
    eprintln!(
        "soak: {:.0} s at {rate} Hz, {}-sample buffers, latency {latency} samples ({:.1} ms); first voice loaded in \
         {activate_seconds:.1} s, {:.0} MiB resident",
        plan.seconds,
        plan.buffer,
        latency as f64 * 1000.0 / rate,
        memory.start_mib
    );

    let dry_at = |n: usize| if n >= latency { input[(n - latency) % input.len()] } else { 0.0 };
    let every = |seconds: f64| ((seconds * rate).round() as usize).max(1);
    let (swap_every, automate_every, memory_every) =
        (every(plan.swap_every), every(plan.automate_every), every(plan.memory_every));
    let hog_window = plan.hog.map(|h| (every(h.start_seconds), every(h.start_seconds + h.seconds)));
    let mut hog: Option<Hog> = None;
    let mut hog_ran: Option<(usize, usize)> = None;
    let mut voice = 0;
    // From which output sample the dry comparison holds: `None` while the mix is off unity.
    let mut mix_exact_from = Some(0usize);
    let mut last_sample = 0.0f32;
    let mut host_figures = HostFigures::default();
    let mut non_finite = 0u64;
    let mut next_report = every(10.0);

    let clock = Instant::now();
    let mut position = 0usize;
    for (b, record) in records.iter_mut().enumerate() {
        let n = plan.buffer.min(total - position);
        // What happens between two buffers on a DAW's main thread: automation, a preset load.
        if position % automate_every < n {
            let k = (position / automate_every) as u64;
            match automation.step(&mut host, k)? {
                Some(false) => mix_exact_from = None,
                Some(true) => mix_exact_from = Some(position + every(SMOOTHING_SETTLED_SECONDS)),
                None => {}
            }
        }
        if position > 0 && position % swap_every < n {
            memory.before_each_swap_mib.push(memory.samples.last().map_or(f64::NAN, |s| s.1));
            voice = 1 - voice;
            let loading = Instant::now();
            swap_requests.push(loading);
            let current = host.save_state()?;
            host.load_state(&with_voice(&current, &plan.voices[voice])?)?;
            swaps.longest_state_load_ms = swaps.longest_state_load_ms.max(loading.elapsed().as_secs_f64() * 1000.0);
            swaps.requested += 1;
            swaps.at_seconds.push(position as f64 / rate);
        }
        if let Some((from, to)) = hog_window {
            if hog.is_none() && hog_ran.is_none() && position >= from {
                hog = Some(Hog::start(plan.hog.map_or(2, |h| h.threads)));
                hog_ran = Some((position, position));
                eprintln!("soak: hog on at {:.1} s", position as f64 / rate);
            } else if position >= to
                && let Some(h) = hog.take()
            {
                h.stop();
                if let Some(ran) = hog_ran.as_mut() {
                    ran.1 = position;
                }
                eprintln!("soak: hog off at {:.1} s", position as f64 / rate);
            }
        }
        if position > 0 && position % memory_every < n {
            memory.samples.push((position as f64 / rate, own_memory_mib("VmRSS")));
        }

        // The audio callback, when its input would have arrived.
        let due = clock + Duration::from_secs_f64((position + n) as f64 / rate);
        let now = Instant::now();
        if let Some(wait) = due.checked_duration_since(now) {
            std::thread::sleep(wait);
        }
        let lateness = Instant::now().saturating_duration_since(due).as_secs_f64();
        host_figures.max_lateness_ms = host_figures.max_lateness_ms.max(lateness * 1000.0);
        if lateness > plan.buffer as f64 / rate {
            host_figures.late_calls += 1;
        }
        for channel in ins.iter_mut() {
            for (i, v) in channel[..n].iter_mut().enumerate() {
                *v = input[(position + i) % input.len()];
            }
        }
        let in_slices: Vec<&[f32]> = ins.iter().map(|c| &c[..n]).collect();
        let mut out_slices: Vec<&mut [f32]> = outs.iter_mut().map(|c| &mut c[..n]).collect();
        let calling = Instant::now();
        host.process(&in_slices, &mut out_slices)?;
        call_us[b] = calling.elapsed().as_secs_f64() * 1e6;

        // What came out: the dry input, or something else.
        let mut max_diff = 0.0f32;
        let mut dry_peak = 0.0f32;
        let mut max_step = 0.0f32;
        for i in 0..n {
            let dry = dry_at(position + i);
            dry_peak = dry_peak.max(dry.abs());
            for channel in &outs {
                let y = channel[i];
                if !y.is_finite() {
                    non_finite += 1;
                    max_diff = f32::INFINITY;
                } else {
                    max_diff = max_diff.max((y - dry).abs());
                }
            }
            let y = outs[0][i];
            if y.is_finite() {
                max_step = max_step.max((y - last_sample).abs());
                last_sample = y;
            }
            if let Some(writer) = dump.as_mut() {
                writer.write_sample(y)?;
                writer.write_sample(dry)?;
            }
        }
        let judged = mix_exact_from.is_some_and(|from| position >= from);
        *record = BufferRecord {
            label: if !judged {
                Label::Unjudged
            } else if max_diff > EXACT {
                Label::Converted
            } else if dry_peak >= AUDIBLE {
                Label::Dry
            } else {
                Label::Quiet
            },
            max_step,
        };
        position += n;
        if position >= next_report {
            next_report += every(10.0);
            eprintln!(
                "soak: {:>5.0} s, {:.0} MiB resident, {} swaps, {} late host calls",
                position as f64 / rate,
                memory.samples.last().map_or(f64::NAN, |s| s.1),
                swaps.requested,
                host_figures.late_calls
            );
        }
    }
    if let Some(h) = hog.take() {
        h.stop();
        if let Some(ran) = hog_ran.as_mut() {
            ran.1 = position;
        }
    }
    memory.end_mib = own_memory_mib("VmRSS");
    let loads_ended = log.loads();
    swaps.loading_at_end = loads_ended.len() < swap_requests.len() + 1;
    memory.samples.push((position as f64 / rate, memory.end_mib));
    memory.peak_mib = own_memory_mib("VmHWM");
    host_figures.process_calls = host.process_calls();
    host.deactivate()?;
    if let Some(writer) = dump {
        writer.finalize()?;
    }

    // The stop line goes through the logger's writer thread: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && !std::fs::read_to_string(&plan.log).is_ok_and(|t| t.lines().rev().take(50).any(|l| l.contains(STOP_PREFIX)))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = log.finish()?;
    let stop = StopLog::find_last(&seen.text_since_start);
    let log_errors: Vec<String> = seen
        .text_since_start
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("Could not") || l.contains("panick"))
        .map(|l| l.trim().to_string())
        .collect();
    swaps.loads_logged = seen.text_since_start.lines().filter(|l| l.contains(LOAD_ENDS[0])).count();
    // The first load is the activation's; the loader takes the switches in order.
    swaps.load_seconds = swap_requests
        .iter()
        .enumerate()
        .map(|(i, asked)| loads_ended.get(i + 1).map(|done| done.saturating_duration_since(*asked).as_secs_f64()))
        .collect();

    memory.max_mib = memory.samples.iter().map(|s| s.1).fold(f64::NAN, f64::max);
    memory.settled_mib = memory.before_each_swap_mib.first().copied().unwrap_or(memory.end_mib);
    memory.growth_percent = (memory.end_mib - memory.start_mib) / memory.start_mib * 100.0;
    memory.growth_since_settled_percent = (memory.end_mib - memory.settled_mib) / memory.settled_mib * 100.0;
    let mut sorted: Vec<f64> = call_us.into_iter().filter(|&v| v >= 0.0).collect();
    sorted.sort_by(f64::total_cmp);
    host_figures.process_p50_us = percentile(&sorted, 0.5);
    host_figures.process_p99_us = percentile(&sorted, 0.99);
    host_figures.process_max_us = sorted.last().copied().unwrap_or(f64::NAN);

    let max_step_input = crate::analysis::max_step(&input).max((input[0] - input[input.len() - 1]).abs());
    let mut output = analyse_output(&records, plan.buffer, rate, max_step_input);
    output.non_finite_samples = non_finite;
    let hog_figures = match (plan.hog, hog_ran) {
        (Some(plan_hog), Some((from, to))) => {
            Some(hog_figures(plan_hog, from as f64 / rate, to as f64 / rate, &output.fallbacks, block_ms))
        }
        _ => None,
    };

    let (stop_line, plugin_counters) = match stop {
        Some((line, counters)) => (Some(line), counters),
        None => (None, None),
    };
    let verdicts = verdicts(plugin_counters.as_ref(), &memory, &swaps, &output, hog_figures.as_ref());
    Ok(SoakReport {
        mode: if plan.hog.is_some() { "soak-hog" } else { "soak" }.into(),
        plugin: plan.plugin.clone(),
        speech: plan.speech.clone(),
        voices: plan.voices.clone(),
        sample_rate: rate,
        buffer: plan.buffer,
        seconds: position as f64 / rate,
        stream_settings,
        latency_samples: latency as u32,
        latency_ms: latency as f64 * 1000.0 / rate,
        activate_seconds,
        host: host_figures,
        swaps,
        automation: AutomationFigures { parameters: automation.names(), events: automation.events },
        plugin_counters,
        stop_line,
        log_errors,
        memory,
        output,
        hog: hog_figures,
        verdicts,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Stretches of dry output and the click measure, from the buffer records.
fn analyse_output(records: &[BufferRecord], buffer: usize, rate: f64, max_step_input: f32) -> OutputFigures {
    let seconds = |b: usize| (b * buffer) as f64 / rate;
    let mut figures = OutputFigures { max_step_input, ..OutputFigures::default() };
    // Where the output changed between dry and converted: the buffer after the last of one and
    // the first of the other (silent and unjudged buffers in between belong to neither, and the
    // fade lies next to one end or the other).
    let mut transitions: Vec<usize> = Vec::new();
    let mut last_decided: Option<(Label, usize)> = None;
    let mut open: Option<usize> = None;
    for (b, r) in records.iter().enumerate() {
        match r.label {
            Label::Dry => figures.dry_buffers += 1,
            Label::Converted => figures.converted_buffers += 1,
            Label::Quiet => figures.quiet_buffers += 1,
            Label::Unjudged => figures.unjudged_buffers += 1,
        }
        if !matches!(r.label, Label::Dry | Label::Converted) {
            continue;
        }
        if let Some((previous, at)) = last_decided
            && previous != r.label
        {
            transitions.extend([at + 1, b]);
            if r.label == Label::Converted
                && let Some(start) = open.take()
            {
                figures.fallbacks.push(Fallback {
                    start_seconds: seconds(start),
                    end_seconds: seconds(at + 1),
                    undecided_after_seconds: seconds(b) - seconds(at + 1),
                });
            }
        }
        if r.label == Label::Dry && open.is_none() {
            open = Some(b);
        }
        last_decided = Some((r.label, b));
    }
    if let (Some(start), Some((_, at))) = (open, last_decided) {
        figures.fallbacks.push(Fallback {
            start_seconds: seconds(start),
            end_seconds: seconds(at + 1),
            undecided_after_seconds: seconds(records.len()) - seconds(at + 1),
        });
    }
    figures.fallback_seconds = figures.fallbacks.iter().fold(0.0, |sum, f| sum + f.end_seconds - f.start_seconds);

    let near = |b: usize| transitions.iter().any(|&t| b + TRANSITION_BUFFERS + 1 >= t && b <= t + TRANSITION_BUFFERS);
    for (b, r) in records.iter().enumerate() {
        if r.max_step < 0.0 {
            continue;
        }
        if near(b) {
            let step = figures.max_step_at_transitions.get_or_insert(0.0);
            *step = step.max(r.max_step);
        } else if r.label == Label::Converted {
            figures.max_step_converted = figures.max_step_converted.max(r.max_step);
            figures.converted_buffers_elsewhere += 1;
        }
    }
    figures
}

fn hog_figures(plan: HogPlan, from: f64, to: f64, fallbacks: &[Fallback], block_ms: Option<f64>) -> HogFigures {
    let aftermath = to + HOG_AFTERMATH_SECONDS;
    let during: Vec<&Fallback> =
        fallbacks.iter().filter(|f| f.start_seconds >= from && f.start_seconds < aftermath).collect();
    let last = fallbacks
        .iter()
        .filter(|f| f.start_seconds < aftermath && f.end_seconds > from)
        .max_by(|a, b| a.end_seconds.total_cmp(&b.end_seconds));
    let recovery_ms = last.map(|f| (f.end_seconds - to) * 1000.0);
    HogFigures {
        plan,
        started_seconds: from,
        ended_seconds: to,
        fallbacks_during: during.len(),
        fallback_seconds_during: during.iter().fold(0.0, |sum, f| sum + f.end_seconds - f.start_seconds),
        recovery_ms,
        recovery_blocks: recovery_ms.zip(block_ms).map(|(r, b)| r / b),
        recovery_undecided_ms: last.map(|f| f.undecided_after_seconds * 1000.0),
        fallbacks_outside: fallbacks.len() - during.len(),
    }
}

fn verdicts(
    counters: Option<&StopLog>,
    memory: &MemoryFigures,
    swaps: &SwapFigures,
    output: &OutputFigures,
    hog: Option<&HogFigures>,
) -> Vec<Verdict> {
    let mut v = Vec::new();
    let counted = |f: fn(&StopLog) -> u64| counters.map(f);
    let zero = |value: Option<u64>| (value.map(|n| n == 0), value.map_or("no stop line".into(), |n| n.to_string()));
    if let Some(hog) = hog {
        // A machine fast enough for the hog not to matter has nothing to show here.
        let (_, figure) = zero(counted(|c| c.underruns));
        v.push(Verdict::new(
            "the counters show the fallback the output shows during the hog",
            counters.filter(|_| hog.fallbacks_during > 0).map(|c| c.underruns > 0),
            format!("{figure} underruns; {} fallbacks in the output during the hog", hog.fallbacks_during),
        ));
        v.push(Verdict::new(
            "back on the converted voice within 2 blocks of the hog ending",
            hog.recovery_blocks.map(|r| r <= RECOVERY_GOAL_BLOCKS),
            match (hog.recovery_ms, hog.recovery_blocks) {
                (Some(ms), Some(blocks)) => format!(
                    "{ms:.0} ms ({blocks:.2} blocks; the end lies up to {:.0} ms later in silence)",
                    hog.recovery_undecided_ms.unwrap_or(0.0)
                ),
                (Some(ms), None) => format!("{ms:.0} ms"),
                _ => "no fallback seen during the hog".into(),
            },
        ));
        v.push(Verdict::new(
            "no fallback outside the hog",
            Some(hog.fallbacks_outside == 0),
            format!("{} fallbacks outside the hog", hog.fallbacks_outside),
        ));
    } else {
        let (pass, figure) = zero(counted(|c| c.underruns));
        v.push(Verdict::new("0 underruns", pass, figure));
        v.push(Verdict::new(
            "no dry output where the output can tell (100 % wet, 0 dB, input not silent)",
            Some(output.fallbacks.is_empty()),
            format!("{} fallbacks, {:.2} s", output.fallbacks.len(), output.fallback_seconds),
        ));
    }
    let (pass, figure) = zero(counted(|c| c.overflows));
    v.push(Verdict::new("0 overflows", pass, figure));
    let (pass, figure) = zero(counted(|c| c.failed_conversions));
    v.push(Verdict::new("no failed blocks", pass, figure));
    v.push(Verdict::new(
        "memory growth < 5 % (end against just after the first voice loaded)",
        memory.growth_percent.is_finite().then_some(memory.growth_percent < MEMORY_GROWTH_GOAL_PERCENT),
        format!(
            "{:+.2} % ({:.0} → {:.0} MiB, max {:.0}){}",
            memory.growth_percent,
            memory.start_mib,
            memory.end_mib,
            memory.max_mib,
            if swaps.loading_at_end { "; a voice was still loading at the end" } else { "" }
        ),
    ));
    v.push(Verdict::new(
        "finite output",
        Some(output.non_finite_samples == 0),
        format!("{} non-finite samples", output.non_finite_samples),
    ));
    if let Some(compute) = counters {
        v.push(Verdict::new(
            "block compute p99 within the budget",
            Some(compute.p99_ms <= compute.budget_ms),
            format!("p99 {:.1} ms, budget {:.1} ms", compute.p99_ms, compute.budget_ms),
        ));
    }
    if let Some(step) = output.max_step_at_transitions {
        // A fade between two signals steps no further than the larger of their own steps, plus
        // their difference spread over the fade: judged only against a second of converted
        // output to compare with.
        let enough = output.converted_buffers_elsewhere >= MIN_CONVERTED_FOR_CLICKS;
        let reference = output.max_step_input.max(output.max_step_converted);
        v.push(Verdict::new(
            "no click where the output changes between dry and converted",
            enough.then_some(step <= reference),
            format!(
                "largest step {step:.4} there; {:.4} in the input, {:.4} in {} converted buffers elsewhere",
                output.max_step_input, output.max_step_converted, output.converted_buffers_elsewhere
            ),
        ));
    }
    v
}

/// The report as a few lines for a terminal.
pub fn summary(report: &SoakReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {:.0} s at {} Hz, {}-sample buffers, latency {} samples ({:.1} ms), {} voice switches requested",
        report.mode,
        report.seconds,
        report.sample_rate,
        report.buffer,
        report.latency_samples,
        report.latency_ms,
        report.swaps.requested
    );
    match (&report.plugin_counters, &report.stop_line) {
        (Some(c), _) => {
            let _ = writeln!(
                s,
                "plugin: {} blocks, {} underruns ({} samples from the fallback), {} overflows, {} failed, {} gated, \
                 {} voice swaps",
                c.blocks,
                c.underruns,
                c.fallback_samples,
                c.overflows,
                c.failed_conversions,
                c.gated_blocks,
                c.voice_swaps
            );
            let b = c;
            let _ = writeln!(
                s,
                "block compute: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, budget {:.1} ms",
                b.p50_ms, b.p99_ms, b.max_ms, b.budget_ms
            );
        }
        (None, Some(line)) => {
            let _ = writeln!(s, "plugin: stop line not understood: {line}");
        }
        (None, None) => {
            let _ = writeln!(s, "plugin: no stop line in the log");
        }
    }
    let m = &report.memory;
    let _ = writeln!(
        s,
        "memory (VmRSS): {:.0} MiB before the voice, {:.0} after it loaded, {:.0} before the first switch, {:.0} at \
         the end ({:+.2} %, {:+.2} % since the first switch), max sampled {:.0}, peak {:.0}",
        m.before_activate_mib,
        m.start_mib,
        m.settled_mib,
        m.end_mib,
        m.growth_percent,
        m.growth_since_settled_percent,
        m.max_mib,
        m.peak_mib
    );
    let h = &report.host;
    let _ = writeln!(
        s,
        "host: {} calls, {} late (max {:.1} ms), process() p50 {:.0} µs p99 {:.0} µs max {:.0} µs; longest state load {:.1} ms",
        h.process_calls,
        h.late_calls,
        h.max_lateness_ms,
        h.process_p50_us,
        h.process_p99_us,
        h.process_max_us,
        report.swaps.longest_state_load_ms
    );
    let loads: Vec<String> =
        report.swaps.load_seconds.iter().map(|l| l.map_or("still loading".into(), |s| format!("{s:.1}"))).collect();
    if !loads.is_empty() {
        let _ = writeln!(s, "voice switches: loaded in {} s", loads.join(", "));
    }
    let o = &report.output;
    let _ = writeln!(
        s,
        "output: {} buffers dry, {} converted, {} silent, {} not judged; {} fallbacks, {:.2} s",
        o.dry_buffers,
        o.converted_buffers,
        o.quiet_buffers,
        o.unjudged_buffers,
        o.fallbacks.len(),
        o.fallback_seconds
    );
    for f in o.fallbacks.iter().take(12) {
        let _ = writeln!(s, "  dry {:.3}–{:.3} s", f.start_seconds, f.end_seconds);
    }
    if let Some(hog) = &report.hog {
        let _ = writeln!(
            s,
            "hog: {} threads {:.1}–{:.1} s; {} fallbacks during it, {:.2} s dry; recovery {}",
            hog.plan.threads,
            hog.started_seconds,
            hog.ended_seconds,
            hog.fallbacks_during,
            hog.fallback_seconds_during,
            hog.recovery_ms.map_or("n/a".into(), |r| format!("{r:.0} ms after the hog ended"))
        );
    }
    for v in &report.verdicts {
        let _ = writeln!(s, "{:<4}  {}: {}", v.label(), v.goal, v.figure);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_status_memory_lines_parse() {
        let status = "Name:\tx\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t 1 kB\n";
        assert_eq!(proc_status_mib(status, "VmRSS"), Some(100.0));
        assert_eq!(proc_status_mib(status, "VmHWM"), Some(200.0));
        assert_eq!(proc_status_mib(status, "Vm"), None);
        assert!(own_memory_mib("VmRSS") > 0.0);
    }

    fn records(labels: &str) -> Vec<BufferRecord> {
        labels
            .chars()
            .map(|c| BufferRecord {
                label: match c {
                    'd' => Label::Dry,
                    'c' => Label::Converted,
                    'q' => Label::Quiet,
                    _ => Label::Unjudged,
                },
                max_step: if c == 'd' { 0.5 } else { 0.1 },
            })
            .collect()
    }

    #[test]
    fn fallbacks_are_stretches_of_dry_buffers_across_silence() {
        // Buffers of one second, to read the times off the labels.
        let o = analyse_output(&records("ccddqdqqcccccdd"), 1, 1.0, 0.2);
        assert_eq!((o.dry_buffers, o.converted_buffers, o.quiet_buffers), (5, 7, 3));
        assert_eq!(
            o.fallbacks,
            vec![
                Fallback { start_seconds: 2.0, end_seconds: 6.0, undecided_after_seconds: 2.0 },
                Fallback { start_seconds: 13.0, end_seconds: 15.0, undecided_after_seconds: 0.0 },
            ]
        );
        assert_eq!(o.fallback_seconds, 6.0);
        assert_eq!(o.max_step_at_transitions, Some(0.5));
        assert_eq!(o.max_step_converted, 0.1);
    }

    #[test]
    fn recovery_counts_from_the_hog_ending() {
        let plan = HogPlan { start_seconds: 10.0, seconds: 30.0, threads: 2 };
        let f = |start_seconds, end_seconds| Fallback { start_seconds, end_seconds, undecided_after_seconds: 0.0 };
        let fallbacks = [f(5.0, 5.5), f(12.0, 20.0), f(25.0, 40.1), f(41.0, 41.1), f(50.0, 51.0)];
        let h = hog_figures(plan, 10.0, 40.0, &fallbacks, Some(120.0));
        assert_eq!((h.fallbacks_during, h.fallbacks_outside), (3, 2));
        assert!((h.recovery_ms.unwrap() - 1100.0).abs() < 1e-6);
        assert!((h.recovery_blocks.unwrap() - 1100.0 / 120.0).abs() < 1e-6);
        assert_eq!(hog_figures(plan, 10.0, 40.0, &[], None).recovery_ms, None);
        // Falling back already before the hog: not the hog's doing, but it still ends somewhere.
        let h = hog_figures(plan, 10.0, 40.0, &[f(0.3, 90.0)], Some(120.0));
        assert_eq!((h.fallbacks_during, h.fallbacks_outside), (0, 1));
        assert!((h.recovery_ms.unwrap() - 50_000.0).abs() < 1e-6);
    }
}
