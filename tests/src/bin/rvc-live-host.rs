//! `rvc-live-host`: a headless CLAP host that runs RVC Live once, in a process of its own.
//!
//! `render` bounces a WAV file through the plugin offline (the demo uses it); `scenario` runs one of
//! the shared test scenarios and prints its report as one line of JSON, for tests that need their
//! own environment variables or must survive the plugin aborting.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use rvc_live_hosts::scenarios::{self, Paced, RenderBlocks, RenderVoice};
use rvc_live_hosts::state::VoiceSelection;

#[derive(Parser)]
#[command(name = "rvc-live-host", about = "Run RVC Live in a headless CLAP host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render IN.wav through the plugin offline into OUT.wav (32-bit float, latency removed).
    Render {
        /// The `.clap` bundle.
        #[arg(long)]
        plugin: PathBuf,
        input: PathBuf,
        output: PathBuf,
        /// Host buffer size.
        #[arg(long, default_value_t = 512)]
        block: usize,
        /// Use random buffer sizes up to `--block`, changing on every call, from this seed.
        #[arg(long)]
        random_blocks: Option<u64>,
        /// Convert with this voice model (synthesizer `.onnx`), chosen through the plugin's state.
        #[arg(long, requires = "content_encoder")]
        voice: Option<PathBuf>,
        /// The content encoder (`.onnx`) the voice needs.
        #[arg(long)]
        content_encoder: Option<PathBuf>,
        /// Pitch shift in semitones.
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        pitch: f32,
    },
    /// Time the audio thread: real-time render mode, calls paced at the audio rate, a stereo voice-
    /// like signal in, every `process` call timed. Prints a table and JSON.
    BenchAudioThread {
        #[arg(long)]
        plugin: PathBuf,
        /// Host buffer sizes to measure.
        #[arg(long, value_delimiter = ',', default_values_t = [64usize, 512])]
        buffers: Vec<usize>,
        #[arg(long, default_value_t = 48_000.0)]
        sample_rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Run a named test scenario and print its report as JSON.
    Scenario {
        name: ScenarioName,
        #[arg(long)]
        plugin: PathBuf,
        #[arg(long, default_value_t = 48_000.0)]
        sample_rate: f64,
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Paced scenarios: also write the output here (32-bit float WAV).
        #[arg(long)]
        dump: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScenarioName {
    /// Offline render in random buffer sizes; reports the error against the delayed input.
    OfflineRandomBlocks,
    /// Real-time render mode, calls paced at 48 kHz / 512 frames, left-only 233 Hz sine.
    PacedLeftOnly,
    /// Everything the audio thread does in a session, for the allocation check.
    AllocSuite,
    /// Twenty voice switches while a tone plays (offline, analytic voices).
    VoiceSwaps,
    /// The eight voice slots cycled through forty times by automation while a tone plays.
    VoiceSlots,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Render { plugin, input, output, block, random_blocks, voice, content_encoder, pitch } => {
            let blocks = match random_blocks {
                Some(seed) => RenderBlocks::Random { seed, max: block },
                None => RenderBlocks::Fixed(block),
            };
            let voice = voice.map(|synthesizer| RenderVoice {
                voice: VoiceSelection { synthesizer: Some(synthesizer), content_encoder, ..Default::default() },
                semitones: pitch,
            });
            let report = scenarios::render_file(&plugin, &input, &output, blocks, voice.as_ref())?;
            let rate = f64::from(report.sample_rate);
            eprintln!(
                "rendered {:.2} s at {} Hz in {:.2} s ({:.1}x real time); reported latency {} samples ({:.1} ms){}",
                report.frames as f64 / rate,
                report.sample_rate,
                report.seconds,
                report.real_time_factor,
                report.reported_latency,
                f64::from(report.reported_latency) * 1000.0 / rate,
                report.measured_delay.map_or(String::new(), |d| format!(", measured delay {d} samples"))
            );
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::BenchAudioThread { plugin, buffers, sample_rate, seconds } => {
            let mut reports = Vec::new();
            println!("buffer  calls   median µs   p99 µs    max µs   share of one core");
            for buffer in buffers {
                let report = rvc_live_hosts::audio_thread_bench::run(&plugin, sample_rate, buffer, seconds)?;
                println!(
                    "{:>6} {:>6} {:>11.2} {:>8.2} {:>9.2}   {:.3} %",
                    report.buffer,
                    report.calls,
                    report.median_us,
                    report.p99_us,
                    report.max_us,
                    report.core_share * 100.0
                );
                reports.push(report);
            }
            println!("{}", serde_json::to_string(&reports)?);
        }
        Command::Scenario { name, plugin, sample_rate, seconds, seed, dump } => {
            let report = match name {
                ScenarioName::OfflineRandomBlocks => {
                    scenarios::offline_random_blocks(&plugin, sample_rate, seconds, seed)?
                }
                ScenarioName::PacedLeftOnly => {
                    let paced = Paced { sample_rate, seconds, ..Paced::default_for(seconds) };
                    let (report, output) = scenarios::paced_left_only(&plugin, paced)?;
                    if let Some(path) = dump {
                        let audio = rvc_live_hosts::wav::Audio { sample_rate: sample_rate as u32, channels: output };
                        rvc_live_hosts::wav::write(&path, &audio)?;
                    }
                    report
                }
                ScenarioName::AllocSuite => scenarios::alloc_suite(&plugin)?,
                ScenarioName::VoiceSwaps => {
                    rvc_live_hosts::voice_swaps::run(&plugin, std::time::Duration::from_millis(300))?.report
                }
                ScenarioName::VoiceSlots => {
                    use rvc_live_hosts::voice_slots;
                    let voices: Vec<_> = (0..voice_slots::SLOT_LEVELS.len()).map(voice_slots::slot_voice).collect();
                    voice_slots::run(&plugin, &voices, &voice_slots::cycling_plan(voice_slots::CYCLES))?.report
                }
            };
            println!("{}", serde_json::to_string(&report)?);
        }
    }
    Ok(())
}
