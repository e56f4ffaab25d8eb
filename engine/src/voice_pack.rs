//! A voice pack as users download it — a `.zip` with a voice's `.pth`, its `.index`, sometimes a
//! readme or a trainer's `G_`/`D_` checkpoints, sometimes all in a subfolder — unpacked into a
//! voice library folder.
//!
//! A pack comes from a stranger, so every entry is checked before anything is written: no entry may
//! name a path outside the folder (`..`, an absolute path), be a link, or unpack to more than the
//! limits below; the voice must open as a voice. Then only the voice and its index are written,
//! under the voice's name, so the library pairs them (`<voice>.pth`, `<voice>.index`).

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::voice_checkpoint::VoiceCheckpoint;
use crate::voice_graph;

/// The most a pack may unpack to, all entries together. The largest RVC voices with a 100 000-vector
/// index are under 400 MB.
pub const MAX_UNPACKED_BYTES: u64 = 2 << 30;
/// An entry this large must not be compressed more than [`MAX_RATIO`] times: voices and indexes
/// are float data that deflate barely shrinks, and a zip bomb is mostly repetition.
pub const RATIO_CHECKED_FROM: u64 = 16 << 20;
pub const MAX_RATIO: u64 = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum PackError {
    /// Not a zip archive, or a damaged one.
    Unreadable { pack: PathBuf, reason: String },
    /// An entry that would write outside the library folder or is not a plain file.
    Unsafe { pack: PathBuf, entry: String, reason: &'static str },
    /// The pack unpacks to more than a voice could need.
    TooLarge { pack: PathBuf, reason: String },
    /// No voice in the pack, or one that cannot be used.
    NoVoice { pack: PathBuf, reason: String },
    /// Writing into the library failed.
    Write { path: PathBuf, reason: String },
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { pack, reason } => {
                write!(f, "{} is not a readable zip archive: {reason}", pack.display())
            }
            Self::Unsafe { pack, entry, reason } => {
                write!(f, "{} was refused, nothing was unpacked: its entry `{entry}` {reason}", pack.display())
            }
            Self::TooLarge { pack, reason } => {
                write!(f, "{} was refused, nothing was unpacked: {reason}", pack.display())
            }
            Self::NoVoice { pack, reason } => write!(f, "{}: {reason}", pack.display()),
            Self::Write { path, reason } => write!(f, "cannot write {}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for PackError {}

/// What an import put into the library.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedVoice {
    /// The voice's name: its file stem in the library.
    pub name: String,
    pub voice: PathBuf,
    pub index: Option<PathBuf>,
}

/// One entry of the pack that is worth unpacking.
struct Entry {
    number: usize,
    name: String,
    size: u64,
}

/// Unpack the voice in `pack` (and its index) into the library folder `library`.
pub fn import(pack: &Path, library: &Path) -> Result<ImportedVoice, PackError> {
    let unreadable = |reason: String| PackError::Unreadable { pack: pack.to_path_buf(), reason };
    let file = File::open(pack).map_err(|e| unreadable(e.to_string()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unreadable(e.to_string()))?;

    let (mut voices, mut indexes, mut total) = (Vec::new(), Vec::new(), 0u64);
    for number in 0..archive.len() {
        let entry = archive.by_index_raw(number).map_err(|e| unreadable(e.to_string()))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("number {number}"));
        let refuse = |reason: &'static str| PackError::Unsafe { pack: pack.to_path_buf(), entry: name.clone(), reason };
        if entry.is_symlink() {
            return Err(refuse("is a link"));
        }
        // zip's own check lets `/abs` and `a/../b` through as relative paths; a pack has no
        // reason to hold either.
        let absolute = name.starts_with(['/', '\\']) || name.as_bytes().get(1) == Some(&b':');
        if absolute || name.split(['/', '\\']).any(|part| part == "..") {
            return Err(refuse("names a path outside the folder it unpacks into"));
        }
        let Some(enclosed) = entry.enclosed_name() else {
            return Err(refuse("names a path outside the folder it unpacks into"));
        };
        if entry.is_dir() {
            continue;
        }
        total = total.saturating_add(entry.size());
        if total > MAX_UNPACKED_BYTES {
            return Err(PackError::TooLarge {
                pack: pack.to_path_buf(),
                reason: format!("it unpacks to more than {} MB", MAX_UNPACKED_BYTES >> 20),
            });
        }
        if entry.size() >= RATIO_CHECKED_FROM && entry.size() > entry.compressed_size().saturating_mul(MAX_RATIO) {
            return Err(PackError::TooLarge {
                pack: pack.to_path_buf(),
                reason: format!(
                    "its entry `{name}` unpacks {} times larger than it is stored ({} MB), as a zip bomb does",
                    entry.size() / entry.compressed_size().max(1),
                    entry.size() >> 20
                ),
            });
        }
        // macOS resource forks and hidden files ride along in packs zipped on a Mac.
        let hidden = enclosed.components().any(|c| {
            let part = c.as_os_str().to_string_lossy();
            part.starts_with('.') || part == "__MACOSX"
        });
        if hidden {
            continue;
        }
        let file_name = enclosed.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let has = |extension: &str| enclosed.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension));
        if has("pth") {
            voices.push(Entry { number, name: file_name, size: entry.size() });
        } else if has("index") && !file_name.starts_with("trained_") {
            indexes.push(Entry { number, name: file_name, size: entry.size() });
        }
    }

    let voice = choose_voice(voices).ok_or_else(|| PackError::NoVoice {
        pack: pack.to_path_buf(),
        reason: "the pack holds no voice (.pth)".into(),
    })?;
    // RVC's `added_…` index is the one to search; its `trained_…` one holds no vectors.
    let index = indexes.into_iter().max_by_key(|e| (e.name.starts_with("added_"), e.size));

    let stem = Path::new(&voice.name).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = free_name(library, &sanitise(&stem));
    std::fs::create_dir_all(library)
        .map_err(|e| PackError::Write { path: library.to_path_buf(), reason: e.to_string() })?;
    let voice_path = library.join(format!("{name}.pth"));
    let index_path = index.as_ref().map(|_| library.join(format!("{name}.index")));
    let mut written = Vec::new();
    let result = (|| {
        unpack(&mut archive, pack, &voice, &voice_path)?;
        written.push(voice_path.clone());
        // The voice must be one RVC Live can run; otherwise nothing stays in the library.
        let checkpoint = VoiceCheckpoint::open(&voice_path)
            .map_err(|e| PackError::NoVoice { pack: pack.to_path_buf(), reason: e.to_string() })?;
        voice_graph::build(&checkpoint, voice_graph::embedded_templates())
            .map_err(|e| PackError::NoVoice { pack: pack.to_path_buf(), reason: e.to_string() })?;
        if let (Some(index), Some(index_path)) = (&index, &index_path) {
            unpack(&mut archive, pack, index, index_path)?;
            written.push(index_path.clone());
        }
        Ok(())
    })();
    if let Err(e) = result {
        written.iter().for_each(|p| drop(std::fs::remove_file(p)));
        return Err(e);
    }
    Ok(ImportedVoice { name, voice: voice_path, index: index_path })
}

/// The pack's voice: a saved voice before a trainer's generator checkpoint (`G_…`); never a
/// discriminator (`D_…`); the largest of equals.
fn choose_voice(voices: Vec<Entry>) -> Option<Entry> {
    voices.into_iter().filter(|e| !e.name.starts_with("D_")).max_by_key(|e| (!e.name.starts_with("G_"), e.size))
}

/// Copy one entry to `path` through a temporary file, reading no more than the size its header
/// declares (a header that understates it is a lie, and the entry is refused).
fn unpack(archive: &mut zip::ZipArchive<File>, pack: &Path, entry: &Entry, path: &Path) -> Result<(), PackError> {
    let write_error = |e: std::io::Error| PackError::Write { path: path.to_path_buf(), reason: e.to_string() };
    let mut reader = archive
        .by_index(entry.number)
        .map_err(|e| PackError::Unreadable { pack: pack.to_path_buf(), reason: e.to_string() })?
        .take(entry.size + 1);
    let tmp = path.with_extension("importing");
    let mut out = File::create(&tmp).map_err(write_error)?;
    let copied = std::io::copy(&mut reader, &mut out).map_err(|e| {
        drop(std::fs::remove_file(&tmp));
        PackError::Unreadable { pack: pack.to_path_buf(), reason: format!("`{}`: {e}", entry.name) }
    })?;
    out.flush().map_err(write_error)?;
    drop(out);
    if copied != entry.size {
        drop(std::fs::remove_file(&tmp));
        return Err(PackError::TooLarge {
            pack: pack.to_path_buf(),
            reason: format!("its entry `{}` holds more than the {} bytes it declares", entry.name, entry.size),
        });
    }
    std::fs::rename(&tmp, path).map_err(write_error)
}

/// A name every file system takes.
fn sanitise(stem: &str) -> String {
    let name: String = stem
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '(' | ')') { c } else { '_' })
        .take(80)
        .collect();
    if name.trim().is_empty() { "voice".into() } else { name.trim().to_owned() }
}

/// `name`, or `name (2)`, `name (3)`, … : the first with no voice of that name in the library.
fn free_name(library: &Path, name: &str) -> String {
    let taken = |candidate: &str| {
        ["pth", "onnx", "index"].iter().any(|ext| library.join(format!("{candidate}.{ext}")).exists())
    };
    (1..).map(|n| if n == 1 { name.to_owned() } else { format!("{name} ({n})") }).find(|c| !taken(c)).unwrap()
}
