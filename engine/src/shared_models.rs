//! Models that several voices of one stream use alike, loaded once: the content encoder and the
//! pitch model. A ContentVec is ~360 MB and an RMVPE ~180 MB in float, against ~110 MB for a
//! voice's own synthesizer, so voice slots that loaded their own copies would cost three to five
//! times the memory for nothing: only one slot converts at a time.
//!
//! The cache holds weak references: a model lives as long as some processor uses it, and the next
//! voice that asks for it after that loads it again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::content_encoder::ContentEncoder;
use crate::model_error::ModelError;
use crate::pitch_model::PitchModel;
use crate::pitch_tracker::PitchTracker;
use crate::synthesizer_format::ModelVersion;

/// A content encoder several processors share. Only the inference thread runs it (one processor
/// converts at a time), so the lock is never contended while converting.
pub type SharedEncoder = Arc<Mutex<ContentEncoder>>;

/// What a shared model was loaded for: the same file opened for a different feature width,
/// window or thread count is a different model.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    path: PathBuf,
    version: Option<ModelVersion>,
    max_samples: usize,
    threads: usize,
}

/// Models of one kind, each under what it was loaded for.
type Cache<T> = Mutex<Vec<(Key, Weak<Mutex<T>>)>>;

/// The models a stream's voices share. Used by whoever loads voices (the plugin's voice loader,
/// on its own thread); cheap to create, so a stream that converts with one voice makes its own.
#[derive(Default)]
pub struct SharedModels {
    encoders: Cache<ContentEncoder>,
    pitch_models: Cache<PitchModel>,
}

impl SharedModels {
    /// The content encoder at `path` for a `version` voice, loaded unless a voice already uses it.
    pub fn content_encoder(
        &self,
        path: &Path,
        threads: usize,
        version: ModelVersion,
        max_samples: usize,
    ) -> Result<SharedEncoder, ModelError> {
        let key = Key { path: path.to_path_buf(), version: Some(version), max_samples, threads };
        shared(&self.encoders, key, || ContentEncoder::load(path, threads, version, max_samples))
    }

    /// The pitch model at `path`, as a tracker, loaded unless a voice already uses it.
    pub fn pitch_model(
        &self,
        path: &Path,
        threads: usize,
        max_samples: usize,
    ) -> Result<Box<dyn PitchTracker>, ModelError> {
        let key = Key { path: path.to_path_buf(), version: None, max_samples, threads };
        let model = shared(&self.pitch_models, key, || PitchModel::load(path, threads, max_samples))?;
        Ok(Box::new(SharedPitchModel(model)))
    }

    /// How many distinct models are loaded and in use, for tests and the log.
    pub fn loaded(&self) -> usize {
        live(&self.encoders) + live(&self.pitch_models)
    }
}

fn live<T>(list: &Cache<T>) -> usize {
    list.lock().iter().filter(|(_, model)| model.strong_count() > 0).count()
}

/// The model under `key`, or a new one from `load`. The list's lock is held while loading, so two
/// voices asking at once load it once.
fn shared<T>(
    list: &Cache<T>,
    key: Key,
    load: impl FnOnce() -> Result<T, ModelError>,
) -> Result<Arc<Mutex<T>>, ModelError> {
    let mut list = list.lock();
    list.retain(|(_, model)| model.strong_count() > 0);
    if let Some(model) = list.iter().find(|(k, _)| *k == key).and_then(|(_, model)| model.upgrade()) {
        return Ok(model);
    }
    let model = Arc::new(Mutex::new(load()?));
    list.push((key, Arc::downgrade(&model)));
    Ok(model)
}

/// A pitch model several processors share, as a tracker of its own.
struct SharedPitchModel(Arc<Mutex<PitchModel>>);

impl PitchTracker for SharedPitchModel {
    fn track(&mut self, audio: &[f32], f0: &mut [f32]) -> Result<(), ModelError> {
        self.0.lock().track(audio, f0)
    }
}
