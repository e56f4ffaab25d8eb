//! Voices of one stream share their content encoder (and pitch model): loaded once, and each
//! voice converts exactly as it would with a copy of its own, whichever ran before it.

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

#[test]
fn two_voices_share_one_encoder_and_convert_as_if_alone() {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let (loud, quiet) = (
        common::analytic_voice("analytic_synth_v2_40k.onnx"),
        common::analytic_voice("analytic_synth_v2_40k_quiet.onnx"),
    );
    let shared = SharedModels::default();
    let mut a = load(&loud, &geometry, &shared);
    let mut b = load(&quiet, &geometry, &shared);
    assert_eq!(shared.loaded(), 1, "both voices use the same encoder file: one copy");

    // Each alone, with its own encoder.
    let input = common::gliding_voice(RATE, false);
    let alone_a = common::convert_blocks(&mut load(&loud, &geometry, &SharedModels::default()), &geometry, &input);
    let alone_b = common::convert_blocks(&mut load(&quiet, &geometry, &SharedModels::default()), &geometry, &input);
    // Block by block in turn on the shared one: whatever the other voice left in the encoder's
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
    assert!(alone_a.iter().any(|&y| y.abs() > 0.1), "the voice sings");
    assert_eq!(shared_a, alone_a);
    assert_eq!(shared_b, alone_b);

    drop((a, b));
    assert_eq!(shared.loaded(), 0, "the encoder is freed with the last voice using it");
}
