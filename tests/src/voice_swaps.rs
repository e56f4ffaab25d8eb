//! Switching voices while audio runs, as a user does from the editor or a host does by loading
//! another preset: a steady tone plays through the plugin while the saved voice changes between
//! two analytic voices that differ only in loudness, a file that is missing, and no voice at all.
//!
//! The plugin loads each new voice on a thread of its own and swaps it in between two blocks, so
//! the output must never drop out, never click, keep its latency, and show each selection's
//! loudness once the swap has happened. A selection that cannot load must leave the previous voice
//! playing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::ensure;

use crate::blocks::RandomBlocks;
use crate::host::{AudioConfig, Pace, PluginHost};
use crate::scenarios::{ScenarioReport, dual_mono};
use crate::state::{NiceState, StreamSettings, VoiceSelection};
use crate::{RenderMode, analysis};

pub const RATE: f64 = 48_000.0;
pub const TONE_HZ: f64 = 220.0;
/// The input tone's amplitude: what plays when no voice is chosen.
pub const INPUT_AMPLITUDE: f32 = 0.4;
/// Audio between two switches: several blocks at the default block length.
pub const SEGMENT_SECONDS: f64 = 1.0;

/// What one segment selects, and the loudness it should come out at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// The analytic voice: a sine of amplitude 0.5 at the input's pitch.
    Loud,
    /// The same voice at amplitude 0.25.
    Quiet,
    /// A voice file that is not there: the previous selection keeps playing.
    Missing,
    /// No voice: the input plays through.
    NoVoice,
}

/// Twenty switches after the first selection, visiting every kind of change.
pub const PLAN: [Selection; 21] = {
    use Selection::*;
    [
        Loud, Quiet, Loud, Quiet, Loud, Missing, Quiet, NoVoice, Loud, Quiet, Loud, Quiet, NoVoice, Quiet, Missing,
        Loud, Quiet, Loud, Quiet, Loud, Quiet,
    ]
};

pub use rvc_live_test_support::models::analytic as analytic_model;

fn voice_for(selection: Selection) -> VoiceSelection {
    let synthesizer = match selection {
        Selection::Loud => Some(analytic_model("analytic_synth_v2_40k.onnx")),
        Selection::Quiet => Some(analytic_model("analytic_synth_v2_40k_quiet.onnx")),
        Selection::Missing => Some(PathBuf::from("/nonexistent/moved-voice.onnx")),
        Selection::NoVoice => None,
    };
    VoiceSelection {
        synthesizer,
        content_encoder: Some(analytic_model("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// The peak level each segment should settle at: a missing file keeps what played before.
pub fn expected_levels() -> Vec<f32> {
    let mut levels: Vec<f32> = Vec::with_capacity(PLAN.len());
    for selection in PLAN {
        let level = match selection {
            Selection::Loud => 0.5,
            Selection::Quiet => 0.25,
            Selection::NoVoice => INPUT_AMPLITUDE,
            Selection::Missing => *levels.last().expect("the plan starts with a voice"),
        };
        levels.push(level);
    }
    levels
}

/// The run's output and what the host saw.
pub struct VoiceSwapRun {
    pub report: ScenarioReport,
    /// The left output channel (both channels carry the same mono conversion).
    pub output: Vec<f32>,
    pub latency: usize,
    pub latency_after: usize,
    /// What the plugin had asked of the host once active, before the first switch.
    pub host_calls_before: crate::handlers::HostCalls,
}

/// Play the tone through `plugin` offline, loading each selection of [`PLAN`] in turn from a
/// saved state while the plugin stays active. After each switch the host waits `settle` of wall
/// time before the next buffer, which is how long the loader has to swap the voice in at the
/// next block.
pub fn run(plugin: &Path, settle: Duration) -> anyhow::Result<VoiceSwapRun> {
    let started = Instant::now();
    let mut host = PluginHost::load(plugin)?;
    let base = NiceState::decode(&host.save_state()?)?;
    let load = |host: &mut PluginHost, selection: Selection| -> anyhow::Result<()> {
        let mut state = base.clone();
        state.set_voice(&voice_for(selection));
        host.load_state(&state.encode())
    };
    load(&mut host, PLAN[0])?;
    host.set_render_mode(RenderMode::Offline)?;
    let config = AudioConfig::new(RATE, 1024);
    host.activate(config)?;
    let latency = host.latency()? as usize;
    let host_calls_before = host.host_calls();

    let segment = (SEGMENT_SECONDS * RATE) as usize;
    let total = segment * PLAN.len() + latency;
    let tone: Vec<f32> = (0..total)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * TONE_HZ * i as f64 / RATE;
            if i < segment * PLAN.len() { INPUT_AMPLITUDE * phase.sin() as f32 } else { 0.0 }
        })
        .collect();
    let mut blocks = RandomBlocks::new(21, 1024);
    let mut output = Vec::with_capacity(total);
    for (k, &selection) in PLAN.iter().enumerate() {
        if k > 0 {
            load(&mut host, selection)?;
            std::thread::sleep(settle);
        }
        let end = if k + 1 == PLAN.len() { total } else { (k + 1) * segment };
        let part = dual_mono(tone[k * segment..end].to_vec());
        let out = host.process_signal(&part, &mut blocks, Pace::Unpaced)?;
        ensure!(analysis::all_finite(&out), "non-finite output after switch {k}");
        output.extend_from_slice(&out[0]);
    }
    let latency_after = host.latency()? as usize;
    host.deactivate()?;
    let report = ScenarioReport::of_switching_run("voice-swaps", &host, config, latency, &output, started);
    Ok(VoiceSwapRun { report, output, latency, latency_after, host_calls_before })
}

/// Where segment `k`'s level has settled, in output samples.
///
/// A new voice takes over at the first block the inference thread reads after the loader sends
/// it. Offline, that thread may still have up to two blocks of earlier input queued when the host
/// switches (the output it owes lags by the latency), and a slow load may land a block late. So
/// the window starts a block and a crossfade after the switch and ends two blocks before the
/// next one; a block's output starts its holdback before its input, plus the latency.
pub fn settled_window(k: usize, latency: usize) -> std::ops::Range<usize> {
    // The plugin's default stream: a swap takes effect on a block boundary, and a converting block
    // holds back its crossfade and SOLA search (with a millisecond to spare for rounding).
    let stream = StreamSettings::default();
    let block = (f64::from(stream.block_ms) / 10.0).round() * 10.0 / 1000.0 * RATE;
    let crossfade = f64::from(stream.crossfade_ms) / 1000.0;
    let holdback = f64::from(stream.crossfade_ms + stream.sola_search_ms + 1.0) / 1000.0;
    let switch = |k: usize| ((k as f64 * SEGMENT_SECONDS * RATE) / block).floor() * block;
    let start = switch(k) + block + (crossfade - holdback) * RATE;
    let end = switch(k + 1) - 2.0 * block - holdback * RATE;
    start as usize + latency..end as usize + latency
}
