//! The audio thread must never allocate. The alloc-check bundle is a debug build with nice-plug's
//! `assert_process_allocs`, which aborts the process on the first allocation inside `process`, so
//! the session runs in a child process and the test reads its exit status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rvc_live_hosts::fixtures::{EXACT, alloc_check_bundle, release_bundle};
use rvc_live_hosts::subprocess;

fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"))
}

/// The allocator nice-plug installs when `assert_process_allocs` is on in a debug build. Its name
/// is in the binary only then: neither a release build nor a debug build without the feature
/// links it.
const CHECKER_MARKER: &[u8] = b"AllocDisabler";

fn contains(path: &Path, needle: &[u8]) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_whole_session_never_allocates_on_the_audio_thread() {
    let plugin = alloc_check_bundle();
    let run = subprocess::run(
        &host_binary(),
        &["scenario", "alloc-suite", "--plugin", plugin.to_str().unwrap()],
        &[],
        Duration::from_secs(300),
    )
    .unwrap();
    assert!(!run.aborted(), "the plugin allocated inside process:\n{}", run.describe());
    assert!(run.status.success(), "{}", run.describe());
    assert!(!run.stderr.contains("memory allocation of"), "{}", run.describe());
    let report = run.report().unwrap();
    assert!(report.process_calls > 300, "the session ended early: {report:?}");
    assert!(report.max_error.unwrap() <= EXACT, "the debug build renders differently: {report:?}");
}

/// Without this, the test above would pass just as well on a bundle that checks nothing.
#[test]
fn the_alloc_check_bundle_carries_the_allocation_checker_and_the_release_bundle_does_not() {
    let checked = alloc_check_bundle();
    assert!(contains(&checked, CHECKER_MARKER), "{} was built without assert_process_allocs", checked.display());
    let release = release_bundle();
    assert!(!contains(&release, CHECKER_MARKER), "{} carries the allocation checker", release.display());
}
