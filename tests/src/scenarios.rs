//! Runs shared by the in-process tests and the `rvc-live-host` binary. A scenario drives the plugin
//! and measures; it does not judge. Tests assert on the [`ScenarioReport`] (and on the audio, where a
//! scenario returns it), whichever process ran it.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};

use crate::RenderMode;
use crate::analysis::{self, PathReport};
use crate::blocks::{RandomBlocks, fixed};
use crate::handlers::HostCalls;
use crate::host::{AudioConfig, Pace, PluginHost};
use crate::params::ids;
use crate::signals;

/// The measurements a scenario hands back, printed as one line of JSON by the binary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub scenario: String,
    pub sample_rate: f64,
    pub max_frames: u32,
    pub latency: u32,
    pub frames: usize,
    pub process_calls: u64,
    pub host_calls: HostCalls,
    /// Largest `|output - expected|`, where the scenario has an exact expectation.
    pub max_error: Option<f32>,
    /// Which path made the output, for left-only input.
    pub paths: Option<PathReport>,
    /// Largest sample-to-sample step in the output.
    pub max_step: Option<f32>,
    /// The longest single `process` call, in milliseconds.
    pub longest_call_ms: f64,
    pub wall_seconds: f64,
}

impl ScenarioReport {
    /// What a scenario that switched voices while a tone played reports: the host's counters, the
    /// steepest step in `output` after the latency, the longest call and the wall time since
    /// `started`.
    pub fn of_switching_run(
        scenario: &str,
        host: &PluginHost,
        config: AudioConfig,
        latency: usize,
        output: &[f32],
        started: Instant,
    ) -> Self {
        Self {
            scenario: scenario.into(),
            sample_rate: config.sample_rate,
            max_frames: config.max_frames,
            latency: latency as u32,
            frames: output.len(),
            process_calls: host.process_calls(),
            host_calls: host.host_calls(),
            max_step: Some(analysis::max_step(&output[latency..])),
            longest_call_ms: host.longest_process_call().as_secs_f64() * 1000.0,
            wall_seconds: started.elapsed().as_secs_f64(),
            ..Self::default()
        }
    }
}

/// Left channel `x`, right channel silent: a voice converts the mono mix `x / 2` and plays it on
/// both channels, while the dry signal (no voice, bypass, dry/wet 0, fallback) plays `x` on the
/// left only.
pub fn left_only(x: Vec<f32>) -> Vec<Vec<f32>> {
    let len = x.len();
    vec![x, signals::silence(len)]
}

/// Left channel `x`, right channel seeded noise of amplitude 0.5, uncorrelated with it: where
/// nothing converts, each output channel must be its own input channel, and a mono downmix (or one
/// channel leaking into the other) is off by about the signal itself.
pub fn with_noise_right(x: Vec<f32>, seed: u64) -> Vec<Vec<f32>> {
    let len = x.len();
    vec![x, signals::noise(len, seed, 0.5)]
}

/// The same signal on both channels, so the mono mix is the signal itself and converted and
/// fallback audio coincide whenever they are aligned.
pub fn dual_mono(x: Vec<f32>) -> Vec<Vec<f32>> {
    vec![x.clone(), x]
}

/// Impulses then a chirp: a signal where a delay error of even one sample is large.
pub fn probe_signal(sample_rate: f64, seconds: f64) -> Vec<f32> {
    let len = (sample_rate * seconds) as usize;
    let half = len / 2;
    let positions: Vec<usize> = (1..8).map(|k| k * half / 8 + k * 37).collect();
    let mut x = signals::impulses(len, &positions);
    let chirp = signals::chirp(len - half, sample_rate, 40.0, sample_rate * 0.45, 0.7);
    x[half..].copy_from_slice(&chirp);
    x
}

/// Offline render of [`probe_signal`] on both channels in random block sizes up to 4096; the
/// error is against the input delayed by the reported latency.
pub fn offline_random_blocks(
    plugin: &Path,
    sample_rate: f64,
    seconds: f64,
    seed: u64,
) -> anyhow::Result<ScenarioReport> {
    let started = Instant::now();
    let config = AudioConfig::new(sample_rate, 4096);
    let mut host = PluginHost::load(plugin)?;
    host.set_render_mode(RenderMode::Offline)?;
    host.activate(config)?;
    let latency = host.latency()?;
    let x = probe_signal(sample_rate, seconds);
    let output = host.process_signal(&dual_mono(x.clone()), &mut RandomBlocks::new(seed, 4096), Pace::Unpaced)?;
    let expected = signals::shifted(&x, latency as usize, x.len());
    let max_error = output.iter().map(|c| analysis::max_abs_error(c, &expected).0).fold(0.0, f32::max);
    host.deactivate()?;
    Ok(ScenarioReport {
        scenario: "offline-random-blocks".into(),
        sample_rate,
        max_frames: config.max_frames,
        latency,
        frames: x.len(),
        process_calls: host.process_calls(),
        host_calls: host.host_calls(),
        max_error: Some(max_error),
        max_step: Some(output.iter().map(|c| analysis::max_step(c)).fold(0.0, f32::max)),
        paths: None,
        longest_call_ms: host.longest_process_call().as_secs_f64() * 1000.0,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Parameters of the real-time scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paced {
    pub sample_rate: f64,
    pub block: usize,
    pub seconds: f64,
    pub frequency: f64,
    pub amplitude: f32,
}

impl Paced {
    /// 48 kHz, 512-frame buffers, a 233 Hz sine: its period is no whole number of samples, so a
    /// signal that slipped by any amount (the SOLA holdback, a block) cannot line up again.
    pub fn default_for(seconds: f64) -> Self {
        Self { sample_rate: 48_000.0, block: 512, seconds, frequency: 233.0, amplitude: 0.5 }
    }

    pub fn input_signal(&self) -> Vec<f32> {
        signals::sine((self.sample_rate * self.seconds) as usize, self.sample_rate, self.frequency, self.amplitude)
    }
}

/// Real-time render mode, calls paced at the audio rate with fixed buffers, left-only sine input,
/// no voice (so every sample should be the dry signal). Returns the output so the caller can look
/// at where each path played.
pub fn paced_left_only(plugin: &Path, paced: Paced) -> anyhow::Result<(ScenarioReport, Vec<Vec<f32>>)> {
    let started = Instant::now();
    let config = AudioConfig::new(paced.sample_rate, paced.block as u32);
    let mut host = PluginHost::load(plugin)?;
    host.set_render_mode(RenderMode::Realtime)?;
    host.activate(config)?;
    let latency = host.latency()?;
    let x = paced.input_signal();
    let output = host.process_signal(&left_only(x.clone()), &mut fixed(paced.block), Pace::RealTime)?;
    host.deactivate()?;
    let shifted = signals::shifted(&x, latency as usize, x.len());
    let report = ScenarioReport {
        scenario: "paced-left-only".into(),
        sample_rate: paced.sample_rate,
        max_frames: config.max_frames,
        latency,
        frames: x.len(),
        process_calls: host.process_calls(),
        host_calls: host.host_calls(),
        max_error: None,
        paths: Some(PathReport::new(&output[0], &output[1], &shifted, 0..x.len())),
        max_step: Some(output.iter().map(|c| analysis::max_step(c)).fold(0.0, f32::max)),
        longest_call_ms: host.longest_process_call().as_secs_f64() * 1000.0,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((report, output))
}

/// Everything a session does on the audio thread, for the allocation check: offline random
/// buffers, every parameter changing while processing, bypass on and off, a reset, garbage input,
/// re-activation at another rate and real-time paced calls. Whether it allocates is for the
/// process's exit status to say; the report only proves the run got to the end.
pub fn alloc_suite(plugin: &Path) -> anyhow::Result<ScenarioReport> {
    let started = Instant::now();
    let mut host = PluginHost::load(plugin)?;
    host.set_render_mode(RenderMode::Offline)?;
    let config = AudioConfig::new(48_000.0, 4096);
    host.activate(config)?;
    let latency = host.latency()?;
    let mut blocks = RandomBlocks::new(11, 4096);
    let x = probe_signal(48_000.0, 1.0);
    let out = host.process_signal(&dual_mono(x.clone()), &mut blocks, Pace::Unpaced)?;
    let expected = signals::shifted(&x, latency as usize, x.len());
    let max_error = out.iter().map(|c| analysis::max_abs_error(c, &expected).0).fold(0.0, f32::max);

    let noise = dual_mono(signals::noise(14_400, 5, 0.5));
    for (param, text) in [
        (ids::DRY_WET, "50"),
        (ids::OUTPUT_GAIN, "-6"),
        (ids::INPUT_GAIN, "3"),
        (ids::PITCH, "2"),
        (ids::BYPASS, "On"),
        (ids::BYPASS, "Off"),
        (ids::DRY_WET, "100"),
    ] {
        let p = host.param(param.0)?;
        let value = host.param_text_to_value(&p, text)?;
        host.set_param(&p, value)?;
        host.process_signal(&noise, &mut blocks, Pace::Unpaced)?;
    }
    host.reset()?;
    host.process_signal(&noise, &mut blocks, Pace::Unpaced)?;
    let mut garbage = noise.clone();
    for (i, v) in garbage[0].iter_mut().step_by(97).enumerate() {
        *v = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][i % 3];
    }
    let out = host.process_signal(&garbage, &mut blocks, Pace::Unpaced)?;
    ensure!(analysis::all_finite(&out), "non-finite output");
    host.deactivate()?;

    host.set_render_mode(RenderMode::Realtime)?;
    host.activate(AudioConfig::new(44_100.0, 512))?;
    let sine = left_only(signals::sine(22_050, 44_100.0, 233.0, 0.5));
    host.process_signal(&sine, &mut fixed(512), Pace::RealTime)?;
    host.reset()?;
    host.process_signal(&sine, &mut fixed(512), Pace::RealTime)?;
    host.deactivate()?;

    Ok(ScenarioReport {
        scenario: "alloc-suite".into(),
        sample_rate: config.sample_rate,
        max_frames: config.max_frames,
        latency,
        frames: x.len(),
        process_calls: host.process_calls(),
        host_calls: host.host_calls(),
        max_error: Some(max_error),
        longest_call_ms: host.longest_process_call().as_secs_f64() * 1000.0,
        wall_seconds: started.elapsed().as_secs_f64(),
        ..ScenarioReport::default()
    })
}

/// How `render` cuts a file into host calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderBlocks {
    Fixed(usize),
    Random { seed: u64, max: usize },
}

/// What `render` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderReport {
    pub sample_rate: u32,
    pub channels: usize,
    pub frames: usize,
    pub process_calls: u64,
    /// The latency the plugin reported.
    pub reported_latency: u32,
    /// The delay at which the raw output best matches the input (cross-correlation of the mono
    /// mixes). Equal to the reported latency when the plugin compensates correctly. Not measured
    /// when a voice converts the input: the output is then another signal.
    pub measured_delay: Option<usize>,
    /// Seconds the render took, and the audio's duration over that.
    pub seconds: f64,
    pub real_time_factor: f64,
}

/// A voice to render with, chosen through the plugin's saved state as a user's project would.
pub struct RenderVoice {
    pub voice: crate::state::VoiceSelection,
    pub semitones: f32,
}

/// Bounce a WAV file through the plugin offline, as a DAW export does: the input is followed by
/// `latency` samples of silence to flush the plugin, and the first `latency` output samples are
/// dropped, so the output lines up with the input and has its length.
pub fn render_file(
    plugin: &Path,
    input: &Path,
    output: &Path,
    blocks: RenderBlocks,
    voice: Option<&RenderVoice>,
) -> anyhow::Result<RenderReport> {
    let audio = crate::wav::read(input)?;
    let channels = audio.channels.len();
    let mut host = PluginHost::load(plugin)?;
    if let Some(choice) = voice {
        let mut state = crate::state::NiceState::decode(&host.save_state()?)?;
        state.set_voice(&choice.voice);
        state.set_f32_param("pitch", choice.semitones);
        host.load_state(&state.encode())?;
    }
    match channels {
        1 | 2 => host.select_layout(channels as u32)?,
        n => anyhow::bail!("{}: {n} channels; the plugin takes mono or stereo", input.display()),
    }
    host.set_render_mode(RenderMode::Offline)?;
    let max = match blocks {
        RenderBlocks::Fixed(n) => n,
        RenderBlocks::Random { max, .. } => max,
    };
    host.activate(AudioConfig::new(f64::from(audio.sample_rate), max as u32))?;
    let latency = host.latency()? as usize;
    let frames = audio.frames();
    let padded: Vec<Vec<f32>> =
        audio.channels.iter().map(|c| c.iter().copied().chain(std::iter::repeat_n(0.0, latency)).collect()).collect();
    let mut sizes: Box<dyn Iterator<Item = usize>> = match blocks {
        RenderBlocks::Fixed(n) => Box::new(fixed(n)),
        RenderBlocks::Random { seed, max } => Box::new(RandomBlocks::new(seed, max)),
    };
    let started = Instant::now();
    let raw = host.process_signal(&padded, &mut sizes, Pace::Unpaced)?;
    let seconds = started.elapsed().as_secs_f64();
    host.deactivate()?;
    let measured_delay = voice.is_none().then(|| {
        analysis::delay_by_cross_correlation(
            &signals::mono_mix(&audio.channels),
            &signals::mono_mix(&raw),
            latency + frames / 2,
        )
    });
    let trimmed = raw.into_iter().map(|c| c[latency..].to_vec()).collect();
    crate::wav::write(output, &crate::wav::Audio { sample_rate: audio.sample_rate, channels: trimmed })
        .context("writing the rendered file")?;
    Ok(RenderReport {
        sample_rate: audio.sample_rate,
        channels,
        frames,
        process_calls: host.process_calls(),
        reported_latency: latency as u32,
        measured_delay,
        seconds,
        real_time_factor: frames as f64 / f64::from(audio.sample_rate) / seconds.max(1e-9),
    })
}
