//! The RVC voice conversion as the inference thread's block processor.
//!
//! Per block: the host-rate window (context + SOLA margin + block) is resampled to 16 kHz as a
//! whole; the content encoder and the pitch tracker read it; pitch is shifted and quantised; the
//! synthesiser renders the window's last frames (the SOLA margin and the block); those are
//! resampled to the host rate, and SOLA joins them to the previous block. Windows are resampled
//! from a clean state each time, so no resampler delay accumulates: the output lags the input by
//! the SOLA holdback alone, exactly like the identity processor the stream was sized for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::content_encoder::ContentEncoder;
use super::content_frames::{self, SYNTH_HOP_16K};
use super::f0;
use super::model_error::ModelError;
use super::resampler::WindowResampler;
use super::sola::Sola;
use super::synthesizer::{DecodeRange, Synthesizer};
use super::yin::Yin;
use crate::delay_line::DelayLine;
use crate::stream::{BlockProcessor, StreamGeometry, StreamSettings};
use crate::voice::VoiceSelection;

const RATE_16K: u32 = 16_000;

/// Where the processor reads the pitch shift (semitones) each block: the plugin's parameter.
pub type PitchSource = Arc<dyn Fn() -> f32 + Send + Sync>;

/// Failures while converting, counted for the log and the editor. Written by the inference thread.
#[derive(Default)]
pub struct ConversionErrors {
    pub count: AtomicU64,
}

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
    yin: Yin,
    f0: Vec<f32>,
    coarse: Vec<i64>,
    synthesizer: Synthesizer,
    to_host: WindowResampler,
    rendered: Vec<f32>,
    sola: Sola,
    pitch: PitchSource,
    /// The input delayed by the processor's delay: what plays if a block fails to convert, so the
    /// audio keeps flowing in time.
    fallback: DelayLine,
    errors: Arc<ConversionErrors>,
}

impl RvcProcessor {
    /// Load the voice's models and size every buffer for `geometry`. Runs off the audio thread.
    pub fn load(
        voice: &VoiceSelection,
        geometry: &StreamGeometry,
        settings: &StreamSettings,
        pitch: PitchSource,
        errors: Arc<ConversionErrors>,
        threads: usize,
    ) -> Result<Self, ModelError> {
        let choose = |path: &Option<std::path::PathBuf>, what: &str| {
            path.clone().ok_or_else(|| ModelError::Invalid(format!("no {what} is chosen for this voice")))
        };
        let synthesizer_path = choose(&voice.synthesizer, "voice model")?;
        let encoder_path = choose(&voice.content_encoder, "content encoder")?;

        let rate = geometry.sample_rate;
        let frame_host = f64::from(rate) / 100.0;
        let block_frames = (geometry.block as f64 / frame_host).round().max(1.0) as usize;
        // Enough frames to cover the crossfade and search, plus one for rounding at odd rates.
        let margin_frames = (geometry.processor_delay() as f64 / frame_host).ceil() as usize + 1;
        let context_frames = (f64::from(settings.clamped().context_ms) / 10.0).round() as usize;
        let render_frames = margin_frames + block_frames;
        let window_frames = context_frames + render_frames;
        let window_host = (window_frames as f64 * frame_host).round() as usize;

        let synthesizer = Synthesizer::load(&synthesizer_path, threads, window_frames, voice.speaker_id)?;
        let encoder =
            ContentEncoder::load(&encoder_path, threads, synthesizer.format().version, window_frames * SYNTH_HOP_16K)?;
        let unsupported = |e: String| ModelError::Invalid(e);
        let mut to_16k = WindowResampler::new(rate, RATE_16K).map_err(unsupported)?;
        let mut to_host = WindowResampler::new(synthesizer.sample_rate(), rate).map_err(unsupported)?;
        let window_16k = vec![0.0; to_16k.output_capacity(window_host)];
        let rendered = vec![0.0; to_host.output_capacity(render_frames * synthesizer.hop())];
        let crossfade = geometry.crossfade;
        let search = geometry.sola_search;
        Ok(Self {
            block: geometry.block,
            context_frames,
            render_frames,
            history: vec![0.0; window_host],
            to_16k,
            window_16k,
            encoder,
            yin: Yin::default(),
            f0: vec![0.0; window_frames],
            coarse: vec![0; window_frames],
            synthesizer,
            to_host,
            rendered,
            sola: Sola::new(geometry.block, crossfade, search),
            pitch,
            fallback: DelayLine::new(crossfade + search),
            errors,
        })
    }

    pub fn synthesizer(&self) -> &Synthesizer {
        &self.synthesizer
    }

    fn convert(&mut self, output: &mut [f32]) -> Result<(), ModelError> {
        let window_frames = self.context_frames + self.render_frames;
        let written = self.to_16k.resample(&self.history, &mut self.window_16k);
        let samples = (window_frames * SYNTH_HOP_16K).min(written);
        let audio = &self.window_16k[..samples];

        let width = self.encoder.width();
        let features = self.encoder.encode(audio)?;
        let frames = content_frames::upsample(features, width, samples, self.synthesizer.features_mut(window_frames));
        self.yin.track(audio, &mut self.f0[..frames]);
        f0::post_process(&mut self.f0[..frames], (self.pitch)(), &mut self.coarse[..frames]);

        let range = DecodeRange {
            skip_head: frames.saturating_sub(self.render_frames),
            return_length: self.render_frames.min(frames),
        };
        let voice = self.synthesizer.render(&self.coarse[..frames], &self.f0[..frames], range)?;
        let produced = self.to_host.resample(voice, &mut self.rendered);
        let needed = self.sola.rendered_len();
        if produced < needed {
            return Err(ModelError::Invalid(format!(
                "the voice rendered {produced} samples where {needed} were needed"
            )));
        }
        self.sola.process(&self.rendered[produced - needed..produced], output);
        Ok(())
    }
}

impl BlockProcessor for RvcProcessor {
    fn delay(&self) -> usize {
        self.sola.delay()
    }

    fn process_block(&mut self, input: &[f32], output: &mut [f32]) {
        debug_assert_eq!(input.len(), self.block);
        let keep = self.history.len() - input.len();
        self.history.copy_within(input.len().., 0);
        self.history[keep..].copy_from_slice(input);

        if self.convert(output).is_err() {
            self.errors.count.fetch_add(1, Ordering::Relaxed);
            for (y, &x) in output.iter_mut().zip(input) {
                *y = self.fallback.process(x);
            }
            return;
        }
        // Keep the fallback's delay line current so a failure later plays in time.
        for &x in input {
            self.fallback.process(x);
        }
    }

    fn reset(&mut self) {
        self.history.fill(0.0);
        self.sola.reset();
        self.fallback.reset();
    }
}
