//! Real time: calls paced at the audio rate, as an audio interface drives a DAW. The inference
//! thread must keep up, and when it does not (a stall injected through the plugin's test hook),
//! the output must fall back to the dry signal without a click or a slip, and come back.

use std::path::PathBuf;
use std::time::Duration;

use rvc_live_hosts::analysis::{PathReport, max_step};
use rvc_live_hosts::fixtures::{EXACT, release_bundle};
use rvc_live_hosts::scenarios::{self, Paced};
use rvc_live_hosts::subprocess::{self, StopLog};
use rvc_live_hosts::{signals, wav};

/// The stream block at 48 kHz with the default 120 ms blocks.
const BLOCK: usize = 5760;
/// The fallback fade at 48 kHz (5 ms).
const FADE: usize = 240;
/// What the block processor holds back for SOLA and its crossfade at 48 kHz (40 + 10 ms): the
/// converted output of block `k` carries the input from `k * BLOCK - HOLDBACK` on.
const HOLDBACK: usize = 2400;

fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"))
}

/// The largest step the output may make: the sine's own, plus what a fade between the two paths
/// adds per sample (half the amplitude over the fade).
fn allowed_step(shifted: &[f32], paced: &Paced) -> f32 {
    max_step(shifted) + paced.amplitude / 2.0 / FADE as f32 + 1e-4
}

#[test]
fn paced_realtime_calls_get_converted_audio_with_no_fallback() {
    let paced = Paced::default_for(3.0);
    let (report, output) = scenarios::paced_left_only(&release_bundle(), paced).unwrap();
    let latency = report.latency as usize;
    let x = paced.input_signal();
    let shifted = signals::shifted(&x, latency, x.len());

    // Before `latency` both paths are silent; every judged sample comes after it.
    let paths = report.paths.unwrap();
    assert!(paths.judged > x.len() / 3, "too little audio judged: {paths:?}");
    assert_eq!(paths.converted, paths.judged, "fallback audio while the worker should keep up: {paths:?}");
    assert!(paths.max_alignment_error <= EXACT, "{paths:?}");
    assert!(paths.max_weight_excess <= EXACT, "{paths:?}");
    for channel in &output {
        assert!(max_step(channel) <= allowed_step(&shifted, &paced), "click of {}", max_step(channel));
    }
}

/// Blocks 5 and 6 each take 240 ms longer than the 120 ms the latency budgets for them: a stall
/// that leaves the input queue (four blocks) room, so nothing is dropped on the way in. The
/// stall must show up as a stretch of dry fallback where those blocks play, faded in and out, with
/// both paths aligned throughout, converted audio afterwards, and an underrun in the plugin's log.
#[test]
fn a_stalled_inference_thread_falls_back_to_dry_audio_without_clicks_or_slips() {
    let paced = Paced::default_for(4.0);
    let dump = std::env::temp_dir().join(format!("rvc-live-underrun-{}.wav", std::process::id()));
    let plugin = release_bundle();
    let run = subprocess::run(
        &host_binary(),
        &[
            "scenario",
            "paced-left-only",
            "--plugin",
            plugin.to_str().unwrap(),
            "--seconds",
            "4",
            "--dump",
            dump.to_str().unwrap(),
        ],
        &[("RVC_LIVE_TEST_WORKER_STALL", "5:2:240")],
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(run.status.success(), "{}", run.describe());
    let report = run.report().unwrap();
    let output = wav::read(&dump).unwrap().channels;
    std::fs::remove_file(&dump).unwrap();

    let latency = report.latency as usize;
    let x = paced.input_signal();
    let shifted = signals::shifted(&x, latency, x.len());
    let paths = PathReport::new(&output[0], &output[1], &shifted, 0..x.len());

    assert!(paths.max_alignment_error <= EXACT, "the two paths slipped apart: {paths:?}");
    assert!(paths.max_weight_excess <= EXACT, "a sample outside the mix of the two paths: {paths:?}");
    assert!(paths.fallback > 0, "no pure fallback anywhere: {paths:?}\n{}", run.describe());
    let (first, last) = (paths.first_not_converted.unwrap(), paths.last_not_converted.unwrap());
    // Block 5's output plays from slot 5 * BLOCK - HOLDBACK + latency at the earliest; the call
    // that finds it missing fades out over 5 ms from its own start. By the time block 9 plays, the
    // thread has long caught up.
    let stalled_from = 5 * BLOCK - HOLDBACK + latency;
    assert!(first + paced.block + FADE >= stalled_from, "fallback at {first}, before the stalled blocks play");
    assert!(last < 9 * BLOCK + latency, "fallback until {last}, long after the stall");
    let after = PathReport::new(&output[0], &output[1], &shifted, last + 1..x.len());
    assert!(after.judged > 0 && after.converted == after.judged, "converted audio must come back: {after:?}");
    for channel in &output {
        assert!(max_step(channel) <= allowed_step(&shifted, &paced), "click of {}", max_step(channel));
    }

    let stops = StopLog::parse_all(&run.stderr);
    assert_eq!(stops.len(), 1, "one stop line expected:\n{}", run.stderr);
    assert!(stops[0].underruns >= 1, "{:?}", stops[0]);
    assert_eq!(stops[0].overflows, 0, "the stall fits the input queue, no restart: {:?}", stops[0]);
    assert!(stops[0].fallback_samples > 0);
}
