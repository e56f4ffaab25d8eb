//! The step between the content encoder and the synthesizer: the encoder's frames retrieve from
//! the voice's index (when it has one that fits), are spread over the synthesizer's frames, and
//! unvoiced frames are protected, in the order RVC applies them.

use std::path::Path;

use super::ConversionControls;
use crate::content_frames;
use crate::retrieval_index::{IndexFileError, IvfFlatIndex, PROTECT_OFF, Retrieval, protect_unvoiced};

/// The voice's index and what Protect needs besides it. Sized for a window at load; a longer one
/// (only [`super::RvcProcessor::convert_whole`]'s) grows the buffers.
pub(super) struct RetrievalStage {
    retrieval: Option<Retrieval>,
    /// Why the chosen index does not take part, if it does not.
    problem: Option<IndexFileError>,
    /// The content frames as the encoder gave them, before retrieval: what Protect pulls unvoiced
    /// frames back toward (encoder frames, then synthesizer frames). Empty without an index.
    pre_index: Vec<f32>,
    pre_index_synth: Vec<f32>,
}

impl RetrievalStage {
    /// Open `index` for features `width` wide, in windows of `window_frames` synthesizer frames.
    /// An index that cannot be used is kept as the stage's problem, for the front end to report:
    /// the voice then converts without retrieval.
    pub fn open(index: Option<&Path>, width: usize, window_frames: usize) -> Self {
        let (retrieval, problem) = match index.map(|path| open_index(path, width)) {
            Some(Ok(retrieval)) => (Some(retrieval), None),
            Some(Err(problem)) => (None, Some(problem)),
            None => (None, None),
        };
        let (pre_index, pre_index_synth) = match retrieval {
            Some(_) => {
                let encoder_frames = content_frames::encoder_frames(window_frames * content_frames::SYNTH_HOP_16K);
                (vec![0.0; encoder_frames * width], vec![0.0; window_frames * width])
            }
            None => (Vec::new(), Vec::new()),
        };
        Self { retrieval, problem, pre_index, pre_index_synth }
    }

    pub fn retrieval(&self) -> Option<&Retrieval> {
        self.retrieval.as_ref()
    }

    pub fn problem(&self) -> Option<&IndexFileError> {
        self.problem.as_ref()
    }

    /// Spread `features` (the encoder's frames for `samples` at 16 kHz, `width` wide) over the
    /// synthesizer's frames in `synth`, retrieving first for the frames from `skip_head` on (the
    /// frames the synthesizer renders, as in RVC's real-time engine; 0 for a whole file), and
    /// protecting the unvoiced ones by `f0` (Hz after the shift, one per synthesizer frame) for
    /// a voice that takes pitch. Returns the synthesizer frames written.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        features: &mut [f32],
        width: usize,
        samples: usize,
        skip_head: usize,
        f0: &[f32],
        voice_has_f0: bool,
        controls: &ConversionControls,
        synth: &mut [f32],
    ) -> usize {
        let retrieval = self.retrieval.as_mut().filter(|_| controls.index_rate > 0.0);
        let protect = retrieval.is_some() && voice_has_f0 && controls.protect < PROTECT_OFF;
        if protect {
            grow(&mut self.pre_index, features.len());
            self.pre_index[..features.len()].copy_from_slice(features);
        }
        // Synthesizer frame i repeats encoder frame i/2 (see `content_frames`), so the encoder
        // frame under the first rendered frame also lends itself to the context frame before it
        // when `skip_head` is odd: both change.
        let first_retrieved = skip_head / 2;
        if let Some(retrieval) = retrieval {
            let from = (first_retrieved * width).min(features.len());
            retrieval.blend(&mut features[from..], controls.index_rate);
        }
        let frames = content_frames::upsample(features, width, samples, synth);
        if protect {
            grow(&mut self.pre_index_synth, frames * width);
            content_frames::upsample(&self.pre_index[..features.len()], width, samples, &mut self.pre_index_synth);
            // Only the frames retrieval changed: elsewhere the two agree, and the blend of a
            // value with itself need not give it back to the last bit.
            let changed = (2 * first_retrieved).min(frames)..frames;
            let values = changed.start * width..changed.end * width;
            protect_unvoiced(&mut synth[values.clone()], &self.pre_index_synth[values], &f0[changed], controls.protect);
        }
        frames
    }
}

/// The index at `path`, checked against the voice's feature width.
fn open_index(path: &Path, width: usize) -> Result<Retrieval, IndexFileError> {
    let index = IvfFlatIndex::read(path)?;
    if index.dim() != width {
        return Err(IndexFileError::WrongWidth { index: index.dim(), voice: width });
    }
    Ok(Retrieval::new(index))
}

/// Make `buffer` at least `len` long: never while streaming, whose windows the buffers were sized
/// for.
fn grow(buffer: &mut Vec<f32>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
}
