//! How long the plugin's `process` takes on the audio thread, in a session shaped like live use:
//! real-time render mode, host calls paced at the audio rate (so the inference thread keeps up, as
//! it must live), a stereo voice-band signal in.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::RenderMode;
use crate::blocks::fixed;
use crate::host::{AudioConfig, Pace, PluginHost};
use crate::scenarios::probe_signal;

#[derive(Debug, Serialize)]
pub struct AudioThreadReport {
    pub sample_rate: f64,
    pub buffer: usize,
    pub calls: usize,
    pub median_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Total time in `process` divided by the audio's duration: the share of one core the audio
    /// thread spends in the plugin.
    pub core_share: f64,
}

pub fn run(plugin: &Path, sample_rate: f64, buffer: usize, seconds: f64) -> anyhow::Result<AudioThreadReport> {
    let mut host = PluginHost::load(plugin)?;
    host.set_render_mode(RenderMode::Realtime)?;
    host.activate(AudioConfig::new(sample_rate, buffer as u32))?;
    let x = probe_signal(sample_rate, seconds);
    let input = vec![x.clone(), x];
    host.record_call_times();
    host.process_signal(&input, &mut fixed(buffer), Pace::RealTime)?;

    let mut times: Vec<Duration> = host.call_times().to_vec();
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(times[((times.len() - 1) as f64 * q).round() as usize]);
    let total: Duration = times.iter().sum();
    Ok(AudioThreadReport {
        sample_rate,
        buffer,
        calls: times.len(),
        median_us: at(0.5),
        p99_us: at(0.99),
        max_us: us(*times.last().unwrap_or(&Duration::ZERO)),
        core_share: total.as_secs_f64() / seconds,
    })
}
