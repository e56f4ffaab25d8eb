//! Without a usable ONNX Runtime library the error says where it looked and what to do. This is
//! its own test binary so that no other test has loaded the library into the process first.

use std::path::PathBuf;

use rvc_live_engine::onnx_runtime;

#[test]
fn missing_library_gives_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rvc-live-no-ort-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_a_library = dir.join(onnx_runtime::LIBRARY_FILE);
    std::fs::write(&not_a_library, b"not a shared library").unwrap();
    let absent = PathBuf::from("/nonexistent/rvc-live").join(onnx_runtime::LIBRARY_FILE);

    let err = onnx_runtime::environment_from([absent.clone(), not_a_library.clone()])
        .expect_err("nothing loadable was offered");
    let message = err.to_string();
    assert!(message.contains(onnx_runtime::LIBRARY_ENV), "names the variable to set: {message}");
    assert!(message.contains(&format!("{}: no such file", absent.display())), "{message}");
    assert!(message.contains(&not_a_library.display().to_string()), "{message}");
    assert_eq!(err.attempts.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn library_search_order_starts_with_the_environment_variable() {
    // SAFETY: this binary's other test reads no environment variable.
    unsafe { std::env::set_var(onnx_runtime::LIBRARY_ENV, "/opt/custom/libonnxruntime.so") };
    let candidates = onnx_runtime::library_candidates();
    assert_eq!(candidates[0], PathBuf::from("/opt/custom/libonnxruntime.so"));
    assert!(candidates.last().unwrap().ends_with(format!(".cache/onnxruntime/lib/{}", onnx_runtime::LIBRARY_FILE)));
}
