//! Where nothing converts, stereo stays stereo: with no voice, in bypass and at dry/wet 0 %, each
//! output channel is its own input channel delayed by exactly the reported latency. The input's
//! channels are uncorrelated noise, so a mono downmix (or a swapped channel) is off by about the
//! signal itself.

use rvc_live_test_support::models::analytic;

use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, release_bundle};
use rvc_live_hosts::params::ids;
use rvc_live_hosts::state::{NiceState, VoiceSelection};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

const RATE: f64 = 48_000.0;
const MAX_FRAMES: u32 = 1024;

/// The analytic voice: it sings a sine at the tracked pitch, nothing like the noise going in.
fn analytic_voice() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic("analytic_synth_v2_40k.onnx")),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// Play uncorrelated stereo noise through an offline instance with `voice` chosen and `settings`
/// made before activation (so no smoother is moving), and check each channel against its own
/// input delayed by the reported latency.
fn each_channel_passes_through(what: &str, voice: Option<VoiceSelection>, settings: &[((&str, &str), &str)]) {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    if let Some(voice) = &voice {
        let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
        state.set_voice(voice);
        host.load_state(&state.encode()).unwrap();
    }
    host.select_layout(2).unwrap();
    for &(param, text) in settings {
        let p = host.param(param.0).unwrap();
        let value = host.param_text_to_value(&p, text).unwrap();
        host.set_param(&p, value).unwrap();
    }
    host.set_render_mode(RenderMode::Offline).unwrap();
    host.activate(AudioConfig::new(RATE, MAX_FRAMES)).unwrap();
    let latency = host.latency().unwrap() as usize;

    let len = (1.5 * RATE) as usize + latency;
    let input = vec![signals::noise(len, 41, 0.5), signals::noise(len, 42, 0.5)];
    let output = host.process_signal(&input, &mut RandomBlocks::new(43, MAX_FRAMES as usize), Pace::Unpaced).unwrap();
    host.deactivate().unwrap();

    for (c, (out, x)) in output.iter().zip(&input).enumerate() {
        assert!(out.iter().all(|v| v.is_finite()), "{what}: channel {c} is not finite");
        let expected = signals::shifted(x, latency, len);
        let mono = signals::shifted(&signals::mono_mix(&input), latency, len);
        let (mut worst, mut at) = (0.0f32, latency);
        for n in latency..len {
            let error = (out[n] - expected[n]).abs();
            if error > worst || error.is_nan() {
                (worst, at) = (error, n);
            }
        }
        let downmix = (latency..len).all(|n| (out[n] - mono[n]).abs() <= EXACT);
        assert!(
            worst <= EXACT,
            "{what}: channel {c} at sample {at} is {} where its input delayed by {latency} is {} (error {worst}){}",
            out[at],
            expected[at],
            if downmix { "; the output is the mono downmix" } else { "" }
        );
    }
}

#[test]
fn with_no_voice_each_channel_passes_through_delayed_by_the_latency() {
    each_channel_passes_through("no voice", None, &[]);
}

#[test]
fn in_bypass_with_no_voice_each_channel_passes_through_delayed_by_the_latency() {
    each_channel_passes_through("bypass, no voice", None, &[(ids::BYPASS, "On")]);
}

#[test]
fn in_bypass_with_a_voice_each_channel_passes_through_delayed_by_the_latency() {
    each_channel_passes_through("bypass, analytic voice", Some(analytic_voice()), &[(ids::BYPASS, "On")]);
}

#[test]
fn at_dry_wet_0_with_no_voice_each_channel_passes_through_delayed_by_the_latency() {
    each_channel_passes_through("dry/wet 0 %, no voice", None, &[(ids::DRY_WET, "0")]);
}

#[test]
fn at_dry_wet_0_with_a_voice_each_channel_passes_through_delayed_by_the_latency() {
    each_channel_passes_through("dry/wet 0 %, analytic voice", Some(analytic_voice()), &[(ids::DRY_WET, "0")]);
}
