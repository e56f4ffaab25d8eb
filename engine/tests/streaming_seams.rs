//! Streaming against one whole-file pass: a 20 s recording converted block by block must sound
//! like the same recording converted in one window everywhere except near the block joins, and
//! even there only a little.
//!
//! The seam metric: per 10 ms frame, the spectral distance between the streamed output (shifted
//! back by the processor's delay) and the whole-file output, `‖|S_stream| − |S_whole|‖ / ‖|S_whole|‖`
//! over a 2048-sample Hann window. Frames overlapping a join's crossfade are "at joins"; frames at
//! least one window away from every join are "elsewhere". Magnitudes, not waveforms: each block's
//! rendering starts its own phase and SOLA re-aligns it, so the waveforms differ by a phase shift.

mod common;

use std::sync::Arc;

use realfft::RealFftPlanner;
use rvc_live_engine::stream::{BlockProcessor, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};

const RATE: f32 = 48_000.0;
const WINDOW: usize = 2048;
const HOP: usize = 480;

fn spectra(signal: &[f32]) -> Vec<Vec<f32>> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(WINDOW);
    let window: Vec<f32> =
        (0..WINDOW).map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / WINDOW as f32).cos()).collect();
    let (mut input, mut output) = (fft.make_input_vec(), fft.make_output_vec());
    (0..(signal.len() - WINDOW) / HOP)
        .map(|f| {
            for (x, (s, w)) in input.iter_mut().zip(signal[f * HOP..].iter().zip(&window)) {
                *x = s * w;
            }
            fft.process(&mut input, &mut output).unwrap();
            output.iter().map(|c| c.norm()).collect()
        })
        .collect()
}

#[test]
fn streaming_differs_from_a_whole_file_pass_only_near_block_joins() {
    // "Elsewhere" needs frames a whole window clear of the joins on both sides, which only blocks
    // longer than crossfade + three windows (about 170 ms) have; the default 120 ms has none.
    let settings = StreamSettings { block_ms: 200.0, ..StreamSettings::default() };
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let voice = common::analytic_voice("analytic_synth_v2_40k.onnx");
    let stats = Arc::new(ConversionStats::default());
    let mut processor =
        RvcProcessor::load(&voice, &geometry, &settings, Arc::new(ConversionControls::default), stats, 1).unwrap();
    let input = common::gliding_voice(RATE, false);

    let whole = processor.convert_whole(&input).unwrap();
    processor.reset();
    let streamed = common::convert_blocks(&mut processor, &geometry, &input);
    // Back to the input's time axis.
    let delay = processor.delay();
    let streamed = &streamed[delay..];
    let len = streamed.len().min(whole.len());
    let (s_stream, s_whole) = (spectra(&streamed[..len]), spectra(&whole[..len]));

    // Block k's crossfade plays at output [k B, k B + crossfade), input time minus the delay.
    let joins: Vec<(usize, usize)> = (1..input.len() / geometry.block)
        .map(|k| {
            let start = (k * geometry.block).saturating_sub(delay);
            (start, start + geometry.crossfade)
        })
        .collect();
    let (mut at_joins, mut elsewhere) = (Vec::new(), Vec::new());
    let skip = (1.0 * RATE) as usize / HOP;
    for (f, (a, b)) in s_stream.iter().zip(&s_whole).enumerate().skip(skip).take(s_stream.len() - 2 * skip) {
        let norm = b.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
        let distance = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt() / norm;
        let (lo, hi) = (f * HOP, f * HOP + WINDOW);
        if joins.iter().any(|&(s, e)| lo < e && s < hi) {
            at_joins.push(distance);
        } else if joins.iter().all(|&(s, e)| hi + WINDOW <= s || e + WINDOW <= lo) {
            elsewhere.push(distance);
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (joins_mean, elsewhere_mean) = (mean(&at_joins), mean(&elsewhere));
    let worst_elsewhere = elsewhere.iter().copied().fold(0.0, f32::max);
    eprintln!(
        "seam metric over 20 s: at joins mean {joins_mean:.4} ({} frames), elsewhere mean {elsewhere_mean:.4} \
         (worst {worst_elsewhere:.4}, {} frames)",
        at_joins.len(),
        elsewhere.len()
    );
    assert!(!at_joins.is_empty() && elsewhere.len() > 100);
    assert!(elsewhere_mean < 0.02, "away from joins the stream should match the whole-file pass");
    assert!(joins_mean < 0.03, "joins must stay close to the whole-file pass");
}
