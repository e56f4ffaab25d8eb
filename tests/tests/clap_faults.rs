//! Fault injection through the CLAP bundle: models whose outputs are broken
//! (`models/generate_faults.py`), a content encoder that turns bad when the input gets loud, a
//! voice swap onto a broken file while audio plays, and panics injected on the inference thread,
//! the voice loader and in `activate` (`RVC_LIVE_TEST_PANIC`). Whatever happens, the host process
//! survives, the output stays finite and as long as the input, the input keeps flowing (delayed
//! by the reported latency) where nothing converts it, and the log names the model that
//! misbehaved. Every session runs in a child `rvc-live-fault-host`, whose standard error holds the
//! plugin's log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rvc_live_hosts::faults::{
    self, ChildSession, Fault, LOUD, MAX_FRAMES, QUIET, QUIET_VOICE_AMPLITUDE, RATE, Session, Stage, Swap,
    VOICE_AMPLITUDE, analytic_model, analytic_selection, dual_mono, fault_file, fault_model, output_window, peak,
    plays_dry, refusals, selection_with, sings, tone_segments,
};
use rvc_live_hosts::fixtures::{alloc_check_bundle, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::state::VoiceSelection;
use rvc_live_test_support::models::retrieval_index;

const TIMEOUT: Duration = Duration::from_secs(120);
/// The allocation-checking bundle is a debug build.
const ALLOC_CHECK_TIMEOUT: Duration = Duration::from_secs(400);
/// Where nothing converts, the output is the input as it went in: the mixer only copies.
const DRY: f32 = 1e-5;

fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-fault-host"))
}

fn run(what: &str, session: &Session, input: &[Vec<f32>], env: &[(&str, &str)]) -> ChildSession {
    run_with(&release_bundle(), what, session, input, env, TIMEOUT)
}

fn run_with(
    plugin: &Path,
    what: &str,
    session: &Session,
    input: &[Vec<f32>],
    env: &[(&str, &str)],
    timeout: Duration,
) -> ChildSession {
    let child = faults::run_in_child(&host_binary(), plugin, session, input, env, timeout)
        .unwrap_or_else(|e| panic!("{what}: the host did not survive: {e:#}"));
    for (pass, output) in child.outputs.iter().enumerate() {
        assert_eq!(output.len(), input.len(), "{what}, pass {pass}: channels");
        for channel in output {
            assert_eq!(channel.len(), input[0].len(), "{what}, pass {pass}: the output's length");
            assert!(channel.iter().all(|v| v.is_finite()), "{what}, pass {pass}: non-finite output");
        }
    }
    child
}

fn paths_of(voice: &VoiceSelection) -> Vec<&Path> {
    [&voice.synthesizer, &voice.content_encoder, &voice.pitch_model]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect()
}

fn default_latency() -> usize {
    ExpectedLatency::defaults(RATE, MAX_FRAMES).total()
}

/// Assert the analytic voice sings at `amplitude` on every channel of `output[window]`.
#[track_caller]
fn assert_sings(output: &[Vec<f32>], window: std::ops::Range<usize>, amplitude: f32, what: &str, log: &str) {
    for (c, channel) in output.iter().enumerate() {
        if let Err(e) = sings(&channel[window.clone()], amplitude) {
            panic!("{what}: channel {c}, samples {window:?}: {e}\n--- log\n{log}");
        }
    }
}

#[track_caller]
fn assert_plays_dry(
    output: &[Vec<f32>],
    input: &[Vec<f32>],
    latency: usize,
    window: std::ops::Range<usize>,
    what: &str,
    log: &str,
) {
    if let Err(e) = plays_dry(output, input, latency, window, DRY) {
        panic!("{what}: {e}\n--- log\n{log}");
    }
}

// ---- refused at load ----

/// A voice whose `stage` has `fault` is refused when the plugin activates: the input plays through,
/// delayed by the usual latency, and the log says which model gave what.
fn refused_at_activation(stage: Stage, fault: Fault) {
    let faulty = fault_file(stage, fault);
    let what = faulty.file_name().unwrap().to_string_lossy().into_owned();
    let reason = fault.reason().expect("a fault that is refused");
    let voice = selection_with(stage, faulty);
    let input = dual_mono(tone_segments(&[(1.0, QUIET)]));
    let child = run(&what, &Session::offline(Some(voice.clone())), &input, &[]);
    let latency = child.report.latencies[0] as usize;
    assert_eq!(latency, default_latency(), "{what}: the latency changed");
    assert_plays_dry(&child.outputs[0], &input, latency, 0..input[0].len(), &what, child.log());
    let lines = refusals(child.log(), &paths_of(&voice));
    assert!(
        lines.iter().any(|l| faults::names(l, stage, reason)),
        "{what}: no \"Could not load the voice\" line naming {} and {reason:?}; refusals: {lines:#?}\n--- log\n{}",
        stage.role(),
        child.log()
    );
}

macro_rules! refused_at_activation {
    ($($name:ident: $stage:ident, $fault:ident;)*) => {
        $(
            #[test]
            fn $name() {
                refused_at_activation(Stage::$stage, Fault::$fault);
            }
        )*
    };
}

refused_at_activation! {
    voice_nan_is_refused_at_activation: Voice, Nan;
    voice_inf_is_refused_at_activation: Voice, Inf;
    voice_neg_inf_is_refused_at_activation: Voice, NegInf;
    voice_huge_is_refused_at_activation: Voice, Huge;
    voice_frame_short_is_refused_at_activation: Voice, FrameShort;
    voice_frame_long_is_refused_at_activation: Voice, FrameLong;
    voice_int64_is_refused_at_activation: Voice, Int64;
    content_encoder_nan_is_refused_at_activation: ContentEncoder, Nan;
    content_encoder_inf_is_refused_at_activation: ContentEncoder, Inf;
    content_encoder_neg_inf_is_refused_at_activation: ContentEncoder, NegInf;
    content_encoder_huge_is_refused_at_activation: ContentEncoder, Huge;
    content_encoder_frame_short_is_refused_at_activation: ContentEncoder, FrameShort;
    content_encoder_frame_long_is_refused_at_activation: ContentEncoder, FrameLong;
    content_encoder_int64_is_refused_at_activation: ContentEncoder, Int64;
    pitch_model_nan_is_refused_at_activation: PitchModel, Nan;
    pitch_model_inf_is_refused_at_activation: PitchModel, Inf;
    pitch_model_neg_inf_is_refused_at_activation: PitchModel, NegInf;
    pitch_model_huge_is_refused_at_activation: PitchModel, Huge;
    pitch_model_frame_short_is_refused_at_activation: PitchModel, FrameShort;
    pitch_model_frame_long_is_refused_at_activation: PitchModel, FrameLong;
    pitch_model_int64_is_refused_at_activation: PitchModel, Int64;
}

// ---- all zeros: a valid output ----

/// Loads (no refusal) and converts a steady tone; returns the first pass's output with the latency.
fn zeros_session(stage: Stage) -> (String, ChildSession, usize) {
    let faulty = fault_file(stage, Fault::Zeros);
    let what = faulty.file_name().unwrap().to_string_lossy().into_owned();
    let voice = selection_with(stage, faulty);
    let input = dual_mono(tone_segments(&[(1.5, QUIET)]));
    let child = run(&what, &Session::offline(Some(voice.clone())), &input, &[]);
    let lines = refusals(child.log(), &paths_of(&voice));
    assert!(lines.is_empty(), "{what} is a valid model and was refused: {lines:#?}");
    let latency = child.report.latencies[0] as usize;
    // A model that loads is timed like any voice: only the worker budget may differ.
    ExpectedLatency::defaults(RATE, MAX_FRAMES).with_measured_budget(latency);
    (what, child, latency)
}

#[test]
fn voice_zeros_loads_and_converts_to_silence() {
    let (what, child, latency) = zeros_session(Stage::Voice);
    for channel in &child.outputs[0] {
        let level = peak(&channel[output_window(0.5, 1.3, latency)]);
        assert!(level < 0.01, "{what}: a silent voice came out at {level}, not converted\n{}", child.log());
    }
}

#[test]
fn content_encoder_zeros_loads_and_the_voice_still_sings() {
    // The analytic voice ignores its features: it sings the tracked pitch whatever they are.
    let (what, child, latency) = zeros_session(Stage::ContentEncoder);
    assert_sings(&child.outputs[0], output_window(0.5, 1.3, latency), VOICE_AMPLITUDE, &what, child.log());
}

#[test]
fn pitch_model_zeros_loads_and_calls_every_frame_unvoiced() {
    let (what, child, latency) = zeros_session(Stage::PitchModel);
    for channel in &child.outputs[0] {
        let level = peak(&channel[output_window(0.5, 1.3, latency)]);
        assert!(level < 0.01, "{what}: with no pitch the voice is silent, yet it played at {level}\n{}", child.log());
    }
}

// ---- mid-stream ----

/// Quiet, loud, quiet again: the blocks whose window is loud fail, play the dry input and are
/// counted; conversion resumes when the input is quiet again.
fn loud_passage() -> Vec<Vec<f32>> {
    dual_mono(tone_segments(&[(2.0, QUIET), (1.5, LOUD), (2.5, QUIET)]))
}

fn loud_nan_selection() -> VoiceSelection {
    selection_with(Stage::ContentEncoder, fault_model("content-encoder-loud-nan.onnx"))
}

#[test]
fn content_encoder_turning_nan_mid_stream_fails_those_blocks_dry_and_recovers() {
    let what = "content-encoder-loud-nan.onnx";
    let input = loud_passage();
    let voice = loud_nan_selection();
    let child = run(what, &Session::offline(Some(voice.clone())), &input, &[]);
    let log = child.log();
    assert!(refusals(log, &paths_of(&voice)).is_empty(), "{what} was refused at load (warm-ups are quiet)\n{log}");
    let latency = child.report.latencies[0] as usize;
    let output = &child.outputs[0];
    assert_sings(output, output_window(0.6, 1.7, latency), VOICE_AMPLITUDE, "before the loud passage", log);
    assert_plays_dry(output, &input, latency, output_window(2.15, 3.45, latency), "during the loud passage", log);
    assert_sings(output, output_window(4.4, 5.8, latency), VOICE_AMPLITUDE, "after the loud passage", log);
    assert!(log.contains("the content encoder produced NaN"), "the log does not say what failed:\n{log}");
    let stops = child.failed_conversions();
    assert_eq!(stops.len(), 1, "one deactivation, one stop line with its failed conversions:\n{log}");
    // 1.5 s of loud input reaches the windows (block 120 ms + context 250 ms) of about 16 blocks.
    let failed = stops[0];
    assert!((8..=22).contains(&failed), "{failed} failed conversions for one loud passage:\n{log}");
}

#[test]
fn a_voice_swap_onto_a_nan_voice_keeps_the_previous_voice_playing() {
    let what = "swap to voice-nan.onnx";
    let input = dual_mono(tone_segments(&[(4.0, QUIET)]));
    let bad = selection_with(Stage::Voice, fault_file(Stage::Voice, Fault::Nan));
    let swap = Swap { at: (1.5 * RATE) as usize, voice: bad.clone(), settle_ms: 300 };
    let session = Session { swap: Some(swap), ..Session::offline(Some(analytic_selection())) };
    let child = run(what, &session, &input, &[]);
    let log = child.log();
    let latency = child.report.latencies[0] as usize;
    assert_eq!(child.report.latency_after_swap, Some(latency as u32), "{what}: the latency changed");
    let lines = refusals(log, &paths_of(&bad));
    assert!(lines.iter().any(|l| faults::names(l, Stage::Voice, "NaN")), "{what}: refusals {lines:#?}\n{log}");
    let output = &child.outputs[0];
    assert_sings(output, output_window(0.5, 1.4, latency), VOICE_AMPLITUDE, "before the swap", log);
    assert_sings(output, output_window(2.2, 3.9, latency), VOICE_AMPLITUDE, "after the refused swap", log);
    // No gap at the refused swap: every 10 ms of the tone holds the voice.
    let frame = (0.01 * RATE) as usize;
    let window = output_window(0.5, 3.9, latency);
    for (i, chunk) in output[0][window.clone()].chunks_exact(frame).enumerate() {
        let rms = (chunk.iter().map(|v| v * v).sum::<f32>() / frame as f32).sqrt();
        assert!(rms > 0.3, "{what}: a dropout at output sample {}: rms {rms}", window.start + i * frame);
    }
    let failed = child.failed_conversions();
    assert!(!failed.is_empty() && failed.iter().all(|&n| n == 0), "{what}: failed conversions {failed:?}\n{log}");
}

/// Indexes a voice cannot use: the v1 index on the v2 voice, RVC's `trained_…` file, an IVF-PQ
/// index. Each one's problem is logged by name, the voice converts without it from the start, and
/// a swap onto the same voice with such an index is no failure either.
#[test]
fn a_voice_with_an_unusable_index_converts_without_it_and_says_why() {
    for (file, problem) in [
        ("ivf_flat_v1_full.index", "256-wide features (RVC v1) but the voice takes 768-wide ones (RVC v2)"),
        ("trained_ivf_flat.index", "the index holds no vectors"),
        ("ivf_pq.index", "a faiss IVF-PQ index"),
    ] {
        let input = dual_mono(tone_segments(&[(3.0, QUIET)]));
        let voice = VoiceSelection { index: Some(retrieval_index(file)), ..analytic_selection() };
        let child = run(file, &Session::offline(Some(voice)), &input, &[]);
        let log = child.log();
        let latency = child.report.latencies[0] as usize;
        assert_sings(&child.outputs[0], output_window(0.5, 2.8, latency), VOICE_AMPLITUDE, file, log);
        let warning = log
            .lines()
            .find(|l| l.contains("Without its index") && l.contains(file))
            .unwrap_or_else(|| panic!("{file}: no log line says the voice converts without its index:\n{log}"));
        assert!(warning.contains(problem), "{file}: the log line does not say why: {warning}");
        let failed = child.failed_conversions();
        assert!(!failed.is_empty() && failed.iter().all(|&n| n == 0), "{file}: failed conversions {failed:?}\n{log}");
    }
}

// ---- panics ----

/// The plugin's log line for the injected panic: it says "panicked" and quotes the panic's
/// message (nice-plug's panic hook logs `thread '…' panicked at '<message>': <file>`; Rust's own
/// hook would put the message on a line of its own).
fn assert_panic_logged(child: &ChildSession, what: &str) {
    let log = child.log();
    assert!(
        log.lines().any(|l| l.contains("panicked") && l.contains("RVC Live test panic")),
        "{what}: no log line of the plugin's says \"panicked\" with the panic's message \"RVC Live test panic: …\":\n{log}"
    );
}

/// The inference thread panics at its 10th block (1.2 s in): the audio goes on as the dry input,
/// and the next activation converts again.
fn inference_panic(realtime: bool) {
    let what = if realtime { "inference panic, real time" } else { "inference panic, offline" };
    let seconds = if realtime { 3.0 } else { 4.0 };
    let input = dual_mono(tone_segments(&[(seconds, QUIET)]));
    let session = Session { realtime, passes: 2, ..Session::offline(Some(analytic_selection())) };
    let child = run(what, &session, &input, &[("RVC_LIVE_TEST_PANIC", "inference:10")]);
    let log = child.log();
    assert_panic_logged(&child, what);
    let latency = child.report.latencies[0] as usize;
    ExpectedLatency::defaults(RATE, MAX_FRAMES).with_measured_budget(latency);
    let first = &child.outputs[0];
    assert_sings(first, output_window(0.4, 0.9, latency), VOICE_AMPLITUDE, "before the panic", log);
    assert_plays_dry(first, &input, latency, output_window(2.0, seconds - 0.1, latency), "after the panic", log);
    assert_eq!(child.report.latencies[1] as usize, latency);
    assert_sings(&child.outputs[1], output_window(0.6, seconds - 0.2, latency), VOICE_AMPLITUDE, "reactivated", log);
}

#[test]
fn an_inference_thread_panic_offline_leaves_the_input_flowing_and_the_next_activation_converts() {
    inference_panic(false);
}

#[test]
fn an_inference_thread_panic_in_real_time_leaves_the_input_flowing_and_the_next_activation_converts() {
    inference_panic(true);
}

/// The loader panics loading a voice chosen while the plugin runs: the audio flows on (the voice
/// that played, or the dry input), and the next activation loads the chosen voice.
#[test]
fn a_voice_loader_panic_leaves_the_audio_flowing_and_the_next_activation_loads_the_voice() {
    let what = "loader panic";
    let input = dual_mono(tone_segments(&[(4.0, QUIET)]));
    let loud =
        VoiceSelection { synthesizer: Some(analytic_model("analytic_synth_v2_40k.onnx")), ..analytic_selection() };
    let quiet = VoiceSelection {
        synthesizer: Some(analytic_model("analytic_synth_v2_40k_quiet.onnx")),
        ..analytic_selection()
    };
    let swap = Swap { at: (1.5 * RATE) as usize, voice: quiet, settle_ms: 300 };
    let session = Session { swap: Some(swap), passes: 2, ..Session::offline(Some(loud)) };
    let child = run(what, &session, &input, &[("RVC_LIVE_TEST_PANIC", "loader")]);
    let log = child.log();
    assert_panic_logged(&child, what);
    let latency = child.report.latencies[0] as usize;
    assert_eq!(child.report.latency_after_swap, Some(latency as u32), "{what}: the latency changed");
    let first = &child.outputs[0];
    assert_sings(first, output_window(0.5, 1.4, latency), VOICE_AMPLITUDE, "before the swap", log);
    let after = output_window(2.2, 3.9, latency);
    let previous_voice = first.iter().map(|c| sings(&c[after.clone()], VOICE_AMPLITUDE)).collect::<Result<Vec<_>, _>>();
    let dry = plays_dry(first, &input, latency, after.clone(), DRY);
    assert!(
        previous_voice.is_ok() || dry.is_ok(),
        "{what}: after the swap neither the previous voice ({previous_voice:?}) nor the dry input ({dry:?}) plays\n{log}"
    );
    // The reactivation times the voice it loads: its own latency places its output.
    let reactivated = child.report.latencies[1] as usize;
    assert_sings(&child.outputs[1], output_window(0.6, 3.8, reactivated), QUIET_VOICE_AMPLITUDE, "reactivated", log);
}

/// Loading the voice inside `activate` panics: activation still succeeds, the input plays through,
/// and the next activation converts.
#[test]
fn a_panic_in_activate_leaves_the_input_flowing_and_the_next_activation_converts() {
    let what = "activate panic";
    let input = dual_mono(tone_segments(&[(2.0, QUIET)]));
    let session = Session { passes: 2, ..Session::offline(Some(analytic_selection())) };
    let child = run(what, &session, &input, &[("RVC_LIVE_TEST_PANIC", "activate")]);
    let log = child.log();
    assert_panic_logged(&child, what);
    let latency = child.report.latencies[0] as usize;
    assert_eq!(latency, default_latency());
    assert_plays_dry(&child.outputs[0], &input, latency, 0..input[0].len(), what, log);
    // The first activation timed no voice; the second times the one it loads.
    let reactivated = child.report.latencies[1] as usize;
    ExpectedLatency::defaults(RATE, MAX_FRAMES).with_measured_budget(reactivated);
    assert_sings(&child.outputs[1], output_window(0.6, 1.8, reactivated), VOICE_AMPLITUDE, "reactivated", log);
}

// ---- the allocation check on the failure paths ----

#[test]
fn failing_blocks_mid_stream_never_allocate_on_the_audio_thread() {
    let what = "content-encoder-loud-nan.onnx, alloc-check bundle";
    let child = run_with(
        &alloc_check_bundle(),
        what,
        &Session::offline(Some(loud_nan_selection())),
        &loud_passage(),
        &[],
        ALLOC_CHECK_TIMEOUT,
    );
    let failed: u64 = child.failed_conversions().iter().sum();
    assert!(failed > 0, "{what}: no block failed, so the failure path was not exercised:\n{}", child.log());
}

#[test]
fn a_dead_inference_thread_never_makes_the_audio_thread_allocate() {
    let what = "inference panic, alloc-check bundle";
    let session = Session { passes: 2, ..Session::offline(Some(analytic_selection())) };
    let input = dual_mono(tone_segments(&[(3.0, QUIET)]));
    let child = run_with(
        &alloc_check_bundle(),
        what,
        &session,
        &input,
        &[("RVC_LIVE_TEST_PANIC", "inference:5")],
        ALLOC_CHECK_TIMEOUT,
    );
    assert_panic_logged(&child, what);
}
