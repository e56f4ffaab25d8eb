//! What the running stream was started with, so the editor can show the latency a change of
//! settings would give at the rate and buffer size the host actually uses.

use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;

use rvc_live_engine::stream::{StreamGeometry, StreamSettings};

/// Written by `activate` and `deactivate` (the host's main thread; the standalone also re-activates
/// from its audio thread when state is loaded, outside `process`), read by the editor. The audio
/// thread's `process` never touches it, so the settings may sit behind a lock.
#[derive(Default)]
pub struct ActiveStream {
    /// Host sample rate as `f32` bits; 0 while the plugin is inactive.
    sample_rate: AtomicU32,
    max_buffer: AtomicU32,
    /// The latency reported to the host, in samples.
    latency: AtomicU32,
    /// The settings the running stream was built from.
    settings: Mutex<Option<StreamSettings>>,
}

/// A copy of [`ActiveStream`] for one frame of the editor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveSnapshot {
    pub sample_rate: f32,
    pub max_buffer: u32,
    pub latency: u32,
    pub settings: StreamSettings,
}

impl ActiveStream {
    pub fn activated(&self, geometry: &StreamGeometry, max_buffer: u32, settings: StreamSettings) {
        *self.settings.lock() = Some(settings);
        self.sample_rate.store((geometry.sample_rate as f32).to_bits(), Ordering::Relaxed);
        self.max_buffer.store(max_buffer, Ordering::Relaxed);
        self.latency.store(geometry.latency() as u32, Ordering::Relaxed);
    }

    pub fn deactivated(&self) {
        *self.settings.lock() = None;
        self.sample_rate.store(0, Ordering::Relaxed);
    }

    /// `None` while the plugin is inactive.
    pub fn snapshot(&self) -> Option<ActiveSnapshot> {
        let settings = (*self.settings.lock())?;
        Some(ActiveSnapshot {
            sample_rate: f32::from_bits(self.sample_rate.load(Ordering::Relaxed)),
            max_buffer: self.max_buffer.load(Ordering::Relaxed),
            latency: self.latency.load(Ordering::Relaxed),
            settings,
        })
    }
}
