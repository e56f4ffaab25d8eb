//! Voices switched while audio runs (see `rvc_live_hosts::voice_swaps`): twenty switches between
//! two voices, a missing file and no voice, through the release bundle in-process and through the
//! allocation-checking bundle in a child process.

use std::path::PathBuf;
use std::time::Duration;

use rvc_live_hosts::fixtures::{alloc_check_bundle, release_bundle};
use rvc_live_hosts::subprocess;
use rvc_live_hosts::voice_swaps::{self, INPUT_AMPLITUDE, PLAN, RATE, TONE_HZ};

fn peak(signal: &[f32]) -> f32 {
    signal.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn twenty_voice_switches_play_without_a_gap_a_click_or_a_latency_change() {
    for name in ["analytic_synth_v2_40k.onnx", "analytic_synth_v2_40k_quiet.onnx", "analytic_content_units.onnx"] {
        let path = voice_swaps::analytic_model(name);
        assert!(path.is_file(), "{} is missing: run `cargo xtask models`", path.display());
    }
    let run = voice_swaps::run(&release_bundle(), Duration::from_millis(300)).unwrap();
    let latency = run.latency;
    assert_eq!(run.latency_after, latency, "the latency changed");
    let (before, after) = (run.host_calls_before, run.report.host_calls);
    assert_eq!(after.restart_requests, before.restart_requests, "a switch asked for a restart");
    assert_eq!(after.latency_changed, before.latency_changed, "a switch changed the latency");

    // Every selection is heard at its own level once swapped in; a missing file keeps the one
    // before it.
    let levels = voice_swaps::expected_levels();
    for (k, &level) in levels.iter().enumerate() {
        let window = voice_swaps::settled_window(k, latency);
        let measured = peak(&run.output[window.clone()]);
        assert!(
            (measured / level - 1.0).abs() < 0.03,
            "segment {k} ({:?}) plays at {measured}, expected {level} (samples {window:?})",
            PLAN[k]
        );
    }

    // No gap: from the first converted sample on, every 10 ms holds the tone, swaps included.
    let first = latency + (0.25 * RATE) as usize;
    // The tone's end fades out through the silence gate's crossfade: stop short of it.
    let last = latency + (voice_swaps::SEGMENT_SECONDS * RATE) as usize * PLAN.len() - (0.1 * RATE) as usize;
    let frame = (0.01 * RATE) as usize;
    for (i, chunk) in run.output[first..last].chunks_exact(frame).enumerate() {
        let rms = (chunk.iter().map(|v| v * v).sum::<f32>() / frame as f32).sqrt();
        assert!(rms > 0.12, "a dropout at output sample {}: rms {rms}", first + i * frame);
    }
    // No click: no step steeper than the loudest level's sine, plus room for crossfades.
    let steepest = 2.0 * std::f32::consts::PI * TONE_HZ as f32 * 0.5f32.max(INPUT_AMPLITUDE) / RATE as f32;
    let worst = run.report.max_step.unwrap();
    assert!(worst < steepest * 1.5, "a step of {worst}; the tone moves at most {steepest}");
}

#[test]
fn voice_switches_never_allocate_on_the_audio_thread() {
    let plugin = alloc_check_bundle();
    let host = PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"));
    let run = subprocess::run(
        &host,
        &["scenario", "voice-swaps", "--plugin", plugin.to_str().unwrap()],
        &[],
        Duration::from_secs(300),
    )
    .unwrap();
    assert!(!run.aborted(), "the plugin allocated inside process:\n{}", run.describe());
    assert!(run.status.success(), "{}", run.describe());
    let report = run.report().unwrap();
    assert!(report.process_calls > 200, "the session ended early: {report:?}");
}
