//! Helpers the engine's integration tests share. Each test binary uses a different subset.
#![allow(dead_code, unused_imports)]

use rvc_live_engine::VoiceSelection;
pub use rvc_live_test_support::analysis::zero_crossing_frequency;
pub use rvc_live_test_support::models::{analytic, generated, model};
pub use rvc_live_test_support::signals::gliding_voice;

/// An analytic voice (`synth`) with the analytic ContentVec-framed encoder and the built-in pitch
/// tracker.
pub fn analytic_voice(synth: &str) -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic(synth)),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}
