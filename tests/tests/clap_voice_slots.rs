//! The eight voice slots switched by host automation (see `rvc_live_hosts::voice_slots`): forty
//! passes through every slot while a tone plays, each slot heard at its own level within a block
//! of the change, without a gap, a click or a latency change, through the release bundle
//! in-process and through the allocation-checking bundle in a child process; and a slot whose
//! file is missing, which plays the input through while the others keep converting.

use std::path::PathBuf;
use std::time::Duration;

use rvc_live_hosts::fixtures::{EXACT, alloc_check_bundle, release_bundle};
use rvc_live_hosts::subprocess;
use rvc_live_hosts::voice_slots::{self, INPUT_AMPLITUDE, RATE, SLOT_LEVELS, SlotRun, TONE_HZ};

/// 10 ms at 48 kHz: two periods of the tone, so each holds its peak.
const FRAME: usize = 480;

fn peak(signal: &[f32]) -> f32 {
    signal.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Same latency, no restart, no gap and no click, over the whole run.
fn assert_seamless(run: &SlotRun, loudest: f32) {
    let latency = run.latency;
    assert_eq!(run.latency_after, latency, "the latency changed");
    let (before, after) = (run.host_calls_before, run.report.host_calls);
    assert_eq!(after.restart_requests, before.restart_requests, "a switch asked for a restart");
    assert_eq!(after.latency_changed, before.latency_changed, "a switch changed the latency");

    // No gap: from the first converted sample on, every 10 ms holds the tone at well over half
    // the quietest level, switches included.
    let first = latency + (0.25 * RATE) as usize;
    let last = run.output.len() - (0.1 * RATE) as usize;
    let frame = (0.01 * RATE) as usize;
    let floor = 0.6 * SLOT_LEVELS[0] / std::f32::consts::SQRT_2;
    for (i, chunk) in run.output[first..last].chunks_exact(frame).enumerate() {
        let rms = (chunk.iter().map(|v| v * v).sum::<f32>() / frame as f32).sqrt();
        assert!(rms > floor, "a dropout at output sample {}: rms {rms}", first + i * frame);
    }
    // No click: no step steeper than the loudest level's sine, plus room for crossfades.
    let steepest = 2.0 * std::f32::consts::PI * TONE_HZ as f32 * loudest / RATE as f32;
    let worst = run.report.max_step.unwrap();
    assert!(worst < steepest * 1.5, "a step of {worst}; the tone moves at most {steepest}");
}

#[test]
fn eight_slots_cycled_forty_times_each_play_their_voice_within_a_block() {
    let voices: Vec<_> = (0..SLOT_LEVELS.len()).map(voice_slots::slot_voice).collect();
    for voice in &voices {
        let path = voice.synthesizer.as_ref().unwrap();
        assert!(path.is_file(), "{} is missing: run `cargo xtask models`", path.display());
    }
    let plan = voice_slots::cycling_plan(voice_slots::CYCLES);
    let run = voice_slots::run(&release_bundle(), &voices, &plan).unwrap();
    assert_eq!(run.switches.len(), plan.len(), "every switch was sent");
    for (k, &(at, slot)) in run.switches.iter().enumerate() {
        // Every 10 ms of the window, its first included: a switch that landed late (or early)
        // into a louder or a quieter slot shows in the stretch it covers.
        let window = voice_slots::settled_window(&run, k);
        let level = SLOT_LEVELS[slot];
        for (i, frame) in run.output[window.clone()].chunks_exact(FRAME).enumerate() {
            let measured = peak(frame);
            assert!(
                (measured / level - 1.0).abs() < 0.03,
                "switch {k} to slot {} at sample {at}: plays at {measured} from output sample {}, expected {level}",
                slot + 1,
                window.start + i * FRAME
            );
        }
    }
    eprintln!(
        "{} switches in {:.1} s of audio; {:.1} s wall",
        plan.len() - 1,
        run.output.len() as f64 / RATE,
        run.report.wall_seconds
    );
    assert_seamless(&run, *SLOT_LEVELS.last().unwrap());
}

#[test]
fn a_slot_whose_file_is_missing_plays_the_input_and_leaves_the_others_converting() {
    let missing = 2;
    let voices: Vec<_> = (0..SLOT_LEVELS.len())
        .map(|slot| if slot == missing { voice_slots::missing_voice() } else { voice_slots::slot_voice(slot) })
        .collect();
    let plan = voice_slots::cycling_plan(2);
    let run = voice_slots::run(&release_bundle(), &voices, &plan).unwrap();
    let mut missing_checked = 0;
    for (k, &(_, slot)) in run.switches.iter().enumerate() {
        let window = voice_slots::settled_window(&run, k);
        if slot == missing {
            // The input itself, delayed by exactly the latency.
            let worst = window.clone().map(|n| (run.output[n] - run.input[n - run.latency]).abs()).fold(0.0, f32::max);
            assert!(worst <= EXACT, "slot {}: {worst} off the delayed input", slot + 1);
            missing_checked += 1;
        } else {
            for frame in run.output[window].chunks_exact(FRAME) {
                let measured = peak(frame);
                assert!((measured / SLOT_LEVELS[slot] - 1.0).abs() < 0.03, "slot {}: {measured}", slot + 1);
            }
        }
    }
    assert_eq!(missing_checked, 2);
    assert_seamless(&run, INPUT_AMPLITUDE);
}

#[test]
fn slot_switches_never_allocate_on_the_audio_thread() {
    let plugin = alloc_check_bundle();
    let host = PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"));
    let run = subprocess::run(
        &host,
        &["scenario", "voice-slots", "--plugin", plugin.to_str().unwrap()],
        &[],
        Duration::from_secs(600),
    )
    .unwrap();
    assert!(!run.aborted(), "the plugin allocated inside process:\n{}", run.describe());
    assert!(run.status.success(), "{}", run.describe());
    let report = run.report().unwrap();
    assert!(report.process_calls > 10_000, "the session ended early: {report:?}");
}
