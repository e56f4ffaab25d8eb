//! The project's Python environment: model generation and the VST3 host (pedalboard) run in it.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::command;
use crate::paths;

/// Pinned requirement files, installed together. A change in any re-runs pip.
const REQUIREMENTS: &[&str] = &["models/requirements.txt", "tests/vst3/requirements.txt"];

pub fn interpreter() -> PathBuf {
    let venv = paths::cache("venv");
    if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
}

/// Create the environment if needed and install the pinned requirements. Returns its interpreter.
pub fn provision() -> anyhow::Result<PathBuf> {
    let python = interpreter();
    if !python.is_file() {
        command::run(Command::new(crate::onnxruntime::system_python()).args(["-m", "venv"]).arg(paths::cache("venv")))?;
    }
    let mut wanted = String::new();
    for file in REQUIREMENTS {
        wanted.push_str(&fs::read_to_string(file)?);
    }
    let stamp = paths::cache("venv").join("installed-requirements.txt");
    if fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]);
        for file in REQUIREMENTS {
            pip.args(["-r", file]);
        }
        command::run(&mut pip)?;
        fs::write(&stamp, wanted)?;
    }
    Ok(python)
}
