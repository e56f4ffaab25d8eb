//! RVC's own code run for the parity tests: a script of `models/reference/` in the pinned PyTorch
//! environment `cargo xtask models` makes (`.cache/venv-models`), what it prints read as JSON.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde::de::DeserializeOwned;

/// Run `models/reference/SCRIPT ARGS…` and read what it prints.
pub fn run<T: DeserializeOwned>(script: &str, args: &[&OsStr]) -> T {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".cache/venv-models/bin/python");
    assert!(python.is_file(), "{} is missing: run `cargo xtask models` (or `cargo xtask test`)", python.display());
    let run = Command::new(python).arg(root.join("models/reference").join(script)).args(args).output().unwrap();
    assert!(run.status.success(), "{script}: {}", String::from_utf8_lossy(&run.stderr));
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{script} printed what is not its JSON: {e}"))
}
