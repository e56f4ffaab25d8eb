//! What comes out for what goes in: channel layouts, the converted path against the dry path, and
//! the parameters that mix them. All offline, so every sample has one exact expected value.

use rvc_live_engine::ConversionControls;
use rvc_live_hosts::analysis::{all_finite, max_step};
use rvc_live_hosts::blocks::{RandomBlocks, fixed};
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, offline_host, release_bundle, scaled};
use rvc_live_hosts::params::ids;
use rvc_live_hosts::scenarios::{left_only, with_noise_right};
use rvc_live_hosts::state::{NiceState, VoiceSelection};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

const SAMPLE_RATE: f64 = 48_000.0;

fn config() -> AudioConfig {
    AudioConfig::new(SAMPLE_RATE, 1024)
}

/// Seeded noise followed by one latency of silence, so everything fed in also comes out.
fn noise_with_tail(seconds: f64, seed: u64, latency: usize) -> Vec<f32> {
    let x = signals::noise((seconds * SAMPLE_RATE) as usize, seed, 0.5);
    x.into_iter().chain(std::iter::repeat_n(0.0, latency)).collect()
}

/// An offline instance whose parameters were set before activation, so no smoother is still
/// moving when audio starts and every output sample has an exact expected value.
fn offline_host_with(settings: &[((&str, &str), &str)]) -> (PluginHost, usize) {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    for &(param, text) in settings {
        let p = host.param(param.0).unwrap();
        let value = host.param_text_to_value(&p, text).unwrap();
        host.set_param(&p, value).unwrap();
    }
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(config()).unwrap();
    let latency = host.latency().unwrap() as usize;
    (host, latency)
}

/// The plain value a float parameter has, as the plugin itself stores it in its state.
fn plain_value(host: &mut PluginHost, id: &str) -> f32 {
    NiceState::decode(&host.save_state().unwrap()).unwrap().f32_param(id).unwrap()
}

#[test]
fn parameters_are_exposed_under_their_nice_plug_ids_and_names() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    assert_eq!(host.params().unwrap().len(), ids::ALL.len());
    for (id, name) in ids::ALL {
        let p = host.param(id).unwrap();
        assert_eq!(p.name, name, "parameter {id}");
        assert!(p.automatable, "{name} is automatable");
        let default_text = host.param_value_to_text(&p, p.default).unwrap();
        let expected = match id {
            "input_gain" | "output_gain" => "0.0 dB",
            "dry_wet" => "100 %",
            "pitch" => "0.00 st",
            "formant" => "0.00 st",
            "gate" => "-70.0 dB",
            "envelope" => "100 %",
            "index_rate" => &format!("{:.0} %", ConversionControls::DEFAULT_INDEX_RATE * 100.0),
            "protect" => &format!("{:.2}", ConversionControls::DEFAULT_PROTECT),
            "bypass" => "Off",
            "voice_slot" => "1 · empty",
            _ => unreachable!(),
        };
        assert_eq!(default_text, expected, "default of {name}");
    }
    assert!(host.param(ids::BYPASS.0).unwrap().bypass, "bypass is flagged as the host's bypass");
}

#[test]
fn mono_layout_delays_its_single_channel_by_the_reported_latency() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    let layouts = host.layouts().unwrap();
    assert_eq!(layouts.iter().map(|&(_, i, o)| (i, o)).collect::<Vec<_>>(), [(2, 2), (1, 1)], "stereo first");
    host.select_layout(1).unwrap();
    assert_eq!((host.input_channels(), host.output_channels()), (1, 1));
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(config()).unwrap();
    let latency = host.latency().unwrap() as usize;

    let x = noise_with_tail(1.0, 21, latency);
    let output =
        host.process_signal(std::slice::from_ref(&x), &mut RandomBlocks::new(21, 1024), Pace::Unpaced).unwrap();
    assert_eq!(output.len(), 1);
    assert_audio_eq(&output[0], &signals::shifted(&x, latency, x.len()), EXACT, "mono output");
}

/// Each channel of `input` delayed by `latency`: what plays where nothing converts.
fn shifted_channels(input: &[Vec<f32>], latency: usize) -> Vec<Vec<f32>> {
    input.iter().map(|c| signals::shifted(c, latency, c.len())).collect()
}

fn assert_channels_eq(output: &[Vec<f32>], expected: &[Vec<f32>], what: &str) {
    assert_eq!(output.len(), expected.len(), "{what}: channel count");
    for ((actual, expected), name) in output.iter().zip(expected).zip(["left", "right"]) {
        assert_audio_eq(actual, expected, EXACT, &format!("{what}, {name}"));
    }
}

/// With no voice nothing converts: each channel plays its own input, delayed by the latency, so
/// uncorrelated stereo stays stereo (a mono downmix would be off by about the signal itself).
#[test]
fn with_no_voice_each_channel_comes_out_as_it_went_in_delayed_by_the_latency() {
    let (mut host, latency) = offline_host(config());
    let input = with_noise_right(noise_with_tail(1.5, 22, latency), 122);
    let output = host.process_signal(&input, &mut RandomBlocks::new(22, 1024), Pace::Unpaced).unwrap();
    assert_channels_eq(&output, &shifted_channels(&input, latency), "no voice");
}

/// Dry/wet at 0 plays the dry path: each channel on its own, delayed by the same latency.
#[test]
fn dry_wet_at_zero_plays_each_channel_delayed_by_the_latency() {
    let (mut host, latency) = offline_host_with(&[(ids::DRY_WET, "0")]);
    let input = with_noise_right(noise_with_tail(1.0, 23, latency), 123);
    let output = host.process_signal(&input, &mut RandomBlocks::new(23, 1024), Pace::Unpaced).unwrap();
    assert_channels_eq(&output, &shifted_channels(&input, latency), "dry/wet 0");
}

/// Bypass also plays the dry path, and ignores the output gain: toggling it never shifts timing
/// or level.
#[test]
fn bypass_plays_each_channel_delayed_by_the_latency_ignoring_gain() {
    let (mut host, latency) = offline_host_with(&[(ids::BYPASS, "On"), (ids::OUTPUT_GAIN, "-12")]);
    let input = with_noise_right(noise_with_tail(1.0, 24, latency), 124);
    let output = host.process_signal(&input, &mut RandomBlocks::new(24, 1024), Pace::Unpaced).unwrap();
    assert_channels_eq(&output, &shifted_channels(&input, latency), "bypass");
}

/// Output gain scales whatever plays, the dry input included: with no voice, each channel is its
/// own input, delayed and scaled by exactly the gain.
#[test]
fn output_gain_of_minus_6_db_scales_each_channel() {
    let (mut host, latency) = offline_host_with(&[(ids::OUTPUT_GAIN, "-6")]);
    let gain = plain_value(&mut host, ids::OUTPUT_GAIN.0);
    assert!((gain - 0.501_187).abs() < 1e-4, "-6 dB is a gain of {gain}");
    let input = with_noise_right(noise_with_tail(1.0, 25, latency), 125);
    let output = host.process_signal(&input, &mut RandomBlocks::new(25, 1024), Pace::Unpaced).unwrap();
    let expected: Vec<Vec<f32>> = shifted_channels(&input, latency).iter().map(|c| scaled(c, gain)).collect();
    assert_channels_eq(&output, &expected, "output gain -6 dB");
}

/// Input gain is what the voice model hears. With no voice nothing converts, so at any dry/wet the
/// output is each channel's dry input, delayed and unscaled.
#[test]
fn input_gain_leaves_the_dry_signal_alone() {
    let (mut wet_host, latency) = offline_host_with(&[(ids::INPUT_GAIN, "6")]);
    let gain = plain_value(&mut wet_host, ids::INPUT_GAIN.0);
    assert!((gain - 1.995_262).abs() < 1e-3, "+6 dB is a gain of {gain}");
    let input = with_noise_right(noise_with_tail(1.0, 26, latency), 126);
    let expected = shifted_channels(&input, latency);
    let wet = wet_host.process_signal(&input, &mut RandomBlocks::new(26, 1024), Pace::Unpaced).unwrap();
    assert_channels_eq(&wet, &expected, "input gain +6 dB, dry/wet 100, no voice");

    let (mut dry_host, _) = offline_host_with(&[(ids::INPUT_GAIN, "6"), (ids::DRY_WET, "0")]);
    let dry = dry_host.process_signal(&input, &mut RandomBlocks::new(27, 1024), Pace::Unpaced).unwrap();
    assert_channels_eq(&dry, &expected, "input gain +6 dB, dry/wet 0");
}

/// A host automating dry/wet while audio runs: the change arrives as a CLAP parameter event, is
/// smoothed (no step larger than the signals themselves make plus the glide), and settles on the
/// dry signal. With no voice both sides of the mix are the dry input, so this runs with the
/// analytic voice (a sine of amplitude 0.5 at the input's pitch, on both channels) to have a wet
/// side to glide from.
#[test]
fn dry_wet_automation_while_processing_glides_to_the_dry_signal() {
    let model = rvc_live_hosts::voice_swaps::analytic_model;
    let voice = VoiceSelection {
        synthesizer: Some(model("analytic_synth_v2_40k.onnx")),
        content_encoder: Some(model("analytic_content_units.onnx")),
        ..Default::default()
    };
    for path in [voice.synthesizer.as_ref().unwrap(), voice.content_encoder.as_ref().unwrap()] {
        assert!(path.is_file(), "{} is missing: run `cargo xtask models`", path.display());
    }
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
    state.set_voice(&voice);
    host.load_state(&state.encode()).unwrap();
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(config()).unwrap();
    let latency = host.latency().unwrap() as usize;

    let sine = signals::sine((2.0 * SAMPLE_RATE) as usize, SAMPLE_RATE, 233.0, 0.5);
    let input = left_only(sine.clone());
    let half = sine.len() / 2;
    let first =
        host.process_signal(&[input[0][..half].to_vec(), input[1][..half].to_vec()], &mut fixed(256), Pace::Unpaced);
    let dry_wet = host.param(ids::DRY_WET.0).unwrap();
    host.set_param(&dry_wet, 0.0).unwrap();
    let second =
        host.process_signal(&[input[0][half..].to_vec(), input[1][half..].to_vec()], &mut fixed(256), Pace::Unpaced);
    let output: Vec<Vec<f32>> = first.unwrap().into_iter().zip(second.unwrap()).map(|(a, b)| [a, b].concat()).collect();

    assert_eq!(host.param_value(&dry_wet).unwrap(), 0.0, "the plugin took the host's value");
    let shifted = signals::shifted(&sine, latency, sine.len());
    // Before the change the voice plays on both channels: the right, silent at the input, sings.
    let before = half - (0.2 * SAMPLE_RATE) as usize..half;
    let voice_peak = output[1][before].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((voice_peak / 0.5 - 1.0).abs() < 0.03, "the analytic voice plays at {voice_peak} before the change");
    // Around the glide: the sines' own largest step (the voice sings the input's pitch, give it
    // 5 %), plus what a 20 ms glide between two signals at most 1.0 apart adds.
    let allowed = 1.05 * max_step(&shifted) + 1.0 / (0.020 * SAMPLE_RATE as f32) + 1e-4;
    let glide = half - (0.1 * SAMPLE_RATE) as usize..half + (0.1 * SAMPLE_RATE) as usize;
    for (channel, name) in output.iter().zip(["left", "right"]) {
        let step = max_step(&channel[glide.clone()]);
        assert!(step <= allowed, "{name} jumps by {step} > {allowed}");
    }
    let settled = half + (0.05 * SAMPLE_RATE) as usize;
    assert_audio_eq(&output[0][settled..], &shifted[settled..], EXACT, "left after the glide");
    assert_audio_eq(&output[1][settled..], &signals::silence(sine.len() - settled), EXACT, "right after the glide");
}

#[test]
fn non_finite_input_never_produces_non_finite_output() {
    let (mut host, latency) = offline_host(config());
    let mut x = noise_with_tail(1.0, 28, latency);
    let garbage = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
    for (i, v) in x.iter_mut().step_by(101).enumerate() {
        *v = garbage[i % garbage.len()];
    }
    let mut right = signals::noise(x.len(), 29, 0.5);
    right[1000..1100].fill(f32::NAN);
    let output = host.process_signal(&[x, right], &mut RandomBlocks::new(28, 1024), Pace::Unpaced).unwrap();
    assert!(all_finite(&output), "the plugin let NaN or infinity through");
}
