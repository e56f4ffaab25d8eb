//! The measured worker budget (the default): the latency reserves what a voice's blocks take on
//! this machine, timed when it loads, instead of a whole block. Every other term of the latency
//! stays the formula's. A voice loaded while the plugin runs never changes the running latency
//! (a host may re-read it without restarting the plugin); the next activation reserves what the
//! voices loaded since need, and then stays as it is.

use rvc_live_hosts::blocks::fixed;
use rvc_live_hosts::fixtures::release_bundle;
use rvc_live_hosts::handlers::HostCalls;
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::state::{NiceState, StreamSettings, VoiceSelection};
use rvc_live_hosts::{AudioConfig, Pace, PluginHost, signals};
use rvc_live_test_support::models::{analytic, generated};

const RATE: f64 = 48_000.0;
const BUFFER: u32 = 512;

/// The analytic voice: a sine at the pitch, a few milliseconds per block.
fn fast_voice() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(analytic("analytic_synth_v2_40k.onnx")),
        content_encoder: Some(analytic("analytic_content_units.onnx")),
        ..Default::default()
    }
}

/// A real RVC architecture (tiny widths) with a transformer content encoder and FCPE: many times
/// the analytic voice's compute.
fn slower_voice() -> VoiceSelection {
    VoiceSelection {
        synthesizer: Some(generated("rvc_v2_40k_tiny_partial.onnx")),
        content_encoder: Some(generated("contentvec_tiny_units.onnx")),
        pitch_model: Some(generated("fcpe.onnx")),
        ..Default::default()
    }
}

fn load(host: &mut PluginHost, voice: Option<&VoiceSelection>, stream: StreamSettings) {
    let mut state = NiceState::decode(&host.save_state().unwrap()).unwrap();
    state.set_voice(&voice.cloned().unwrap_or_default());
    state.set_stream(&stream);
    host.load_state(&state.encode()).unwrap();
}

/// A fresh instance with `voice` and `stream`, active in real time. Returns it and its latency.
fn active(voice: Option<&VoiceSelection>, stream: StreamSettings) -> (PluginHost, usize) {
    let mut host = PluginHost::load(&release_bundle()).unwrap();
    load(&mut host, voice, stream);
    host.activate(AudioConfig::new(RATE, BUFFER)).unwrap();
    let latency = host.latency().unwrap() as usize;
    (host, latency)
}

/// Play `seconds` of silence in real time (a voice loads and is timed meanwhile), running the
/// host's main-thread callbacks as an event loop would.
fn play(host: &mut PluginHost, seconds: f64) {
    let silence = signals::silence((seconds * RATE) as usize);
    host.process_signal(&[silence.clone(), silence], &mut fixed(BUFFER as usize), Pace::RealTime).unwrap();
    host.pump_main_thread();
}

/// Choose `voice` while the plugin runs and play `seconds` (it loads and is timed meanwhile): the
/// running stream keeps `latency`, and nothing is asked of the host since `before`.
fn load_while_running(host: &mut PluginHost, voice: &VoiceSelection, seconds: f64, latency: usize, before: HostCalls) {
    load(host, Some(voice), StreamSettings::default());
    play(host, seconds);
    assert_eq!(host.latency().unwrap() as usize, latency, "the running stream's latency changed");
    let calls = host.host_calls();
    assert_eq!(
        (calls.restart_requests, calls.latency_changed),
        (before.restart_requests, before.latency_changed),
        "a voice loaded while running asked the host for a restart: {calls:?}"
    );
}

fn reactivate(host: &mut PluginHost) -> usize {
    host.deactivate().unwrap();
    host.activate(AudioConfig::new(RATE, BUFFER)).unwrap();
    host.latency().unwrap() as usize
}

/// The voices keep the times they were given: further activations report `latency` again. The
/// activation after the one that changed it announces it (nice-plug asks for a restart when the
/// latency changes in `activate`, and the next activation tells the host); after that, nothing.
fn assert_stable(host: &mut PluginHost, latency: usize, after_change: HostCalls) {
    assert_eq!(reactivate(host), latency);
    let announced = host.host_calls();
    assert_eq!(announced.restart_requests, after_change.restart_requests, "a restart loop: {announced:?}");
    assert_eq!(announced.latency_changed, after_change.latency_changed + 1, "never announced: {announced:?}");
    assert_eq!(reactivate(host), latency);
    assert_eq!(host.host_calls(), announced, "an activation with nothing new asked the host for something");
}

#[test]
fn a_fast_voice_reserves_what_its_blocks_measure_not_a_whole_block() {
    let formula = ExpectedLatency::defaults(RATE, BUFFER);
    let (_host, latency) = active(Some(&fast_voice()), StreamSettings::default());
    let measured = formula.with_measured_budget(latency);
    println!(
        "measured budget {} samples ({:.1} ms) of at most {}: latency {latency} ({:.1} ms) instead of {} ({:.1} ms)",
        measured.worker_budget,
        measured.worker_budget as f64 * 1000.0 / RATE,
        formula.worker_budget,
        latency as f64 * 1000.0 / RATE,
        formula.total(),
        formula.total() as f64 * 1000.0 / RATE
    );
    assert!(
        measured.worker_budget < formula.worker_budget,
        "a voice that converts a block in milliseconds reserved the whole block: {measured:?}"
    );

    let fixed_budget = StreamSettings { measured_budget: false, ..StreamSettings::default() };
    let (_host, latency) = active(Some(&fast_voice()), fixed_budget);
    assert_eq!(latency, formula.total(), "with the budget fixed, the whole block is reserved");
}

#[test]
fn a_slower_voice_loaded_while_running_keeps_the_latency_and_the_next_activation_reserves_it() {
    let formula = ExpectedLatency::defaults(RATE, BUFFER);
    let (mut host, fast) = active(Some(&fast_voice()), StreamSettings::default());
    formula.with_measured_budget(fast);
    let before = host.host_calls();

    load_while_running(&mut host, &slower_voice(), 2.0, fast, before);

    let slower = reactivate(&mut host);
    formula.with_measured_budget(slower);
    assert!(slower > fast, "the reactivation reserves no more for the slower voice: {slower} after {fast}");
    let calls = host.host_calls();
    println!("fast voice {fast} samples, slower voice {slower}: {calls:?}");
    assert_stable(&mut host, slower, calls);
}

#[test]
fn a_stream_started_without_a_voice_keeps_the_whole_block_until_the_next_activation() {
    let formula = ExpectedLatency::defaults(RATE, BUFFER);
    let (mut host, without) = active(None, StreamSettings::default());
    assert_eq!(without, formula.total(), "nothing timed yet: the whole block is reserved");
    let before = host.host_calls();

    load_while_running(&mut host, &fast_voice(), 1.0, without, before);

    let with = reactivate(&mut host);
    assert!(formula.with_measured_budget(with).worker_budget < formula.worker_budget);
    let calls = host.host_calls();
    assert_stable(&mut host, with, calls);
}
