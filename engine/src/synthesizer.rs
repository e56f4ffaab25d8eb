//! Running an RVC synthesizer, whichever export convention it has.
//!
//! The runner owns every input buffer, sized for the longest window it will be asked to render, so
//! a render only fills them and hands ONNX Runtime views of them.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use half::f16;
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;

use crate::execution_provider::Provider;
use crate::formant::{self, SincResampler};

use super::built_model_cache;
use super::int8::{Calibration, Int8Error, Scope};
use super::model_error::ModelError;
use super::model_error::ModelRole;
use super::model_file::ModelFile;
use super::model_output;
use super::noise::LatentNoise;
use super::synthesizer_format::{self, ExportConvention, SynthesizerFormat};

/// Frames of the warm-up renders that measure the output rate and check the export runs at more
/// than one length (an export whose attention was traced at a fixed length fails the second).
const WARM_UP_FRAMES: [usize; 2] = [20, 33];

/// Formant resamplers kept (see [`Synthesizer::render_shifted`]).
const FORMANT_RESAMPLERS: usize = 4;

pub struct Synthesizer {
    session: Session,
    /// The ONNX model `session` was opened from: the voice's file, or the model built from its
    /// `.pth`. The int8 decoder is made from it.
    model: PathBuf,
    /// Where `session` runs; the int8 decoder is made for the CPU alone.
    provider: Provider,
    /// Set while an int8 decoder is calibrated: the probe model renders in `session`'s place and
    /// every render records the ranges it saw.
    calibration: Option<Calibration>,
    format: SynthesizerFormat,
    /// Output samples per frame: the model's sample rate over 100.
    hop: usize,
    speaker: i64,
    noise: LatentNoise,
    feats: Vec<f32>,
    feats_half: Vec<f16>,
    noise_buf: Vec<f32>,
    audio: Vec<f32>,
    /// An fp16 export's output converted to f32 (see [`model_output::float_output`]).
    half_output: Vec<f32>,
    /// The pitch a formant-shifted render gives the voice's source (see [`crate::formant`]).
    stretched_pitchf: Vec<f32>,
    /// Take formant-shifted renders back to `hop` samples per frame: the last few ratios used,
    /// so automating the Formant control rebuilds a kernel only for a ratio not heard lately.
    formant_resamplers: Vec<SincResampler>,
}

/// Which frames of a window to decode. Exports without partial decoding render the whole window
/// and the runner keeps the requested frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRange {
    pub skip_head: usize,
    pub return_length: usize,
}

impl DecodeRange {
    /// The last `frames` of a window of `window` frames (all of it when it is shorter).
    pub fn newest(window: usize, frames: usize) -> Self {
        Self { skip_head: window.saturating_sub(frames), return_length: frames.min(window) }
    }
}

impl Synthesizer {
    /// Open the voice at `path` for windows of up to `max_frames` frames.
    /// A `.pth` voice is built into its ONNX model first (or taken from the cache).
    pub fn load(path: &Path, threads: usize, max_frames: usize, speaker: u32) -> Result<Self, ModelError> {
        let model = built_model_cache::onnx_for(path)?;
        let ModelFile { session, signature, provider } = ModelFile::open(&model, threads)?;
        let format = synthesizer_format::detect(&signature)?;
        let width = format.version.feature_width();
        let mut synth = Self {
            session,
            model,
            provider,
            calibration: None,
            format,
            hop: 0,
            speaker: i64::from(speaker),
            noise: LatentNoise::new(0x5eed),
            feats: vec![0.0; max_frames * width],
            feats_half: if format.half_precision_features { vec![f16::ZERO; max_frames * width] } else { vec![] },
            noise_buf: vec![0.0; max_frames * 192],
            audio: Vec::new(),
            half_output: Vec::new(),
            stretched_pitchf: vec![0.0; max_frames],
            formant_resamplers: Vec::with_capacity(FORMANT_RESAMPLERS + 1),
        };
        synth.measure_hop()?;
        // Room for a whole window of output, stretched as far as a formant shift goes, so
        // rendering never grows the buffer.
        synth.audio = vec![0.0; synth.output_capacity(max_frames.max(WARM_UP_FRAMES[1]))];
        // An fp16 output is converted here; the signature does not always say which exports have one.
        synth.half_output = vec![0.0; synth.audio.len()];
        Ok(synth)
    }

    /// Output samples a render of up to `frames` frames can need, formant-stretched included.
    fn output_capacity(&self, frames: usize) -> usize {
        let frames = if self.shifts_formants() { formant::max_stretched_frames(frames) } else { frames };
        frames * self.hop
    }

    /// Whether the voice can shift its formants: its export takes `formant_length`.
    pub fn shifts_formants(&self) -> bool {
        self.format.convention.shifts_formants()
    }

    /// The formant shift a render with `semitones` asked for takes: within [`formant::RANGE`] for
    /// a voice that can shift formants, none for one that cannot (or for a shift that is no
    /// number), so a caller lowers the pitch only by a shift that comes.
    pub fn formant_taken(&self, semitones: f32) -> f32 {
        if self.shifts_formants() && self.hop != 0 && semitones.is_finite() {
            semitones.clamp(*formant::RANGE.start(), *formant::RANGE.end())
        } else {
            0.0
        }
    }

    /// Make room for windows of up to `max_frames` frames. Allocates: call it off the audio path
    /// (whole-file conversion does, before rendering a file in one window).
    pub fn reserve(&mut self, max_frames: usize) {
        let width = self.format.version.feature_width();
        if self.feats.len() < max_frames * width {
            self.feats.resize(max_frames * width, 0.0);
            if self.format.half_precision_features {
                self.feats_half.resize(max_frames * width, f16::ZERO);
            }
            self.noise_buf.resize(max_frames * 192, 0.0);
            self.stretched_pitchf.resize(max_frames, 0.0);
            let capacity = self.output_capacity(max_frames);
            self.audio.resize(capacity, 0.0);
            self.half_output.resize(capacity, 0.0);
        }
    }

    /// Start making an int8 copy of the voice's decoder:
    /// until [`Self::finish_int8_calibration`], renders run a probe model that records the
    /// decoder's activation ranges. Fails, leaving the float model in place, where the copy cannot
    /// be made or would not help (a GPU session).
    pub fn begin_int8_calibration(&mut self, threads: usize) -> Result<(), Int8Error> {
        let calibration = Calibration::begin(&mut self.session, self.provider, &self.model, Scope::Decoder, threads)?;
        self.calibration = Some(calibration);
        Ok(())
    }

    /// End calibration: with `quantise`, swap in the int8 model made from the ranges seen, once it
    /// renders like the float one at the warm-up lengths; otherwise (or if that fails) the float
    /// model stays. Returns how many convolutions run in int8.
    pub fn finish_int8_calibration(&mut self, threads: usize, quantise: bool) -> Result<usize, Int8Error> {
        let calibration =
            self.calibration.take().ok_or_else(|| Int8Error::Calibration("no int8 calibration is running".into()))?;
        let (float, convolutions) = calibration.finish(&mut self.session, threads, quantise)?;
        let hop = self.hop;
        if let Err(e) = self.measure_hop() {
            self.session = float;
            return Err(Int8Error::FailedCheck(e.to_string()));
        }
        if self.hop != hop {
            self.session = float;
            self.hop = hop;
            return Err(Int8Error::FailedCheck("it renders at another sample rate".into()));
        }
        Ok(convolutions)
    }

    pub fn format(&self) -> &SynthesizerFormat {
        &self.format
    }

    pub fn sample_rate(&self) -> u32 {
        (self.hop * 100) as u32
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The feature buffer to fill before [`Self::render`]: `frames × width`, row-major.
    pub fn features_mut(&mut self, frames: usize) -> &mut [f32] {
        let width = self.format.version.feature_width();
        &mut self.feats[..frames * width]
    }

    /// Render `range` of a window of `pitch.len()` frames whose features were written through
    /// [`Self::features_mut`]. `pitch` is the coarse pitch, `pitchf` the pitch in Hz (ignored by
    /// models without f0). Returns `range.return_length * hop` samples.
    pub fn render(&mut self, pitch: &[i64], pitchf: &[f32], range: DecodeRange) -> Result<&[f32], ModelError> {
        self.render_shifted(pitch, pitchf, range, 0.0)
    }

    /// [`Self::render`] with the formants shifted by `formant` semitones, RVC's way (see
    /// [`crate::formant`]; the caller has already lowered the pitch by the same shift). Voices
    /// that cannot shift formants ([`Self::shifts_formants`]) render unshifted.
    pub fn render_shifted(
        &mut self,
        pitch: &[i64],
        pitchf: &[f32],
        range: DecodeRange,
        formant: f32,
    ) -> Result<&[f32], ModelError> {
        let frames = pitch.len();
        // Taken here as well as by the caller, so the buffers' sizes hold whoever calls.
        let formant = self.formant_taken(formant);
        // As RVC: the stretch and the resampling back are decided apart, by rounding each.
        let stretched = formant::stretched_frames(range.return_length, formant);
        let hop_in = formant::stretched_hop(self.hop, formant);
        let pitchf = if stretched == range.return_length {
            &pitchf[..frames]
        } else {
            // The source is stretched with the latent, which lowers its pitch by the stretch:
            // RVC raises the pitch it is given by as much first.
            let ratio = stretched as f32 / range.return_length as f32;
            for (out, f) in self.stretched_pitchf.iter_mut().zip(&pitchf[..frames]) {
                *out = f * ratio;
            }
            &self.stretched_pitchf[..frames]
        };
        let width = self.format.version.feature_width();
        let fail = |e: ort::Error| ModelError::Invalid(format!("the voice model failed to render: {e}"));
        let frames_i64 = [frames as i64];
        let speaker = [self.speaker];
        let skip = [range.skip_head as i64];
        let length = [range.return_length as i64];
        let stretched_length = [stretched as i64];
        if self.format.convention == ExportConvention::RvcWebUi {
            self.noise.fill(&mut self.noise_buf[..frames * 192]);
        }
        if self.format.half_precision_features {
            for (h, &f) in self.feats_half.iter_mut().zip(&self.feats[..frames * width]) {
                *h = f16::from_f32(f);
            }
        }

        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::with_capacity(8);
        let (features_name, lengths_name, speaker_name) = match self.format.convention {
            ExportConvention::RvcWebUi => ("phone", "phone_lengths", "ds"),
            _ => ("feats", "p_len", "sid"),
        };
        let features = if self.format.half_precision_features {
            view(vec![1, frames, width], &self.feats_half[..frames * width])
        } else {
            view(vec![1, frames, width], &self.feats[..frames * width])
        };
        inputs.push((features_name.into(), features.map_err(fail)?));
        inputs.push((lengths_name.into(), view(vec![1], &frames_i64).map_err(fail)?));
        if self.format.has_f0 {
            inputs.push(("pitch".into(), view(vec![1, frames], pitch).map_err(fail)?));
            inputs.push(("pitchf".into(), view(vec![1, frames], pitchf).map_err(fail)?));
        }
        inputs.push((speaker_name.into(), view(vec![1], &speaker).map_err(fail)?));
        match self.format.convention {
            ExportConvention::RvcWebUi => {
                inputs.push(("rnd".into(), view(vec![1, 192, frames], &self.noise_buf[..frames * 192]).map_err(fail)?));
            }
            ExportConvention::PartialDecoding { formant_length } => {
                inputs.push(("skip_head".into(), view(vec![], &skip).map_err(fail)?));
                inputs.push(("return_length".into(), view(vec![], &length).map_err(fail)?));
                if formant_length {
                    inputs.push(("formant_length".into(), view(vec![], &stretched_length).map_err(fail)?));
                }
            }
            ExportConvention::WOkada => {}
        }

        let outputs = self.session.run(inputs).map_err(fail)?;
        if let Some(calibration) = self.calibration.as_mut() {
            calibration.observe(&outputs);
        }
        let (_, audio) = model_output::float_output(ModelRole::Voice, &outputs[0], &mut self.half_output)?;
        // Exports without partial decoding render every frame; keep the requested ones.
        let partial = matches!(self.format.convention, ExportConvention::PartialDecoding { .. });
        let rendered_frames = if partial { stretched } else { frames };
        // Until the warm-up has measured the hop, any whole number of samples per frame will do.
        if self.hop != 0 && audio.len() != rendered_frames * self.hop {
            return Err(ModelError::Invalid(format!(
                "the voice model rendered {} samples for {rendered_frames} frames, not {} ({} per frame)",
                audio.len(),
                rendered_frames * self.hop,
                self.hop
            )));
        }
        let rendered = if partial || self.hop == 0 {
            audio
        } else {
            let start = (range.skip_head * self.hop).min(audio.len());
            &audio[start..(start + range.return_length * self.hop).min(audio.len())]
        };
        if hop_in != self.hop {
            // Read the render at RVC's whole number of samples per frame and take it back to
            // `hop` per frame: every frequency moves by the ratio.
            let at = match self.formant_resamplers.iter().position(|r| r.converts(hop_in, self.hop)) {
                Some(at) => at,
                None => {
                    if self.formant_resamplers.len() == FORMANT_RESAMPLERS {
                        self.formant_resamplers.remove(0);
                    }
                    self.formant_resamplers.push(SincResampler::new(hop_in, self.hop));
                    self.formant_resamplers.len() - 1
                }
            };
            let input = &rendered[..(range.return_length * hop_in).min(rendered.len())];
            let written = self.formant_resamplers[at].process(input, &mut self.audio);
            let n = range.return_length * self.hop;
            return match written {
                Some(written) if written == n => Ok(&self.audio[..n]),
                _ => Err(ModelError::Invalid(format!("a formant-shifted render did not resample to {n} samples"))),
            };
        }
        // A stretch too small to change the samples per frame: RVC keeps the render's start.
        let n =
            if partial && self.hop != 0 { rendered.len().min(range.return_length * self.hop) } else { rendered.len() };
        let rendered = &rendered[..n];
        if self.audio.len() < n {
            // Only during the warm-up, before the buffer is sized.
            self.audio.resize(n, 0.0);
        }
        self.audio[..n].copy_from_slice(&rendered[..n]);
        Ok(&self.audio[..n])
    }

    /// Render silence at two lengths: the output length gives the sample rate (RVC WebUI exports
    /// carry no metadata), and an export that only runs at its traced length fails here, at load,
    /// instead of in the middle of a performance.
    fn measure_hop(&mut self) -> Result<(), ModelError> {
        let path = self.model.clone();
        let mut hops = Vec::with_capacity(WARM_UP_FRAMES.len());
        for frames in WARM_UP_FRAMES {
            self.features_mut(frames).fill(0.0);
            let pitch = vec![1i64; frames];
            let pitchf = vec![0.0f32; frames];
            let range = DecodeRange { skip_head: 0, return_length: frames };
            let rendered = self.render(&pitch, &pitchf, range).map_err(|e| match e {
                // It runs; what it gives is broken.
                ModelError::BadOutput { .. } => e,
                _ => ModelError::Invalid(format!(
                    "{} does not run at {frames} frames ({e}); an export whose length was fixed when it \
                     was traced cannot stream",
                    path.display()
                )),
            })?;
            if rendered.len() % frames != 0 {
                return Err(ModelError::Invalid(format!(
                    "the voice model gave {} samples for {frames} frames, not a whole number per frame",
                    rendered.len()
                )));
            }
            hops.push(rendered.len() / frames);
        }
        let hop = hops[0];
        if hops.iter().any(|&h| h != hop) || !(80..=960).contains(&hop) {
            return Err(ModelError::Invalid(format!(
                "the voice model renders {hops:?} samples per frame at {WARM_UP_FRAMES:?} frames"
            )));
        }
        if let Some(rate) = self.format.sample_rate
            && rate as usize != hop * 100
        {
            return Err(ModelError::Invalid(format!("its metadata says {rate} Hz but it renders {} Hz", hop * 100)));
        }
        self.hop = hop;
        Ok(())
    }
}

/// An input tensor over a buffer the runner owns, without copying it.
fn view<T>(shape: Vec<usize>, data: &[T]) -> ort::Result<SessionInputValue<'_>>
where
    T: ort::value::PrimitiveTensorElementType + std::fmt::Debug + Clone + 'static,
{
    Ok(TensorRef::from_array_view((shape, data))?.into())
}
