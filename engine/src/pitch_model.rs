//! Pitch models as ONNX: FCPE and CREPE, decoded to Hz inside their graphs (see
//! `models/README.md`), voiced by RVC's own rules, and RMVPE in either of its export forms
//! ([`super::rmvpe`]). All take 16 kHz audio and give one estimate per 10 ms, frame `i` centred on
//! sample `160 i`, which RVC pairs with synthesizer frame `i` as it is.

use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use super::built_model_cache;
use super::content_frames::SYNTH_HOP_16K;
use super::model_error::ModelError;
use super::model_error::ModelRole;
use super::model_file::ModelFile;
use super::model_output;
use super::pitch_tracker::PitchTracker;
use super::rmvpe::{self, Rmvpe, RmvpeForm};

/// How a model's outputs become f0 per frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PitchDecoding {
    /// `f0, confidence`: voiced where the confidence exceeds RVC's 0.006.
    Fcpe,
    /// `f0, periodicity`: RVC smooths periodicity (median of 3) and f0 (mean of 3), and calls
    /// frames with periodicity under 0.1 unvoiced.
    Crepe,
    /// RMVPE's mel form: the log-mel and RVC's salience decoding run in the plugin.
    RmvpeMel,
    /// RMVPE's waveform + threshold form, decoded in its graph.
    RmvpeWave,
}

const FCPE_THRESHOLD: f32 = 0.006;
const CREPE_PERIODICITY: f32 = 0.1;
/// FCPE's reflect padding needs more than this many samples.
const MIN_SAMPLES: usize = 433;
const EXPECTED: &str = "a pitch model (FCPE or CREPE, audio [1,N] -> f0 with confidence or periodicity; \
                        RMVPE, mel [1,128,T] -> salience [1,T,360] or waveform [1,N] + threshold -> pitchf)";

/// A pitch model the user picked, recognised from its interface.
pub struct PitchModel {
    decoding: PitchDecoding,
    inner: Inner,
}

enum Inner {
    /// FCPE and CREPE: f0 decoded in the graph, voiced here.
    InGraph(InGraph),
    Rmvpe(Box<Rmvpe>),
}

struct InGraph {
    session: Session,
    padded: Vec<f32>,
    raw_f0: Vec<f32>,
    voicing: Vec<f32>,
    /// fp16 outputs converted to f32.
    half_f0: Vec<f32>,
    half_voicing: Vec<f32>,
}

impl PitchModel {
    /// Opens `path` and recognises which pitch model it is; buffers are sized for windows of up to
    /// `max_samples` samples at 16 kHz.
    pub fn load(path: &Path, threads: usize, max_samples: usize) -> Result<Self, ModelError> {
        // RVC's rmvpe.pt is built into its ONNX form first (or taken from the cache).
        let model = built_model_cache::onnx_for(path)?;
        let file = ModelFile::open(&model, threads)?;
        if let Some(form) = rmvpe::detect(&file.signature) {
            let decoding = match form {
                RmvpeForm::Mel => PitchDecoding::RmvpeMel,
                RmvpeForm::Wave => PitchDecoding::RmvpeWave,
            };
            let mut model = Self { decoding, inner: Inner::Rmvpe(Box::new(Rmvpe::new(file, form, max_samples))) };
            model.warm_up()?;
            return Ok(model);
        }
        let ModelFile { session, signature, .. } = file;
        let unknown = || ModelError::UnknownInterface { expected: EXPECTED, found: signature.describe() };
        if signature.input("audio").is_none_or(|a| a.dims.len() != 2) || signature.output("f0").is_none() {
            return Err(unknown());
        }
        let decoding = if signature.output("confidence").is_some() {
            PitchDecoding::Fcpe
        } else if signature.output("periodicity").is_some() {
            PitchDecoding::Crepe
        } else {
            return Err(unknown());
        };
        let frames = max_samples / SYNTH_HOP_16K + 2;
        let inner = InGraph {
            session,
            padded: vec![0.0; max_samples.max(MIN_SAMPLES + 1)],
            raw_f0: vec![0.0; frames],
            voicing: vec![0.0; frames],
            half_f0: vec![0.0; frames],
            half_voicing: vec![0.0; frames],
        };
        let mut model = Self { decoding, inner: Inner::InGraph(inner) };
        model.warm_up()?;
        Ok(model)
    }

    /// Track half a second of silence, then half a second of a sung vowel: a model that gives
    /// broken values (voiced or not) or the wrong number of frames is refused at load rather than
    /// failing every block of a performance.
    fn warm_up(&mut self) -> Result<(), ModelError> {
        let audio: Vec<f32> = (0..16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let voiced = if i < 8_000 { 0.0 } else { 0.3 };
                voiced
                    * (1..=4).map(|k| (2.0 * std::f32::consts::PI * 220.0 * k as f32 * t).sin() / k as f32).sum::<f32>()
            })
            .collect();
        let mut f0 = vec![0.0f32; audio.len() / SYNTH_HOP_16K];
        self.track(&audio, &mut f0)
    }

    pub fn decoding(&self) -> PitchDecoding {
        self.decoding
    }
}

impl PitchTracker for PitchModel {
    fn track(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        match &mut self.inner {
            Inner::InGraph(model) => model.track(self.decoding, audio, f0),
            Inner::Rmvpe(model) => model.track(audio, f0),
        }
    }
}

impl InGraph {
    fn track(&mut self, decoding: PitchDecoding, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        let frames = audio.len() / SYNTH_HOP_16K;
        let fail = |e: ort::Error| ModelError::Invalid(format!("the pitch model failed: {e}"));
        // A window too short for the model is padded with silence (only at the very start).
        let n = audio.len().max(MIN_SAMPLES + 1);
        if self.padded.len() < n {
            self.padded.resize(n, 0.0);
        }
        self.padded[..audio.len()].copy_from_slice(audio);
        self.padded[audio.len()..n].fill(0.0);
        let input = TensorRef::from_array_view((vec![1, n], &self.padded[..n])).map_err(fail)?;
        let outputs = self.session.run(ort::inputs!["audio" => input]).map_err(fail)?;
        let (_, hz) = model_output::float_values(ModelRole::PitchModel, &outputs["f0"], &mut self.half_f0)?;
        let voicing_name = if decoding == PitchDecoding::Fcpe { "confidence" } else { "periodicity" };
        let (_, voicing) =
            model_output::float_output(ModelRole::PitchModel, &outputs[voicing_name], &mut self.half_voicing)?;
        // FCPE and CREPE centre frame i on sample 160 i, from the first sample to the last.
        let expected = n / SYNTH_HOP_16K + 1;
        if hz.len() != expected || voicing.len() != expected {
            return Err(ModelError::Invalid(format!(
                "the pitch model gave {} f0 and {} {voicing_name} frames for {n} samples, not {expected}",
                hz.len(),
                voicing.len()
            )));
        }
        if self.raw_f0.len() < frames {
            self.raw_f0.resize(frames, 0.0);
            self.voicing.resize(frames, 0.0);
        }
        self.raw_f0[..frames].copy_from_slice(&hz[..frames]);
        self.voicing[..frames].copy_from_slice(&voicing[..frames]);
        drop(outputs);

        for (i, out) in f0[..frames].iter_mut().enumerate() {
            *out = match decoding {
                PitchDecoding::Fcpe => {
                    if self.voicing[i] > FCPE_THRESHOLD {
                        self.raw_f0[i]
                    } else {
                        0.0
                    }
                }
                PitchDecoding::Crepe => {
                    let (lo, hi) = (i.saturating_sub(1), (i + 2).min(frames));
                    let mut window = [0.0f32; 3];
                    let w = &mut window[..hi - lo];
                    w.copy_from_slice(&self.voicing[lo..hi]);
                    w.sort_by(f32::total_cmp);
                    let periodicity = w[w.len() / 2];
                    let mean = self.raw_f0[lo..hi].iter().sum::<f32>() / (hi - lo) as f32;
                    if periodicity < CREPE_PERIODICITY { 0.0 } else { mean }
                }
                PitchDecoding::RmvpeMel | PitchDecoding::RmvpeWave => unreachable!("RMVPE has its own tracker"),
            };
            // Unvoiced frames are 0 above; a voiced frame's f0 is what the voice will sing.
            model_output::check_values(ModelRole::PitchModel, std::slice::from_ref(out))?;
        }
        Ok(())
    }
}
