//! The CLAP render mode: offline, the plugin may wait for its inference thread (but only as long as
//! a block takes); in real time it never waits and covers late audio with the dry fallback.

use std::time::{Duration, Instant};

use rvc_live_hosts::analysis::{PathReport, max_step};
use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fixtures::{EXACT, offline_host, release_bundle};
use rvc_live_hosts::scenarios::{Paced, left_only};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, RenderMode, signals};

/// The plugin gives up waiting after 2 s and plays the fallback. A call that comes near that
/// waited for something that was never going to arrive; converting one block here takes far less.
const LONGEST_ACCEPTABLE_OFFLINE_CALL: Duration = Duration::from_millis(500);

#[test]
fn offline_calls_only_wait_for_conversion_never_for_the_give_up_timeout() {
    let (mut host, latency) = offline_host(AudioConfig::new(48_000.0, 4096));
    let x = signals::noise(96_000 + latency, 70, 0.5);
    let started = Instant::now();
    host.process_signal(&left_only(x), &mut RandomBlocks::new(70, 4096), Pace::Unpaced).unwrap();
    host.reset().unwrap();
    host.process_signal(&left_only(signals::noise(48_000, 71, 0.5)), &mut RandomBlocks::new(71, 4096), Pace::Unpaced)
        .unwrap();
    assert!(
        host.longest_process_call() < LONGEST_ACCEPTABLE_OFFLINE_CALL,
        "a process call blocked for {:?} ({} calls, {:?} in all)",
        host.longest_process_call(),
        host.process_calls(),
        started.elapsed()
    );
}

/// A real-time host that runs faster than real time (it should not, but some do while
/// pre-rolling) gets the dry fallback for what is not converted yet: never a wait, never a slip.
#[test]
fn unpaced_realtime_calls_never_wait_and_get_the_aligned_dry_fallback() {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    host.set_render_mode(RenderMode::Realtime).unwrap();
    host.activate(AudioConfig::new(48_000.0, 512)).unwrap();
    let latency = host.latency().unwrap() as usize;
    let paced = Paced::default_for(3.0);
    let x = paced.input_signal();
    let output = host.process_signal(&left_only(x.clone()), &mut RandomBlocks::new(72, 512), Pace::Unpaced).unwrap();

    let shifted = signals::shifted(&x, latency, x.len());
    let paths = PathReport::new(&output[0], &output[1], &shifted, 0..x.len());
    assert!(
        paths.fallback > 0,
        "far ahead of real time, a plugin that does not wait must play some fallback: {paths:?}"
    );
    assert!(paths.max_alignment_error <= EXACT, "converted and fallback audio slipped apart: {paths:?}");
    assert!(paths.max_weight_excess <= EXACT, "the mix left the range between the two paths: {paths:?}");
    assert!(
        host.longest_process_call() < Duration::from_millis(50),
        "a real-time call waited: {:?}",
        host.longest_process_call()
    );
    // A fade between the paths adds at most half the amplitude over the 5 ms fade per sample.
    let allowed = max_step(&shifted) + paced.amplitude / 2.0 / 240.0 + 1e-4;
    for channel in &output {
        assert!(max_step(channel) <= allowed, "a click of {} (allowed {allowed})", max_step(channel));
    }
}
