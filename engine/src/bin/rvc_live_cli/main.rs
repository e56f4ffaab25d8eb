//! `rvc-live`: RVC Live's engine on the command line.
//!
//! `rvc-live convert IN.wav OUT.wav --voice VOICE.onnx --content-encoder ENCODER.onnx` runs the
//! plugin's own streaming engine over a file — the same blocks, queues, SOLA and latency — as fast
//! as the machine allows, and writes the converted voice aligned with the input. `rvc-live info
//! FILE` says what a model or index file is to RVC Live, or why it cannot be used.

mod info;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use file_errors::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::{Stream, StreamSettings, StreamStats};
use rvc_live_engine::voice_checkpoint::VoiceCheckpoint;
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, Stage};
use rvc_live_engine::{DryWetMixer, MixControls, PROTECT_OFF};
use rvc_live_engine::{voice_graph, voice_pack};

/// Host-style buffer the file is fed in.
const BUFFER: usize = 512;

#[derive(Parser)]
#[command(name = "rvc-live", version, about = "RVC Live's voice conversion engine on the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a WAV file with a voice, through the same streaming engine the plugin runs.
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// The voice model (RVC synthesizer `.onnx`, any export convention).
        #[arg(long)]
        voice: PathBuf,
        /// The content encoder (ContentVec/HuBERT `.onnx`) the voice was trained with.
        #[arg(long)]
        content_encoder: PathBuf,
        /// Pitch shift in semitones (fractions are cents).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        pitch: f32,
        /// Blocks quieter than this (dBFS RMS) are not converted.
        #[arg(long, default_value_t = -70.0, allow_negative_numbers = true)]
        gate_db: f32,
        /// 1 keeps the voice's own loudness, 0 gives it the input's (RVC's rms_mix_rate).
        #[arg(long, default_value_t = 1.0)]
        envelope: f32,
        /// Denoise the input (RNNoise) before converting it; adds 10 ms of latency.
        #[arg(long)]
        denoise: bool,
        /// Fast, approximate: on the CPU, run the content encoder and the voice's decoder from int8
        /// copies calibrated when the voice loads, about 1.6 times as fast but audibly different (on a
        /// trained vocoder: wideband PESQ 1.7 against float, hiss in the pauses). By default they
        /// run in float, as the files are.
        #[arg(long)]
        int8: bool,
        /// A pitch model (FCPE, CREPE or RMVPE `.onnx`); without one the built-in tracker is used.
        #[arg(long, visible_alias = "f0")]
        pitch_model: Option<PathBuf>,
        /// The voice's retrieval index (RVC's `added_….index`, faiss IVF-Flat).
        #[arg(long)]
        index: Option<PathBuf>,
        /// How far the voice's features move toward what they retrieve from the index (0–1).
        #[arg(long, default_value_t = ConversionControls::DEFAULT_INDEX_RATE)]
        index_rate: f32,
        /// How much of the retrieval unvoiced frames keep (0–0.5; 0.5 turns protection off).
        #[arg(long, default_value_t = ConversionControls::DEFAULT_PROTECT)]
        protect: f32,
        /// Speaker id for multi-speaker voices.
        #[arg(long, default_value_t = 0)]
        speaker: u32,
        /// Block length in milliseconds.
        #[arg(long, default_value_t = StreamSettings::default().block_ms)]
        block_ms: f32,
        /// Context before each block that the voice model sees, in milliseconds.
        #[arg(long, default_value_t = StreamSettings::default().context_ms)]
        context_ms: f32,
        /// ONNX Runtime threads per model.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
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
        Command::Convert {
            input,
            output,
            voice,
            content_encoder,
            pitch,
            gate_db,
            envelope,
            denoise,
            int8,
            pitch_model,
            index,
            index_rate,
            protect,
            speaker,
            block_ms,
            context_ms,
            threads,
        } => {
            let settings =
                StreamSettings { block_ms, context_ms, denoise, int8, ..StreamSettings::default() }.clamped();
            let selection = VoiceSelection {
                synthesizer: Some(voice),
                content_encoder: Some(content_encoder),
                pitch_model,
                index,
                speaker_id: speaker,
            };
            let controls = ConversionControls {
                semitones: pitch,
                gate_db,
                envelope: envelope.clamp(0.0, 1.0),
                index_rate: index_rate.clamp(0.0, 1.0),
                protect: protect.clamp(0.0, PROTECT_OFF),
            };
            convert(&input, &output, &selection, &settings, controls, threads)
        }
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

fn convert(
    input: &std::path::Path,
    output: &std::path::Path,
    voice: &VoiceSelection,
    settings: &StreamSettings,
    controls: ConversionControls,
    threads: usize,
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

    let geometry = RvcProcessor::stream_geometry(settings, spec.sample_rate as f32, BUFFER as u32);
    let conversion = Arc::new(ConversionStats::default());
    let processor =
        RvcProcessor::load(voice, &geometry, settings, Arc::new(move || controls), conversion.clone(), threads)
            .map_err(|e| format!("cannot use this voice: {e}"))?;
    // The plugin plays on without an index it cannot use; a conversion asked for with one stops.
    if let (Some(problem), Some(index)) = (processor.index_problem(), &voice.index) {
        return Err(format!("cannot use the index {}: {problem}", index.display()));
    }
    let retrieval = processor.retrieval().map(|r| format!("; index: {}", r.index().summary())).unwrap_or_default();
    let precision = processor.precision().summary();
    let latency = geometry.latency();
    let stats = Arc::new(StreamStats::default());
    let (mut stream, _swap) =
        Stream::start(geometry, Box::new(processor), stats.clone(), true).map_err(|e| e.to_string())?;
    let mut mixer = DryWetMixer::new(1, latency);
    let mix = MixControls { dry_wet: 1.0, output_gain: 1.0, bypass: 0.0 };

    eprintln!(
        "{}: {:.2} s at {} Hz; latency {} samples ({:.1} ms)\n{precision}{retrieval}",
        input.display(),
        mono.len() as f64 / f64::from(spec.sample_rate),
        spec.sample_rate,
        latency,
        geometry.samples_to_ms(latency)
    );
    let total = mono.len() + latency;
    let progress = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} ETA {eta}").expect("a valid template"),
    );
    let started = Instant::now();
    let (mut wet, mut weight) = (vec![0.0; BUFFER], vec![0.0; BUFFER]);
    let mut converted = Vec::with_capacity(total);
    let padded: Vec<f32> = mono.iter().copied().chain(std::iter::repeat_n(0.0, latency)).collect();
    for chunk in padded.chunks(BUFFER) {
        let n = chunk.len();
        stream.audio.process(chunk, &mut wet[..n], &mut weight[..n]);
        for i in 0..n {
            let mut sample = [chunk[i]];
            mixer.process_frame(sample.iter_mut(), wet[i], weight[i], mix);
            converted.push(sample[0]);
        }
        progress.inc(n as u64);
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    drop(stream);

    let spec_out = hound::WavSpec {
        channels: 1,
        sample_rate: spec.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(output, spec_out).context(output)?;
    for &s in &converted[latency..] {
        writer.write_sample(s).context(output)?;
    }
    writer.finalize().context(output)?;

    let audio_seconds = mono.len() as f64 / f64::from(spec.sample_rate);
    eprintln!(
        "converted in {seconds:.2} s: real-time factor {:.3} ({:.1}x faster than real time), peak block load {:.2}",
        seconds / audio_seconds,
        audio_seconds / seconds,
        stats.peak_load(),
    );
    let block_ms = geometry.samples_to_ms(geometry.block);
    eprintln!(
        "per block of {block_ms:.0} ms (mean over {} blocks):",
        conversion.converted.load(std::sync::atomic::Ordering::Relaxed)
    );
    let mut total = 0.0;
    for stage in Stage::ALL {
        let ms = conversion.mean_ms(stage);
        total += ms;
        eprintln!("  {:<22} {ms:>8.2} ms", stage.name());
    }
    eprintln!("  {:<22} {total:>8.2} ms  ({:.2} of the block)", "total", total / block_ms);
    eprintln!("wrote {}", output.display());
    // The file is written either way, so the user can hear what went wrong; the exit status says it.
    if let Some(fault) = stats.fault() {
        return Err(fault);
    }
    let failed = conversion.failed.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 {
        let blocks = stats.blocks.load(std::sync::atomic::Ordering::Relaxed);
        let why = conversion.last_failure().unwrap_or_default();
        return Err(format!("{failed} of {blocks} blocks failed and hold the input instead: {why}"));
    }
    Ok(())
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
