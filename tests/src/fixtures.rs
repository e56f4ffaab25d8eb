//! Shorthands the test files share: the bundle under test, a host set up the usual ways, and
//! assertions that say where audio went wrong.

use std::path::PathBuf;

use crate::analysis::max_abs_error;
use crate::host::{AudioConfig, PluginHost};
use crate::state::{NiceState, VoiceSelection};
use crate::{RenderMode, plugin_paths};

/// Tolerance for "exactly the input": the identity path only copies, and the gains involved are
/// products of a few `f32`s.
pub const EXACT: f32 = 1e-6;

/// The release bundle; panics with instructions when it has not been built.
pub fn release_bundle() -> PathBuf {
    plugin_paths::release_clap().unwrap_or_else(|e| panic!("{e:#}"))
}

/// The `assert_process_allocs` bundle; panics with instructions when it has not been built.
pub fn alloc_check_bundle() -> PathBuf {
    plugin_paths::alloc_check_clap().unwrap_or_else(|e| panic!("{e:#}"))
}

/// The standalone app (`RVC_LIVE_STANDALONE`, or where `cargo xtask test` builds it); panics with
/// instructions when it has not been built.
pub fn standalone_app() -> PathBuf {
    let path = std::env::var_os("RVC_LIVE_STANDALONE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/standalone/bundled/RVC Live"));
    assert!(path.is_file(), "{} is missing: run `cargo xtask test`, which builds it", path.display());
    path
}

/// A fresh release instance, rendering offline, activated at `config`. Returns it with the latency
/// it reports.
pub fn offline_host(config: AudioConfig) -> (PluginHost, usize) {
    let mut host = PluginHost::load(&release_bundle()).expect("the bundle loads");
    host.set_render_mode(RenderMode::Offline).expect("offline render mode");
    host.activate(config).expect("activates");
    let latency = host.latency().expect("latency") as usize;
    (host, latency)
}

/// A fresh release instance whose saved state chose `voice` and sets the float parameters
/// `params` (nice-plug id, plain value), rendering offline. Not activated yet, so a test can still
/// choose its layout and rate.
pub fn offline_host_with_voice(voice: &VoiceSelection, params: &[(&str, f32)]) -> PluginHost {
    let mut host = PluginHost::load(&release_bundle()).expect("the bundle loads");
    let mut state = NiceState::decode(&host.save_state().expect("a state")).expect("a nice-plug state");
    state.set_voice(voice);
    for &(id, value) in params {
        state.set_f32_param(id, value);
    }
    host.load_state(&state.encode()).expect("the state loads");
    host.set_render_mode(RenderMode::Offline).expect("offline render mode");
    host
}

/// Panic unless `actual` and `expected` agree within `tolerance` everywhere, naming the first
/// sample that is furthest off.
#[track_caller]
pub fn assert_audio_eq(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    let (error, at) = max_abs_error(actual, expected);
    assert!(
        error <= tolerance,
        "{what}: sample {at} is {} where {} was expected (error {error}, tolerance {tolerance})",
        actual[at],
        expected[at]
    );
}

/// `x` scaled by `gain`.
pub fn scaled(x: &[f32], gain: f32) -> Vec<f32> {
    x.iter().map(|v| v * gain).collect()
}
