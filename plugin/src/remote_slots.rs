//! Activation with the remote engine: a [`RemoteProcessor`] per slot that names a server voice.
//!
//! The selected slot connects before the first block, as a local voice loads: the latency counts
//! the network budget measured on that connection (round trip and the server's compute at this
//! block). A server that does not answer leaves the stream playing the input at the local
//! latency, its link retrying in the background; the others' links connect in the background.

use std::sync::Arc;
use std::time::Duration;

use nice_plug::prelude::*;
use rvc_live_engine::remote::client::{
    ConnectTimeouts, LinkPlan, RemoteEndpoint, RemoteProcessor, RemoteStats, connect, hello, reply_wait,
};
use rvc_live_engine::stream::{DryProcessor, ProcessorBox, StreamGeometry, StreamSettings};

use crate::params::{RvcLiveParams, controls_source};
use crate::remote_engine::{RemoteEngineSettings, RemoteSlot};
use crate::remote_servers;
use crate::voice::VOICE_SLOTS;
use crate::voice_status::{VoiceState, VoiceStatuses};

/// The first connect: each network step (TCP, upgrade, pings) waits at most 2 s, so a host
/// activating with a server that does not answer waits seconds, not minutes; the server loading
/// the voice, up to 30 s.
const TIMEOUTS: ConnectTimeouts = ConnectTimeouts { step: Duration::from_secs(2), load: Duration::from_secs(30) };
/// Offline, the stream waits for every block: a block waits this long before it plays the input.
const OFFLINE_WAIT: Duration = Duration::from_secs(2);

/// What activation starts with on a server.
pub struct RemoteStart {
    pub geometry: StreamGeometry,
    pub slots: Vec<ProcessorBox>,
    pub links: Vec<Option<RemoteSlot>>,
    pub budget: Duration,
}

/// Connect the selected slot and start every slot's processor. `local` is the geometry converting
/// here would have: the fallback when the server does not answer.
#[allow(clippy::too_many_arguments)]
pub fn start(
    remote: &RemoteEngineSettings,
    settings: &StreamSettings,
    local: StreamGeometry,
    active_slot: usize,
    offline: bool,
    params: Arc<RvcLiveParams>,
    statuses: &VoiceStatuses,
) -> RemoteStart {
    if !remote_servers::is_allowed(&remote.address) {
        return not_allowed(remote, local, statuses);
    }
    let controls = controls_source(params);
    let token = remote_servers::token_for(&remote.address);
    let endpoint =
        |voice: &str| RemoteEndpoint { address: remote.address.clone(), token: token.clone(), voice: voice.to_owned() };

    // The selected slot connects first; its measurement sizes the stream for every slot.
    let mut geometry = local;
    let mut budget = Duration::from_secs_f64(local.worker_budget as f64 / f64::from(local.sample_rate));
    let mut first = None;
    if let Some(voice) = remote.voice(active_slot) {
        let status = statuses.slot(active_slot);
        status.set(VoiceState::Loading, format!("Connecting to {} for {voice}", remote.address));
        let stats = Arc::new(RemoteStats::default());
        let patience = offline.then_some(OFFLINE_WAIT);
        match connect(&endpoint(voice), local, settings, controls.clone(), patience, TIMEOUTS, stats.clone()) {
            Ok(connected) => {
                (geometry, budget) = (connected.geometry, connected.budget);
                status.set(VoiceState::Loaded, format!("Converting on {}: {voice}", remote.address));
                first = Some((Box::new(connected.processor) as ProcessorBox, stats));
            }
            Err(e) => {
                nice_warn!("RVC Live (voice slot {}) {e}; the input plays through until it answers", active_slot + 1);
                status.set(VoiceState::Failed, format!("Remote engine: {e}. The input plays through; retrying"));
            }
        }
    }

    let wait = if offline { OFFLINE_WAIT } else { reply_wait(budget) };
    let (mut slots, mut links): (Vec<ProcessorBox>, Vec<Option<RemoteSlot>>) = (Vec::new(), Vec::new());
    for slot in 0..VOICE_SLOTS {
        let status = statuses.slot(slot);
        status.set_facts(None);
        let Some(voice) = remote.voice(slot) else {
            status.set(VoiceState::NoVoice, "No server voice for this slot: the input plays through");
            slots.push(Box::new(DryProcessor::new(geometry.processor_delay(), geometry.crossfade)));
            links.push(None);
            continue;
        };
        if slot == active_slot
            && let Some((processor, stats)) = first.take()
        {
            slots.push(processor);
            links.push(Some(RemoteSlot { stats, voice: voice.to_owned() }));
            continue;
        }
        // The others (and a selected slot whose server did not answer) connect in the background.
        let plan = LinkPlan {
            endpoint: endpoint(voice),
            hello: hello(voice, &geometry, settings, &controls),
            controls: controls.clone(),
            processor_delay: geometry.processor_delay(),
        };
        let stats = Arc::new(RemoteStats::default());
        match RemoteProcessor::start(plan, None, geometry.crossfade, wait, stats.clone()) {
            Ok(processor) => {
                if slot != active_slot {
                    status.set(VoiceState::Loaded, format!("Converting on {}: {voice}", remote.address));
                }
                slots.push(Box::new(processor));
                links.push(Some(RemoteSlot { stats, voice: voice.to_owned() }));
            }
            Err(e) => {
                status.set(VoiceState::Failed, format!("Remote engine: cannot start its thread: {e}"));
                slots.push(Box::new(DryProcessor::new(geometry.processor_delay(), geometry.crossfade)));
                links.push(None);
            }
        }
    }
    RemoteStart { geometry, slots, links, budget }
}

/// A project naming a server this user never allowed: nothing is sent anywhere, the input plays
/// through at the local latency, and the banner says how to allow it.
fn not_allowed(remote: &RemoteEngineSettings, local: StreamGeometry, statuses: &VoiceStatuses) -> RemoteStart {
    let why = format!(
        "This project converts on {}, a server this computer has not streamed to: open Server… and press \
         Allow to send it your audio. The input plays through",
        remote.address.trim()
    );
    nice_warn!("RVC Live: {why}");
    for slot in 0..VOICE_SLOTS {
        let status = statuses.slot(slot);
        status.set_facts(None);
        match remote.voice(slot) {
            Some(_) => status.set(VoiceState::Failed, why.clone()),
            None => status.set(VoiceState::NoVoice, "No server voice for this slot: the input plays through"),
        }
    }
    let slots = (0..VOICE_SLOTS)
        .map(|_| Box::new(DryProcessor::new(local.processor_delay(), local.crossfade)) as ProcessorBox)
        .collect();
    let budget = Duration::from_secs_f64(local.worker_budget as f64 / f64::from(local.sample_rate));
    RemoteStart { geometry: local, slots, links: (0..VOICE_SLOTS).map(|_| None).collect(), budget }
}
