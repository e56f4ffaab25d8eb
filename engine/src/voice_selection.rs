//! The model files that make up a voice, as the user chose them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Paths of the models that make up a voice. `None` means "not chosen".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceSelection {
    /// The RVC synthesizer (`.onnx`).
    pub synthesizer: Option<PathBuf>,
    /// The content encoder (ContentVec/HuBERT `.onnx`).
    pub content_encoder: Option<PathBuf>,
    /// The pitch model (`.onnx`); `None` selects the built-in tracker.
    pub pitch_model: Option<PathBuf>,
    /// The voice's retrieval index (faiss IVF-Flat `.index`); `None` converts without retrieval.
    pub index: Option<PathBuf>,
    /// Speaker id for multi-speaker models.
    pub speaker_id: u32,
}
