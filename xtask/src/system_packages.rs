//! Debian packages the build and tests need: ALSA and JACK headers for the standalone app,
//! espeak-ng to speak the demo sentence and phonemise the trained voice's, Python's headers to
//! build `pesq`, a virtual X server, xdotool and ImageMagick for the
//! editor's screenshots, Ardour, the DAW the VST3 bundle is tested in, and HAProxy, the load
//! balancer the remote engine is tested behind.

use std::process::Command;

use anyhow::bail;

use crate::command;

const PACKAGES: &[&str] = &[
    "pkg-config",
    "libasound2-dev",
    "libjack-jackd2-dev",
    "espeak-ng",
    // Python's headers: PyPI has `pesq` (the speech-quality score of the int8 tests) as source only.
    "python3-dev",
    "xvfb",
    "xauth",
    "x11-apps",
    "imagemagick",
    "xdotool",
    // What the editor renders with under Xvfb: Mesa's software OpenGL, and xkbcommon for baseview.
    "libgl1-mesa-dri",
    "libglx-mesa0",
    "libegl-mesa0",
    "libxkbcommon-x11-0",
    // Ardour 7 (Debian 12's 7.3): `ardour7-lua` runs a session headless on its dummy audio
    // backend, and `/usr/lib/ardour7/ardour-vst3-scanner` indexes the VST3 bundle
    // (tests/tests/ardour_session.rs). Its recommendations (a JACK server, plugin bundles) are
    // not needed.
    "ardour",
    // The load balancer the remote engine's scale-out is tested behind
    // (engine/tests/remote_balancer.rs, deploy/haproxy/rvc-live.cfg).
    "haproxy",
];

/// Install whatever is missing when running as root on Debian or Ubuntu; otherwise say exactly
/// what to install.
pub fn ensure() -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root || Command::new("apt-get").arg("--version").output().is_err() {
        bail!("missing system packages; install them with:\n  sudo apt-get install {}", missing.join(" "));
    }
    command::run(Command::new("apt-get").args(["update", "-qq"]))?;
    command::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}
