//! The models `cargo xtask models` generates into the checkout's `.cache/models`, by folder.

use std::path::{Path, PathBuf};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models")
}

/// A generated model, asserted to exist, with instructions when it does not.
pub fn model(folder: &str, name: &str) -> PathBuf {
    let path = models_dir().join(folder).join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask models` (the real-architecture, pitch and fault models need the ci \
         set: `cargo xtask models --set ci`, which `cargo xtask test` runs)",
        path.display()
    );
    path
}

/// The analytic models (`models/generate_analytic.py`).
pub fn analytic(name: &str) -> PathBuf {
    model("analytic", name)
}

/// The demo voice and its content encoder (`models/generate_demo_voice.py`).
pub fn demo(name: &str) -> PathBuf {
    model("demo", name)
}

/// The real-architecture and pitch models (`models/generate_models.py`).
pub fn generated(name: &str) -> PathBuf {
    model("rvc", name)
}

/// The broken models (`models/generate_faults.py`).
pub fn fault(name: &str) -> PathBuf {
    model("faults", name)
}

/// The retrieval-index fixtures faiss writes (`models/generate_indexes.py`).
pub fn retrieval_index(name: &str) -> PathBuf {
    model("index", name)
}

/// The voice packs (`models/generate_packs.py`).
pub fn voice_pack(name: &str) -> PathBuf {
    model("packs", name)
}
