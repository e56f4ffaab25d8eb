//! Models the project generates for its tests and the demo. Nothing is downloaded from a model
//! hub: every file is written by a pinned script from the repository.

use std::path::PathBuf;
use std::process::Command;

use crate::command;
use crate::paths;
use crate::python_env;

/// Generate (or refresh) the models. The scripts are deterministic and skip files that are up to
/// date. Returns the folder holding them.
pub fn generate() -> anyhow::Result<PathBuf> {
    let python = python_env::provision()?;
    let out = paths::cache("models");
    command::run(Command::new(python).arg("models/generate_analytic.py").arg("--out").arg(out.join("analytic")))?;
    Ok(out)
}
