//! Voice packs (`models/generate_packs.py`): what users download unpacks into a library as the
//! voice and its index under the voice's name; what a stranger could craft is refused before
//! anything is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use rvc_live_engine::voice_pack::{self, PackError};
use rvc_live_test_support::models::{generated, retrieval_index, voice_pack as pack};

fn library(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("voice-packs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_pack_unpacks_its_voice_and_index_under_the_voices_name() {
    let dir = library("subfolder");
    let imported = voice_pack::import(&pack("subfolder.zip"), &dir).unwrap();
    assert_eq!(imported.name, "tiny_tenor");
    // The saved voice, not the trainer's G_/D_ checkpoints; RVC's added_ index, not trained_.
    assert_eq!(std::fs::read(&imported.voice).unwrap(), std::fs::read(generated("rvc_v2_40k_tiny.pth")).unwrap());
    assert_eq!(
        std::fs::read(imported.index.as_ref().unwrap()).unwrap(),
        std::fs::read(retrieval_index("ivf_flat_v2_sparse.index")).unwrap()
    );
    assert_eq!(files(&dir), ["tiny_tenor.index", "tiny_tenor.pth"], "nothing else is written");

    // The same pack again: a second voice beside the first, never over it.
    let again = voice_pack::import(&pack("subfolder.zip"), &dir).unwrap();
    assert_eq!(again.name, "tiny_tenor (2)");
    let flat = voice_pack::import(&pack("flat.zip"), &dir).unwrap();
    assert_eq!((flat.name.as_str(), flat.index.is_some()), ("alto", true));
    assert_eq!(files(&dir).len(), 6);
}

#[test]
fn packs_that_could_harm_are_refused_before_anything_is_written() {
    for (name, expected) in [
        ("escape.zip", "outside the folder"),
        ("absolute.zip", "outside the folder"),
        ("link.zip", "is a link"),
        ("bomb.zip", "zip bomb"),
    ] {
        let dir = library(name);
        let error = voice_pack::import(&pack(name), &dir).unwrap_err();
        assert!(matches!(error, PackError::Unsafe { .. } | PackError::TooLarge { .. }), "{name}: {error:?}");
        assert!(error.to_string().contains(expected) && error.to_string().contains("nothing was unpacked"), "{error}");
        assert!(files(&dir).is_empty(), "{name}: wrote {:?}", files(&dir));
    }
    assert!(!Path::new("/tmp/rvc-live-absolute.pth").exists());
}

#[test]
fn a_pack_without_a_usable_voice_leaves_the_library_as_it_was() {
    for (name, expected) in [("no_voice.zip", "holds no voice"), ("not_a_voice.zip", "voice weights")] {
        let dir = library(name);
        let error = voice_pack::import(&pack(name), &dir).unwrap_err();
        assert!(matches!(error, PackError::NoVoice { .. }), "{name}: {error:?}");
        assert!(error.to_string().contains(expected), "{name}: {error}");
        assert!(files(&dir).is_empty(), "{name}: left {:?}", files(&dir));
    }
    let not_a_zip = voice_pack::import(&generated("rvc_v2_40k_tiny_partial.onnx"), &library("not-a-zip")).unwrap_err();
    assert!(matches!(not_a_zip, PackError::Unreadable { .. }), "{not_a_zip:?}");
}

#[test]
fn the_command_line_imports_a_pack_and_exports_a_pth_as_onnx() {
    let dir = library("cli");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rvc-live")).args(args).output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, text) =
        run(&["import".as_ref(), pack("subfolder.zip").as_os_str(), "--library".as_ref(), dir.as_os_str()]);
    assert!(ok && text.contains("imported tiny_tenor") && text.contains("tiny_tenor.index"), "{text}");
    let (ok, text) = run(&["import".as_ref(), pack("escape.zip").as_os_str(), "--library".as_ref(), dir.as_os_str()]);
    assert!(!ok && text.contains("../escaped.index"), "{text}");

    let onnx = dir.join("exported.onnx");
    let (ok, text) = run(&["export".as_ref(), dir.join("tiny_tenor.pth").as_os_str(), onnx.as_os_str()]);
    assert!(ok && text.contains("RVC v2 40 kHz with pitch"), "{text}");
    let (ok, text) = run(&["info".as_ref(), onnx.as_os_str()]);
    assert!(ok && text.contains("an RVC voice (partial decoding)"), "{text}");
    let (ok, text) = run(&[
        "export".as_ref(),
        generated("rvc_v2_40k_tiny_hostile.pth").as_os_str(),
        dir.join("hostile.onnx").as_os_str(),
    ]);
    assert!(!ok && text.contains("posix.system") && !dir.join("hostile.onnx").exists(), "{text}");
}
