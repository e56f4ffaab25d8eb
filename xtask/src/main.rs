//! `cargo xtask`: everything RVC Live needs beyond `cargo build`.
//!
//! Bundling is nice-plug-xtask's; the rest fetches ONNX Runtime, sets up the Python environment
//! that generates models and hosts the VST3 tests, and runs the demo, the test suite and the editor's screenshots.

mod bench;
mod bundles;
mod command;
mod demo;
mod models;
mod onnxruntime;
mod paths;
mod python_env;
mod screenshots;
mod system_packages;
mod test;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, provision and test RVC Live")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the CLAP and VST3 bundles (nice-plug-xtask), and put ONNX Runtime beside them.
    /// Example: `cargo xtask bundle rvc_live --release`.
    Bundle {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Fetch the pinned ONNX Runtime wheel from PyPI and extract its shared library into
    /// `.cache/onnxruntime/lib`.
    Onnxruntime {
        /// Instead, fetch the CUDA build (`onnxruntime-gpu`, about 250 MB) into
        /// `.cache/onnxruntime-gpu/lib`, for a plugin built with `--features cuda`.
        #[arg(long)]
        gpu: bool,
    },
    /// Create or update the Python environment in `.cache/venv`.
    Python,
    /// Generate the models the tests and the demo use, into `.cache/models`.
    Models {
        /// `analytic` needs no PyTorch; `ci` adds tiny real-architecture voices and pitch models;
        /// `full` adds the full-size ones for benchmarks.
        #[arg(long, value_enum, default_value = "ci")]
        set: models::ModelSet,
        /// Also check them against PyTorch.
        #[arg(long)]
        check: bool,
    },
    /// The main job: build the plugin, then run a spoken sentence through it in a real CLAP host.
    Demo,
    /// Provision everything, build every bundle, and run the whole test suite.
    Test,
    /// Take the editor's pictures in `docs/screenshots/` again (the standalone app under Xvfb).
    Screenshots,
    /// Time the engine per block against RVC's realtime algorithm (a Python port on onnxruntime)
    /// with the same models and settings, and the audio thread per `process()` call. Prints a
    /// table and writes `target/bench/bench.json`.
    Bench(bench::Options),
}

fn main() -> anyhow::Result<()> {
    paths::enter_workspace_root()?;
    match Cli::parse().command {
        Command::Bundle { args } => bundles::bundle_with_runtime(&args),
        Command::Onnxruntime { gpu: false } => onnxruntime::provision().map(drop),
        Command::Onnxruntime { gpu: true } => onnxruntime::provision_gpu().map(drop),
        Command::Python => python_env::provision().map(drop),
        Command::Models { set, check } => {
            models::generate_set(set)?;
            if check { models::check(set) } else { Ok(()) }
        }
        Command::Demo => demo::run(),
        Command::Test => test::run(),
        Command::Screenshots => screenshots::run(),
        Command::Bench(options) => bench::run(&options),
    }
}
