//! Where the bundles under test live. A missing bundle is an error, never a skipped test: a suite
//! that silently tests nothing would pass on a broken build.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// File name nice-plug-xtask gives the CLAP bundle (from `bundler.toml`).
pub const CLAP_BUNDLE: &str = "RVC Live.clap";

/// Overrides the release bundle's path.
pub const CLAP_ENV: &str = "RVC_LIVE_CLAP";
/// Overrides the path of the debug bundle built with `assert_process_allocs`.
pub const CLAP_ALLOC_CHECK_ENV: &str = "RVC_LIVE_CLAP_ALLOC_CHECK";

/// The workspace root: this crate lives in `<workspace>/tests`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate sits inside the workspace").to_path_buf()
}

/// The release CLAP bundle, as users install it.
pub fn release_clap() -> anyhow::Result<PathBuf> {
    locate(CLAP_ENV, &workspace_root().join("target/bundled").join(CLAP_BUNDLE))
}

/// The debug CLAP bundle that aborts on any allocation inside `process`.
pub fn alloc_check_clap() -> anyhow::Result<PathBuf> {
    locate(CLAP_ALLOC_CHECK_ENV, &workspace_root().join("target/alloc-check/bundled").join(CLAP_BUNDLE))
}

/// Overrides the path of the `rvc-live` command-line tool (the remote engine's server).
pub const CLI_ENV: &str = "RVC_LIVE_CLI";

/// The `rvc-live` command-line tool: `$RVC_LIVE_CLI`, or the one `cargo test --workspace` built
/// beside this test binary (`target/<profile>/rvc-live`).
pub fn rvc_live_cli() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(CLI_ENV).filter(|p| !p.is_empty()) {
        return locate(CLI_ENV, Path::new(&path));
    }
    let exe = std::env::current_exe().context("the test binary's path")?;
    // target/<profile>/deps/<test> → target/<profile>/rvc-live
    let beside =
        exe.parent().and_then(Path::parent).map(|dir| dir.join(format!("rvc-live{}", std::env::consts::EXE_SUFFIX)));
    match beside.filter(|p| p.is_file()) {
        Some(path) => Ok(path),
        None => bail!(
            "the rvc-live command-line tool was not built beside {}; run `cargo test --workspace` (which builds it) \
             or point {CLI_ENV} at it",
            exe.display()
        ),
    }
}

fn locate(env: &str, default: &Path) -> anyhow::Result<PathBuf> {
    let (path, source) = match std::env::var_os(env) {
        Some(p) if !p.is_empty() => (PathBuf::from(p), format!("${env}")),
        _ => (default.to_path_buf(), "the default location".to_string()),
    };
    if !path.is_file() {
        bail!(
            "the plugin bundle {} (from {source}) does not exist; run `cargo xtask test`, which builds every bundle \
             and runs this suite, or point {env} at a built bundle",
            path.display()
        );
    }
    path.canonicalize().with_context(|| format!("resolving {}", path.display()))
}
