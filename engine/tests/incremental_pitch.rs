//! Tracking pitch only on each block's newest frames (the f0 of older frames kept from earlier
//! blocks) must sound like tracking the whole window every block. With the analytic voice the
//! output is a sine at the tracked pitch, so any difference in f0 is a difference in the output's
//! spectrum; the real FCPE model tracks a 20 s voice-like tone whose pitch glides and wobbles.

mod common;

use std::sync::Arc;

use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};

const RATE: f32 = 48_000.0;

fn convert(input: &[f32], incremental: bool, block_ms: f32) -> (Vec<f32>, usize) {
    let settings = StreamSettings { block_ms, ..Default::default() };
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let voice = VoiceSelection {
        pitch_model: Some(common::generated("fcpe.onnx")),
        ..common::analytic_voice("analytic_synth_v2_40k.onnx")
    };
    let stats = Arc::new(ConversionStats::default());
    let mut processor =
        RvcProcessor::load(&voice, &geometry, &settings, Arc::new(ConversionControls::default), stats, 1).unwrap();
    processor.set_incremental_pitch(incremental);
    (common::convert_blocks(&mut processor, &geometry, input), geometry.block)
}

/// Frequency per 20 ms frame from zero crossings; `None` where the frame is not a clean tone.
fn frame_frequencies(signal: &[f32]) -> Vec<Option<f64>> {
    let frame = (0.02 * RATE) as usize;
    signal
        .chunks_exact(frame)
        .map(|c| {
            let peak = c.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            (peak > 0.3).then(|| common::zero_crossing_frequency(c, f64::from(RATE)))
        })
        .collect()
}

#[test]
fn tracking_only_new_frames_sings_like_tracking_the_whole_window() {
    let input = common::gliding_voice(RATE, true);
    for block_ms in [100.0, 200.0] {
        let (whole, _) = convert(&input, false, block_ms);
        let (incremental, _) = convert(&input, true, block_ms);
        let (a, b) = (frame_frequencies(&whole), frame_frequencies(&incremental));
        let mut ratios = Vec::new();
        let mut voicing_differs = 0;
        // Frames next to a phrase's start or end hold part silence, and their zero crossings say
        // nothing about pitch: only frames inside a phrase are compared.
        let inside = |f: &[Option<f64>], i: usize| f[i - 1..=i + 1].iter().all(Option::is_some);
        for i in 50..a.len().min(b.len()) - 1 {
            match (a[i], b[i]) {
                (Some(x), Some(y)) if inside(&a, i) && inside(&b, i) => ratios.push((y / x - 1.0).abs()),
                (Some(_), None) | (None, Some(_)) => voicing_differs += 1,
                _ => {}
            }
        }
        ratios.sort_by(f64::total_cmp);
        let p95 = ratios[ratios.len() * 95 / 100];
        let worst = *ratios.last().unwrap();
        eprintln!(
            "block {block_ms} ms: {} voiced frames, |f_incremental / f_whole - 1| median {:.5}, p95 {p95:.5}, \
             worst {worst:.5}; voicing differs in {voicing_differs} frames",
            ratios.len(),
            ratios[ratios.len() / 2]
        );
        assert!(ratios.len() > 600, "too few voiced frames to compare");
        assert!(p95 < 0.005, "incremental pitch is off by more than 0.5 % in 5 % of frames");
        assert!(worst < 0.03, "a frame is off by {worst}");
        assert!(voicing_differs <= ratios.len() / 50, "voicing differs in {voicing_differs} frames");
    }
}
