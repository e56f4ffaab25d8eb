//! The RVC block processor end to end with the analytic voice (a sine at the synthesizer's
//! `pitchf`) and the analytic content encoder: the output must sing the input's pitch, shifted by
//! the pitch parameter, lagging by exactly the processor's delay, and join blocks without clicks.

mod common;

fn freq(signal: &[f32]) -> f32 {
    common::zero_crossing_frequency(signal, f64::from(RATE)) as f32
}

use std::sync::Arc;

use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::{BlockProcessor, StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor};

const RATE: f32 = 48_000.0;

/// Input: silence, then `segments` of steady tones, each `seconds` long.
fn tones(segments: &[f32], seconds: f32, lead: f32) -> Vec<f32> {
    let mut out = vec![0.0; (lead * RATE) as usize];
    let mut phase = 0.0f64;
    for &f in segments {
        for _ in 0..(seconds * RATE) as usize {
            phase += f64::from(f) / f64::from(RATE);
            out.push((0.4 * (2.0 * std::f64::consts::PI * phase).sin()) as f32);
        }
    }
    out
}

fn processor_with(synth: &str, controls: ConversionControls) -> (RvcProcessor, StreamGeometry, Arc<ConversionStats>) {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let stats = Arc::new(ConversionStats::default());
    let processor = RvcProcessor::load(
        &common::analytic_voice(synth),
        &geometry,
        &settings,
        Arc::new(move || controls),
        stats.clone(),
        1,
    )
    .unwrap_or_else(|e| panic!("{synth}: {e}"));
    (processor, geometry, stats)
}

fn processor(synth: &str, semitones: f32) -> (RvcProcessor, StreamGeometry, Arc<ConversionStats>) {
    processor_with(synth, ConversionControls { semitones, ..Default::default() })
}

#[test]
fn the_converted_voice_follows_the_input_pitch_shifted_by_the_parameter() {
    for (synth, semitones) in [("analytic_synth_v2_40k.onnx", 3.0f32), ("analytic_synth_wokada_v2_48k.onnx", -5.0)] {
        let (mut processor, geometry, errors) = processor(synth, semitones);
        assert_eq!(processor.delay(), geometry.processor_delay(), "the stream was sized for this delay");
        let (lead, seconds) = (0.6, 1.2);
        let segments = [200.0f32, 300.0, 150.0];
        let input = tones(&segments, seconds, lead);
        let output = common::convert_blocks(&mut processor, &geometry, &input);
        assert_eq!(errors.failed.load(std::sync::atomic::Ordering::Relaxed), 0, "{synth}: conversion failed");

        let ratio = 2f32.powf(semitones / 12.0);
        for (k, &f) in segments.iter().enumerate() {
            // The middle of each segment, shifted by the processor's delay.
            let start = ((lead + k as f32 * seconds + 0.3) * RATE) as usize + processor.delay();
            let end = start + (0.6 * RATE) as usize;
            let measured = freq(&output[start..end]);
            let expected = f * ratio;
            assert!(
                (measured / expected - 1.0).abs() < 0.01,
                "{synth}: {f} Hz shifted {semitones} st sang {measured} Hz, expected {expected}"
            );
        }
    }
}

#[test]
fn blocks_join_without_clicks_and_the_onset_lags_by_the_delay() {
    let (mut processor, geometry, _) = processor("analytic_synth_v2_40k.onnx", 0.0);
    let lead = 0.6;
    let input = tones(&[220.0, 220.0], 1.0, lead);
    let output = common::convert_blocks(&mut processor, &geometry, &input);

    // The output is a 220 Hz sine of amplitude 0.5: its own steepest step, with a margin for the
    // crossfades between blocks.
    let steepest = 2.0 * std::f32::consts::PI * 220.0 * 0.5 / RATE;
    let settled = ((lead + 0.2) * RATE) as usize;
    let worst = output[settled..].windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
    assert!(worst < steepest * 1.5, "a step of {worst} where a sine moves at most {steepest}");

    // Where the voice starts: the input's onset plus the delay, give or take the frame the pitch
    // tracker needs to call the first frame voiced (its analysis span is still half silence), plus
    // the few samples the sine takes to rise past the detection level.
    let onset_in = (lead * RATE) as usize;
    let onset_out = output.iter().position(|v| v.abs() > 0.05).unwrap();
    let expected = onset_in + processor.delay();
    let frame = (RATE / 100.0) as isize;
    assert!(
        (onset_out as isize - expected as isize).abs() <= frame + 8,
        "voice starts at {onset_out}, expected {expected} (input onset {onset_in} + delay {})",
        processor.delay()
    );
}

#[test]
fn a_voice_without_a_content_encoder_is_refused() {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let voice =
        VoiceSelection { synthesizer: Some(common::analytic("analytic_synth_v2_40k.onnx")), ..Default::default() };
    let controls = Arc::new(ConversionControls::default);
    let Err(err) = RvcProcessor::load(&voice, &geometry, &settings, controls, Arc::new(ConversionStats::default()), 1)
    else {
        panic!("a voice needs a content encoder");
    };
    assert!(err.to_string().contains("no content encoder is chosen"), "{err}");
}

#[test]
fn silence_is_gated_and_costs_no_inference() {
    let gate = ConversionControls { gate_db: -50.0, ..Default::default() };
    let (mut processor, geometry, stats) = processor_with("analytic_synth_v2_40k.onnx", gate);
    // 1 s of a tone at -8 dBFS, 1 s of -70 dBFS hiss-like tone, then the tone again.
    let mut input = tones(&[220.0], 1.0, 0.0);
    input.extend(tones(&[220.0], 1.0, 0.0).iter().map(|v| v * 0.001));
    input.extend(tones(&[220.0], 1.0, 0.0));
    let output = common::convert_blocks(&mut processor, &geometry, &input);
    let gated = stats.gated.load(std::sync::atomic::Ordering::Relaxed);
    assert!(gated >= 4, "only {gated} of the 5 quiet blocks were gated");
    let quiet = &output[(1.3 * RATE) as usize..(1.9 * RATE) as usize];
    assert!(quiet.iter().all(|v| v.abs() < 1e-6), "the gated stretch is silent");
    let loud = &output[(2.4 * RATE) as usize..(2.9 * RATE) as usize];
    assert!((freq(loud) / 220.0 - 1.0).abs() < 0.01, "conversion resumes after the gate");
}

/// A phrase ending just before a block the gate silences keeps its end: the block still plays
/// the input from the processor's delay before it, so the voice ends where the tone does (one
/// delay later), not up to a delay early where the fade into silence would cut it.
#[test]
fn a_phrase_ending_before_a_gated_block_keeps_its_end() {
    let gate = ConversionControls { gate_db: -50.0, ..Default::default() };
    let frame = (RATE / 100.0) as isize;
    for before_boundary_ms in [1.0f32, 4.0, 8.0, 12.0] {
        let (mut processor, geometry, stats) = processor_with("analytic_synth_v2_40k.onnx", gate);
        let delay = processor.delay();
        assert!(
            ((before_boundary_ms / 1000.0 * RATE) as usize) < delay,
            "the tone must end within the delay before the boundary"
        );
        let lead = 0.6;
        let end_in = 5 * geometry.block + (lead * RATE) as usize - (before_boundary_ms / 1000.0 * RATE) as usize;
        let mut input = tones(&[220.0], (end_in as f32 - lead * RATE) / RATE, lead);
        input.resize(end_in + 4 * geometry.block, 0.0);
        let output = common::convert_blocks(&mut processor, &geometry, &input);
        assert!(stats.gated.load(std::sync::atomic::Ordering::Relaxed) >= 2, "the silence after the tone was gated");
        let end_out = output.iter().rposition(|v| v.abs() > 0.05).unwrap();
        let expected = input.iter().rposition(|v| v.abs() > 0.05).unwrap() + delay;
        assert!(
            (end_out as isize - expected as isize).abs() <= frame + 8,
            "tone ending {before_boundary_ms} ms before a gated block: the voice ends at {end_out}, expected \
             {expected} (input end + delay {delay})"
        );
    }
}

#[test]
fn the_envelope_control_gives_the_voice_the_input_loudness() {
    let follow = ConversionControls { envelope: 0.0, ..Default::default() };
    let (mut processor, geometry, _) = processor_with("analytic_synth_v2_40k.onnx", follow);
    // The analytic voice always sings at amplitude 0.5; the input steps from 0.4 to 0.1.
    let mut input = tones(&[220.0], 1.2, 0.0);
    input.extend(tones(&[220.0], 1.2, 0.0).iter().map(|v| v * 0.25));
    let output = common::convert_blocks(&mut processor, &geometry, &input);
    let rms = |s: &[f32]| (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
    let delay = processor.delay();
    let (loud_in, quiet_in) = (0.4 / 2f32.sqrt(), 0.1 / 2f32.sqrt());
    let loud_out = rms(&output[(0.5 * RATE) as usize + delay..(1.0 * RATE) as usize + delay]);
    let quiet_out = rms(&output[(1.7 * RATE) as usize + delay..(2.2 * RATE) as usize + delay]);
    assert!((loud_out / loud_in - 1.0).abs() < 0.05, "loud: {loud_out} vs input {loud_in}");
    assert!((quiet_out / quiet_in - 1.0).abs() < 0.05, "quiet: {quiet_out} vs input {quiet_in}");
}

/// Hosts run anywhere from 8 to 192 kHz: the voice must sing the right pitch at every rate.
#[test]
fn the_voice_converts_at_every_host_rate() {
    for rate in [8_000.0f32, 22_050.0, 44_100.0, 96_000.0, 192_000.0] {
        let settings = StreamSettings::default();
        let geometry = RvcProcessor::stream_geometry(&settings, rate, 1024);
        let stats = Arc::new(ConversionStats::default());
        let controls = ConversionControls { semitones: 5.0, ..Default::default() };
        let voice = common::analytic_voice("analytic_synth_wokada_v2_48k.onnx");
        let mut processor =
            RvcProcessor::load(&voice, &geometry, &settings, Arc::new(move || controls), stats.clone(), 1)
                .unwrap_or_else(|e| panic!("{rate} Hz: {e}"));
        let n = geometry.block * 8;
        let input: Vec<f32> =
            (0..n).map(|i| 0.4 * (2.0 * std::f32::consts::PI * 180.0 * i as f32 / rate).sin()).collect();
        let output = common::convert_blocks(&mut processor, &geometry, &input);
        assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 0, "{rate} Hz");
        let tail = &output[geometry.block * 4..];
        let crossings = tail.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count() as f32;
        let measured = crossings * rate / tail.len() as f32;
        let expected = 180.0 * 2f32.powf(5.0 / 12.0);
        assert!((measured / expected - 1.0).abs() < 0.01, "{rate} Hz: sang {measured} Hz, expected {expected}");
    }
}

#[test]
fn with_denoise_the_voice_lags_by_the_denoiser_too_and_still_sings_in_tune() {
    let settings = StreamSettings { denoise: true, ..StreamSettings::default() };
    let geometry = RvcProcessor::stream_geometry(&settings, RATE, 512);
    let stats = Arc::new(ConversionStats::default());
    let controls = ConversionControls { semitones: 2.0, ..Default::default() };
    let voice = common::analytic_voice("analytic_synth_v2_40k.onnx");
    let mut processor = RvcProcessor::load(&voice, &geometry, &settings, Arc::new(move || controls), stats, 1).unwrap();
    // One 10 ms RNNoise frame at 48 kHz on top of the SOLA holdback, and the stream counts it.
    assert_eq!(processor.delay(), StreamGeometry::new(settings, RATE, 512).processor_delay() + 480);
    assert_eq!(processor.delay(), geometry.processor_delay());

    let lead = 0.6;
    let harmonic = |f: f32, seconds: f32| -> Vec<f32> {
        (0..(seconds * RATE) as usize)
            .map(|n| {
                let p = 2.0 * std::f32::consts::PI * f * n as f32 / RATE;
                0.25 * (1..=6).map(|k| (k as f32 * p).sin() / k as f32).sum::<f32>()
            })
            .collect()
    };
    let mut input = vec![0.0; (lead * RATE) as usize];
    input.extend(harmonic(200.0, 2.0));
    let output = common::convert_blocks(&mut processor, &geometry, &input);
    let start = ((lead + 1.0) * RATE) as usize + processor.delay();
    let measured = freq(&output[start..start + (0.5 * RATE) as usize]);
    let expected = 200.0 * 2f32.powf(2.0 / 12.0);
    assert!((measured / expected - 1.0).abs() < 0.01, "sang {measured} Hz, expected {expected}");
    let onset = output.iter().position(|v| v.abs() > 0.05).unwrap();
    let due = (lead * RATE) as usize + processor.delay();
    assert!(onset.abs_diff(due) <= 480 + 8, "voice starts at {onset}, due at {due}");
}
