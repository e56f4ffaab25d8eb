//! Opening a model file a user picked: a session plus the signature formats are detected from.

use std::path::Path;

use ort::session::Session;

use super::model_error::ModelError;
use super::model_signature::ModelSignature;
use crate::execution_provider::Provider;
use crate::onnx_runtime::{self, SessionError};

pub struct ModelFile {
    pub session: Session,
    pub signature: ModelSignature,
    /// Where the session runs.
    pub provider: Provider,
}

impl ModelFile {
    /// Open `path` with `threads` intra-op threads. A missing, broken or truncated file, or a
    /// missing ONNX Runtime, comes back as an error that names the file.
    pub fn open(path: &Path, threads: usize) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::Unreadable(SessionError::Missing(path.to_path_buf())));
        }
        let (session, choice) =
            onnx_runtime::open_session_on_provider(path, threads).map_err(ModelError::Unreadable)?;
        let signature = ModelSignature::of(&session);
        Ok(Self { session, signature, provider: choice.provider })
    }
}
