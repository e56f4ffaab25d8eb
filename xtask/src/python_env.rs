//! The project's Python environments: one light (model generation without PyTorch, the VST3 host)
//! and one with PyTorch for the real-architecture model generator.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::command;
use crate::paths;

/// A Python environment of the project's, with its pinned requirement files.
pub struct PythonEnv {
    /// Folder under `.cache`.
    pub name: &'static str,
    pub requirements: &'static [&'static str],
    /// Install exactly the pinned files and nothing they declare (the model generator's closure is
    /// pinned whole; some packages declare dependencies that are neither needed nor installable).
    pub no_deps: bool,
}

/// Light: the analytic model generator and the VST3 host (pedalboard).
pub const TOOLS: PythonEnv = PythonEnv {
    name: "venv",
    requirements: &["models/requirements.txt", "tests/vst3/requirements.txt"],
    no_deps: false,
};

/// Heavy (PyTorch, about 5.6 GB): the generator of real-architecture RVC models and its checks.
pub const MODELS: PythonEnv =
    PythonEnv { name: "venv-models", requirements: &["models/requirements-torch.txt"], no_deps: true };

impl PythonEnv {
    pub fn interpreter(&self) -> PathBuf {
        let venv = paths::cache(self.name);
        if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
    }

    /// Create the environment if needed and install the pinned requirements. Returns its
    /// interpreter.
    pub fn provision(&self) -> anyhow::Result<PathBuf> {
        let python = self.interpreter();
        if !python.is_file() {
            command::run(Command::new(system_python()).args(["-m", "venv"]).arg(paths::cache(self.name)))?;
        }
        let mut wanted = String::new();
        for file in self.requirements {
            wanted.push_str(&fs::read_to_string(file)?);
        }
        let stamp = paths::cache(self.name).join("installed-requirements.txt");
        if fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            let mut pip = Command::new(&python);
            pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]);
            if self.no_deps {
                pip.arg("--no-deps");
            }
            for file in self.requirements {
                pip.args(["-r", file]);
            }
            command::run(&mut pip)?;
            fs::write(&stamp, wanted)?;
        }
        Ok(python)
    }
}

pub fn interpreter() -> PathBuf {
    TOOLS.interpreter()
}

/// The Python that fetches wheels: the project's environment if it exists, else the system's.
pub fn wheel_fetcher() -> PathBuf {
    let venv = interpreter();
    if venv.is_file() { venv } else { PathBuf::from(system_python()) }
}

fn system_python() -> &'static str {
    if cfg!(windows) { "python" } else { "python3" }
}

pub fn provision() -> anyhow::Result<PathBuf> {
    TOOLS.provision()
}
