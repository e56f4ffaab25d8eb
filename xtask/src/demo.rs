//! `cargo xtask demo`: the main job. Build the plugin, speak a sentence with espeak-ng, and convert
//! it with the project's demo voice through the plugin in a real CLAP host.
//!
//! The demo voice is the source-filter vocoder the project generates (`models/generate_demo_voice.py`):
//! its content encoder reports each frame's spectral envelope and its synthesizer renders that
//! envelope again at the pitch the engine gives it, so what comes out is the sentence, spoken a
//! fifth higher, through the whole pipeline (resampling, content encoder, pitch tracking,
//! synthesizer, SOLA). It keeps the speaker's timbre; a trained RVC voice replaces it.

use std::process::Command;

use anyhow::Context;

use crate::bundles::{self, BUNDLE_NAME};
use crate::{command, models, onnxruntime, paths, system_packages};

const SENTENCE: &str = "RVC Live turns the voice you speak into the voice you choose, while you speak.";

pub fn run() -> anyhow::Result<()> {
    system_packages::ensure()?;
    onnxruntime::provision()?;
    // The plugin resolves paths from the host's working folder, so it gets absolute ones.
    let voices = std::path::absolute(models::generate()?.join("demo"))?;
    let bundled = bundles::bundle(&["--release"])?;
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
            .arg(&output)
            .arg("--voice")
            .arg(voices.join("demo_synth_v2_40k.onnx"))
            .arg("--content-encoder")
            .arg(voices.join("demo_content_envelope.onnx"))
            .args(["--pitch", "7"]),
    )?;
    println!("Input:  {}\nOutput: {}", input.display(), output.display());
    Ok(())
}
