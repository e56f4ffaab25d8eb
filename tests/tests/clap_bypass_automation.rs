//! Bypass as a live performer uses it, as a passthrough switch automated fast: toggled every
//! 25 ms by the host while a voice converts a tone, in calls of random sizes. Every toggle must
//! ramp (no step in the output beyond the signals' own), bypassed stretches must be the input
//! delayed by exactly the reported latency, converted stretches the voice, and the latency the
//! plugin reports must not move.

use rvc_live_hosts::AudioConfig;
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, offline_host_with_voice};
use rvc_live_hosts::params::ids;
use rvc_live_hosts::state::VoiceSelection;
use rvc_live_test_support::models::analytic;

const RATE: f64 = 48_000.0;
const MAX_FRAMES: usize = 512;
const TONE_HZ: f64 = 220.0;
const TONE_AMPLITUDE: f64 = 0.4;
/// The analytic voice's sine (`models/generate_analytic.py`, `amplitude=0.5`).
const VOICE_AMPLITUDE: f64 = 0.5;
const SEMITONES: f32 = 7.0;
const TOGGLE_EVERY: usize = (0.025 * RATE) as usize;
/// Bypass's cross-fade (`BYPASS_FADE_SECONDS` in the plugin), with a sample to spare.
const RAMP: usize = (0.01 * RATE) as usize + 1;
/// From here on the voice has taken over from the fallback it starts with.
const SETTLED: usize = (1.0 * RATE) as usize;

#[test]
fn bypass_toggled_every_25_ms_ramps_keeps_the_latency_and_plays_the_delayed_input() {
    let voice = VoiceSelection {
        synthesizer: Some(analytic("analytic_synth_v2_40k.onnx")),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    };
    let mut host = offline_host_with_voice(&voice, &[("pitch", SEMITONES)]);
    host.select_layout(1).unwrap();
    host.activate(AudioConfig::new(RATE, MAX_FRAMES as u32)).unwrap();
    let latency = host.latency().unwrap() as usize;
    let bypass = host.param(ids::BYPASS.0).unwrap();

    let len = (4.0 * RATE) as usize;
    let input: Vec<f32> = (0..len)
        .map(|n| (TONE_AMPLITUDE * (2.0 * std::f64::consts::PI * TONE_HZ * n as f64 / RATE).sin()) as f32)
        .collect();
    let mut output = vec![0.0f32; len];
    let mut scratch = vec![0.0f32; MAX_FRAMES];
    // Where each toggle took effect (the first sample of the call it was sent with), and to what.
    let mut toggles: Vec<(usize, bool)> = Vec::new();
    let (mut start, mut bypassed, mut next_toggle) = (0, false, SETTLED);
    let mut blocks = RandomBlocks::new(77, MAX_FRAMES);
    while start < len {
        let n = blocks.next().unwrap().min(len - start);
        if start >= next_toggle {
            bypassed = !bypassed;
            host.set_param(&bypass, if bypassed { 1.0 } else { 0.0 }).unwrap();
            toggles.push((start, bypassed));
            next_toggle = start + TOGGLE_EVERY;
        }
        host.process(&[&input[start..start + n]], &mut [&mut scratch[..n]]).unwrap();
        output[start..start + n].copy_from_slice(&scratch[..n]);
        start += n;
    }
    assert!(toggles.len() >= 100, "{} toggles", toggles.len());
    assert_eq!(host.latency().unwrap() as usize, latency, "the reported latency moved");
    assert!(output.iter().all(|v| v.is_finite()));

    // No click: the steepest step between samples is what a sine of either signal does, plus
    // what a 10 ms ramp between them adds, with room for SOLA's crossfades.
    let voice_hz = TONE_HZ * 2f64.powf(f64::from(SEMITONES) / 12.0);
    let tone_step = 2.0 * std::f64::consts::PI * TONE_HZ * TONE_AMPLITUDE / RATE;
    let voice_step = 2.0 * std::f64::consts::PI * voice_hz * VOICE_AMPLITUDE / RATE;
    let ramp_step = (TONE_AMPLITUDE + VOICE_AMPLITUDE) / RAMP as f64;
    let allowed = 1.5 * (tone_step.max(voice_step) + ramp_step);
    let (worst, at) = output[SETTLED..]
        .windows(2)
        .enumerate()
        .map(|(i, w)| (f64::from((w[1] - w[0]).abs()), SETTLED + i))
        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
    eprintln!("{} toggles; steepest step {worst:.4} (a ramp allows {allowed:.4})", toggles.len());
    assert!(worst <= allowed, "a step of {worst:.4} at sample {at}; at most {allowed:.4} is a ramp, more a click");

    // Each stretch once its ramp is over: bypassed, exactly the input delayed by the latency;
    // converted, the voice (far from that input).
    let ends = toggles.iter().skip(1).map(|(at, _)| *at).chain([len]);
    let (mut bypassed_checked, mut converted_checked) = (0, 0);
    for (&(from, bypassed), to) in toggles.iter().zip(ends) {
        let stretch = from + RAMP..to;
        if stretch.is_empty() {
            continue;
        }
        let delayed = |n: usize| input[n - latency];
        if bypassed {
            let (error, n) = stretch
                .clone()
                .map(|n| ((output[n] - delayed(n)).abs(), n))
                .fold((0.0f32, 0), |a, b| if b.0 > a.0 { b } else { a });
            assert!(error <= EXACT, "bypassed from {from}: sample {n} is {error} off the delayed input");
            bypassed_checked += 1;
        } else {
            let power = |f: &dyn Fn(usize) -> f32| stretch.clone().map(|n| f64::from(f(n)).powi(2)).sum::<f64>();
            let difference = power(&|n| output[n] - delayed(n));
            assert!(
                difference > 0.1 * power(&delayed),
                "converted from {from}: the output is the delayed input, not the voice"
            );
            converted_checked += 1;
        }
    }
    assert!(bypassed_checked >= 40 && converted_checked >= 40, "{bypassed_checked} / {converted_checked} stretches");
}
