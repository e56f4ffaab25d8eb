//! The standalone app on nice-plug's dummy audio backend: it starts, runs the plugin, and keeps
//! running until it is stopped. With no display it has no editor window and no GUI event loop.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn standalone() -> PathBuf {
    rvc_live_hosts::fixtures::standalone_app()
}

#[test]
fn standalone_runs_on_the_dummy_backend() {
    let mut child = Command::new(standalone())
        .args(["--backend", "dummy", "--sample-rate", "48000", "--period-size", "256"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().ok();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(still_running, "the standalone exited early ({:?}):\n{log}", output.status);
    assert!(log.contains("RVC Live active at 48000 Hz"), "the plugin was activated:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
}
