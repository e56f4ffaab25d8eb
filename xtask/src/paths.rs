//! Where the project keeps what it builds and fetches.

use std::path::{Path, PathBuf};

/// Ignored by git: the ONNX Runtime library, the Python environment and generated models.
pub const CACHE: &str = ".cache";

pub fn cache(sub: &str) -> PathBuf {
    Path::new(CACHE).join(sub)
}

/// Run from the workspace root, wherever `cargo xtask` was started.
pub fn enter_workspace_root() -> anyhow::Result<()> {
    nice_plug_xtask::chdir_workspace_root()
}
