//! RMVPE, RVC's pitch estimator, as ONNX in the two forms found in the field (see
//! `models/README.md`):
//!
//! * **mel** (RVC's `rmvpe.onnx`): log-mel `[1,128,T]` in, salience `[1,T,360]` out. The mel is
//!   computed here ([`MelSpectrogram`]), zero-padded to a multiple of 32 frames as RVC's `mel2hidden`
//!   does (real exports only run on such lengths), and the salience decoded here ([`decode_frame`]).
//! * **wave** (w-okada's `rmvpe_onnx`): `waveform [1,N]` and `threshold` in, `pitchf [1,T]` (Hz, 0 =
//!   unvoiced) out, everything in the graph.
//!
//! Both give frame `i` centred on sample `160 i`, with RVC's threshold of 0.03.

use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use super::content_frames::SYNTH_HOP_16K;
use super::mel::{self, MelSpectrogram};
use super::model_error::ModelError;
use super::model_error::ModelRole;
use super::model_file::ModelFile;
use super::model_output;
use super::model_signature::{Element, ModelSignature};
use super::pitch_tracker::PitchTracker;

/// RVC's decode threshold: frames whose peak salience is at or below it are unvoiced.
pub const THRESHOLD: f32 = 0.03;
/// Salience bins, 20 cents apart.
pub const BINS: usize = 360;
/// Bin 0's cents: RVC's `1997.3794084376191`, the same f64 written as clippy wants it.
const BIN0_CENTS: f64 = 1_997.379_408_437_619;
/// The U-Net pools five times, so RVC pads the mel to a multiple of 32 frames.
const PAD_FRAMES: usize = 32;
const EXPECTED: &str = "an RMVPE model (mel [1,128,T] -> salience [1,T,360], or waveform [1,N] + threshold -> pitchf)";

/// Which RMVPE export a model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RmvpeForm {
    /// Log-mel in, salience out: the front end and the decoding run here.
    Mel,
    /// Waveform and threshold in, f0 out: all in the graph.
    Wave,
}

/// Recognises an RMVPE export from its interface, or `None` if it is not one.
///
/// RVC's own `rmvpe.onnx` is used by position (RVC reads `get_inputs()[0].name`), so the mel form is
/// recognised by shape: one f32 input `[?,128,?]` (or a rank-3 `mel` whose bands are left open) and
/// one output whose last dimension is 360 or open.
pub fn detect(signature: &ModelSignature) -> Option<RmvpeForm> {
    let [input] = signature.inputs.as_slice() else {
        let wave = signature.input("waveform").is_some_and(|w| w.dims.len() == 2 && w.element == Element::F32)
            && signature.input("threshold").is_some_and(|t| t.element == Element::F32 && t.dims.len() <= 1)
            && signature.inputs.len() == 2
            && signature.output("pitchf").is_some_and(|p| p.element == Element::F32);
        return wave.then_some(RmvpeForm::Wave);
    };
    let [output] = signature.outputs.as_slice() else { return None };
    let bands = input.dim(1);
    let mel = input.element == Element::F32
        && input.dims.len() == 3
        && (bands == Some(mel::N_MELS as i64) || (bands.is_none() && input.name == "mel"));
    let salience =
        output.element == Element::F32 && output.dims.len() == 3 && output.dim(2).is_none_or(|d| d == BINS as i64);
    (mel && salience).then_some(RmvpeForm::Mel)
}

/// RVC's `to_local_average_cents` and `decode` for one frame of salience: the salience-weighted
/// cents over the argmax ± 4 bins (bins outside the table weigh 0, as RVC's zero padding makes
/// them), `f0 = 10 · 2^(cents / 1200)`, and 0 where the peak salience is at or below `threshold`.
/// Computed in f64, as RVC's numpy does.
pub fn decode_frame(salience: &[f32], threshold: f32) -> f32 {
    // The first maximum, as numpy's argmax.
    let (center, peak) = salience
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &s)| if s > best.1 { (i, s) } else { best });
    if peak.is_nan() || peak <= threshold {
        return 0.0;
    }
    let (lo, hi) = (center.saturating_sub(4), (center + 5).min(salience.len()));
    let (mut product, mut weight) = (0.0f64, 0.0f64);
    for (offset, &s) in salience[lo..hi].iter().enumerate() {
        let cents = 20.0 * (lo + offset) as f64 + BIN0_CENTS;
        product += f64::from(s) * cents;
        weight += f64::from(s);
    }
    let f0 = 10.0 * 2f64.powf(product / weight / 1200.0);
    if f0.is_finite() { f0 as f32 } else { 0.0 }
}

/// The RMVPE tracker: RVC's pitch estimator with every buffer sized at load.
pub struct Rmvpe {
    session: Session,
    form: RmvpeForm,
    input_name: String,
    output_name: String,
    /// Whether the wave form's threshold is a scalar (w-okada's is `[1]`).
    scalar_threshold: bool,
    /// Mel form only: the front end and its `[128, padded frames]` output.
    mel: Option<MelSpectrogram>,
    log_mel: Vec<f32>,
    /// The window, padded with silence to what the model needs.
    padded: Vec<f32>,
}

impl Rmvpe {
    /// Opens an RMVPE export of either form, for windows of up to `max_samples` samples at 16 kHz.
    pub fn load(path: &Path, threads: usize, max_samples: usize) -> Result<Self, ModelError> {
        let file = ModelFile::open(path, threads)?;
        let Some(form) = detect(&file.signature) else {
            return Err(ModelError::UnknownInterface { expected: EXPECTED, found: file.signature.describe() });
        };
        Ok(Self::new(file, form, max_samples))
    }

    /// An opened model whose form [`detect`] recognised.
    pub fn new(file: ModelFile, form: RmvpeForm, max_samples: usize) -> Self {
        let ModelFile { session, signature, .. } = file;
        let samples = max_samples.max(mel::MIN_SAMPLES);
        let (input_name, output_name) = match form {
            RmvpeForm::Mel => (signature.inputs[0].name.clone(), signature.outputs[0].name.clone()),
            RmvpeForm::Wave => ("waveform".to_owned(), "pitchf".to_owned()),
        };
        let scalar_threshold = signature.input("threshold").is_some_and(|t| t.dims.is_empty());
        let (mel, log_mel) = match form {
            RmvpeForm::Mel => (Some(MelSpectrogram::new(samples)), vec![0.0; mel::N_MELS * padded_frames(samples)]),
            RmvpeForm::Wave => (None, Vec::new()),
        };
        Self { session, form, input_name, output_name, scalar_threshold, mel, log_mel, padded: vec![0.0; samples] }
    }

    pub fn form(&self) -> RmvpeForm {
        self.form
    }
}

/// Mel frames for `samples`, rounded up to RVC's multiple of 32.
fn padded_frames(samples: usize) -> usize {
    MelSpectrogram::frames(samples).div_ceil(PAD_FRAMES) * PAD_FRAMES
}

impl PitchTracker for Rmvpe {
    fn track(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        let frames = audio.len() / SYNTH_HOP_16K;
        let fail = |e: ort::Error| ModelError::Invalid(format!("the RMVPE model failed: {e}"));
        // A window too short for the reflect padding is padded with silence (only at the very start).
        let n = audio.len().max(mel::MIN_SAMPLES);
        if self.padded.len() < n {
            self.padded.resize(n, 0.0);
        }
        self.padded[..audio.len()].copy_from_slice(audio);
        self.padded[audio.len()..n].fill(0.0);
        let audio = &self.padded[..n];
        match self.form {
            RmvpeForm::Mel => {
                let width = padded_frames(n);
                if self.log_mel.len() < mel::N_MELS * width {
                    self.log_mel.resize(mel::N_MELS * width, 0.0);
                }
                let log_mel = &mut self.log_mel[..mel::N_MELS * width];
                // RVC pads with zeros after the log, so the padding reads as a loud flat spectrum.
                log_mel.fill(0.0);
                self.mel.as_mut().expect("mel form has a front end").compute(audio, log_mel, width);
                let input = TensorRef::from_array_view(([1, mel::N_MELS, width], &*log_mel)).map_err(fail)?;
                let outputs = self.session.run(ort::inputs![self.input_name.as_str() => input]).map_err(fail)?;
                let (shape, salience) = outputs[self.output_name.as_str()].try_extract_tensor::<f32>().map_err(fail)?;
                model_output::check_values(ModelRole::PitchModel, salience)?;
                let available = if shape.len() == 3 && shape[2] == BINS as i64 { shape[1] as usize } else { 0 };
                if available < frames || salience.len() < available * BINS {
                    return Err(ModelError::Invalid(format!(
                        "the RMVPE model gave salience {shape:?} for {frames} frames"
                    )));
                }
                for (out, row) in f0[..frames].iter_mut().zip(salience.chunks_exact(BINS)) {
                    *out = decode_frame(row, THRESHOLD);
                }
            }
            RmvpeForm::Wave => {
                let threshold = [THRESHOLD];
                let waveform = TensorRef::from_array_view(([1, n], audio)).map_err(fail)?;
                let threshold = if self.scalar_threshold {
                    TensorRef::from_array_view(((), &threshold[..]))
                } else {
                    TensorRef::from_array_view(([1], &threshold[..]))
                }
                .map_err(fail)?;
                let outputs = self
                    .session
                    .run(ort::inputs![self.input_name.as_str() => waveform, "threshold" => threshold])
                    .map_err(fail)?;
                let (_, hz) = outputs[self.output_name.as_str()].try_extract_tensor::<f32>().map_err(fail)?;
                // This form has no confidence output: NaN is how its decoding can leave a frame
                // with no salience, so it reads as unvoiced; the rest must be usable.
                for v in hz.iter().filter(|v| !v.is_nan()) {
                    model_output::check_values(ModelRole::PitchModel, std::slice::from_ref(v))?;
                }
                if hz.len() < frames {
                    return Err(ModelError::Invalid(format!("the RMVPE model gave {} frames for {frames}", hz.len())));
                }
                for (out, &v) in f0[..frames].iter_mut().zip(hz) {
                    *out = if v.is_finite() && v > 0.0 { v } else { 0.0 };
                }
            }
        }
        Ok(())
    }
}
