//! Where the models built from torch checkpoints are kept — a voice's `.pth`, RVC's `rmvpe.pt` and
//! `hubert_base.pt` — so that only a file's first load builds its model.
//!
//! The model is written to the user's cache folder under the checkpoint's SHA-256 (with the
//! engine's templates hashed in, so a new release rebuilds), beside nothing of the user's: their
//! file is never touched. A cached model that has gone is simply built again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::graph_templates::TEMPLATES;
use crate::model_error::ModelError;
use crate::torch_checkpoint::TorchCheckpoint;
use crate::voice_checkpoint::VoiceCheckpoint;
use crate::voice_graph;
use crate::{hubert_checkpoint, rmvpe_checkpoint};

/// Overrides the cache folder (tests point it at a scratch folder).
pub const CACHE_DIR_ENV: &str = "RVC_LIVE_CACHE_DIR";

/// The file extension of voices as RVC's tools save them.
pub const CHECKPOINT_EXTENSION: &str = "pth";
/// The file extension of the shared models RVC ships as torch files (`rmvpe.pt`, `hubert_base.pt`).
pub const SHARED_MODEL_EXTENSION: &str = "pt";

/// Whether `path` names a voice checkpoint (by its extension, as users' file browsers do).
pub fn is_checkpoint(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(CHECKPOINT_EXTENSION))
}

fn is_shared_model_checkpoint(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(SHARED_MODEL_EXTENSION))
}

/// The ONNX model to open for the model file at `path`: the file itself for an ONNX model; for a
/// voice's `.pth`, RVC's `rmvpe.pt` or `hubert_base.pt`, the model built from it (built now if the cache does not
/// hold it).
pub fn onnx_for(path: &Path) -> Result<PathBuf, ModelError> {
    onnx_for_in(path, &cache_dir())
}

/// [`onnx_for`] with the cache in `cache`.
pub fn onnx_for_in(path: &Path, cache: &Path) -> Result<PathBuf, ModelError> {
    if !is_checkpoint(path) && !is_shared_model_checkpoint(path) {
        return Ok(path.to_path_buf());
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let folder = cache.join("voices");
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("voice");
    let cached = folder.join(format!("{}-{}.onnx", sanitise(stem), &key(&bytes)[..16]));
    if cached.is_file() {
        return Ok(cached);
    }
    drop(bytes);
    let started = std::time::Instant::now();
    let (onnx, what) = if is_checkpoint(path) {
        let checkpoint = VoiceCheckpoint::open(path).map_err(|e| ModelError::Invalid(e.to_string()))?;
        let built = voice_graph::build(&checkpoint, voice_graph::embedded_templates())
            .map_err(|e| ModelError::Invalid(e.to_string()))?;
        (built.onnx, format!("RVC {}", built.fits.describe()))
    } else {
        let (model, onnx, template) = build_shared_model(path).map_err(ModelError::Invalid)?;
        (onnx, format!("{} ({template})", model.name()))
    };
    write_atomically(&folder, &cached, &onnx)
        .map_err(|e| ModelError::Invalid(format!("cannot cache the model built from {}: {e}", path.display())))?;
    tracing::info!(
        "Built {} as {what} in {:.2} s, cached as {}",
        path.display(),
        started.elapsed().as_secs_f64(),
        cached.display()
    );
    Ok(cached)
}

/// Which of RVC's shared models a `.pt` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedModel {
    /// `hubert_base.pt`, fairseq's HuBERT: the content encoder.
    Hubert,
    /// `rmvpe.pt`: the RMVPE pitch model.
    Rmvpe,
}

impl SharedModel {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hubert => "HuBERT",
            Self::Rmvpe => "RMVPE",
        }
    }
}

/// Build RVC's `hubert_base.pt` (known by fairseq's layout) or `rmvpe.pt` (any other `.pt`): which
/// it is, its ONNX model and the template it was built from; or why the file is neither.
pub fn build_shared_model(path: &Path) -> Result<(SharedModel, Vec<u8>, String), String> {
    if TorchCheckpoint::open(path).is_ok_and(|c| hubert_checkpoint::is_fairseq(&c)) {
        hubert_checkpoint::build(path).map(|(onnx, template)| (SharedModel::Hubert, onnx, template))
    } else {
        rmvpe_checkpoint::build(path).map(|(onnx, template)| (SharedModel::Rmvpe, onnx, template))
    }
}

/// The checkpoint's hash, with the templates' (computed once per process).
fn key(checkpoint: &[u8]) -> String {
    static TEMPLATES_HASH: OnceLock<[u8; 32]> = OnceLock::new();
    let templates = TEMPLATES_HASH.get_or_init(|| {
        let mut hasher = Sha256::new();
        TEMPLATES.iter().for_each(|(name, bytes)| {
            hasher.update(name.as_bytes());
            hasher.update(bytes);
        });
        hasher.finalize().into()
    });
    let mut hasher = Sha256::new();
    hasher.update(templates);
    hasher.update(checkpoint);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name's stem made of characters every file system takes.
fn sanitise(stem: &str) -> String {
    stem.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(64).collect()
}

/// Write through a temporary file and rename, so that a reader never sees half a model, even
/// with two instances building the same voice at once.
fn write_atomically(folder: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("model"),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// The engine's cache folder: `RVC_LIVE_CACHE_DIR`, else the platform's per-user cache.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "windows") {
        if let Some(local) = std::env::var_os("LOCALAPPDATA") {
            return PathBuf::from(local).join("RVC Live").join("cache");
        }
    } else if cfg!(target_os = "macos") {
        if let Some(home) = &home {
            return home.join("Library/Caches/RVC Live");
        }
    } else if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(xdg).join("rvc-live");
    } else if let Some(home) = &home {
        return home.join(".cache/rvc-live");
    }
    std::env::temp_dir().join("rvc-live-cache")
}
