//! The engine choice: convert on this computer, or on an `rvc-live serve` server (a GPU machine, a
//! team's server). Saved with the project: whether to use a server, its address and the server
//! voice each slot converts with. Never the token: a shared project must not carry it, so it lives
//! in the user's config folder ([`crate::remote_servers`]).
//!
//! Like the stream settings, the choice takes effect at the next activation: the latency includes
//! a network budget measured when the plugin connects.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use rvc_live_engine::remote::client::RemoteStats;

use crate::voice::VOICE_SLOTS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteEngineSettings {
    /// Convert on the server at `address` instead of this computer.
    pub enabled: bool,
    /// `host:port` or a `ws://` URL.
    pub address: String,
    /// The server voice each slot converts with, by its name in the server's library; empty for
    /// none. Shorter lists leave the remaining slots empty.
    pub voices: Vec<String>,
}

impl RemoteEngineSettings {
    /// Slot `slot`'s server voice, or `None`.
    pub fn voice(&self, slot: usize) -> Option<&str> {
        self.voices.get(slot).map(|name| name.trim()).filter(|name| !name.is_empty())
    }

    pub fn set_voice(&mut self, slot: usize, name: &str) {
        if slot < VOICE_SLOTS {
            if self.voices.len() <= slot {
                self.voices.resize(slot + 1, String::new());
            }
            self.voices[slot] = name.trim().to_owned();
        }
    }
}

/// One slot converting on a server.
pub struct RemoteSlot {
    pub stats: Arc<RemoteStats>,
    pub voice: String,
}

/// What the running stream converts with on the server, for the editor: written by `activate`
/// (the host's main thread), read by the GUI thread.
#[derive(Default)]
pub struct RemoteLinks {
    /// The settings the running stream was started with; `None` when it converts here.
    running: RwLock<Option<RemoteEngineSettings>>,
    slots: RwLock<Vec<Option<RemoteSlot>>>,
    /// The network budget the latency reserves, in µs.
    budget_us: AtomicU32,
}

impl RemoteLinks {
    pub fn started(&self, settings: Option<RemoteEngineSettings>, slots: Vec<Option<RemoteSlot>>, budget_us: u32) {
        *self.running.write() = settings;
        *self.slots.write() = slots;
        self.budget_us.store(budget_us, Ordering::Relaxed);
    }

    pub fn running(&self) -> Option<RemoteEngineSettings> {
        self.running.read().clone()
    }

    /// Slot `slot`'s server voice and its link's stats, while the stream converts remotely.
    pub fn slot(&self, slot: usize) -> Option<(String, Arc<RemoteStats>)> {
        let slots = self.slots.read();
        slots.get(slot)?.as_ref().map(|s| (s.voice.clone(), s.stats.clone()))
    }

    pub fn budget_ms(&self) -> f64 {
        f64::from(self.budget_us.load(Ordering::Relaxed)) / 1000.0
    }
}
