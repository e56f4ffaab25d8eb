//! The RVC voice conversion as the inference thread's block processor.
//!
//! Per block: the host-rate window (context + SOLA margin + block) is resampled to 16 kHz as a
//! whole; the content encoder and the pitch tracker read it; pitch is shifted and quantised; the
//! synthesizer renders the window's last frames (the SOLA margin and the block); those are
//! resampled to the host rate, and SOLA joins them to the previous block. Windows are resampled
//! from a clean state each time, so no resampler delay accumulates: the output lags the input by
//! the SOLA holdback alone, exactly like the identity processor the stream was sized for.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::calibration_voice;
use super::content_encoder::ContentEncoder;
use super::content_frames::{self, SYNTH_HOP_16K};
use super::denoiser::Denoiser;
use super::f0;
use super::int8;
use super::model_error::ModelError;
use super::pitch_model::PitchModel;
use super::pitch_tracker::PitchTracker;
use super::resampler::WindowResampler;
use super::sola::Sola;
use super::synthesizer::{DecodeRange, Synthesizer};
use super::yin::Yin;
use crate::VoiceSelection;
use crate::stream::block_processor::{crossfade_weight, fade_in};
use crate::stream::{BlockProcessor, StreamGeometry, StreamSettings};

const RATE_16K: u32 = 16_000;
/// Audio the int8 copies are calibrated on at load: every pitch, vowel and level of
/// [`calibration_voice`] at least once, for a few blocks' worth of load time.
const CALIBRATION_SECONDS: f64 = 2.4;

/// What the user sets that the conversion reads each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConversionControls {
    /// Pitch shift in semitones.
    pub semitones: f32,
    /// Blocks quieter than this (dBFS RMS) are not converted.
    pub gate_db: f32,
    /// RVC's `rms_mix_rate`: 1 keeps the voice's own loudness, 0 gives it the input's.
    pub envelope: f32,
}

impl Default for ConversionControls {
    fn default() -> Self {
        Self { semitones: 0.0, gate_db: -100.0, envelope: 1.0 }
    }
}

/// Where the processor reads its controls each block: the plugin's parameters (atomics).
pub type ControlSource = Arc<dyn Fn() -> ConversionControls + Send + Sync>;

/// The stages of converting a block, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Denoise, and the host rate to 16 kHz.
    Input,
    Content,
    Pitch,
    Synthesis,
    /// The voice's rate to the host rate, SOLA and the envelope.
    Output,
}

impl Stage {
    pub const ALL: [Stage; 5] = [Stage::Input, Stage::Content, Stage::Pitch, Stage::Synthesis, Stage::Output];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Input => "denoise + resample in",
            Stage::Content => "content encoder",
            Stage::Pitch => "pitch",
            Stage::Synthesis => "synthesizer",
            Stage::Output => "resample out + SOLA",
        }
    }
}

/// Counters of what the conversion did, for the log, the editor and benchmarks. Written by the
/// inference thread, read by anyone (never by the audio thread).
#[derive(Default)]
pub struct ConversionStats {
    /// Blocks that failed to convert and played the input instead.
    pub failed: AtomicU64,
    /// Whether the newest block failed: failures are logged when they start and when they end,
    /// not once per block.
    failing: AtomicBool,
    /// Why the newest failed block failed.
    last_failure: parking_lot::Mutex<Option<String>>,
    /// Blocks the silence gate kept from the model.
    pub gated: AtomicU64,
    /// Blocks converted.
    pub converted: AtomicU64,
    /// Time spent in each [`Stage`] over all converted blocks, in nanoseconds.
    pub stage_nanos: [AtomicU64; 5],
}

impl ConversionStats {
    /// Mean time per converted block in `stage`, in milliseconds.
    pub fn mean_ms(&self, stage: Stage) -> f64 {
        let blocks = self.converted.load(Ordering::Relaxed).max(1);
        self.stage_nanos[stage as usize].load(Ordering::Relaxed) as f64 / blocks as f64 / 1e6
    }

    /// A block failed and plays the input instead.
    fn record_failure(&self, why: &ModelError) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let message = why.to_string();
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::error!("RVC Live could not convert a block, the input plays instead: {message}");
        }
        *self.last_failure.lock() = Some(message);
    }

    fn record_success(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("RVC Live converts again after {} failed blocks", self.failed.load(Ordering::Relaxed));
        }
    }

    /// Whether the newest block failed.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Why the newest failed block failed, if one did since the voice loaded.
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().clone()
    }

    fn add(&self, stage: Stage, since: Instant) -> Instant {
        let now = Instant::now();
        self.stage_nanos[stage as usize].fetch_add((now - since).as_nanos() as u64, Ordering::Relaxed);
        now
    }
}

/// Frames before a block whose f0 is tracked again with the block: their right-hand context was
/// cut off by the window's end last time.
const PITCH_REFRESH_FRAMES: usize = 2;
/// Frames of context the tracker gets before those it tracks again, and whose f0 it discards.
const PITCH_LEAD_FRAMES: usize = 4;

/// Frame of RVC's loudness envelope (RMS over 40 ms, hopped by 10 ms).
const ENVELOPE_FRAME_SECONDS: f64 = 0.04;

pub struct RvcProcessor {
    block: usize,
    /// Frames of context, SOLA margin and block in a window.
    context_frames: usize,
    render_frames: usize,
    /// The host-rate window, newest sample last.
    history: Vec<f32>,
    to_16k: WindowResampler,
    window_16k: Vec<f32>,
    encoder: ContentEncoder,
    /// RNNoise on the input before anything else, when the user turned it on.
    denoiser: Option<Denoiser>,
    /// The voice's pitch model, or the built-in YIN.
    pitch: Box<dyn PitchTracker>,
    /// The tracker's f0 for every frame of the window, kept from block to block so that only the
    /// newest frames are tracked again (see [`RvcProcessor::track_pitch`]).
    raw_f0: Vec<f32>,
    /// Scratch for the frames tracked this block.
    fresh_f0: Vec<f32>,
    /// Whether `raw_f0` holds the previous window's f0, one block behind this one.
    pitch_cache_valid: bool,
    /// Off: track the whole window every block (the reference the cache is tested against).
    incremental_pitch: bool,
    /// Frames per block, and whether a block is exactly that many 10 ms frames at the host rate,
    /// so the window moves by whole frames and cached f0 stays aligned.
    block_frames: usize,
    whole_frame_blocks: bool,
    f0: Vec<f32>,
    coarse: Vec<i64>,
    synthesizer: Synthesizer,
    to_host: WindowResampler,
    rendered: Vec<f32>,
    sola: Sola,
    controls: ControlSource,
    /// The input's and the voice's loudness per output sample, for the envelope mix.
    envelope_in: Vec<f32>,
    envelope_out: Vec<f32>,
    envelope_frame: usize,
    /// Scratch for running the newest input through the denoiser when taking over a stream.
    denoiser_priming: Vec<f32>,
    /// The weight of SOLA's tail (see [`BlockProcessor`]): 1 for converted audio, less where it
    /// is a predecessor's fade or after a failed block, whose slots play the dry input.
    tail_weight: Vec<f32>,
    /// Scratch for what plays over a take-over's crossfade, which the first block aligns to.
    heard: Vec<f32>,
    stats: Arc<ConversionStats>,
    precision: ModelPrecision,
}

/// What a model runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precision {
    /// Float, as the file is; with the reason when an int8 copy was asked for and not made.
    Float(Option<String>),
    /// An int8 copy, with this many operators in integers.
    Int8 { operators: usize },
}

impl Precision {
    fn of(made: Result<usize, String>) -> Self {
        match made {
            Ok(operators) => Self::Int8 { operators },
            Err(why) => Self::Float(Some(why)),
        }
    }

    pub fn is_int8(&self) -> bool {
        matches!(self, Self::Int8 { .. })
    }

    /// One line for the log, the command line and the editor.
    pub fn summary(&self) -> String {
        match self {
            Self::Float(None) => "float".into(),
            Self::Float(Some(why)) => format!("float ({why})"),
            Self::Int8 { operators } => format!("int8 ({operators} operators)"),
        }
    }
}

/// What the content encoder and the voice model run in (see [`StreamSettings::int8`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrecision {
    pub content_encoder: Precision,
    pub synthesizer: Precision,
}

impl ModelPrecision {
    pub fn summary(&self) -> String {
        format!("content encoder {}, voice model {}", self.content_encoder.summary(), self.synthesizer.summary())
    }
}

impl RvcProcessor {
    /// Load the voice's models and size every buffer for `geometry`. Runs off the audio thread.
    pub fn load(
        voice: &VoiceSelection,
        geometry: &StreamGeometry,
        settings: &StreamSettings,
        controls: ControlSource,
        stats: Arc<ConversionStats>,
        threads: usize,
    ) -> Result<Self, ModelError> {
        let choose = |path: &Option<std::path::PathBuf>, what: &str| {
            path.clone().ok_or_else(|| ModelError::Invalid(format!("no {what} is chosen for this voice")))
        };
        let synthesizer_path = choose(&voice.synthesizer, "voice model")?;
        let encoder_path = choose(&voice.content_encoder, "content encoder")?;

        let rate = geometry.sample_rate;
        let WindowPlan { block_frames, context_frames, render_frames, window_frames, window_host } =
            WindowPlan::new(geometry, settings);

        let synthesizer = Synthesizer::load(&synthesizer_path, threads, window_frames, voice.speaker_id)?;
        let encoder =
            ContentEncoder::load(&encoder_path, threads, synthesizer.format().version, window_frames * SYNTH_HOP_16K)?;
        let pitch: Box<dyn PitchTracker> = match &voice.pitch_model {
            Some(path) => Box::new(PitchModel::load(path, threads, window_frames * SYNTH_HOP_16K)?),
            None => Box::new(Yin::default()),
        };
        let unsupported = |e: String| ModelError::Invalid(e);
        let denoiser =
            if settings.denoise { Some(Denoiser::new(rate, geometry.block).map_err(unsupported)?) } else { None };
        let mut to_16k = WindowResampler::new(rate, RATE_16K).map_err(unsupported)?;
        let mut to_host = WindowResampler::new(synthesizer.sample_rate(), rate).map_err(unsupported)?;
        let window_16k = vec![0.0; to_16k.output_capacity(window_host)];
        let rendered = vec![0.0; to_host.output_capacity(render_frames * synthesizer.hop())];
        let (crossfade, search) = (geometry.crossfade, geometry.sola_search);
        let mut processor = Self {
            block: geometry.block,
            context_frames,
            render_frames,
            history: vec![0.0; window_host],
            to_16k,
            window_16k,
            encoder,
            denoiser,
            pitch,
            raw_f0: vec![0.0; window_frames],
            fresh_f0: vec![0.0; window_frames],
            pitch_cache_valid: false,
            incremental_pitch: true,
            block_frames,
            whole_frame_blocks: geometry.block * 100 == block_frames * rate as usize,
            f0: vec![0.0; window_frames],
            coarse: vec![0; window_frames],
            synthesizer,
            to_host,
            rendered,
            sola: Sola::new(geometry.block, crossfade, search),
            controls,
            envelope_in: vec![0.0; geometry.block],
            envelope_out: vec![0.0; geometry.block],
            envelope_frame: ((ENVELOPE_FRAME_SECONDS * f64::from(rate)).round() as usize).max(1),
            denoiser_priming: vec![0.0; if settings.denoise { geometry.block } else { 0 }],
            tail_weight: vec![1.0; crossfade],
            heard: vec![0.0; crossfade],
            stats,
            precision: ModelPrecision { content_encoder: Precision::Float(None), synthesizer: Precision::Float(None) },
        };
        if settings.int8 {
            processor.precision = processor.make_int8_copies(&encoder_path, &synthesizer_path, rate, threads);
            for (what, precision) in [
                ("content encoder", &processor.precision.content_encoder),
                ("voice model", &processor.precision.synthesizer),
            ] {
                match precision {
                    Precision::Int8 { operators } => tracing::info!("{what}: {operators} operators in int8"),
                    other => tracing::warn!("{what}: {}", other.summary()),
                }
            }
        }
        Ok(processor)
    }

    /// Calibrate and swap in int8 copies of the content encoder and the voice's decoder (see
    /// [`super::int8`]): the pipeline converts the calibration voice block by block, as it will
    /// convert the user's, while both models record what they see. Leaves the processor as freshly
    /// loaded; a model whose copy cannot be made stays in float.
    fn make_int8_copies(&mut self, encoder: &Path, synthesizer: &Path, rate: u32, threads: usize) -> ModelPrecision {
        let encoder_started = self.encoder.begin_int8_calibration(encoder, threads);
        let synthesizer_started = self.synthesizer.begin_int8_calibration(synthesizer, threads);
        let mut converted = Ok(());
        if encoder_started.is_ok() || synthesizer_started.is_ok() {
            // Calibration blocks are not the user's: keep them out of the counters.
            let stats = std::mem::replace(&mut self.stats, Arc::new(ConversionStats::default()));
            let voice = calibration_voice::render(rate, CALIBRATION_SECONDS);
            let mut output = vec![0.0; self.block];
            let controls = ConversionControls::default();
            for block in voice.chunks_exact(self.block) {
                let keep = self.history.len() - block.len();
                self.history.copy_within(block.len().., 0);
                self.history[keep..].copy_from_slice(block);
                if let Err(e) = self.convert(&controls, &mut output, Instant::now()) {
                    converted = Err(format!("calibration failed: {e}"));
                    break;
                }
            }
            self.stats = stats;
            self.reset();
        }
        // Each model that started calibrating finishes (its float session comes back either way);
        // where the calibration run itself failed, that is the reason to give.
        let ok = converted.is_ok();
        let encoder_made = encoder_started.map(|()| self.encoder.finish_int8_calibration(encoder, threads, ok));
        let synthesizer_made =
            synthesizer_started.map(|()| self.synthesizer.finish_int8_calibration(synthesizer, threads, ok));
        int8::return_to_system();
        let precision = |made: Result<Result<usize, String>, String>| {
            Precision::of(made.and_then(|quantised| converted.clone().and(quantised)))
        };
        ModelPrecision { content_encoder: precision(encoder_made), synthesizer: precision(synthesizer_made) }
    }

    /// Whether the models run from int8 copies, and if not, why not.
    pub fn precision(&self) -> &ModelPrecision {
        &self.precision
    }

    /// The stream a conversion with `settings` runs in at `sample_rate`, with host buffers of up
    /// to `max_host_buffer` samples: its sizes and the latency it adds up to, counting the delay
    /// a processor adds (see [`BlockProcessor::delay`]; input denoise delays it further, voice or
    /// not). Known before any voice loads, so the latency does not depend on whether one does.
    /// Every front end (the plugin's `activate` and editor, the command-line tool, the benchmark)
    /// builds its stream here.
    pub fn stream_geometry(settings: &StreamSettings, sample_rate: f32, max_host_buffer: u32) -> StreamGeometry {
        let geometry = StreamGeometry::new(*settings, sample_rate, max_host_buffer);
        let denoise = if settings.denoise { Denoiser::new(geometry.sample_rate, geometry.block).ok() } else { None };
        let delay = crossfade_and_search(&geometry) + denoise.as_ref().map_or(0, Denoiser::delay);
        geometry.with_processor_delay(delay)
    }

    /// Host-rate samples of input a processor for `geometry` and `settings` converts each block
    /// from: what a stream must keep so a new voice can take over with full context.
    pub fn history_len(geometry: &StreamGeometry, settings: &StreamSettings) -> usize {
        WindowPlan::new(geometry, settings).window_host
    }

    pub fn synthesizer(&self) -> &Synthesizer {
        &self.synthesizer
    }

    /// Convert `input` in one window, as an offline tool would with unlimited memory: the
    /// reference streaming is measured against. The result is aligned with the input (no delay).
    /// Allocates; not for the inference thread.
    pub fn convert_whole(&mut self, input: &[f32]) -> Result<Vec<f32>, ModelError> {
        let mut audio = vec![0.0; self.to_16k.output_capacity(input.len())];
        let written = self.to_16k.resample(input, &mut audio).map_err(resampling)?;
        let frames = content_frames::synth_frames(written);
        let samples = frames * SYNTH_HOP_16K;
        let width = self.encoder.width();
        let features = self.encoder.encode(&audio[..samples])?.to_vec();
        self.synthesizer.reserve(frames);
        content_frames::upsample(&features, width, samples, self.synthesizer.features_mut(frames));
        let (mut f0, mut coarse) = (vec![0.0; frames], vec![0; frames]);
        self.pitch.track(&audio[..samples], &mut f0)?;
        f0::post_process(&mut f0, (self.controls)().semitones, &mut coarse);
        let voice =
            self.synthesizer.render(&coarse, &f0, DecodeRange { skip_head: 0, return_length: frames })?.to_vec();
        let mut output = vec![0.0; self.to_host.output_capacity(voice.len())];
        let written = self.to_host.resample(&voice, &mut output).map_err(resampling)?;
        output.truncate(written.min(input.len()));
        Ok(output)
    }

    fn convert(
        &mut self,
        controls: &ConversionControls,
        output: &mut [f32],
        started: Instant,
    ) -> Result<(), ModelError> {
        let window_frames = self.context_frames + self.render_frames;
        let written = self.to_16k.resample(&self.history, &mut self.window_16k).map_err(resampling)?;
        let stats = self.stats.clone();
        let mut at = stats.add(Stage::Input, started);
        let samples = (window_frames * SYNTH_HOP_16K).min(written);
        let audio = &self.window_16k[..samples];

        let width = self.encoder.width();
        let features = self.encoder.encode(audio)?;
        let frames = content_frames::upsample(features, width, samples, self.synthesizer.features_mut(window_frames));
        at = stats.add(Stage::Content, at);
        self.track_pitch(frames)?;
        self.f0[..frames].copy_from_slice(&self.raw_f0[..frames]);
        f0::post_process(&mut self.f0[..frames], controls.semitones, &mut self.coarse[..frames]);
        at = stats.add(Stage::Pitch, at);

        let range = DecodeRange {
            skip_head: frames.saturating_sub(self.render_frames),
            return_length: self.render_frames.min(frames),
        };
        let voice = self.synthesizer.render(&self.coarse[..frames], &self.f0[..frames], range)?;
        at = stats.add(Stage::Synthesis, at);
        let produced = self.to_host.resample(voice, &mut self.rendered).map_err(resampling)?;
        let needed = self.sola.rendered_len();
        if produced < needed {
            return Err(ModelError::Invalid(format!(
                "the voice rendered {produced} samples where {needed} were needed"
            )));
        }
        self.sola.process(&self.rendered[produced - needed..produced], output);
        self.mix_envelope(output, controls.envelope);
        stats.add(Stage::Output, at);
        stats.converted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Track pitch for the window's `frames` frames into `raw_f0`.
    ///
    /// The window moves by one block per call, so every frame but the newest was tracked before:
    /// those keep their f0 (moved along), and only the block's frames plus `PITCH_REFRESH_FRAMES`
    /// before them (whose right-hand context was still missing) are tracked again, from
    /// `PITCH_LEAD_FRAMES` further back for context. RVC's real-time engine caches pitch the same
    /// way; with a pitch model this costs a fraction of tracking the whole window.
    fn track_pitch(&mut self, frames: usize) -> Result<(), ModelError> {
        let audio = &self.window_16k[..frames * SYNTH_HOP_16K];
        let fresh = self.block_frames + PITCH_REFRESH_FRAMES;
        let span = fresh + PITCH_LEAD_FRAMES;
        let cached = std::mem::replace(&mut self.pitch_cache_valid, false);
        // The cache covers whole windows only: a short one (the warm-up) is tracked whole.
        let whole_window = frames == self.raw_f0.len();
        if self.incremental_pitch && cached && whole_window && self.whole_frame_blocks && span < frames {
            self.raw_f0.copy_within(self.block_frames..frames, 0);
            let start = (frames - span) * SYNTH_HOP_16K;
            self.pitch.track(&audio[start..], &mut self.fresh_f0[..span])?;
            self.raw_f0[frames - fresh..frames].copy_from_slice(&self.fresh_f0[span - fresh..span]);
        } else {
            self.pitch.track(audio, &mut self.raw_f0[..frames])?;
        }
        self.pitch_cache_valid = true;
        Ok(())
    }

    /// Track the whole window every block instead of only its newest frames: slower, and the
    /// reference the incremental tracking is tested against.
    pub fn set_incremental_pitch(&mut self, on: bool) {
        self.incremental_pitch = on;
        self.pitch_cache_valid = false;
    }

    /// The block's input and output loudness, RMS over RVC's 40 ms frames around each sample.
    /// The input is taken where the output block sits in time: `delay` samples before the newest.
    fn mix_envelope(&mut self, output: &mut [f32], envelope: f32) {
        if envelope >= 1.0 {
            return;
        }
        let delay = self.sola.delay();
        let end = self.history.len() - delay;
        let input = &self.history[end - output.len()..end];
        rms_envelope(input, self.envelope_frame, &mut self.envelope_in);
        rms_envelope(output, self.envelope_frame, &mut self.envelope_out);
        for ((y, &rin), &rout) in output.iter_mut().zip(&self.envelope_in).zip(&self.envelope_out) {
            // RVC: out *= (rms_in / rms_out) ^ (1 - rms_mix_rate), with a floor against silence.
            *y *= (rin / rout.max(1e-3)).powf(1.0 - envelope);
        }
    }

    /// Whether `block` is quieter than the gate.
    fn is_silent(&self, block: &[f32], gate_db: f32) -> bool {
        let mean_square = block.iter().map(|x| x * x).sum::<f32>() / block.len().max(1) as f32;
        10.0 * mean_square.max(1e-20).log10() < gate_db
    }
}

/// How many 10 ms frames a conversion window holds, and what they are for.
struct WindowPlan {
    block_frames: usize,
    /// Left context: converted for its influence on the newest frames, not played.
    context_frames: usize,
    /// The SOLA margin and the block: the frames the synthesizer renders.
    render_frames: usize,
    window_frames: usize,
    /// The window's length at the host rate.
    window_host: usize,
}

impl WindowPlan {
    fn new(geometry: &StreamGeometry, settings: &StreamSettings) -> Self {
        let frame_host = f64::from(geometry.sample_rate) / 100.0;
        let block_frames = (geometry.block as f64 / frame_host).round().max(1.0) as usize;
        // Enough frames to cover the crossfade and search; one more where they are not whole
        // frames at the host rate, so rounding can never leave the SOLA short of samples.
        let margin = crossfade_and_search(geometry) as f64 / frame_host;
        let whole_frames = frame_host.fract() == 0.0 && margin.fract() == 0.0;
        let margin_frames = margin.ceil() as usize + usize::from(!whole_frames);
        let context_frames = (f64::from(settings.clamped().context_ms) / 10.0).round() as usize;
        let render_frames = margin_frames + block_frames;
        let window_frames = context_frames + render_frames;
        let window_host = (window_frames as f64 * frame_host).round() as usize;
        Self { block_frames, context_frames, render_frames, window_frames, window_host }
    }
}

fn resampling(e: super::resampler::ResampleError) -> ModelError {
    ModelError::Invalid(e.to_string())
}

fn crossfade_and_search(geometry: &StreamGeometry) -> usize {
    geometry.crossfade + geometry.sola_search
}

/// `out[i]` = RMS of `signal` over the `frame` samples centred on `i` (clipped at the ends), by a
/// running sum: linear in the block, no allocation.
fn rms_envelope(signal: &[f32], frame: usize, out: &mut [f32]) {
    let n = signal.len();
    let half = frame / 2;
    let mut sum = 0.0f64;
    let (mut lo, mut hi) = (0usize, 0usize);
    for (i, o) in out[..n].iter_mut().enumerate() {
        let (want_lo, want_hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        while hi < want_hi {
            sum += f64::from(signal[hi] * signal[hi]);
            hi += 1;
        }
        while lo < want_lo {
            sum -= f64::from(signal[lo] * signal[lo]);
            lo += 1;
        }
        *o = (sum.max(0.0) / (hi - lo) as f64).sqrt() as f32;
    }
}

impl BlockProcessor for RvcProcessor {
    fn delay(&self) -> usize {
        self.sola.delay() + self.denoiser.as_ref().map_or(0, Denoiser::delay)
    }

    fn process_block(&mut self, input: &[f32], output: &mut [f32], weight: &mut [f32]) {
        debug_assert_eq!(input.len(), self.block);
        let started = Instant::now();
        let keep = self.history.len() - input.len();
        self.history.copy_within(input.len().., 0);
        self.history[keep..].copy_from_slice(input);
        if let Some(denoiser) = self.denoiser.as_mut() {
            denoiser.process(&mut self.history[keep..]);
        }

        let controls = (self.controls)();
        // Gate on what the voice model would hear: denoised, when denoise is on. The block plays
        // input from SOLA's delay before the newest block on, so that stretch counts too: a
        // phrase ending in it would otherwise be cut short by the fade into silence.
        let audible_from = keep.saturating_sub(self.sola.delay());
        if self.is_silent(&self.history[audible_from..], controls.gate_db) {
            // Nothing to convert: let the previous block's tail fade out through SOLA's crossfade
            // into silence, without running the models.
            self.stats.gated.fetch_add(1, Ordering::Relaxed);
            // The window moves on without tracking: the cached f0 falls out of step.
            self.pitch_cache_valid = false;
            self.rendered.fill(0.0);
            let needed = self.sola.rendered_len();
            self.sola.process(&self.rendered[..needed], output);
            self.join_weights(weight);
            return;
        }
        match self.convert(&controls, output, started) {
            Ok(()) => {
                self.join_weights(weight);
                self.stats.record_success();
            }
            Err(e) => {
                self.stats.record_failure(&e);
                self.fade_to_dry(output, weight);
            }
        }
    }

    fn reset(&mut self) {
        self.history.fill(0.0);
        self.pitch_cache_valid = false;
        if let Some(denoiser) = self.denoiser.as_mut() {
            denoiser.reset();
        }
        self.sola.reset();
        // Both the converted and the dry signal restart from silence: the first block fades in
        // from converted silence, as at the start of a stream.
        self.tail_weight.fill(1.0);
    }

    fn pending_output(&self, _recent_input: &[f32], out: &mut [f32], weight: &mut [f32]) {
        let tail = self.sola.tail();
        let n = tail.len().min(out.len()).min(weight.len());
        out[..n].copy_from_slice(&tail[..n]);
        out[n..].fill(0.0);
        weight[..n].copy_from_slice(&self.tail_weight[..n]);
        weight[n..].fill(0.0);
    }

    fn take_over(&mut self, recent_input: &[f32], pending: &[f32], pending_weight: &[f32]) {
        self.reset();
        // Denoised history runs the denoiser's delay behind the raw input; the denoiser, primed
        // with the newest raw block, continues exactly where the copied history ends.
        let lag = self.denoiser.as_ref().map_or(0, Denoiser::delay);
        copy_newest(&recent_input[..recent_input.len().saturating_sub(lag)], &mut self.history);
        if let Some(denoiser) = self.denoiser.as_mut() {
            copy_newest(recent_input, &mut self.denoiser_priming);
            denoiser.process(&mut self.denoiser_priming);
        }
        // What plays over the crossfade: the predecessor's signal, and where its weight is short
        // of 1, the dry input it leaves to the mixer (the mono mix stands in for the channels).
        let next_dry = &recent_input[recent_input.len().saturating_sub(self.delay())..];
        for (i, heard) in self.heard.iter_mut().enumerate() {
            let (signal, weight) =
                (pending.get(i).copied().unwrap_or(0.0), pending_weight.get(i).copied().unwrap_or(0.0));
            *heard = signal + (1.0 - weight) * next_dry.get(i).copied().unwrap_or(0.0);
        }
        self.sola.continue_from(pending, &self.heard);
        let n = pending_weight.len().min(self.tail_weight.len());
        self.tail_weight.fill(0.0);
        self.tail_weight[..n].copy_from_slice(&pending_weight[..n]);
    }
}

impl RvcProcessor {
    /// The weights of a block SOLA just joined: converted audio (1) everywhere but where it faded
    /// in from the tail, whose own weight fades out with it.
    fn join_weights(&mut self, weight: &mut [f32]) {
        weight.fill(1.0);
        let len = self.tail_weight.len();
        for (i, (g, &from)) in weight.iter_mut().zip(&self.tail_weight).enumerate() {
            *g = crossfade_weight(from, 1.0, fade_in(i, len));
        }
        self.tail_weight.fill(1.0);
    }

    /// A failed block plays the dry input: the converted tail fades out over the crossfade, and
    /// the next good block fades in from silence at weight 0, so neither edge clicks.
    fn fade_to_dry(&mut self, output: &mut [f32], weight: &mut [f32]) {
        output.fill(0.0);
        weight.fill(0.0);
        let len = self.tail_weight.len();
        for (i, ((y, g), (&tail, &from))) in
            output.iter_mut().zip(weight.iter_mut()).zip(self.sola.tail().iter().zip(&self.tail_weight)).enumerate()
        {
            let keep = 1.0 - fade_in(i, len);
            (*y, *g) = (tail * keep, from * keep);
        }
        self.sola.reset();
        self.tail_weight.fill(0.0);
    }
}

/// Fill `out` with the newest samples of `signal`, aligned to its end; zeros where `signal` is
/// shorter.
fn copy_newest(signal: &[f32], out: &mut [f32]) {
    let n = signal.len().min(out.len());
    let split = out.len() - n;
    out[..split].fill(0.0);
    out[split..].copy_from_slice(&signal[signal.len() - n..]);
}
