//! Models the project generates for its tests and the demo. Nothing is downloaded from a model
//! hub: every file is written by a pinned script from the repository.

use std::path::PathBuf;
use std::process::Command;

use crate::command;
use crate::paths;
use crate::python_env;

/// Which real-architecture models to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelSet {
    /// The analytic models only: no PyTorch needed.
    Analytic,
    /// Plus tiny real-architecture voices, tiny content encoders and the pitch models (tests, CI).
    Ci,
    /// Plus full-size voices and content encoders (benchmarks; about 2.6 GB).
    Full,
}

/// Generate (or refresh) the models. The scripts are deterministic and skip files that are up to
/// date. Returns the folder holding them.
pub fn generate_set(set: ModelSet) -> anyhow::Result<PathBuf> {
    let python = python_env::provision()?;
    let out = paths::cache("models");
    command::run(Command::new(&python).arg("models/generate_analytic.py").arg("--out").arg(out.join("analytic")))?;
    // The demo's voice: a source-filter vocoder in RVC's interfaces, so the demo speaks.
    command::run(Command::new(&python).arg("models/generate_demo_voice.py").arg("--out").arg(out.join("demo")))?;
    // Retrieval indexes as faiss writes them, with what faiss reads back, for the native reader.
    command::run(Command::new(&python).arg("models/generate_indexes.py").arg("--out").arg(out.join("index")))?;
    if set != ModelSet::Analytic {
        let torch = python_env::MODELS.provision()?;
        let name = if set == ModelSet::Full { "full" } else { "ci" };
        command::run(
            Command::new(&torch)
                .arg("models/generate_models.py")
                .arg("--out")
                .arg(out.join("rvc"))
                .args(["--set", name]),
        )?;
        // The engine builds `.pth` voices from committed templates: they must still be what RVC's
        // code exports (all twelve configurations with the full set; the tests' tiny ones always).
        let mut templates = Command::new(&torch);
        templates.args(["models/generate_templates.py", "--check"]);
        if set != ModelSet::Full {
            templates.args(["--only", "tiny"]);
        }
        command::run(&mut templates)?;
        // A trained voice (Piper's, from PyPI), sentences for it, and its decoder apart: what
        // the int8 copies and the streaming joins are measured on.
        command::run(Command::new(&python).arg("models/generate_speech.py").arg("--out").arg(out.join("speech")))?;
        // Voice packs as users download them, and ones an import must refuse, from the tiny voice.
        command::run(
            Command::new(&python)
                .arg("models/generate_packs.py")
                .arg("--models")
                .arg(&out)
                .arg("--out")
                .arg(out.join("packs")),
        )?;
    }
    // Fault-injection fixtures, made from the models above: the analytic voice and encoder always,
    // the pitch model once the real-architecture set is there.
    command::run(
        Command::new(python)
            .arg("models/generate_faults.py")
            .arg("--models")
            .arg(&out)
            .arg("--out")
            .arg(out.join("faults")),
    )?;
    Ok(out)
}

/// The analytic models and the demo voice, all the demo and the fast tests need.
pub fn generate() -> anyhow::Result<PathBuf> {
    generate_set(ModelSet::Analytic)
}

/// Check the generated real-architecture models against PyTorch (RVC's own modules, torchfcpe,
/// torchcrepe): every export at several lengths, ONNX Runtime against the reference within 1e-3.
pub fn check(set: ModelSet) -> anyhow::Result<()> {
    let torch = python_env::MODELS.provision()?;
    let mut check = Command::new(torch);
    check.arg("models/check_models.py").arg("--dir").arg(paths::cache("models").join("rvc"));
    if set != ModelSet::Full {
        check.args(["--only", "tiny", "contentvec_tiny", "fcpe", "crepe_tiny", "swift"]);
    }
    command::run(&mut check)
}
