//! The lifecycle a DAW puts a plugin through: transport jumps (reset), deactivation and
//! re-activation, sample-rate changes. Offline, so the audio has exact expectations throughout.

use rvc_live_hosts::analysis::all_finite;
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, offline_host, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::scenarios::{left_only, with_noise_right};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

const MAX_FRAMES: u32 = 2048;

/// Uncorrelated stereo noise followed by one latency of silence, and what the plugin with no voice
/// must make of it: each channel on its own, one latency later.
fn noise_and_expected(sample_rate: f64, seconds: f64, seed: u64, latency: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let x: Vec<f32> = signals::noise((seconds * sample_rate) as usize, seed, 0.5)
        .into_iter()
        .chain(std::iter::repeat_n(0.0, latency))
        .collect();
    let mut input = with_noise_right(x, seed + 1000);
    let len = input[0].len();
    input[1][len - latency..].fill(0.0);
    let expected = input.iter().map(|c| signals::shifted(c, latency, len)).collect();
    (input, expected)
}

/// After a reset the plugin may play a transition for up to one latency plus its 5 ms fallback
/// fade (the old stream is gone and the restarted one is not there yet); from then on the output
/// must again be exactly the input since the reset, delayed by the latency.
#[test]
fn reset_mid_stream_returns_to_exact_output_within_one_latency() {
    let sample_rate = 48_000.0;
    let (mut host, latency) = offline_host(AudioConfig::new(sample_rate, MAX_FRAMES));
    let mut blocks = RandomBlocks::new(41, MAX_FRAMES as usize);
    let before = with_noise_right(signals::noise(48_000, 41, 0.5), 141);
    let out = host.process_signal(&before, &mut blocks, Pace::Unpaced).unwrap();
    for ((channel, input), name) in out.iter().zip(&before).zip(["left", "right"]) {
        let expected_before = signals::shifted(input, latency, input.len());
        assert_audio_eq(channel, &expected_before, EXACT, &format!("{name} before the reset"));
    }

    host.reset().unwrap();
    let (after, expected_after) = noise_and_expected(sample_rate, 1.5, 42, latency);
    let out = host.process_signal(&after, &mut blocks, Pace::Unpaced).unwrap();
    assert!(all_finite(&out));
    let transition = latency + (0.005 * sample_rate) as usize;
    let loudest = before.iter().chain(&after).flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    for ((channel, expected), name) in out.iter().zip(&expected_after).zip(["left", "right"]) {
        let peak = channel[..transition].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak <= loudest, "{name}: the transition reaches {peak}, louder than any input ({loudest})");
        assert_audio_eq(&channel[transition..], &expected[transition..], EXACT, name);
    }
}

/// One instance, re-activated at one rate after another: each activation reports its own latency
/// and delays by exactly that.
#[test]
fn reactivation_at_other_sample_rates_reports_and_applies_each_latency() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    host.set_render_mode(RenderMode::Offline).unwrap();
    for (i, sample_rate) in [48_000.0, 96_000.0, 44_100.0, 48_000.0].into_iter().enumerate() {
        host.activate(AudioConfig::new(sample_rate, MAX_FRAMES)).unwrap();
        let latency = host.latency().unwrap() as usize;
        assert_eq!(latency, ExpectedLatency::defaults(sample_rate, MAX_FRAMES).total(), "at {sample_rate} Hz");
        let (x, expected) = noise_and_expected(sample_rate, 0.8, 50 + i as u64, latency);
        let out = host.process_signal(&x, &mut RandomBlocks::new(i as u64, MAX_FRAMES as usize), Pace::Unpaced);
        for ((channel, expected), name) in out.unwrap().iter().zip(&expected).zip(["left", "right"]) {
            assert_audio_eq(channel, expected, EXACT, &format!("activation {i} at {sample_rate} Hz, {name}"));
        }
        host.deactivate().unwrap();
    }
}

/// Audio still queued inside the plugin when it is deactivated belongs to the old session; after
/// re-activation, silence in must give silence out.
#[test]
fn reactivation_starts_from_silence_not_from_the_previous_session() {
    let config = AudioConfig::new(48_000.0, MAX_FRAMES);
    let (mut host, latency) = offline_host(config);
    let loud = signals::noise(latency / 2 + 12_345, 60, 0.9);
    host.process_signal(&left_only(loud), &mut RandomBlocks::new(60, MAX_FRAMES as usize), Pace::Unpaced).unwrap();
    host.deactivate().unwrap();

    host.activate(config).unwrap();
    let out =
        host.process_signal(&left_only(signals::silence(3 * latency)), &mut RandomBlocks::new(61, 2048), Pace::Unpaced);
    for channel in out.unwrap() {
        assert_audio_eq(&channel, &signals::silence(3 * latency), 0.0, "after re-activation");
    }
}
