//! `cargo xtask demo`: the main job. Build the plugin, speak a sentence with espeak-ng, and run it
//! through the plugin in a real CLAP host, reporting the latency it measured.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::bundles::{self, BUNDLE_NAME};
use crate::{command, paths, system_packages};

const SENTENCE: &str = "RVC Live turns the voice you speak into the voice you choose, while you speak.";

pub fn run() -> anyhow::Result<()> {
    system_packages::ensure()?;
    let bundled = bundles::bundle_into(Path::new("target"), &["--release"])?;
    let demo = paths::cache("demo");
    std::fs::create_dir_all(&demo)?;
    let input = demo.join("sentence.wav");
    let output = demo.join("sentence-rvc-live.wav");
    command::run(Command::new("espeak-ng").args(["-v", "en-us", "-s", "150", "-w"]).arg(&input).arg(SENTENCE))
        .context("espeak-ng speaks the demo sentence")?;
    command::run(
        command::cargo()
            .args(["run", "--quiet", "--release", "-p", "rvc_live_hosts", "--bin", "rvc-live-host", "--", "render"])
            .arg("--plugin")
            .arg(bundled.join(format!("{BUNDLE_NAME}.clap")))
            .arg(&input)
            .arg(&output),
    )?;
    println!("Input:  {}\nOutput: {}", input.display(), output.display());
    Ok(())
}
