//! The streaming conversion `convert` and `say` share: audio fed to the plugin's own engine in
//! host-sized buffers, as fast as the machine allows, and the converted voice taken back aligned
//! with the input.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rvc_live_engine::remote;
use rvc_live_engine::remote::client::{ConnectTimeouts, LOAD_TIMEOUT, RemoteEndpoint, RemoteStats};
use rvc_live_engine::stream::{Stream, StreamGeometry, StreamSettings, StreamStats};
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, Stage, VoiceSelection};
use rvc_live_engine::{DryWetMixer, MixControls, PROTECT_OFF, formant};

/// Host-style buffer the audio is fed in.
pub const BUFFER: usize = 512;
/// How long a file conversion waits for a server's block before it plays the input there: a file
/// has no deadline, only a server that went away.
const SERVER_PATIENCE: Duration = Duration::from_secs(30);

/// How the voice converts: the options `convert` and `say` share.
#[derive(Args)]
pub struct ConversionArgs {
    /// Pitch shift in semitones (fractions are cents).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub pitch: f32,
    /// Formant shift in semitones (−6 to 6), RVC's way: the formants move, the pitch stays. Only
    /// voices whose export takes a formant length (`.pth` voices, partial-decoding exports) can;
    /// others convert unshifted, with a warning.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = formant_semitones)]
    pub formant: f32,
    /// Blocks quieter than this (dBFS RMS) are not converted.
    #[arg(long, default_value_t = -70.0, allow_negative_numbers = true)]
    pub gate_db: f32,
    /// 1 keeps the voice's own loudness, 0 gives it the input's (RVC's rms_mix_rate).
    #[arg(long, default_value_t = 1.0)]
    pub envelope: f32,
    /// Denoise the input (RNNoise) before converting it; adds 10 ms of latency.
    #[arg(long)]
    pub denoise: bool,
    /// Fast, approximate: on the CPU, run the content encoder and the voice's decoder from int8
    /// copies calibrated when the voice loads, about 1.6 times as fast but audibly different (on a
    /// trained vocoder: wideband PESQ 1.7 against float, hiss in the pauses). By default they
    /// run in float, as the files are.
    #[arg(long)]
    pub int8: bool,
    /// A pitch model (FCPE, CREPE or RMVPE `.onnx`); without one the built-in tracker is used.
    #[arg(long, visible_alias = "f0")]
    pub pitch_model: Option<std::path::PathBuf>,
    /// The voice's retrieval index (RVC's `added_….index`, faiss IVF-Flat).
    #[arg(long)]
    pub index: Option<std::path::PathBuf>,
    /// How far the voice's features move toward what they retrieve from the index (0–1).
    #[arg(long, default_value_t = ConversionControls::DEFAULT_INDEX_RATE)]
    pub index_rate: f32,
    /// How much of the retrieval unvoiced frames keep (0–0.5; 0.5 turns protection off).
    #[arg(long, default_value_t = ConversionControls::DEFAULT_PROTECT)]
    pub protect: f32,
    /// Speaker id for multi-speaker voices.
    #[arg(long, default_value_t = 0)]
    pub speaker: u32,
    /// Block length in milliseconds.
    #[arg(long, default_value_t = StreamSettings::default().block_ms)]
    pub block_ms: f32,
    /// Context before each block that the voice model sees, in milliseconds.
    #[arg(long, default_value_t = StreamSettings::default().context_ms)]
    pub context_ms: f32,
    /// ONNX Runtime threads per model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

/// `--formant`: a number of semitones within [`formant::RANGE`].
fn formant_semitones(text: &str) -> Result<f32, String> {
    let semitones: f32 = text.parse().map_err(|e| format!("{e}"))?;
    if formant::RANGE.contains(&semitones) {
        Ok(semitones)
    } else {
        Err(format!("a formant shift is {} to {} semitones", formant::RANGE.start(), formant::RANGE.end()))
    }
}

impl ConversionArgs {
    pub fn settings(&self) -> StreamSettings {
        let Self { block_ms, context_ms, denoise, int8, .. } = *self;
        StreamSettings { block_ms, context_ms, denoise, int8, ..StreamSettings::default() }.clamped()
    }

    pub fn controls(&self) -> ConversionControls {
        ConversionControls {
            semitones: self.pitch,
            formant: self.formant,
            gate_db: self.gate_db,
            envelope: self.envelope.clamp(0.0, 1.0),
            index_rate: self.index_rate.clamp(0.0, 1.0),
            protect: self.protect.clamp(0.0, PROTECT_OFF),
        }
    }

    /// The voice `voice` with `content_encoder` and this conversion's pitch model and index.
    pub fn selection(&self, voice: std::path::PathBuf, content_encoder: std::path::PathBuf) -> VoiceSelection {
        VoiceSelection {
            synthesizer: Some(voice),
            content_encoder: Some(content_encoder),
            pitch_model: self.pitch_model.clone(),
            index: self.index.clone(),
            speaker_id: self.speaker,
        }
    }
}

/// A voice converting through a running stream. Audio goes in with [`push`](Self::push) in
/// pieces of any length; [`finish`](Self::finish) flushes the latency and gives the converted
/// voice, as long as the input and aligned with it.
pub struct Conversion {
    stream: Stream,
    geometry: StreamGeometry,
    mixer: DryWetMixer,
    stats: Arc<StreamStats>,
    conversion: Arc<ConversionStats>,
    /// The server's side of a remote conversion.
    remote: Option<Arc<RemoteStats>>,
    /// What the voice loaded as, for the log: its precision and retrieval.
    summary: String,
    /// Input not yet a whole host buffer.
    pending: Vec<f32>,
    /// The stream's output, latency included.
    output: Vec<f32>,
    wet: Vec<f32>,
    weight: Vec<f32>,
    progress: ProgressBar,
    started: Option<Instant>,
    first_converted: Option<Instant>,
}

impl Conversion {
    /// Load `voice` and start its stream for audio at `sample_rate`.
    pub fn start(
        voice: &VoiceSelection,
        settings: &StreamSettings,
        controls: ConversionControls,
        threads: usize,
        sample_rate: u32,
    ) -> Result<Self, String> {
        let geometry = RvcProcessor::stream_geometry(settings, sample_rate as f32, BUFFER as u32);
        let conversion = Arc::new(ConversionStats::default());
        let processor =
            RvcProcessor::load(voice, &geometry, settings, Arc::new(move || controls), conversion.clone(), threads)
                .map_err(|e| format!("cannot use this voice: {e}"))?;
        // The plugin plays on without an index it cannot use; a conversion asked for with one stops.
        if let (Some(problem), Some(index)) = (processor.index_problem(), &voice.index) {
            return Err(format!("cannot use the index {}: {problem}", index.display()));
        }
        let retrieval = processor.retrieval().map(|r| format!("; index: {}", r.index().summary())).unwrap_or_default();
        let formant = if controls.formant != 0.0 && !processor.synthesizer().shifts_formants() {
            "; this voice's export takes no formant length, so --formant is ignored"
        } else {
            ""
        };
        let summary = format!("{}{retrieval}{formant}", processor.precision().summary());
        Self::with_processor(geometry, Box::new(processor), conversion, None, summary)
    }

    /// Start a stream that converts on the server `endpoint` names, for audio at `sample_rate`.
    pub fn start_remote(
        endpoint: &RemoteEndpoint,
        settings: &StreamSettings,
        controls: ConversionControls,
        sample_rate: u32,
    ) -> Result<Self, String> {
        let local = RvcProcessor::stream_geometry(settings, sample_rate as f32, BUFFER as u32);
        let remote = Arc::new(RemoteStats::default());
        let timeouts = ConnectTimeouts { step: Duration::from_secs(5), load: LOAD_TIMEOUT };
        let voice = remote::client::connect(
            endpoint,
            local,
            settings,
            Arc::new(move || controls),
            Some(SERVER_PATIENCE),
            timeouts,
            remote.clone(),
        )
        .map_err(|e| e.to_string())?;
        let summary = format!(
            "on {} ({}): round trip {:.1} ms, {:.1} ms per block on the server",
            endpoint.address,
            voice.welcome.server,
            voice.round_trip.as_secs_f64() * 1e3,
            f64::from(voice.welcome.compute_us) / 1e3
        );
        let (geometry, processor) = (voice.geometry, voice.processor);
        let conversion = Arc::new(ConversionStats::default());
        Self::with_processor(geometry, Box::new(processor), conversion, Some(remote), summary)
    }

    fn with_processor(
        geometry: StreamGeometry,
        processor: rvc_live_engine::stream::ProcessorBox,
        conversion: Arc<ConversionStats>,
        remote: Option<Arc<RemoteStats>>,
        summary: String,
    ) -> Result<Self, String> {
        let stats = Arc::new(StreamStats::default());
        let (stream, _swap) = Stream::start(geometry, processor, stats.clone(), true).map_err(|e| e.to_string())?;
        Ok(Self {
            stream,
            geometry,
            mixer: DryWetMixer::new(1, geometry.latency()),
            stats,
            conversion,
            remote,
            summary,
            pending: Vec::with_capacity(BUFFER),
            output: Vec::new(),
            wet: vec![0.0; BUFFER],
            weight: vec![0.0; BUFFER],
            progress: ProgressBar::hidden(),
            started: None,
            first_converted: None,
        })
    }

    pub fn geometry(&self) -> &StreamGeometry {
        &self.geometry
    }

    /// The stream's latency, samples.
    pub fn latency(&self) -> usize {
        self.geometry.latency()
    }

    /// The voice's precision and retrieval, as the log says them.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Show a progress bar on the terminal for `input` samples of audio to come.
    pub fn show_progress(&mut self, input: usize) {
        self.progress = ProgressBar::new((input + self.latency()) as u64).with_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} ETA {eta}")
                .expect("a valid template"),
        );
    }

    /// When the stream gave back its first converted sample (the voice's output for the first
    /// input sample, once the stream's latency of priming silence has come out).
    pub fn first_converted(&self) -> Option<Instant> {
        self.first_converted
    }

    /// Convert `samples`, the input's next piece. Whole host buffers go to the stream; the rest
    /// waits for the next piece or for [`finish`](Self::finish).
    pub fn push(&mut self, samples: &[f32]) {
        self.started.get_or_insert_with(Instant::now);
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (BUFFER - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == BUFFER {
                self.process_pending();
            }
        }
    }

    fn process_pending(&mut self) {
        let n = self.pending.len();
        let mix = MixControls { dry_wet: 1.0, output_gain: 1.0, bypass: 0.0 };
        self.stream.audio.process(&self.pending, &mut self.wet[..n], &mut self.weight[..n]);
        for i in 0..n {
            let mut sample = [self.pending[i]];
            self.mixer.process_frame(sample.iter_mut(), self.wet[i], self.weight[i], mix);
            self.output.push(sample[0]);
        }
        self.pending.clear();
        self.progress.inc(n as u64);
        if self.first_converted.is_none() && self.output.len() > self.latency() {
            self.first_converted = Some(Instant::now());
        }
    }

    /// Feed the stream's latency of silence after the input, so its end comes out, and stop the
    /// stream. The converted voice is as long as the input was.
    pub fn finish(mut self) -> (Vec<f32>, ConversionReport) {
        self.started.get_or_insert_with(Instant::now);
        let latency = self.latency();
        let input = self.output.len() + self.pending.len();
        let mut silence = latency;
        while silence > 0 {
            let take = (BUFFER - self.pending.len()).min(silence);
            self.pending.resize(self.pending.len() + take, 0.0);
            silence -= take;
            if self.pending.len() == BUFFER {
                self.process_pending();
            }
        }
        if !self.pending.is_empty() {
            self.process_pending();
        }
        self.progress.finish_and_clear();
        let seconds = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        drop(self.stream);
        let converted = self.output.split_off(latency.min(self.output.len()));
        debug_assert_eq!(converted.len(), input);
        let mut report = ConversionReport::new(seconds, &self.geometry, &self.stats, &self.conversion);
        report.first_converted = self.first_converted;
        report.remote = self.remote.as_deref().map(RemoteReport::of);
        (converted, report)
    }
}

/// What a conversion took and whether every block converted.
pub struct ConversionReport {
    /// Wall time from the first audio fed to the stream to the last converted, seconds.
    pub seconds: f64,
    /// When the first converted sample came back; for input shorter than the latency, only while
    /// [`Conversion::finish`] flushed it.
    pub first_converted: Option<Instant>,
    peak_load: f32,
    block_ms: f64,
    converted_blocks: u64,
    stage_ms: Vec<(&'static str, f64)>,
    fault: Option<String>,
    failed: u64,
    blocks: u64,
    last_failure: String,
    /// What the server did, for a remote conversion.
    remote: Option<RemoteReport>,
}

/// A remote conversion's blocks: converted by the server, or played dry because none came.
pub struct RemoteReport {
    converted: u64,
    missed: u64,
    late: u64,
    connections: u64,
    problem: Option<String>,
}

impl RemoteReport {
    fn of(stats: &RemoteStats) -> Self {
        Self {
            converted: stats.converted_blocks.load(Ordering::Relaxed),
            missed: stats.missed_blocks.load(Ordering::Relaxed),
            late: stats.late_blocks.load(Ordering::Relaxed),
            connections: stats.connections.load(Ordering::Relaxed),
            problem: stats.problem(),
        }
    }
}

impl ConversionReport {
    fn new(seconds: f64, geometry: &StreamGeometry, stats: &StreamStats, conversion: &ConversionStats) -> Self {
        Self {
            seconds,
            first_converted: None,
            peak_load: stats.peak_load(),
            block_ms: geometry.samples_to_ms(geometry.block),
            converted_blocks: conversion.converted.load(Ordering::Relaxed),
            stage_ms: Stage::ALL.iter().map(|&stage| (stage.name(), conversion.mean_ms(stage))).collect(),
            fault: stats.fault(),
            failed: conversion.failed.load(Ordering::Relaxed),
            blocks: stats.blocks.load(Ordering::Relaxed),
            last_failure: conversion.last_failure().unwrap_or_default(),
            remote: None,
        }
    }

    /// The block load's peak and the mean time of each stage per block, on stderr.
    pub fn print_stages(&self) {
        eprintln!("peak block load {:.2}", self.peak_load);
        self.print_stage_table();
    }

    /// Like `convert` always printed it: the real-time factor of `audio_seconds` converted, the
    /// peak block load, and each stage's mean time per block.
    pub fn print_with_real_time_factor(&self, audio_seconds: f64) {
        let seconds = self.seconds;
        eprintln!(
            "converted in {seconds:.2} s: real-time factor {:.3} ({:.1}x faster than real time), peak block load {:.2}",
            seconds / audio_seconds,
            audio_seconds / seconds,
            self.peak_load,
        );
        self.print_stage_table();
    }

    fn print_stage_table(&self) {
        if let Some(remote) = &self.remote {
            eprintln!(
                "server: {} blocks converted, {} played the input (none came in time), {} came late; {} connection{}",
                remote.converted,
                remote.missed,
                remote.late,
                remote.connections,
                if remote.connections == 1 { "" } else { "s" }
            );
            return;
        }
        let block_ms = self.block_ms;
        eprintln!("per block of {block_ms:.0} ms (mean over {} blocks):", self.converted_blocks);
        let mut total = 0.0;
        for &(name, ms) in &self.stage_ms {
            total += ms;
            eprintln!("  {name:<22} {ms:>8.2} ms");
        }
        eprintln!("  {:<22} {total:>8.2} ms  ({:.2} of the block)", "total", total / block_ms);
    }

    /// Why the conversion is not to be trusted: the stream stopped on a fault, or blocks failed
    /// and hold the input instead.
    pub fn problem(&self) -> Option<String> {
        if let Some(fault) = &self.fault {
            return Some(fault.clone());
        }
        if let Some(remote) = self.remote.as_ref().filter(|r| r.missed > 0) {
            let why = remote.problem.as_deref().unwrap_or("the server's blocks did not come back in time");
            return Some(format!(
                "{} of {} blocks hold the input instead of the server's conversion: {why}",
                remote.missed,
                remote.missed + remote.converted
            ));
        }
        (self.failed > 0).then(|| {
            format!(
                "{} of {} blocks failed and hold the input instead: {}",
                self.failed, self.blocks, self.last_failure
            )
        })
    }
}
