//! `rvc-live-fault-host`: plays a WAV file through RVC Live in a headless CLAP host, in a process
//! of its own, as a fault-injection session (`rvc_live_hosts::faults`) says: the voice chosen
//! through the saved state, a voice swapped in while it plays, several activations. Writes each
//! activation's raw output to `OUTPUT-passK.wav` and prints a JSON report; the plugin's log is on
//! standard error.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rvc_live_hosts::faults::{self, Session};
use rvc_live_hosts::wav;

#[derive(Parser)]
#[command(name = "rvc-live-fault-host", about = "Run a fault-injection session through RVC Live")]
struct Cli {
    /// The `.clap` bundle.
    #[arg(long)]
    plugin: PathBuf,
    /// The session, as JSON (`rvc_live_hosts::faults::Session`).
    #[arg(long)]
    session: PathBuf,
    /// The input, at 48 kHz.
    #[arg(long)]
    input: PathBuf,
    /// Output prefix: each pass is written to `OUTPUT-passK.wav`.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let text = std::fs::read_to_string(&cli.session).with_context(|| format!("reading {}", cli.session.display()))?;
    let session: Session = serde_json::from_str(&text).context("parsing the session")?;
    let input = wav::read(&cli.input)?;
    anyhow::ensure!(f64::from(input.sample_rate) == faults::RATE, "the input must be at {} Hz", faults::RATE);
    let (report, outputs) = faults::run_session(&cli.plugin, &session, &input.channels)?;
    for (pass, channels) in outputs.into_iter().enumerate() {
        wav::write(&faults::pass_file(&cli.output, pass), &wav::Audio { sample_rate: input.sample_rate, channels })?;
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
