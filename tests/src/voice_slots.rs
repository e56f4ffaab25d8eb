//! Voice slots switched by host automation, as a performer switches characters from a MIDI
//! controller or a hotkey tool: a steady tone plays through the plugin while the Voice parameter
//! steps through the slots, each holding the analytic voice at a level of its own.
//!
//! Every slot's voice stays loaded, so a switch must be heard within one block of the parameter
//! change, with the take-over's crossfade and nothing else: no gap, no click, no latency change,
//! and no allocation on the audio thread. A slot whose file is missing plays the input through and
//! leaves the others converting.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::ensure;

use crate::RenderMode;
use crate::blocks::RandomBlocks;
use crate::host::{AudioConfig, PluginHost};
use crate::params::ids;
use crate::scenarios::ScenarioReport;
use crate::state::{NiceState, StreamSettings, VoiceSelection};

pub const RATE: f64 = 48_000.0;
pub const MAX_FRAMES: usize = 1024;
pub const TONE_HZ: f64 = 220.0;
/// The input tone's amplitude: what a slot without a voice plays.
pub const INPUT_AMPLITUDE: f32 = 0.5;
/// The level of each slot's voice: the analytic voice generated at each
/// (`analytic_synth_v2_40k_level{percent}.onnx`, `models/generate_analytic.py`).
pub const SLOT_LEVELS: [f32; 8] = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45];
/// Audio between two switches: two and a half blocks at the default block length.
pub const SEGMENT_SECONDS: f64 = 0.3;
/// Passes through all eight slots.
pub const CYCLES: usize = 40;

/// Slot `slot`'s voice.
pub fn slot_voice(slot: usize) -> VoiceSelection {
    let percent = (SLOT_LEVELS[slot] * 100.0).round() as u32;
    VoiceSelection {
        synthesizer: Some(rvc_live_test_support::models::analytic(&format!(
            "analytic_synth_v2_40k_level{percent}.onnx"
        ))),
        content_encoder: Some(rvc_live_test_support::models::analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// A voice file that is not there.
pub fn missing_voice() -> VoiceSelection {
    VoiceSelection { synthesizer: Some(PathBuf::from("/nonexistent/moved-voice.onnx")), ..slot_voice(0) }
}

/// `cycles` passes through every slot, in an order that jumps around (5 is prime to 8), so
/// neighbours and far slots both follow each other.
pub fn cycling_plan(cycles: usize) -> Vec<usize> {
    (0..cycles * SLOT_LEVELS.len()).map(|k| (5 * k) % SLOT_LEVELS.len()).collect()
}

/// The stream's block at [`RATE`] with the plugin's default settings: a switch lands on a block
/// boundary.
pub fn block() -> usize {
    let stream = StreamSettings::default();
    ((f64::from(stream.block_ms) / 10.0).round() * 10.0 / 1000.0 * RATE) as usize
}

/// How far a converting block's output lags its input within the stream (crossfade and SOLA
/// search, with a millisecond to spare for rounding): where the next switch's fade can start.
pub fn holdback() -> usize {
    let stream = StreamSettings::default();
    (f64::from(stream.crossfade_ms + stream.sola_search_ms + 1.0) / 1000.0 * RATE).ceil() as usize
}

/// The run's output and what the host saw.
pub struct SlotRun {
    pub report: ScenarioReport,
    pub input: Vec<f32>,
    pub output: Vec<f32>,
    pub latency: usize,
    pub latency_after: usize,
    /// What the plugin had asked of the host once active, before the first switch.
    pub host_calls_before: crate::handlers::HostCalls,
    /// Where each segment's slot was selected (the first sample of the call the parameter change
    /// came with), and the slot; the first is the saved selection at sample 0.
    pub switches: Vec<(usize, usize)>,
}

/// Play the tone through `plugin` offline (mono, calls of random sizes) with `voices` in the
/// slots, selecting `plan[k]` through the Voice parameter at the first call from `k` segments on.
pub fn run(plugin: &Path, voices: &[VoiceSelection], plan: &[usize]) -> anyhow::Result<SlotRun> {
    let started = Instant::now();
    let mut host = PluginHost::load(plugin)?;
    let mut state = NiceState::decode(&host.save_state()?)?;
    state.set_voice_slots(voices);
    state.set_i32_param(ids::VOICE_SLOT.0, plan[0] as i32);
    host.load_state(&state.encode())?;
    host.select_layout(1)?;
    host.set_render_mode(RenderMode::Offline)?;
    let config = AudioConfig::new(RATE, MAX_FRAMES as u32);
    host.activate(config)?;
    let latency = host.latency()? as usize;
    let host_calls_before = host.host_calls();
    let voice = host.param(ids::VOICE_SLOT.0)?;

    let segment = (SEGMENT_SECONDS * RATE) as usize;
    let played = segment * plan.len();
    let total = played + latency;
    let input: Vec<f32> = (0..total)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * TONE_HZ * i as f64 / RATE;
            if i < played { INPUT_AMPLITUDE * phase.sin() as f32 } else { 0.0 }
        })
        .collect();
    let mut output = vec![0.0f32; total];
    let mut scratch = vec![0.0f32; MAX_FRAMES];
    let mut switches = vec![(0, plan[0])];
    let mut blocks = RandomBlocks::new(8, MAX_FRAMES);
    let mut start = 0;
    while start < total {
        let n = blocks.next().expect("endless").min(total - start);
        let segment_now = start / segment;
        if segment_now < plan.len() && switches.len() <= segment_now {
            host.set_param(&voice, plan[segment_now] as f64)?;
            switches.push((start, plan[segment_now]));
        }
        host.process(&[&input[start..start + n]], &mut [&mut scratch[..n]])?;
        output[start..start + n].copy_from_slice(&scratch[..n]);
        start += n;
    }
    ensure!(output.iter().all(|v| v.is_finite()), "non-finite output");
    let latency_after = host.latency()? as usize;
    host.deactivate()?;
    let report = ScenarioReport::of_switching_run("voice-slots", &host, config, latency, &output, started);
    Ok(SlotRun { report, input, output, latency, latency_after, host_calls_before, switches })
}

/// Where segment `k`'s slot plays settled, in output samples: from one block after its selection
/// (the switch lands on the next block boundary, and its crossfade ends before the block's
/// holdback does) to where the next switch's crossfade may begin.
pub fn settled_window(run: &SlotRun, k: usize) -> std::ops::Range<usize> {
    let from = run.switches[k].0 + block();
    let to = run.switches.get(k + 1).map_or(run.output.len() - run.latency, |&(at, _)| at) - holdback();
    from + run.latency..to + run.latency
}
