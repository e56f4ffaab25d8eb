//! Real time: calls paced at the audio rate, as an audio interface drives a DAW. The inference
//! thread must keep up, and when it does not (a stall injected through the plugin's test hook),
//! the output must fall back to the dry signal without a click or a slip, and come back.
//!
//! No voice is loaded, so the stream's blocks carry no converted audio (weight 0) and what plays
//! is each channel's own dry input, delayed by the latency, whether the inference thread keeps up
//! or not: the audio must be exactly that throughout, and the plugin's stop line says whether the
//! thread kept up (underruns, samples from the fallback). The converted path's timing is proved
//! offline with the analytic voice (clap_voice.rs, clap_audio.rs).

use std::path::PathBuf;
use std::time::Duration;

use rvc_live_hosts::analysis::{PathReport, max_step};
use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, release_bundle};
use rvc_live_hosts::scenarios::{Paced, ScenarioReport};
use rvc_live_hosts::state::StreamSettings;
use rvc_live_hosts::subprocess::{self, ChildRun, StopLog};
use rvc_live_hosts::{signals, wav};

/// The plugin's default block, in seconds: whole 10 ms frames.
fn default_block_seconds() -> f64 {
    (f64::from(StreamSettings::default().block_ms) / 10.0).round() / 100.0
}

fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"))
}

/// The paced left-only scenario for `seconds` in a child process (so its log can be read), with
/// `env` for the plugin's test hooks. Returns the run, its report, its output and its one stop line.
fn paced_in_child(
    seconds: u32,
    env: &[(&str, &str)],
    name: &str,
) -> (ChildRun, ScenarioReport, Vec<Vec<f32>>, StopLog) {
    let dump = std::env::temp_dir().join(format!("rvc-live-{name}-{}.wav", std::process::id()));
    let plugin = release_bundle();
    let seconds_text = seconds.to_string();
    let run = subprocess::run(
        &host_binary(),
        &[
            "scenario",
            "paced-left-only",
            "--plugin",
            plugin.to_str().unwrap(),
            "--seconds",
            &seconds_text,
            "--dump",
            dump.to_str().unwrap(),
        ],
        env,
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(run.status.success(), "{}", run.describe());
    let report = run.report().unwrap();
    let output = wav::read(&dump).unwrap().channels;
    std::fs::remove_file(&dump).unwrap();
    let stops = StopLog::parse_all(&run.stderr);
    assert_eq!(stops.len(), 1, "one stop line expected:\n{}", run.stderr);
    let stop = stops[0];
    (run, report, output, stop)
}

/// With no voice, every sample is the dry signal: the left input on the left, silence on the right
/// (a mono downmix would put half the left on both), exactly one latency late.
fn assert_dry_throughout(output: &[Vec<f32>], shifted: &[f32], paths: &PathReport, what: &str) {
    assert!(paths.judged > shifted.len() / 3, "{what}: too little audio judged: {paths:?}");
    assert_eq!(paths.fallback, paths.judged, "{what}: no voice, yet not all dry: {paths:?}");
    assert!(paths.max_alignment_error <= EXACT, "{what}: {paths:?}");
    assert!(paths.max_weight_excess <= EXACT, "{what}: {paths:?}");
    assert_audio_eq(&output[0], shifted, EXACT, &format!("{what}, left"));
    assert_audio_eq(&output[1], &signals::silence(shifted.len()), EXACT, &format!("{what}, right"));
    for channel in output {
        assert!(max_step(channel) <= max_step(shifted) + 1e-6, "{what}: click of {}", max_step(channel));
    }
}

#[test]
fn paced_realtime_calls_keep_up_and_play_each_channel_in_time() {
    let paced = Paced::default_for(3.0);
    let (run, report, output, stop) = paced_in_child(3, &[], "paced");
    let latency = report.latency as usize;
    let x = paced.input_signal();
    let shifted = signals::shifted(&x, latency, x.len());
    let paths = PathReport::new(&output[0], &output[1], &shifted, 0..x.len());
    assert_dry_throughout(&output, &shifted, &paths, "paced");

    // The inference thread ran every block in time: 3 s of default blocks (less the first
    // latency and a block's slack), none late.
    let blocks = (3.0 / default_block_seconds() * 0.8) as u64;
    assert!(stop.blocks >= blocks, "the stream ran only {} of {blocks} blocks:\n{}", stop.blocks, run.describe());
    // (`fallback_samples` cannot say: it counts every slot of weight below 1, and with no voice
    // that is every sample after the first latency.)
    assert_eq!(stop.underruns, 0, "the worker fell behind: {stop:?}");
    assert_eq!(stop.overflows, 0, "{stop:?}");
}

/// Blocks 5 and 6 each take two blocks' time longer than the one block the latency budgets for
/// them (by default): a stall that leaves the input queue (four blocks) room, so nothing is
/// dropped on the way in. The plugin must count an underrun and no overflow, and the audio must
/// not show it: the fallback is the same dry signal, so no click and no slip anywhere.
#[test]
fn a_stalled_inference_thread_falls_back_to_dry_audio_without_clicks_or_slips() {
    let paced = Paced::default_for(4.0);
    let stall_ms = (2000.0 * default_block_seconds()).round();
    let stall = format!("5:2:{stall_ms}");
    let (run, report, output, stop) = paced_in_child(4, &[("RVC_LIVE_TEST_WORKER_STALL", &stall)], "underrun");
    let latency = report.latency as usize;
    let x = paced.input_signal();
    let shifted = signals::shifted(&x, latency, x.len());
    let paths = PathReport::new(&output[0], &output[1], &shifted, 0..x.len());
    assert_dry_throughout(&output, &shifted, &paths, "stalled");

    assert!(stop.max_ms >= stall_ms, "the injected stall did not happen: {stop:?}");
    assert!(stop.underruns >= 1, "the stall went unnoticed: {stop:?}\n{}", run.describe());
    assert_eq!(stop.overflows, 0, "the stall fits the input queue, no restart: {stop:?}");
    assert!(stop.fallback_samples > 0, "{stop:?}");
}
