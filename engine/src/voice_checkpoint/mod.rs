//! An RVC voice as users download it: a `.pth` checkpoint saved by RVC WebUI, Applio or a trainer.
//!
//! - [`facts`]: what the checkpoint says about itself (version, rate, f0, epochs, vocoder).
//! - [`weights`]: its weights under the inference model's names, weight norm folded.

mod facts;
pub mod weights;

use std::path::Path;

pub use facts::{CheckpointFacts, CheckpointLayout, HIFI_GAN};

use crate::torch_checkpoint::{CheckpointError, TensorStore, TorchCheckpoint};

/// The key of the speaker embedding, whose rows are the voice's speakers.
pub const SPEAKER_EMBEDDING: &str = "emb_g.weight";

pub struct VoiceCheckpoint {
    pub facts: CheckpointFacts,
    pub weights: TensorStore,
}

impl VoiceCheckpoint {
    /// Read the checkpoint at `path`: its facts, and its tensors (not yet their values). Refuses a
    /// file whose pickle names anything but data, and one with no voice weights in it.
    pub fn open(path: &Path) -> Result<Self, CheckpointError> {
        let checkpoint = TorchCheckpoint::open(path)?;
        checkpoint.refuse_foreign(&[])?;
        let facts = CheckpointFacts::read(checkpoint.root());
        let key = match facts.layout {
            CheckpointLayout::Training => "model",
            CheckpointLayout::RvcWebUi | CheckpointLayout::Applio => "weight",
        };
        if !matches!(checkpoint.root().get(key), Some(pytorch_reader::PickleValue::Dict(_))) {
            return Err(CheckpointError::Missing {
                path: path.to_path_buf(),
                what: "voice weights (neither RVC's `weight` nor a trainer's `model` dictionary)".into(),
            });
        }
        let weights = checkpoint.tensors(Some(key))?;
        if weights.shape(SPEAKER_EMBEDDING).is_none() {
            return Err(CheckpointError::Missing {
                path: path.to_path_buf(),
                what: format!("speaker embedding (`{SPEAKER_EMBEDDING}`): it is not an RVC voice"),
            });
        }
        Ok(Self { facts, weights })
    }

    /// How many speakers the voice has: the rows of its speaker embedding.
    pub fn speakers(&self) -> usize {
        self.weights.shape(SPEAKER_EMBEDDING).and_then(|s| s.first().copied()).unwrap_or(0)
    }
}
