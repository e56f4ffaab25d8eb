//! Voices of one stream share their content encoder and pitch model: loaded once, and each voice
//! converts exactly as it would with copies of its own, whichever ran before it.

mod common;

use std::sync::Arc;

use rvc_live_engine::stream::{BlockProcessor, InputHistory, StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, SharedModels, VoiceSelection};

const RATE: f32 = 48_000.0;

fn load(voice: &VoiceSelection, geometry: &StreamGeometry, shared: &SharedModels) -> RvcProcessor {
    let settings = StreamSettings::default();
    let stats = Arc::new(ConversionStats::default());
    RvcProcessor::load_sharing(voice, geometry, &settings, Arc::new(ConversionControls::default), stats, 1, shared)
        .unwrap()
}

/// Two tiny real-architecture voices (their decoders read the content features) with the tiny
/// ContentVec and the tiny RMVPE, an index on each so retrieval reads the features too.
fn tiny_voice(synth: &str) -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(common::model("rvc", synth)),
        content_encoder: Some(common::model("rvc", "contentvec_tiny_units.onnx")),
        pitch_model: Some(common::model("rvc", "rmvpe_tiny_mel.onnx")),
        index: Some(common::model("index", "ivf_flat_v2_sparse.index")),
        ..Default::default()
    }
}

#[test]
fn two_voices_share_one_encoder_and_pitch_model_and_convert_as_if_alone() {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let (first, second) =
        (tiny_voice("rvc_v2_40k_tiny_partial_det.onnx"), tiny_voice("rvc_v2_48k_tiny_partial_det.onnx"));
    let shared = SharedModels::default();
    let mut a = load(&first, &geometry, &shared);
    let mut b = load(&second, &geometry, &shared);
    assert_eq!(shared.loaded(), 2, "one encoder and one pitch model for both voices");
    for voice in [&a, &b] {
        assert!(voice.retrieval().is_some(), "the index is used: {:?}", voice.index_problem());
    }

    // Each alone, with its own models.
    let input = common::gliding_voice(RATE, false);
    let alone_a = common::convert_blocks(&mut load(&first, &geometry, &SharedModels::default()), &geometry, &input);
    let alone_b = common::convert_blocks(&mut load(&second, &geometry, &SharedModels::default()), &geometry, &input);
    // Block by block in turn on the shared ones: whatever the other voice left in the models'
    // buffers does not reach this one's output.
    let block = geometry.block;
    let (mut history_a, mut history_b) = (InputHistory::new(geometry.history()), InputHistory::new(geometry.history()));
    let (mut shared_a, mut shared_b) = (vec![0.0; alone_a.len()], vec![0.0; alone_b.len()]);
    let mut weight = vec![0.0; block];
    for ((x, ya), yb) in
        input.chunks_exact(block).zip(shared_a.chunks_exact_mut(block)).zip(shared_b.chunks_exact_mut(block))
    {
        history_a.push(x);
        a.process_block(&history_a, ya, &mut weight);
        history_b.push(x);
        b.process_block(&history_b, yb, &mut weight);
    }
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    assert!(rms(&alone_a) > 1e-3 && rms(&alone_b) > 1e-3, "both voices speak");
    assert!(rms(&alone_a[..alone_b.len().min(alone_a.len())]) != rms(&alone_b), "two different voices");
    assert_eq!(shared_a, alone_a);
    assert_eq!(shared_b, alone_b);

    drop((a, b));
    assert_eq!(shared.loaded(), 0, "the models are freed with the last voice using them");
}
