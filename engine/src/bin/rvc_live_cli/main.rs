//! `rvc-live`: RVC Live's engine on the command line.
//!
//! `rvc-live convert IN.wav OUT.wav --voice VOICE.onnx --content-encoder ENCODER.onnx` runs the
//! plugin's own streaming engine over a file — the same blocks, queues, SOLA and latency — as fast
//! as the machine allows, and writes the converted voice aligned with the input. `rvc-live info
//! FILE` says what a model or index file is to RVC Live, or why it cannot be used. `rvc-live say
//! TEXT OUT.wav --tts-voice PIPER.onnx --voice …` speaks text with a Piper voice and converts it.

mod convert;
mod info;
mod say;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use convert::{Conversion, ConversionArgs};
use file_errors::Context;
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::remote::client::RemoteEndpoint;
use rvc_live_engine::voice_checkpoint::VoiceCheckpoint;
use rvc_live_engine::{voice_graph, voice_pack};

#[derive(Parser)]
#[command(name = "rvc-live", version, about = "RVC Live's voice conversion engine on the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a WAV file with a voice, through the same streaming engine the plugin runs — on this
    /// computer, or on an `rvc-live serve` server with `--server`.
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// The voice model (RVC synthesizer `.onnx`, any export convention); with `--server`, the
        /// name of a voice of the server's library.
        #[arg(long)]
        voice: PathBuf,
        /// The content encoder (ContentVec/HuBERT `.onnx`) the voice was trained with.
        #[arg(long, required_unless_present = "server")]
        content_encoder: Option<PathBuf>,
        /// Convert on this `rvc-live serve` server (`host:port` or `ws://…`) instead of here.
        #[arg(long)]
        server: Option<String>,
        /// The server's token.
        #[arg(long, env = "RVC_LIVE_SERVER_TOKEN", hide_env_values = true, requires = "server")]
        token: Option<String>,
        #[command(flatten)]
        conversion: ConversionArgs,
    },
    /// Serve the voices of a library folder to plugins and `convert --server` on other machines:
    /// each WebSocket connection is one stream; `GET /health` reports the load. Prints
    /// `listening on ADDRESS` when ready; stops on SIGTERM or Ctrl-C.
    Serve(Box<serve::ServeArgs>),
    /// Say what a voice (`.pth`), model (`.onnx`) or retrieval index (`.index`) is to RVC Live, or
    /// why it cannot be used. Exits non-zero for a file RVC Live cannot use.
    Info { file: PathBuf },
    /// Unpack a voice pack (`.zip` with a `.pth` and its `.index`) into a voice library folder.
    /// Refuses, writing nothing, a pack with entries that leave the folder, links, or absurd sizes.
    Import {
        pack: PathBuf,
        /// The voice library folder (the editor's library).
        #[arg(long)]
        library: PathBuf,
    },
    /// Write the ONNX model RVC Live builds from a `.pth` voice (RVC's partial-decoding graph), for
    /// tools that take ONNX voices.
    Export { voice: PathBuf, output: PathBuf },
    /// Say text with a Piper voice (espeak-ng phonemes) and convert the speech with a voice, through
    /// the same streaming engine as `convert`. Prints the time to first audio and the real-time
    /// factor.
    #[command(long_about = say::long_about())]
    Say(Box<say::SayArgs>),
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rvc-live: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Convert { input, output, voice, content_encoder, server, token, conversion } => {
            let engine = match (server, content_encoder) {
                (Some(address), _) => Engine::Remote(RemoteEndpoint {
                    address,
                    token: token.filter(|t| !t.is_empty()),
                    voice: voice.to_string_lossy().into_owned(),
                }),
                (None, Some(content_encoder)) => Engine::Local(conversion.selection(voice, content_encoder)),
                (None, None) => return Err("--content-encoder is needed to convert on this computer".into()),
            };
            convert(&input, &output, &engine, &conversion)
        }
        Command::Serve(serve) => serve::run(*serve),
        Command::Say(say) => say::run(*say),
        Command::Info { file } => {
            for line in info::describe(&file)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Import { pack, library } => {
            let imported = voice_pack::import(&pack, &library).map_err(|e| e.to_string())?;
            println!("imported {} into {}", imported.name, library.display());
            println!("  voice: {}", imported.voice.display());
            match &imported.index {
                Some(index) => println!("  index: {}", index.display()),
                None => println!("  index: none in the pack (the voice converts without retrieval)"),
            }
            Ok(())
        }
        Command::Export { voice, output } => {
            let checkpoint = VoiceCheckpoint::open(&voice).map_err(|e| e.to_string())?;
            let built =
                voice_graph::build(&checkpoint, voice_graph::embedded_templates()).map_err(|e| e.to_string())?;
            std::fs::write(&output, &built.onnx).context(&output)?;
            println!(
                "{}: RVC {} (partial decoding), {} MB",
                output.display(),
                built.fits.describe(),
                built.onnx.len() >> 20
            );
            Ok(())
        }
    }
}

/// Where `convert` converts.
enum Engine {
    Local(VoiceSelection),
    Remote(RemoteEndpoint),
}

fn convert(
    input: &std::path::Path,
    output: &std::path::Path,
    engine: &Engine,
    args: &ConversionArgs,
) -> Result<(), String> {
    let mut reader = hound::WavReader::open(input).context(input)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>().context(input)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>().context(input)?
        }
    };
    // The engine converts one voice: the channels are mixed down as the plugin does.
    let mono: Vec<f32> = samples
        .chunks(channels)
        .map(|frame| frame.iter().map(|s| if s.is_finite() { *s } else { 0.0 }).sum::<f32>() / channels as f32)
        .collect();

    let mut conversion = match engine {
        Engine::Local(voice) => {
            Conversion::start(voice, &args.settings(), args.controls(), args.threads, spec.sample_rate)?
        }
        Engine::Remote(server) => {
            Conversion::start_remote(server, &args.settings(), args.controls(), spec.sample_rate)?
        }
    };
    let latency = conversion.latency();
    eprintln!(
        "{}: {:.2} s at {} Hz; latency {} samples ({:.1} ms)\n{}",
        input.display(),
        mono.len() as f64 / f64::from(spec.sample_rate),
        spec.sample_rate,
        latency,
        conversion.geometry().samples_to_ms(latency),
        conversion.summary()
    );
    conversion.show_progress(mono.len());
    conversion.push(&mono);
    let (converted, report) = conversion.finish();
    write_wav(output, spec.sample_rate, &converted)?;
    report.print_with_real_time_factor(mono.len() as f64 / f64::from(spec.sample_rate));
    eprintln!("wrote {}", output.display());
    // The file is written either way, so the user can hear what went wrong; the exit status says it.
    report.problem().map_or(Ok(()), Err)
}

/// Write mono 32-bit float WAV.
fn write_wav(output: &std::path::Path, sample_rate: u32, samples: &[f32]) -> Result<(), String> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate, bits_per_sample: 32, sample_format: hound::SampleFormat::Float };
    let mut writer = hound::WavWriter::create(output, spec).context(output)?;
    for &s in samples {
        writer.write_sample(s).context(output)?;
    }
    writer.finalize().context(output)
}

/// Errors with the file they concern, for messages a user can act on.
mod file_errors {
    pub trait Context<T> {
        fn context(self, path: &std::path::Path) -> Result<T, String>;
    }

    impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
        fn context(self, path: &std::path::Path) -> Result<T, String> {
            self.map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}
