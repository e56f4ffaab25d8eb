//! `rvc-live-bench`: how fast RVC Live's engine converts, block by block.
//!
//! `run` drives the plugin's block processor directly (no queues, no pacing) over a WAV file at a
//! grid of block sizes and contexts, timing every block and every stage of it, and reports median
//! and p99 per block, the real-time factor, the latency the plugin would report at 48 kHz with
//! 512-sample host buffers, and the process's peak memory. `report` joins such a run with the
//! reference engine's (`bench/reference_engine.py`) and the audio thread's timings into the table
//! `cargo xtask bench` prints.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod block_scaling;
mod remote_streams;
mod slot_memory;

use clap::{Parser, Subcommand};
use rvc_live_engine::VoiceSelection;
use rvc_live_engine::stream::worker_budget::{budget_samples, measured_budget};
use rvc_live_engine::stream::{BlockProcessor, InputHistory, StreamGeometry, StreamSettings};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, Stage};
use serde::{Deserialize, Serialize};

/// The host the latency is reported for: 48 kHz with 512-sample buffers, as in the README.
const HOST_RATE: u32 = 48_000;
const HOST_BUFFER: u32 = 512;

#[derive(Parser)]
#[command(name = "rvc-live-bench", about = "Time RVC Live's conversion engine per block")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a 48 kHz WAV file at every grid point and time each block and stage.
    Run {
        input: PathBuf,
        /// The voice model (RVC synthesizer `.onnx`).
        #[arg(long)]
        voice: PathBuf,
        /// The content encoder (`.onnx`).
        #[arg(long)]
        content_encoder: PathBuf,
        /// A pitch model (FCPE or CREPE `.onnx`); without one the built-in tracker is used.
        #[arg(long)]
        pitch_model: Option<PathBuf>,
        /// Block lengths in milliseconds.
        #[arg(long, value_delimiter = ',', default_values_t = [100.0f32, 120.0, 150.0, 200.0, 300.0])]
        blocks: Vec<f32>,
        /// Contexts (audio before the block the models also see) in milliseconds.
        #[arg(long, value_delimiter = ',', default_values_t = [250.0f32, 500.0])]
        contexts: Vec<f32>,
        /// ONNX Runtime intra-op threads per model.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The voice's retrieval index (faiss IVF-Flat `.index`); its stage is timed as "index".
        #[arg(long)]
        index: Option<PathBuf>,
        /// Blocks converted and discarded before timing, so first-call costs do not count.
        #[arg(long, default_value_t = 2)]
        warmup: usize,
        /// Run the content encoder and the voice's decoder from the int8 copies the plugin offers as
        /// its fast, approximate precision (by default they run in float, as the plugin's default
        /// does).
        #[arg(long)]
        int8_models: bool,
        /// Also write the results here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Resident memory per voice slot, with the content encoder and pitch model shared between
    /// slots as the plugin loads them, against every voice loading its own.
    SlotMemory {
        /// Voice models to fill the slots with, in turn (repeatable).
        #[arg(long, required = true)]
        voice: Vec<PathBuf>,
        #[arg(long)]
        content_encoder: PathBuf,
        #[arg(long)]
        pitch_model: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        slots: usize,
        /// ONNX Runtime intra-op threads per model.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Measure one way in this process (`shared` or `separate`) and print JSON; without it,
        /// both run in child processes and the table is printed.
        #[arg(long, hide = true)]
        measure: Option<String>,
    },
    /// Streams converting at once on one `rvc-live serve` (the one beside this binary) on a loopback
    /// port, each paced in real time: blocks back in time, what the network path adds per block,
    /// the server's CPU per stream.
    RemoteStreams {
        /// A 48 kHz WAV file, looped as each stream's input.
        input: PathBuf,
        #[arg(long)]
        voice: PathBuf,
        #[arg(long)]
        content_encoder: PathBuf,
        #[arg(long)]
        pitch_model: Option<PathBuf>,
        /// Stream counts to measure, one after another.
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2, 4, 8])]
        streams: Vec<usize>,
        /// Seconds each stream plays.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// ONNX Runtime threads per model on the server.
        #[arg(long, default_value_t = 1)]
        server_threads: usize,
        /// Start the server with `--separate-models` (each stream its own content encoder and
        /// pitch model) instead of sharing them.
        #[arg(long)]
        separate_models: bool,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Join our runs, the reference's and the audio thread's into one table (and JSON).
    Report {
        /// JSON written by `run --json`; repeat for runs of other settings.
        #[arg(long, required = true)]
        ours: Vec<PathBuf>,
        /// JSON written by `bench/reference_engine.py --json`; repeatable.
        #[arg(long)]
        reference: Vec<PathBuf>,
        /// The JSON line `rvc-live-host bench-audio-thread` prints.
        #[arg(long)]
        audio_thread: Option<PathBuf>,
        /// Write the joined report here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Run {
            input,
            voice,
            content_encoder,
            pitch_model,
            index,
            blocks,
            contexts,
            threads,
            warmup,
            int8_models,
            json,
        } => {
            let models = Models { voice, content_encoder, pitch_model, index };
            let grid = Grid { blocks, contexts, threads, warmup, int8: int8_models || StreamSettings::default().int8 };
            run(&input, &models, &grid, json.as_deref())
        }
        Command::SlotMemory { voice, content_encoder, pitch_model, slots, threads, measure } => {
            let models = slot_memory::SlotModels { voices: voice, content_encoder, pitch_model, slots, threads };
            match measure.as_deref() {
                None => slot_memory::run(&models),
                Some("shared") => slot_memory::measure(&models, true),
                Some("separate") => slot_memory::measure(&models, false),
                Some(other) => Err(format!("--measure takes shared or separate, not {other:?}")),
            }
        }
        Command::RemoteStreams {
            input,
            voice,
            content_encoder,
            pitch_model,
            streams,
            seconds,
            server_threads,
            separate_models,
            json,
        } => {
            let bench = remote_streams::RemoteBench {
                voice,
                content_encoder,
                pitch_model,
                input,
                streams,
                seconds,
                server_threads,
                separate_models,
            };
            remote_streams::run(&bench, json.as_deref())
        }
        Command::Report { ours, reference, audio_thread, json } => {
            report::run(&ours, &reference, audio_thread.as_deref(), json.as_deref())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rvc-live-bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The model files of the voice under test.
struct Models {
    voice: PathBuf,
    content_encoder: PathBuf,
    pitch_model: Option<PathBuf>,
    index: Option<PathBuf>,
}

/// The settings to measure.
struct Grid {
    blocks: Vec<f32>,
    contexts: Vec<f32>,
    threads: usize,
    warmup: usize,
    int8: bool,
}

/// One engine's results over a grid: what `run --json` and the reference write.
#[derive(Debug, Serialize, Deserialize)]
pub struct EngineRun {
    pub engine: String,
    pub input: String,
    pub audio_seconds: f64,
    pub sample_rate: u32,
    pub threads: usize,
    /// Whether the process ran at the highest scheduling priority (see [`raise_priority`]).
    #[serde(default)]
    pub raised_priority: bool,
    /// The retrieval index the voice searched, described (absent: none).
    #[serde(default)]
    pub index: Option<String>,
    pub points: Vec<Point>,
}

/// One grid point's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    pub block_ms: f64,
    pub context_ms: f64,
    /// Blocks timed.
    pub blocks: usize,
    /// Per stage, in the order they run.
    pub stages: Vec<Timing>,
    /// The whole block.
    pub total: Timing,
    /// Compute time over the audio's duration.
    pub rtf: f64,
    /// The worker budget the plugin reserves for this voice at its default (measured) setting:
    /// one block timed as it loads, with headroom, at most a block; in ms (absent for the
    /// reference and older runs).
    #[serde(default)]
    pub budget_ms: Option<f64>,
    /// What the plugin reports at 48 kHz with 512-sample buffers, with that budget (absent for
    /// the reference, whose GUI reports another formula).
    #[serde(default)]
    pub latency_samples: Option<usize>,
    #[serde(default)]
    pub latency_ms: Option<f64>,
    /// The block `time_block` timed right after the load, in ms, before any headroom or cap: what
    /// the budget is measured from (absent for the reference, older runs, and a block that did
    /// not convert).
    #[serde(default)]
    pub timed_block_ms: Option<f64>,
    /// The process's peak resident memory so far, in MiB.
    pub peak_rss_mib: f64,
    /// How long the voice took to load as the plugin loads it (models, warm-up, any int8 copies),
    /// in seconds (absent for the reference and older runs).
    #[serde(default)]
    pub load_s: Option<f64>,
}

/// Milliseconds per block of one stage (or the whole block).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub name: String,
    pub median_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

impl Timing {
    fn of(name: &str, mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms.get(((ms.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0.0);
        let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
        Self { name: name.to_owned(), median_ms: at(0.5), p99_ms: at(0.99), mean_ms: mean, max_ms: at(1.0) }
    }
}

fn run(input: &Path, models: &Models, grid: &Grid, json: Option<&Path>) -> Result<(), String> {
    let raised_priority = raise_priority();
    let mono = read_mono(input)?;
    let audio_seconds = mono.len() as f64 / f64::from(HOST_RATE);
    let mut points = Vec::new();
    let mut precision = String::new();
    let mut index = None;
    for &context_ms in &grid.contexts {
        for &block_ms in &grid.blocks {
            let (point, point_precision, point_index) = measure(&mono, models, block_ms, context_ms, grid)?;
            precision = point_precision;
            index = point_index;
            eprintln!(
                "block {:>4.0} ms, context {:>4.0} ms: median {:.1} ms, p99 {:.1} ms, RTF {:.3}",
                point.block_ms, point.context_ms, point.total.median_ms, point.total.p99_ms, point.rtf
            );
            points.push(point);
        }
    }
    let run = EngineRun {
        engine: format!("rvc-live, {precision} models"),
        input: input.display().to_string(),
        audio_seconds,
        sample_rate: HOST_RATE,
        threads: grid.threads,
        raised_priority,
        index,
        points,
    };
    report::print_stages(&run);
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&run).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The stream `activate` sets up at these settings, at 48 kHz with 512-sample buffers, for a voice
/// whose block took `compute` when timed (`None`: not timed, the whole cap reserved).
fn reported_geometry(settings: &StreamSettings, compute: Option<Duration>) -> StreamGeometry {
    let geometry = RvcProcessor::stream_geometry(settings, HOST_RATE as f32, HOST_BUFFER);
    match compute {
        Some(compute) if settings.measured_budget => geometry.with_worker_budget(budget_samples(
            measured_budget(compute),
            geometry.sample_rate,
            geometry.worker_budget,
        )),
        _ => geometry,
    }
}

/// The latency in ms the plugin would report with the default settings at this block (whole
/// frames) and context, for a voice whose block took `compute_ms` when timed at load.
fn reported_latency_ms(block_ms: f64, context_ms: f64, compute_ms: f64) -> f64 {
    let settings =
        StreamSettings { block_ms: block_ms as f32, context_ms: context_ms as f32, ..StreamSettings::default() }
            .clamped();
    let geometry = reported_geometry(&settings, Some(Duration::from_secs_f64(compute_ms.max(0.0) / 1e3)));
    geometry.samples_to_ms(geometry.latency())
}

/// Convert the whole file at one setting, block by block, as the inference thread would.
fn measure(
    mono: &[f32],
    models: &Models,
    block_ms: f32,
    context_ms: f32,
    grid: &Grid,
) -> Result<(Point, String, Option<String>), String> {
    let settings = StreamSettings { block_ms, context_ms, int8: grid.int8, ..StreamSettings::default() }.clamped();
    // The plugin's own construction in `activate`.
    let geometry = RvcProcessor::stream_geometry(&settings, HOST_RATE as f32, HOST_BUFFER);
    let selection = VoiceSelection {
        synthesizer: Some(models.voice.clone()),
        content_encoder: Some(models.content_encoder.clone()),
        pitch_model: models.pitch_model.clone(),
        index: models.index.clone(),
        ..Default::default()
    };
    // Every block goes through the models: the gate would skip espeak's silent gaps, which the
    // reference converts, and a benchmark wants the work, not the shortcut.
    let controls = ConversionControls { gate_db: f32::NEG_INFINITY, ..ConversionControls::default() };
    let stats = Arc::new(ConversionStats::default());
    let loading = Instant::now();
    let mut processor =
        RvcProcessor::load(&selection, &geometry, &settings, Arc::new(move || controls), stats.clone(), grid.threads)
            .map_err(|e| format!("cannot use this voice: {e}"))?;
    let load_s = loading.elapsed().as_secs_f64();
    if let Some(problem) = processor.index_problem() {
        return Err(format!("cannot use the index: {problem}"));
    }
    let index = processor.retrieval().map(|r| r.index().summary());
    let models_run_in = processor.precision();
    let precision = if models_run_in.content_encoder.is_int8() && models_run_in.synthesizer.is_int8() {
        "int8".to_owned()
    } else if grid.int8 {
        format!("float, int8 refused: {}", models_run_in.summary())
    } else {
        "float".to_owned()
    };
    // As `activate` reserves it: the block timed right after the load.
    let timed_block = processor.time_block(&geometry);
    let geometry = reported_geometry(&settings, timed_block);
    let block = geometry.block;
    let blocks = mono.len() / block;
    if blocks <= grid.warmup {
        return Err(format!("the input holds {blocks} blocks of {block_ms} ms; more are needed"));
    }
    let (mut output, mut weight) = (vec![0.0; block], vec![0.0; block]);
    let mut history = InputHistory::new(geometry.history());
    for chunk in mono.chunks_exact(block).take(grid.warmup) {
        history.push(chunk);
        processor.process_block(&history, &mut output, &mut weight);
    }
    history.clear();
    processor.reset();

    let stage_nanos = || Stage::ALL.map(|s| stats.stage_nanos[s as usize].load(Ordering::Relaxed));
    let mut per_stage: Vec<Vec<f64>> = vec![Vec::with_capacity(blocks); Stage::ALL.len()];
    let mut totals = Vec::with_capacity(blocks);
    for chunk in mono.chunks_exact(block) {
        let (before, converted) = (stage_nanos(), stats.converted.load(Ordering::Relaxed));
        let started = Instant::now();
        history.push(chunk);
        processor.process_block(&history, &mut output, &mut weight);
        let elapsed = started.elapsed();
        if stats.converted.load(Ordering::Relaxed) == converted {
            // Failed or gated: not a conversion, so not a timing of one.
            continue;
        }
        for ((times, after), before) in per_stage.iter_mut().zip(stage_nanos()).zip(before) {
            times.push((after - before) as f64 / 1e6);
        }
        totals.push(elapsed.as_secs_f64() * 1e3);
    }
    let failed = stats.failed.load(Ordering::Relaxed);
    if totals.is_empty() {
        return Err(format!("no block converted ({failed} failed)"));
    }
    let timed = totals.len();
    let compute_ms: f64 = totals.iter().sum();
    let latency = geometry.latency();
    let point = Point {
        block_ms: geometry.samples_to_ms(block),
        context_ms: f64::from(settings.context_ms),
        blocks: timed,
        stages: Stage::ALL.iter().zip(per_stage).map(|(stage, ms)| Timing::of(stage.name(), ms)).collect(),
        total: Timing::of("total", totals),
        rtf: compute_ms / (timed as f64 * geometry.samples_to_ms(block)),
        budget_ms: Some(geometry.samples_to_ms(geometry.worker_budget)),
        latency_samples: Some(latency),
        latency_ms: Some(geometry.samples_to_ms(latency)),
        timed_block_ms: timed_block.map(|t| t.as_secs_f64() * 1e3),
        peak_rss_mib: peak_rss_mib(),
        load_s: Some(load_s),
    };
    Ok((point, precision, index))
}

/// The input mixed down to mono, as the plugin does. Only 48 kHz: the latency and the engine's
/// resampling are those of a 48 kHz host.
fn read_mono(input: &Path) -> Result<Vec<f32>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", input.display());
    let mut reader = hound::WavReader::open(input).map_err(|e| fail(&e))?;
    let spec = reader.spec();
    if spec.sample_rate != HOST_RATE {
        return Err(fail(&format!("{} Hz; the benchmark needs {HOST_RATE} Hz", spec.sample_rate)));
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>().map_err(|e| fail(&e))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| fail(&e))?
        }
    };
    let channels = usize::from(spec.channels.max(1));
    Ok(samples.chunks(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect())
}

/// Ask for the highest scheduling priority (permitted to root), so other work on a shared machine
/// disturbs the timings less. ONNX Runtime's threads, started later, inherit it. Returns whether
/// it was granted.
fn raise_priority() -> bool {
    // SAFETY: a plain system call on the calling thread.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -20) == 0 }
}

/// The process's peak resident set so far (Linux reports kibibytes; macOS bytes).
fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let unit = if cfg!(target_os = "macos") { 1.0 } else { 1024.0 };
    usage.ru_maxrss as f64 * unit / (1024.0 * 1024.0)
}

/// The tables, and the joined report `cargo xtask bench` writes.
mod report {
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Serialize};

    use super::block_scaling::{BlockCost, BlockScaling};
    use super::{EngineRun, Point, Stage};

    /// One `rvc-live-host bench-audio-thread` measurement.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct AudioThread {
        pub sample_rate: f64,
        pub buffer: usize,
        pub calls: usize,
        pub median_us: f64,
        pub p99_us: f64,
        pub max_us: f64,
        pub core_share: f64,
    }

    /// One row of the joined table: a grid point, ours against the reference.
    #[derive(Debug, Serialize)]
    struct Row {
        block_ms: f64,
        context_ms: f64,
        ours_median_ms: f64,
        ours_p99_ms: f64,
        reference_median_ms: Option<f64>,
        reference_p99_ms: Option<f64>,
        /// Ours over the reference, by median per-block compute.
        ratio_median: Option<f64>,
        /// Our index stage, median ms per block, and its share of the block's compute (means).
        index_median_ms: Option<f64>,
        index_share: Option<f64>,
        ours_rtf: f64,
        reference_rtf: Option<f64>,
        budget_ms: Option<f64>,
        latency_ms: Option<f64>,
        load_s: Option<f64>,
        peak_rss_mib: f64,
        reference_peak_rss_mib: Option<f64>,
    }

    #[derive(Debug, Serialize)]
    struct Joined<'a> {
        rows: Vec<Row>,
        ours: &'a EngineRun,
        reference: Option<&'a EngineRun>,
        /// Ours, per context: how the compute grows with the block.
        block_scaling: Vec<BlockScaling>,
        audio_thread: &'a [AudioThread],
    }

    pub fn run(
        ours: &[PathBuf],
        reference: &[PathBuf],
        audio_thread: Option<&Path>,
        json: Option<&Path>,
    ) -> Result<(), String> {
        let ours = merge(ours)?.ok_or("no run of ours to report")?;
        let reference = merge(reference)?;
        let audio_thread: Vec<AudioThread> = audio_thread.map(read).transpose()?.unwrap_or_default();
        let indexed = ours.index.is_some();
        let rows: Vec<Row> = ours.points.iter().map(|p| row(p, reference.as_ref(), indexed)).collect();

        print_stages(&ours);
        if let Some(reference) = &reference {
            print_stages(reference);
        }
        println!(
            "\n{} over {:.1} s, {} threads; ms per block (median / p99); ratio = ours / reference (median)",
            ours.input, ours.audio_seconds, ours.threads
        );
        if let Some(index) = &ours.index {
            println!(
                "ours retrieves from an index of {index} (counted in its times; the reference runs without one); \
                 index = that stage's median ms and share of the block's compute"
            );
        }
        println!(
            "{:>6} {:>7} | {:>17} | {:>17} | {:>5} | {:>14} | {:>5} {:>5} | {:>6} {:>7} | {:>6} | {:>9} {:>9}",
            "block",
            "context",
            "ours",
            "reference",
            "ratio",
            "index",
            "RTF",
            "ref",
            "budget",
            "latency",
            "load s",
            "peak MiB",
            "ref MiB"
        );
        let opt = |v: Option<f64>, prec: usize| v.map_or("-".to_owned(), |v| format!("{v:.prec$}"));
        for r in &rows {
            let index = match (r.index_median_ms, r.index_share) {
                (Some(ms), Some(share)) => format!("{ms:.2} ({:.1} %)", share * 100.0),
                _ => "-".to_owned(),
            };
            println!(
                "{:>6.0} {:>7.0} | {:>7.1} / {:>7.1} | {:>7} / {:>7} | {:>5} | {:>14} | {:>5.2} {:>5} | {:>6} {:>7} | {:>6} | {:>9.0} {:>9}",
                r.block_ms,
                r.context_ms,
                r.ours_median_ms,
                r.ours_p99_ms,
                opt(r.reference_median_ms, 1),
                opt(r.reference_p99_ms, 1),
                opt(r.ratio_median, 2),
                index,
                r.ours_rtf,
                opt(r.reference_rtf, 2),
                opt(r.budget_ms, 0),
                opt(r.latency_ms, 0),
                opt(r.load_s, 2),
                r.peak_rss_mib,
                opt(r.reference_peak_rss_mib, 0),
            );
        }
        let costs = ours.points.iter().map(|p| {
            let cost = BlockCost { block_ms: p.block_ms, median_ms: p.total.median_ms, timed_ms: p.timed_block_ms };
            (p.context_ms, cost)
        });
        let block_scaling: Vec<BlockScaling> = BlockScaling::of_points(costs)
            .into_iter()
            .map(|line| BlockScaling {
                latency_from_ms: line
                    .offered_budget_block_ms()
                    .zip(line.timed)
                    .map(|(block, timed)| super::reported_latency_ms(block, line.context_ms, timed.at(block))),
                ..line
            })
            .collect();
        if !block_scaling.is_empty() {
            println!(
                "\nours, compute against block length (median per block, fitted; outside the blocks measured, estimated):"
            );
            for line in &block_scaling {
                println!("  {}", line.summary());
            }
        }
        if !audio_thread.is_empty() {
            println!("\naudio thread, per process() call (identity stream, paced at the audio rate):");
            println!(
                "{:>7} {:>7} {:>10} {:>8} {:>8} {:>12}",
                "buffer", "calls", "median µs", "p99 µs", "max µs", "core share"
            );
            for a in &audio_thread {
                println!(
                    "{:>7} {:>7} {:>10.2} {:>8.2} {:>8.2} {:>11.3} %",
                    a.buffer,
                    a.calls,
                    a.median_us,
                    a.p99_us,
                    a.max_us,
                    a.core_share * 100.0
                );
            }
        }
        if let Some(path) = json {
            let joined =
                Joined { rows, ours: &ours, reference: reference.as_ref(), block_scaling, audio_thread: &audio_thread };
            let text = serde_json::to_string_pretty(&joined).map_err(|e| e.to_string())?;
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("\nwrote {}", path.display());
        }
        Ok(())
    }

    fn row(p: &Point, reference: Option<&EngineRun>, indexed: bool) -> Row {
        let same = |q: &&Point| (q.block_ms - p.block_ms).abs() < 0.5 && (q.context_ms - p.context_ms).abs() < 0.5;
        let r = reference.and_then(|r| r.points.iter().find(same));
        let index = p.stages.iter().find(|s| s.name == Stage::Retrieval.name()).filter(|_| indexed);
        Row {
            block_ms: p.block_ms,
            context_ms: p.context_ms,
            ours_median_ms: p.total.median_ms,
            ours_p99_ms: p.total.p99_ms,
            reference_median_ms: r.map(|r| r.total.median_ms),
            reference_p99_ms: r.map(|r| r.total.p99_ms),
            ratio_median: r.map(|r| p.total.median_ms / r.total.median_ms),
            index_median_ms: index.map(|s| s.median_ms),
            index_share: index.map(|s| s.mean_ms / p.total.mean_ms),
            ours_rtf: p.rtf,
            reference_rtf: r.map(|r| r.rtf),
            budget_ms: p.budget_ms,
            latency_ms: p.latency_ms,
            load_s: p.load_s,
            peak_rss_mib: p.peak_rss_mib,
            reference_peak_rss_mib: r.map(|r| r.peak_rss_mib),
        }
    }

    /// Per-stage median / p99 ms per block, one row per grid point.
    pub fn print_stages(run: &EngineRun) {
        let Some(first) = run.points.first() else { return };
        let priority = if run.raised_priority { ", nice -20" } else { "" };
        println!("\n{} ({} threads{priority}): ms per block, median / p99", run.engine, run.threads);
        let mut header = format!("{:>6} {:>7}", "block", "context");
        for stage in &first.stages {
            header.push_str(&format!(" | {:>21}", truncate(&stage.name, 21)));
        }
        println!("{header} | {:>21} | {:>5}", "total", "RTF");
        for p in &run.points {
            let mut line = format!("{:>6.0} {:>7.0}", p.block_ms, p.context_ms);
            for s in &p.stages {
                line.push_str(&format!(" | {:>9.1} / {:>9.1}", s.median_ms, s.p99_ms));
            }
            println!("{line} | {:>9.1} / {:>9.1} | {:>5.2}", p.total.median_ms, p.total.p99_ms, p.rtf);
        }
    }

    /// Runs of one engine at different settings (one process each) as one run.
    fn merge(paths: &[PathBuf]) -> Result<Option<EngineRun>, String> {
        let mut merged: Option<EngineRun> = None;
        for path in paths {
            let run: EngineRun = read(path)?;
            match merged.as_mut() {
                Some(all) => all.points.extend(run.points),
                None => merged = Some(run),
            }
        }
        Ok(merged)
    }

    fn truncate(name: &str, width: usize) -> &str {
        name.char_indices().nth(width).map_or(name, |(i, _)| &name[..i])
    }

    fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
