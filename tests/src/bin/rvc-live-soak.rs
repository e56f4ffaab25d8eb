//! `rvc-live-soak`: RVC Live in a headless CLAP host for minutes of real-time use — speech in,
//! a voice switch every 30 s, automation every second, optionally a CPU hog in the middle — and
//! what it did to underruns, block compute times and memory. `cargo xtask bench --soak` runs it.
//!
//! The plugin's log goes to a file (`NICE_LOG`), where the soak reads the plugin's stop line. A
//! `NICE_LOG` that already names a file is kept; otherwise the log goes beside the JSON report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rvc_live_hosts::plugin_paths;
use rvc_live_hosts::soak::{self, HogPlan, SoakPlan};
use rvc_live_hosts::state::VoiceSelection;

#[derive(Parser)]
#[command(name = "rvc-live-soak", about = "Soak RVC Live in a real-time paced CLAP host")]
struct Cli {
    /// The `.clap` bundle (default: $RVC_LIVE_CLAP, or the release bundle in target/bundled).
    #[arg(long)]
    plugin: Option<PathBuf>,
    /// Speech to loop, at the soak's sample rate (mixed to mono).
    #[arg(long)]
    speech: PathBuf,
    /// Silence after each pass of the speech, in seconds.
    #[arg(long, default_value_t = 1.5)]
    pause: f64,
    /// The two voices (synthesizer `.onnx`) to switch between: `--voice A --voice B`.
    #[arg(long, num_args = 1, required = true)]
    voice: Vec<PathBuf>,
    /// Speaker ids of the two voices.
    #[arg(long, value_delimiter = ',', default_values_t = [0u32, 1])]
    speakers: Vec<u32>,
    /// The content encoder both voices use.
    #[arg(long)]
    content_encoder: PathBuf,
    /// The pitch model both voices use (none: the built-in tracker).
    #[arg(long)]
    pitch_model: Option<PathBuf>,
    /// Length of the soak in seconds of audio.
    #[arg(long, default_value_t = 600.0)]
    seconds: f64,
    #[arg(long, default_value_t = 48_000.0)]
    sample_rate: f64,
    /// Host buffer size.
    #[arg(long, default_value_t = 512)]
    buffer: usize,
    /// Seconds between voice switches.
    #[arg(long, default_value_t = 30.0)]
    swap_every: f64,
    /// Seconds between memory samples.
    #[arg(long, default_value_t = 2.0)]
    memory_every: f64,
    /// Busy-loop every core for `--hog-seconds` in the middle of the run. The dry/wet mix and the
    /// output gain then stay at 100 % and 0 dB, so the output can tell dry from converted.
    #[arg(long)]
    hog: bool,
    #[arg(long, default_value_t = 30.0)]
    hog_seconds: f64,
    /// Hog threads (default: one per core).
    #[arg(long)]
    hog_threads: Option<usize>,
    /// Seed of the automation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/soak.json")]
    json: PathBuf,
    /// Also write the output (first channel) and the input delayed by the latency as a stereo WAV.
    #[arg(long)]
    dump: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    anyhow::ensure!(cli.voice.len() == 2, "give exactly two voices (--voice A --voice B), got {}", cli.voice.len());
    anyhow::ensure!(cli.speakers.len() == 2, "give two speaker ids, got {:?}", cli.speakers);
    if let Some(dir) = cli.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let log = match std::env::var_os("NICE_LOG") {
        Some(v) if !v.is_empty() && v != "stderr" && v != "windbg" => PathBuf::from(v),
        _ => {
            let path = cli.json.with_extension("plugin.log");
            std::fs::write(&path, "")?;
            // SAFETY: nothing else runs yet; the plugin's logger reads the variable when it loads.
            unsafe { std::env::set_var("NICE_LOG", &path) };
            path
        }
    };
    let plugin = match cli.plugin {
        Some(path) => path,
        None => plugin_paths::release_clap()?,
    };
    // A project holds absolute paths; the plugin would resolve relative ones against the host's
    // working directory.
    let absolute = |path: &PathBuf| path.canonicalize().with_context(|| format!("{} is missing", path.display()));
    let voices = [absolute(&cli.voice[0])?, absolute(&cli.voice[1])?];
    let content_encoder = absolute(&cli.content_encoder)?;
    let pitch_model = cli.pitch_model.as_ref().map(absolute).transpose()?;
    let voice = |i: usize| VoiceSelection {
        synthesizer: Some(voices[i].clone()),
        content_encoder: Some(content_encoder.clone()),
        pitch_model: pitch_model.clone(),
        index: None,
        speaker_id: cli.speakers[i],
    };
    let hog = cli.hog.then(|| {
        let mut plan = HogPlan::centred(cli.seconds, cli.hog_seconds);
        if let Some(threads) = cli.hog_threads {
            plan.threads = threads;
        }
        plan
    });
    let plan = SoakPlan {
        plugin,
        speech: cli.speech,
        pause_seconds: cli.pause,
        voices: [voice(0), voice(1)],
        seconds: cli.seconds,
        sample_rate: cli.sample_rate,
        buffer: cli.buffer,
        swap_every: cli.swap_every,
        automate_every: 1.0,
        memory_every: cli.memory_every,
        hog,
        seed: cli.seed,
        log,
        dump: cli.dump,
    };
    let report = soak::run(&plan)?;
    std::fs::write(&cli.json, serde_json::to_string_pretty(&report)?)?;
    print!("{}", soak::summary(&report));
    println!("wrote {} (plugin log: {})", cli.json.display(), plan.log.display());
    Ok(())
}
