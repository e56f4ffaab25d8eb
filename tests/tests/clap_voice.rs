//! A voice through the CLAP bundle: the analytic voice (a sine at the synthesizer's pitch input)
//! chosen through the saved state, converting a tone sequence in clack-host. The output must sing
//! the input's pitch shifted by the Pitch parameter, lag by the reported latency, and join blocks
//! without clicks; a voice that cannot load must leave the audio flowing in time.

use rvc_live_test_support::models::{analytic, generated};
use std::path::PathBuf;

use rvc_live_hosts::analysis::zero_crossing_frequency;
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, offline_host_with_voice, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::state::{NiceState, VoiceSelection};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

const RATE: f64 = 48_000.0;

/// A host whose saved state chose `voice` and a pitch shift, active offline at 48 kHz.
fn host_with_voice(voice: &VoiceSelection, semitones: f32) -> (PluginHost, usize) {
    let mut host = offline_host_with_voice(voice, &[("pitch", semitones)]);
    host.activate(AudioConfig::new(RATE, 512)).unwrap();
    let latency = host.latency().unwrap() as usize;
    (host, latency)
}

fn voice(synthesizer: PathBuf) -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(synthesizer),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// Silence for `lead` seconds, then each frequency for `seconds`.
fn tones(frequencies: &[f64], seconds: f64, lead: f64) -> Vec<f32> {
    let mut out = vec![0.0; (lead * RATE) as usize];
    let mut phase = 0.0f64;
    for &f in frequencies {
        for _ in 0..(seconds * RATE) as usize {
            phase += f / RATE;
            out.push((0.4 * (2.0 * std::f64::consts::PI * phase).sin()) as f32);
        }
    }
    out
}

fn frequency(signal: &[f32]) -> f64 {
    zero_crossing_frequency(signal, RATE)
}

#[test]
fn the_analytic_voice_sings_the_input_pitch_shifted_by_the_parameter() {
    let semitones = 7.0;
    let (mut host, latency) = host_with_voice(&voice(analytic("analytic_synth_v2_40k.onnx")), semitones);
    // A voice changes only the worker budget: what its blocks measured, at most a block.
    ExpectedLatency::defaults(RATE, 512).with_measured_budget(latency);

    let (lead, seconds) = (0.6, 1.2);
    let frequencies = [180.0, 260.0, 140.0];
    let x: Vec<f32> = tones(&frequencies, seconds, lead).into_iter().chain(std::iter::repeat_n(0.0, latency)).collect();
    let output = host.process_signal(&[x.clone(), x.clone()], &mut RandomBlocks::new(7, 512), Pace::Unpaced).unwrap();

    let ratio = 2f64.powf(f64::from(semitones) / 12.0);
    for channel in &output {
        assert!(channel.iter().all(|v| v.is_finite()));
        for (k, &f) in frequencies.iter().enumerate() {
            let start = ((lead + k as f64 * seconds + 0.3) * RATE) as usize + latency;
            let measured = frequency(&channel[start..start + (0.6 * RATE) as usize]);
            assert!((measured / (f * ratio) - 1.0).abs() < 0.01, "{f} Hz + {semitones} st sang {measured} Hz");
        }
        // No clicks at block joins (every 120 ms) inside each steady tone: no step beyond the tone's
        // own, plus a margin for the crossfades. Tone changes are left out: there the analytic
        // voice switches its pitch, and its voicing, from one 10 ms frame to the next.
        for (k, &f) in frequencies.iter().enumerate() {
            let steepest = 2.0 * std::f64::consts::PI * f * ratio * 0.5 / RATE;
            let start = ((lead + k as f64 * seconds + 0.1) * RATE) as usize + latency;
            let end = ((lead + (k + 1) as f64 * seconds - 0.1) * RATE) as usize + latency;
            let worst = channel[start..end].windows(2).map(|w| f64::from((w[1] - w[0]).abs())).fold(0.0, f64::max);
            assert!(worst < steepest * 1.5, "{f} Hz: a step of {worst}; the tone moves at most {steepest}");
        }
        // The voice starts one latency after the input does, give or take the pitch tracker's first
        // frame (10 ms) and the sine's rise to the detection level.
        let onset = channel.iter().position(|v| v.abs() > 0.05).unwrap();
        let expected = (lead * RATE) as usize + latency;
        assert!(onset.abs_diff(expected) <= 480 + 8, "voice starts at {onset}, expected {expected}");
    }
}

#[test]
fn every_export_convention_converts_through_the_plugin() {
    for name in [
        "analytic_synth_wokada_v2_48k.onnx",
        "analytic_synth_wokada_v2_40k_fp16.onnx",
        "analytic_synth_partial_v2_40k.onnx",
    ] {
        let (mut host, latency) = host_with_voice(&voice(analytic(name)), 0.0);
        let x: Vec<f32> = tones(&[220.0], 1.5, 0.3).into_iter().chain(std::iter::repeat_n(0.0, latency)).collect();
        let output = host.process_signal(&[x.clone(), x], &mut RandomBlocks::new(3, 512), Pace::Unpaced).unwrap();
        let start = (0.9 * RATE) as usize + latency;
        let measured = frequency(&output[0][start..start + (0.5 * RATE) as usize]);
        assert!((measured / 220.0 - 1.0).abs() < 0.01, "{name}: sang {measured} Hz");
    }
}

/// A voice as users download it, its `.pth`: the plugin builds the model on its loader thread and
/// converts with it (the tiny real-architecture voice has random weights, so what it sings is only
/// checked to be the voice and not the input).
#[test]
fn a_pth_voice_converts_through_the_plugin() {
    let voice = VoiceSelection {
        synthesizer: Some(generated("rvc_v2_40k_tiny.pth")),
        content_encoder: Some(generated("contentvec_tiny_units.onnx")),
        ..Default::default()
    };
    let (mut host, latency) = host_with_voice(&voice, 0.0);
    // A voice changes only the worker budget: what its blocks measured, at most a block.
    ExpectedLatency::defaults(RATE, 512).with_measured_budget(latency);
    let x: Vec<f32> = tones(&[200.0], 2.0, 0.3).into_iter().chain(std::iter::repeat_n(0.0, latency)).collect();
    let output = host.process_signal(&[x.clone(), x.clone()], &mut RandomBlocks::new(9, 512), Pace::Unpaced).unwrap();
    let dry = signals::shifted(&x, latency, x.len());
    let steady = (0.8 * RATE) as usize + latency..(2.0 * RATE) as usize + latency;
    for channel in &output {
        assert!(channel.iter().all(|v| v.is_finite()));
        let rms = |s: &[f32]| (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
        let difference: Vec<f32> =
            channel[steady.clone()].iter().zip(&dry[steady.clone()]).map(|(a, b)| a - b).collect();
        assert!(rms(&channel[steady.clone()]) > 0.01, "the voice is silent");
        assert!(rms(&difference) > 0.1 * rms(&dry[steady.clone()]), "the output is the dry input");
    }
    let saved = NiceState::decode(&host.save_state().unwrap()).unwrap();
    assert_eq!(saved.voice().unwrap(), voice, "the project keeps the .pth, not the built model");
}

/// A project whose voice file moved, or a file that is no voice: the plugin passes the input
/// through with the same latency, exactly as with no voice at all, and keeps the path the user
/// chose, so saving the project does not lose it.
#[test]
fn a_voice_that_cannot_load_leaves_the_audio_flowing_in_time() {
    for synthesizer in [
        PathBuf::from("/nonexistent/moved-voice.onnx"),
        analytic("bad_synth_width_512.onnx"),
        // A .pth whose pickle would run a command: refused unrun, like any file that is no voice.
        generated("rvc_v2_40k_tiny_hostile.pth"),
    ] {
        let (mut host, latency) = host_with_voice(&voice(synthesizer.clone()), 0.0);
        assert_eq!(latency, ExpectedLatency::defaults(RATE, 512).total(), "no voice timed: the whole cap");
        let x = signals::chirp(RATE as usize, RATE, 50.0, 8000.0, 0.5);
        let input: Vec<f32> = x.iter().copied().chain(std::iter::repeat_n(0.0, latency)).collect();
        let output = host
            .process_signal(&[input.clone(), input.clone()], &mut RandomBlocks::new(5, 512), Pace::Unpaced)
            .unwrap();
        for channel in &output {
            assert_audio_eq(
                channel,
                &signals::shifted(&input, latency, input.len()),
                EXACT,
                &format!("{synthesizer:?}"),
            );
        }
        let saved = NiceState::decode(&host.save_state().unwrap()).unwrap();
        assert_eq!(saved.voice().unwrap(), voice(synthesizer.clone()), "the saved voice changed");
    }
}

/// Input denoise, saved with the project, lengthens the reported latency by its 10 ms frame, and
/// the converted voice still sings in tune.
#[test]
fn denoise_is_counted_in_the_latency() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
    state.set_voice(&voice(analytic("analytic_synth_v2_40k.onnx")));
    let mut stream: serde_json::Value = serde_json::from_str(&state.fields["stream"]).unwrap();
    stream["denoise"] = serde_json::Value::Bool(true);
    // A fixed budget, so the denoiser's frame is the only difference from the formula.
    stream["measured_budget"] = serde_json::Value::Bool(false);
    state.fields.insert("stream".into(), stream.to_string());
    host.load_state(&state.encode()).unwrap();
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(AudioConfig::new(RATE, 512)).unwrap();
    let latency = host.latency().unwrap() as usize;
    assert_eq!(latency, ExpectedLatency::defaults(RATE, 512).total() + 480);

    let x: Vec<f32> = (0..(2.5 * RATE) as usize)
        .map(|n| {
            let p = 2.0 * std::f64::consts::PI * 150.0 * n as f64 / RATE;
            (0.25 * (1..=6).map(|k| (k as f64 * p).sin() / k as f64).sum::<f64>()) as f32
        })
        .chain(std::iter::repeat_n(0.0, latency))
        .collect();
    let output = host.process_signal(&[x.clone(), x], &mut RandomBlocks::new(11, 512), Pace::Unpaced).unwrap();
    let start = (1.5 * RATE) as usize + latency;
    let measured = frequency(&output[0][start..start + (0.5 * RATE) as usize]);
    assert!((measured / 150.0 - 1.0).abs() < 0.01, "sang {measured} Hz");
}
