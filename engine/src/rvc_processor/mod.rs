//! The RVC voice conversion as the inference thread's block processor.
//!
//! Per block: the host-rate window (context + SOLA margin + block) is resampled to 16 kHz as a
//! whole; the content encoder and the pitch tracker read it; pitch is shifted and quantised; the
//! new frames retrieve from the voice's index, if it has one (see [`Retrieval`]); the
//! synthesizer renders the window's last frames (the SOLA margin and the block); those are
//! resampled to the host rate, and SOLA joins them to the previous block. Windows are resampled
//! from a clean state each time, so no resampler delay accumulates: the output lags the input by
//! the SOLA holdback alone, exactly like the identity processor the stream was sized for.

mod block_timing;
mod controls;
mod conversion_stats;
mod incremental_pitch;
mod int8_calibration;
mod loudness_envelope;
mod precision;
mod retrieval_stage;
mod window_plan;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub use block_timing::UNCONVERTED_BLOCK;
pub use controls::{ControlSource, ConversionControls};
pub use conversion_stats::{ConversionStats, Stage};
pub use precision::{ModelPrecision, Precision};

use crate::content_frames::{self, SYNTH_HOP_16K};
use crate::denoiser::Denoiser;
use crate::f0;
use crate::model_error::ModelError;
use crate::pitch_tracker::PitchTracker;
use crate::resampler::WindowResampler;
use crate::retrieval_index::{IndexFileError, Retrieval};
use crate::shared_models::{SharedEncoder, SharedModels};
use crate::sola::Sola;
use crate::stream::block_processor::{crossfade_weight, fade_in};
use crate::stream::{BlockProcessor, InputHistory, StreamGeometry, StreamSettings};
use crate::synthesizer::{DecodeRange, Synthesizer};
use crate::voice_selection::VoiceSelection;
use crate::yin::Yin;
use incremental_pitch::IncrementalPitch;
use loudness_envelope::LoudnessEnvelope;
use retrieval_stage::RetrievalStage;
use window_plan::{WindowPlan, crossfade_and_search};

const RATE_16K: u32 = 16_000;

/// The RVC conversion of one voice, block by block (see the module's documentation).
pub struct RvcProcessor {
    block: usize,
    /// Frames of context, SOLA margin and block in a window.
    context_frames: usize,
    render_frames: usize,
    /// Host-rate samples in a window: what the stream's input history must keep.
    window_host: usize,
    /// The window denoised, newest sample last, when denoise is on (empty otherwise: the window is
    /// then the stream's own input history).
    denoised: InputHistory,
    to_16k: WindowResampler,
    window_16k: Vec<f32>,
    /// Shared with the stream's other voices that use the same encoder (see [`SharedModels`]),
    /// unless the models run from int8 copies, which are calibrated for this voice.
    encoder: SharedEncoder,
    /// RNNoise on the input before anything else, when the user turned it on.
    denoiser: Option<Denoiser>,
    /// The voice's pitch model, or the built-in YIN, and the window's f0 kept between blocks.
    pitch: IncrementalPitch,
    f0: Vec<f32>,
    coarse: Vec<i64>,
    /// The voice's index, when one is chosen, and Protect.
    retrieval: RetrievalStage,
    synthesizer: Synthesizer,
    to_host: WindowResampler,
    rendered: Vec<f32>,
    sola: Sola,
    controls: ControlSource,
    envelope: LoudnessEnvelope,
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
        Self::load_sharing(voice, geometry, settings, controls, stats, threads, &SharedModels::default())
    }

    /// [`Self::load`], taking the content encoder and the pitch model from `shared` when another
    /// voice of the stream already loaded them (and leaving them there for the next). With int8
    /// models (`settings.int8`) each voice loads its own.
    pub fn load_sharing(
        voice: &VoiceSelection,
        geometry: &StreamGeometry,
        settings: &StreamSettings,
        controls: ControlSource,
        stats: Arc<ConversionStats>,
        threads: usize,
        shared: &SharedModels,
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
        let (version, window_16k) = (synthesizer.format().version, window_frames * SYNTH_HOP_16K);
        // Int8 copies are calibrated by running this voice's pipeline on the loading thread, and
        // the encoder's copy replaces the model it is made from: with them the voice keeps its
        // models to itself, so a voice converting meanwhile never waits for a shared one.
        let own = SharedModels::default();
        let shared = if settings.int8 { &own } else { shared };
        let encoder = shared.content_encoder(&encoder_path, threads, version, window_16k)?;
        let pitch: Box<dyn PitchTracker> = match &voice.pitch_model {
            Some(path) => shared.pitch_model(path, threads, window_16k)?,
            None => Box::new(Yin::default()),
        };
        let width = encoder.lock().width();
        let retrieval = RetrievalStage::open(voice.index.as_deref(), width, window_frames);
        let whole_frame_blocks = geometry.block * 100 == block_frames * rate as usize;
        let denoiser = if settings.denoise { Some(Denoiser::new(rate, geometry.block)?) } else { None };
        let mut to_16k = WindowResampler::new(rate, RATE_16K)?;
        let mut to_host = WindowResampler::new(synthesizer.sample_rate(), rate)?;
        let window_16k = vec![0.0; to_16k.output_capacity(window_host)];
        let rendered = vec![0.0; to_host.output_capacity(render_frames * synthesizer.hop())];
        let (crossfade, search) = (geometry.crossfade, geometry.sola_search);
        let mut processor = Self {
            block: geometry.block,
            context_frames,
            render_frames,
            window_host,
            denoised: if settings.denoise { InputHistory::new(window_host) } else { InputHistory::default() },
            to_16k,
            window_16k,
            encoder,
            denoiser,
            pitch: IncrementalPitch::new(pitch, window_frames, block_frames, whole_frame_blocks),
            f0: vec![0.0; window_frames],
            coarse: vec![0; window_frames],
            retrieval,
            synthesizer,
            to_host,
            rendered,
            sola: Sola::new(geometry.block, crossfade, search),
            controls,
            envelope: LoudnessEnvelope::new(rate, geometry.block),
            denoiser_priming: vec![0.0; if settings.denoise { geometry.block } else { 0 }],
            tail_weight: vec![1.0; crossfade],
            heard: vec![0.0; crossfade],
            stats,
            precision: ModelPrecision { content_encoder: Precision::Float(None), synthesizer: Precision::Float(None) },
        };
        if settings.int8 {
            processor.precision = processor.make_int8_copies(rate, threads);
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
        let window = WindowPlan::new(&geometry, settings).window_host;
        geometry.with_processor_delay(delay).with_processor_window(window)
    }

    pub fn synthesizer(&self) -> &Synthesizer {
        &self.synthesizer
    }

    /// The index the voice retrieves from, if one was chosen and fits.
    pub fn retrieval(&self) -> Option<&Retrieval> {
        self.retrieval.retrieval()
    }

    /// Why the chosen index is not used (the voice then converts without retrieval).
    pub fn index_problem(&self) -> Option<&IndexFileError> {
        self.retrieval.problem()
    }

    /// Convert `input` in one window, as an offline tool would with unlimited memory: the
    /// reference streaming is measured against. The result is aligned with the input (no delay).
    /// Allocates; not for the inference thread.
    pub fn convert_whole(&mut self, input: &[f32]) -> Result<Vec<f32>, ModelError> {
        let mut audio = vec![0.0; self.to_16k.output_capacity(input.len())];
        let written = self.to_16k.resample(input, &mut audio)?;
        let frames = content_frames::synth_frames(written);
        let samples = frames * SYNTH_HOP_16K;
        let mut encoder = self.encoder.lock();
        let width = encoder.width();
        let controls = (self.controls)();
        let mut features = encoder.encode(&audio[..samples])?.to_vec();
        drop(encoder);
        let (mut f0, mut coarse) = (vec![0.0; frames], vec![0; frames]);
        self.pitch.track_whole(&audio[..samples], &mut f0)?;
        let formant = self.synthesizer.formant_taken(controls.formant);
        f0::post_process(&mut f0, controls.semitones - formant, &mut coarse);
        self.synthesizer.reserve(frames);
        let has_f0 = self.synthesizer.format().has_f0;
        let synth = self.synthesizer.features_mut(frames);
        self.retrieval.apply(&mut features, width, samples, 0, &f0, has_f0, &controls, synth);
        let voice =
            self.synthesizer.render_shifted(&coarse, &f0, DecodeRange::newest(frames, frames), formant)?.to_vec();
        let mut output = vec![0.0; self.to_host.output_capacity(voice.len())];
        let written = self.to_host.resample(&voice, &mut output)?;
        output.truncate(written.min(input.len()));
        Ok(output)
    }

    /// Convert the newest block of `window` (the whole window, newest sample last).
    fn convert(
        &mut self,
        window: &[f32],
        controls: &ConversionControls,
        output: &mut [f32],
        started: Instant,
    ) -> Result<(), ModelError> {
        let window_frames = self.context_frames + self.render_frames;
        let written = self.to_16k.resample(window, &mut self.window_16k)?;
        let stats = self.stats.clone();
        let mut at = stats.add(Stage::Input, started);
        let samples = (window_frames * SYNTH_HOP_16K).min(written);
        let audio = &self.window_16k[..samples];

        let mut encoder = self.encoder.lock();
        encoder.encode(audio)?;
        at = stats.add(Stage::Content, at);
        let frames = content_frames::synth_frames(samples);
        let raw_f0 = self.pitch.track(&self.window_16k, frames)?;
        self.f0[..frames].copy_from_slice(raw_f0);
        let formant = self.synthesizer.formant_taken(controls.formant);
        f0::post_process(&mut self.f0[..frames], controls.semitones - formant, &mut self.coarse[..frames]);
        at = stats.add(Stage::Pitch, at);

        let range = DecodeRange::newest(frames, self.render_frames);
        let width = encoder.width();
        let has_f0 = self.synthesizer.format().has_f0;
        let synth = self.synthesizer.features_mut(frames);
        let f0 = &self.f0[..frames];
        self.retrieval.apply(encoder.features_mut(), width, samples, range.skip_head, f0, has_f0, controls, synth);
        drop(encoder);
        at = stats.add(Stage::Retrieval, at);
        let voice = self.synthesizer.render_shifted(&self.coarse[..frames], &self.f0[..frames], range, formant)?;
        at = stats.add(Stage::Synthesis, at);
        let produced = self.to_host.resample(voice, &mut self.rendered)?;
        let needed = self.sola.rendered_len();
        if produced < needed {
            return Err(ModelError::Invalid(format!(
                "the voice rendered {produced} samples where {needed} were needed"
            )));
        }
        self.sola.process(&self.rendered[produced - needed..produced], output);
        self.mix_envelope(window, output, controls.envelope);
        stats.add(Stage::Output, at);
        stats.converted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Track the whole window every block instead of only its newest frames: slower, and the
    /// reference the incremental tracking is tested against.
    pub fn set_incremental_pitch(&mut self, on: bool) {
        self.pitch.set_enabled(on);
    }

    /// Give the block the input's loudness as far as `envelope` asks (see [`LoudnessEnvelope`]),
    /// the input taken where the output block sits in time: SOLA's delay before the newest.
    fn mix_envelope(&mut self, window: &[f32], output: &mut [f32], envelope: f32) {
        let end = window.len() - self.sola.delay();
        self.envelope.mix(&window[end - output.len()..end], output, envelope);
    }

    /// Whether `block` is quieter than the gate.
    fn is_silent(&self, block: &[f32], gate_db: f32) -> bool {
        let mean_square = block.iter().map(|x| x * x).sum::<f32>() / block.len().max(1) as f32;
        10.0 * mean_square.max(1e-20).log10() < gate_db
    }
}

impl BlockProcessor for RvcProcessor {
    fn delay(&self) -> usize {
        self.sola.delay() + self.denoiser.as_ref().map_or(0, Denoiser::delay)
    }

    fn process_block(&mut self, input: &InputHistory, output: &mut [f32], weight: &mut [f32]) {
        debug_assert_eq!(output.len(), self.block);
        let started = Instant::now();
        if input.len() < self.window_host {
            let e = ModelError::Invalid(format!(
                "the stream keeps {} samples of input where the voice converts from {}",
                input.len(),
                self.window_host
            ));
            self.stats.record_failure(&e);
            self.fade_to_dry(output, weight);
            return;
        }
        // Taken out for the block so the window can borrow it while the pipeline runs; putting
        // an empty vector in its place does not allocate.
        let mut denoised = std::mem::take(&mut self.denoised);
        let window = match self.denoiser.as_mut() {
            Some(denoiser) => {
                denoised.push(input.newest(self.block));
                denoiser.process(denoised.newest_mut(self.block));
                denoised.samples()
            }
            None => input.newest(self.window_host),
        };
        self.convert_block(window, output, weight, started);
        self.denoised = denoised;
    }

    fn reset(&mut self) {
        self.denoised.clear();
        self.pitch.invalidate();
        if let Some(denoiser) = self.denoiser.as_mut() {
            denoiser.reset();
        }
        self.sola.reset();
        // Both the converted and the dry signal restart from silence: the first block fades in
        // from converted silence, as at the start of a stream.
        self.tail_weight.fill(1.0);
    }

    fn pending_output(&self, _input: &InputHistory, out: &mut [f32], weight: &mut [f32]) {
        let tail = self.sola.tail();
        let n = tail.len().min(out.len()).min(weight.len());
        out[..n].copy_from_slice(&tail[..n]);
        out[n..].fill(0.0);
        weight[..n].copy_from_slice(&self.tail_weight[..n]);
        weight[n..].fill(0.0);
    }

    fn take_over(&mut self, input: &InputHistory, pending: &[f32], pending_weight: &[f32]) {
        self.reset();
        // Without denoise the window is the stream's history itself. Denoised, it runs the
        // denoiser's delay behind the raw input: it starts as the raw history that far back, and
        // the denoiser, primed with the newest raw block, continues exactly where that ends.
        if let Some(denoiser) = self.denoiser.as_mut() {
            let lag = denoiser.delay();
            let recent_input = input.samples();
            self.denoised.push(&recent_input[..recent_input.len().saturating_sub(lag)]);
            copy_newest(recent_input, &mut self.denoiser_priming);
            denoiser.process(&mut self.denoiser_priming);
        }
        // What plays over the crossfade: the predecessor's signal, and where its weight is short
        // of 1, the dry input it leaves to the mixer (the mono mix stands in for the channels).
        let next_dry = input.newest(self.delay());
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
    /// Convert the newest block of `window`, or let the voice fade out where the input is quiet,
    /// or fade to the dry input where the conversion fails.
    fn convert_block(&mut self, window: &[f32], output: &mut [f32], weight: &mut [f32], started: Instant) {
        let controls = (self.controls)();
        // Gate on what the voice model would hear: denoised, when denoise is on. The block plays
        // input from SOLA's delay before the newest block on, so that stretch counts too: a
        // phrase ending in it would otherwise be cut short by the fade into silence.
        let audible_from = window.len().saturating_sub(self.block + self.sola.delay());
        if self.is_silent(&window[audible_from..], controls.gate_db) {
            // Nothing to convert: let the previous block's tail fade out through SOLA's crossfade
            // into silence, without running the models.
            self.stats.gated.fetch_add(1, Ordering::Relaxed);
            // The window moves on without tracking: the cached f0 falls out of step.
            self.pitch.invalidate();
            self.rendered.fill(0.0);
            let needed = self.sola.rendered_len();
            self.sola.process(&self.rendered[..needed], output);
            self.join_weights(weight);
            return;
        }
        match self.convert(window, &controls, output, started) {
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
