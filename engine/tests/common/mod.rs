//! Helpers the engine's integration tests share. Each test binary uses a different subset.
#![allow(dead_code, unused_imports)]

use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::{BlockProcessor, InputHistory, StreamGeometry};
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

/// Convert `input` block by block as the stream's inference thread does: each whole block appended
/// to the stream's input history (sized by `geometry`), then converted from it. The output holds
/// the whole blocks: a partial block at the end of the input is left out.
pub fn convert_blocks(processor: &mut dyn BlockProcessor, geometry: &StreamGeometry, input: &[f32]) -> Vec<f32> {
    let block = geometry.block;
    let mut history = InputHistory::new(geometry.history());
    let (mut output, mut weight) = (vec![0.0; input.len() / block * block], vec![0.0; block]);
    for (x, y) in input.chunks_exact(block).zip(output.chunks_exact_mut(block)) {
        history.push(x);
        processor.process_block(&history, y, &mut weight);
    }
    output
}
