//! What the plugin's threads share: the audio thread, the inference thread, the voice loader,
//! the host's main thread and the editor's GUI thread. One struct, so the editor sees exactly what
//! the plugin holds; each field says which threads write and read it.

use std::sync::Arc;

use rvc_live_engine::ConversionStats;
use rvc_live_engine::stream::StreamStats;
use rvc_live_engine::text_to_speech::SpeechRequests;

use crate::active_stream::ActiveStream;
use crate::measured_budget::MeasuredBudgets;
use crate::meters::LevelMeters;
use crate::params::RvcLiveParams;
use crate::remote_engine::RemoteLinks;
use crate::voice_status::VoiceStatuses;

/// Cloning it clones the handles, not the state.
#[derive(Clone, Default)]
pub struct SharedState {
    /// Written by the host's main thread (parameter changes, state loads) and the GUI thread, read
    /// on the audio thread and by the voice loader.
    pub params: Arc<RvcLiveParams>,
    /// Written by the audio and inference threads, read by the main thread for the log and by the
    /// editor.
    pub stats: Arc<StreamStats>,
    /// What the conversion did (failed and gated blocks). Written by the inference thread, read by
    /// the main thread for the log and by the editor.
    pub conversion: Arc<ConversionStats>,
    /// Whether each slot's voice loaded, and why not. Written by the main thread (activation) and
    /// the voice loader thread, read by the editor.
    pub voice_status: Arc<VoiceStatuses>,
    /// Peak levels in and out. Written by the audio thread, read by the editor.
    pub meters: Arc<LevelMeters>,
    /// The running stream's rate, buffer size, latency and settings. Written by the main thread in
    /// `activate`/`deactivate`, read by the editor.
    pub active_stream: Arc<ActiveStream>,
    /// Each voice's block as timed when it loaded, and what the running stream reserves for it.
    /// Written by the main thread (`activate`) and the voice loader, read by them and the editor
    /// (see [`MeasuredBudgets`]); never touched by the audio thread.
    pub budgets: Arc<MeasuredBudgets>,
    /// The running stream's server links, when it converts remotely. Written by the main thread
    /// in `activate`, read by the editor.
    pub remote: Arc<RemoteLinks>,
    /// Text to speak into the input. Written by the GUI thread (Say, Stop), read by the speaking
    /// thread; the audio thread reads its stop counter only.
    pub speech: Arc<SpeechRequests>,
}
