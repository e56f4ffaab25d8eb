//! Latency: what the plugin reports through the CLAP latency extension, and whether its output is
//! delayed by exactly that much, whatever buffer sizes the host uses.

use clack_extensions::tail::TailLength;
use clack_host::prelude::ProcessStatus;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rvc_live_hosts::analysis::{delay_by_cross_correlation, peak_index};
use rvc_live_hosts::blocks::{RandomBlocks, fixed};
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, offline_host, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::scenarios::dual_mono;
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, signals};

const MAX_FRAMES: u32 = 4096;

fn assert_reported_latency_matches_the_formula(sample_rate: f64) {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    host.activate(AudioConfig::new(sample_rate, MAX_FRAMES)).unwrap();
    let reported = host.latency().unwrap() as usize;
    let expected = ExpectedLatency::defaults(sample_rate, MAX_FRAMES);
    assert!(reported > 0);
    assert_eq!(reported, expected.total(), "at {sample_rate} Hz; the formula's terms: {expected:?}");
}

#[test]
fn reported_latency_matches_the_formula_at_44_1_khz() {
    assert_reported_latency_matches_the_formula(44_100.0);
}

#[test]
fn reported_latency_matches_the_formula_at_48_khz() {
    assert_reported_latency_matches_the_formula(48_000.0);
}

#[test]
fn reported_latency_matches_the_formula_at_96_khz() {
    assert_reported_latency_matches_the_formula(96_000.0);
}

#[test]
fn reported_latency_grows_by_exactly_the_growth_of_the_hosts_max_buffer() {
    let latency_at = |max_frames| {
        let mut host = PluginHost::load(&release_bundle()).unwrap();
        host.activate(AudioConfig::new(48_000.0, max_frames)).unwrap();
        host.latency().unwrap()
    };
    assert_eq!(latency_at(4096) - latency_at(64), 4096 - 64);
}

/// nice-plug can only publish the latency it computes in `activate` by asking the host to restart
/// the plugin once; a host that honours the request must then hear about the change, and must not
/// be asked again.
#[test]
fn first_activation_requests_one_restart_and_reactivation_announces_the_latency() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    let config = AudioConfig::new(48_000.0, 512);
    host.activate(config).unwrap();
    let first = host.latency().unwrap();
    assert_eq!(host.host_calls().restart_requests, 1, "{:?}", host.host_calls());
    assert_eq!(host.host_calls().latency_changed, 0);

    host.deactivate().unwrap();
    host.activate(config).unwrap();
    assert_eq!(host.host_calls().latency_changed, 1, "the restart must end in latency->changed()");
    assert_eq!(host.latency().unwrap(), first);

    host.deactivate().unwrap();
    host.activate(config).unwrap();
    let calls = host.host_calls();
    assert_eq!((calls.restart_requests, calls.latency_changed), (1, 1), "no restart loop: {calls:?}");
}

/// Converted audio is still queued after the input goes quiet: the plugin must keep being
/// processed (CLAP `CONTINUE`) and say how long its tail is.
#[test]
fn process_continues_and_reports_a_tail_of_one_latency() {
    let (mut host, latency) = offline_host(AudioConfig::new(48_000.0, 512));
    host.process_signal(&dual_mono(signals::silence(4096)), &mut fixed(512), Pace::Unpaced).unwrap();
    assert_eq!(host.last_status(), Some(ProcessStatus::Continue));
    assert_eq!(host.tail().unwrap(), TailLength::Finite(latency as u32));
}

/// Isolated impulses at seeded random positions, on both channels, in buffers whose size changes on
/// every call: every impulse must come out exactly `latency` samples later with its amplitude, and
/// nothing else may come out.
fn assert_impulses_land_one_latency_later(sample_rate: f64, seed: u64) {
    let (mut host, latency) = offline_host(AudioConfig::new(sample_rate, MAX_FRAMES));
    let len = (2.0 * sample_rate) as usize;
    let mut rng = SmallRng::seed_from_u64(seed);
    let spacing = len / 11;
    let positions: Vec<usize> = (1..=10).map(|k| k * spacing + rng.random_range(0..spacing / 2)).collect();
    // Followed by one latency of silence, as a DAW flushes a plugin at the end of an export.
    let x: Vec<f32> = signals::impulses(len, &positions).into_iter().chain(std::iter::repeat_n(0.0, latency)).collect();
    let output = host.process_signal(&dual_mono(x.clone()), &mut RandomBlocks::new(seed, 4096), Pace::Unpaced).unwrap();

    for channel in &output {
        let found: Vec<usize> = (0..channel.len()).filter(|&n| channel[n].abs() > 0.05).collect();
        let expected: Vec<usize> = positions.iter().map(|p| p + latency).collect();
        assert_eq!(found, expected, "impulse positions at {sample_rate} Hz, latency {latency}");
        assert_audio_eq(channel, &signals::shifted(&x, latency, x.len()), EXACT, "output vs input delayed");
    }
}

#[test]
fn offline_impulses_in_random_buffer_sizes_land_exactly_one_latency_later_at_44_1_khz() {
    assert_impulses_land_one_latency_later(44_100.0, 441);
}

#[test]
fn offline_impulses_in_random_buffer_sizes_land_exactly_one_latency_later_at_48_khz() {
    assert_impulses_land_one_latency_later(48_000.0, 480);
}

#[test]
fn offline_impulses_in_random_buffer_sizes_land_exactly_one_latency_later_at_96_khz() {
    assert_impulses_land_one_latency_later(96_000.0, 960);
}

/// A chirp in random buffer sizes: cross-correlation must peak at exactly the reported latency,
/// and the whole output must be the input delayed by it.
fn assert_chirp_is_delayed_by_the_latency(sample_rate: f64, seed: u64) {
    let (mut host, latency) = offline_host(AudioConfig::new(sample_rate, MAX_FRAMES));
    let chirp = signals::chirp((1.5 * sample_rate) as usize, sample_rate, 30.0, 0.45 * sample_rate, 0.8);
    let lead = (0.1 * sample_rate) as usize;
    let x: Vec<f32> = signals::delayed(&chirp, lead).into_iter().chain(std::iter::repeat_n(0.0, latency)).collect();
    let output = host.process_signal(&dual_mono(x.clone()), &mut RandomBlocks::new(seed, 4096), Pace::Unpaced).unwrap();

    for channel in &output {
        let measured = delay_by_cross_correlation(&x, channel, 2 * latency);
        assert_eq!(measured, latency, "cross-correlation peak at {sample_rate} Hz");
        assert_eq!(peak_index(channel, 0..channel.len()), peak_index(&x, 0..x.len()) + latency);
        assert_audio_eq(channel, &signals::shifted(&x, latency, x.len()), EXACT, "output vs input delayed");
    }
}

#[test]
fn offline_chirp_in_random_buffer_sizes_is_the_input_delayed_by_the_latency_at_44_1_khz() {
    assert_chirp_is_delayed_by_the_latency(44_100.0, 4410);
}

#[test]
fn offline_chirp_in_random_buffer_sizes_is_the_input_delayed_by_the_latency_at_48_khz() {
    assert_chirp_is_delayed_by_the_latency(48_000.0, 4800);
}

#[test]
fn offline_chirp_in_random_buffer_sizes_is_the_input_delayed_by_the_latency_at_96_khz() {
    assert_chirp_is_delayed_by_the_latency(96_000.0, 9600);
}

/// The extremes a plugin meets in the field: telephone-band and 192 kHz sessions, and hosts that
/// send anything from 1 to 8192 samples per call.
fn assert_exact_at_extremes(sample_rate: f64, seed: u64) {
    let (mut host, latency) = offline_host(AudioConfig::new(sample_rate, 8192));
    assert_eq!(latency, ExpectedLatency::defaults(sample_rate, 8192).total(), "at {sample_rate} Hz");
    let len = sample_rate as usize;
    let x: Vec<f32> = signals::chirp(len, sample_rate, 30.0, 0.45 * sample_rate, 0.8)
        .into_iter()
        .chain(std::iter::repeat_n(0.0, latency))
        .collect();
    let output = host.process_signal(&dual_mono(x.clone()), &mut RandomBlocks::new(seed, 8192), Pace::Unpaced).unwrap();
    for channel in &output {
        assert_audio_eq(channel, &signals::shifted(&x, latency, x.len()), EXACT, "output vs input delayed");
    }
}

#[test]
fn offline_output_is_exact_at_8_khz_with_buffers_up_to_8192() {
    assert_exact_at_extremes(8_000.0, 8);
}

#[test]
fn offline_output_is_exact_at_192_khz_with_buffers_up_to_8192() {
    assert_exact_at_extremes(192_000.0, 192);
}
