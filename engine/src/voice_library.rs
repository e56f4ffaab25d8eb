//! A folder of voices the editor lists, so that users pick a voice by name rather than assembling
//! four model paths by hand.
//!
//! A library is one flat folder:
//!
//! - every `.pth` file is a voice as RVC's tools save it, and every `.onnx` file that is not a
//!   shared model below is a voice's synthesizer;
//! - `<voice>.index` beside it is the voice's retrieval index, and so is the name RVC's training
//!   gives it, `added_IVF<n>_Flat_nprobe_<p>_<voice>_<v1|v2>.index`;
//! - `<voice>.json` beside it may give `name`, `pitch` (semitones), `speaker_id`, and the file
//!   names of the `content_encoder` and `pitch_model` this voice wants;
//! - content encoders shared by all voices are recognised by name (`contentvec*`, `hubert*`,
//!   `*content_units*`, `*content_embed*`), and so are pitch models (`rmvpe*`, `fcpe*`, `crepe*`,
//!   `swiftf0*`); RVC's `hubert_base.pt` and `rmvpe.pt` are recognised the same way.
//!
//! Scanning reads directory entries, the small JSON files and a `.pth`'s pickle (its `data.pkl`,
//! a few hundred kB, never the weights), never an ONNX model: it runs on the GUI thread when the
//! user picks a folder, and must stay quick on a folder of 500 MB voices.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::built_model_cache::is_checkpoint;
use crate::voice_checkpoint::{CheckpointFacts, VoiceCheckpoint};
use crate::voice_selection::VoiceSelection;

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceLibrary {
    pub folder: PathBuf,
    /// Sorted by name.
    pub voices: Vec<LibraryVoice>,
    /// Shared content encoders, the ones serving both v1 and v2 voices (`*units*`) first.
    pub content_encoders: Vec<PathBuf>,
    /// Shared pitch models, in the order the editor suggests them (RMVPE, FCPE, CREPE, others).
    pub pitch_models: Vec<PathBuf>,
    /// Sidecar files that could not be read, for the editor to show rather than swallow.
    pub problems: Vec<String>,
}

/// One voice of a library.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryVoice {
    /// The sidecar's `name`, or the synthesizer's file stem.
    pub name: String,
    pub synthesizer: PathBuf,
    pub index: Option<PathBuf>,
    /// Pitch shift the voice is meant to be used with (e.g. +12 for a male-to-female voice).
    pub pitch: Option<f32>,
    pub speaker_id: u32,
    /// Set when the sidecar names a model of the library; otherwise the library's first one.
    pub content_encoder: Option<PathBuf>,
    pub pitch_model: Option<PathBuf>,
    /// For a `.pth`: what it says of itself (and its speakers), or why it is no voice.
    pub checkpoint: Option<Result<(CheckpointFacts, usize), String>>,
}

impl LibraryVoice {
    /// A `.pth`'s facts in a few words (`v2 40k`), or `None`.
    pub fn short_facts(&self) -> Option<String> {
        let (facts, _) = self.checkpoint.as_ref()?.as_ref().ok()?;
        let version = facts.version.map(|v| v.name().to_owned());
        let rate = facts.sample_rate.map(|sr| format!("{}k", sr / 1000));
        let words: Vec<String> = [version, rate].into_iter().flatten().collect();
        (!words.is_empty()).then(|| words.join(" "))
    }

    /// A `.pth`'s facts in full, or why it cannot be used.
    pub fn checkpoint_description(&self) -> Option<String> {
        Some(match self.checkpoint.as_ref()? {
            Ok((facts, speakers)) => format!("{facts}, {speakers} speaker{}", if *speakers == 1 { "" } else { "s" }),
            Err(why) => why.clone(),
        })
    }
}

/// `<voice>.json`. Every field is optional, and unknown fields are ignored so that files written
/// by other tools (w-okada's `params.json`, say) do not stop a voice from being listed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Sidecar {
    name: Option<String>,
    pitch: Option<f32>,
    speaker_id: Option<u32>,
    content_encoder: Option<String>,
    pitch_model: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ContentEncoder,
    PitchModel,
    Voice,
}

const CONTENT_ENCODER_NAMES: &[&str] = &["contentvec", "hubert", "content_units", "content_embed"];
/// Also the suggestion order: RMVPE tracks best, FCPE is nearly as good and cheaper.
const PITCH_MODEL_NAMES: &[&str] = &["rmvpe", "fcpe", "crepe", "swiftf0", "swift_f0"];

fn role(stem: &str) -> Role {
    let stem = stem.to_lowercase();
    if CONTENT_ENCODER_NAMES.iter().any(|n| stem.contains(n)) {
        Role::ContentEncoder
    } else if PITCH_MODEL_NAMES.iter().any(|n| stem.contains(n)) {
        Role::PitchModel
    } else {
        Role::Voice
    }
}

fn pitch_model_rank(path: &Path) -> usize {
    let stem = file_stem(path).to_lowercase();
    PITCH_MODEL_NAMES.iter().position(|n| stem.contains(n)).unwrap_or(PITCH_MODEL_NAMES.len())
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

impl VoiceLibrary {
    /// List the voices and shared models in `folder` (not its subfolders).
    pub fn scan(folder: &Path) -> std::io::Result<Self> {
        let (mut models, mut checkpoints, mut indexes) = (Vec::new(), Vec::new(), Vec::new());
        for entry in std::fs::read_dir(folder)? {
            let path = entry?.path();
            let has = |extension: &str| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension));
            if has("onnx") && path.is_file() {
                models.push(path);
            } else if is_checkpoint(&path) && path.is_file() {
                checkpoints.push(path);
            } else if has("pt") && role(&file_stem(&path)) != Role::Voice && path.is_file() {
                // RVC's hubert_base.pt and rmvpe.pt, built into their ONNX forms when loaded.
                models.push(path);
            } else if has("index") && path.is_file() {
                indexes.push(path);
            }
        }
        models.sort();
        indexes.sort();

        let mut library = Self { folder: folder.to_owned(), ..Self::default() };
        // Only voices come as `.pth`; the shared models users have as torch files are `.pt`.
        let mut voices = checkpoints;
        for path in models {
            match role(&file_stem(&path)) {
                Role::ContentEncoder => library.content_encoders.push(path),
                Role::PitchModel => library.pitch_models.push(path),
                Role::Voice => voices.push(path),
            }
        }
        // `units` encoders carry both the v1 and the v2 features, so they suit any voice.
        library.content_encoders.sort_by_key(|p| !file_stem(p).to_lowercase().contains("units"));
        library.pitch_models.sort_by_key(|p| pitch_model_rank(p));

        for synthesizer in voices {
            let sidecar_path = synthesizer.with_extension("json");
            let sidecar = match std::fs::read_to_string(&sidecar_path) {
                Ok(text) => serde_json::from_str::<Sidecar>(&text).unwrap_or_else(|e| {
                    library.problems.push(format!("{}: {e}", file_name(&sidecar_path)));
                    Sidecar::default()
                }),
                Err(_) => Sidecar::default(),
            };
            let stem = file_stem(&synthesizer);
            let index = Some(synthesizer.with_extension("index")).filter(|p| indexes.contains(p)).or_else(|| {
                indexes.iter().find(|p| rvc_index_voice_name(&file_name(p)) == Some(stem.as_str())).cloned()
            });
            let named = |name: &Option<String>, among: &[PathBuf], what: &str, problems: &mut Vec<String>| {
                let name = name.as_deref()?;
                let found = among.iter().find(|p| file_name(p) == name || file_stem(p) == name).cloned();
                if found.is_none() {
                    problems.push(format!("{}: no {what} `{name}` in the folder", file_name(&sidecar_path)));
                }
                found
            };
            let content_encoder =
                named(&sidecar.content_encoder, &library.content_encoders, "content encoder", &mut library.problems)
                    .or_else(|| library.content_encoders.first().cloned());
            let pitch_model = named(&sidecar.pitch_model, &library.pitch_models, "pitch model", &mut library.problems)
                .or_else(|| library.pitch_models.first().cloned());
            library.voices.push(LibraryVoice {
                name: sidecar.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| file_stem(&synthesizer)),
                index,
                pitch: sidecar.pitch.filter(|p| p.is_finite()),
                speaker_id: sidecar.speaker_id.unwrap_or(0),
                content_encoder,
                pitch_model,
                checkpoint: is_checkpoint(&synthesizer).then(|| {
                    VoiceCheckpoint::open(&synthesizer)
                        .map(|c| (c.facts.clone(), c.speakers()))
                        .map_err(|e| e.to_string())
                }),
                synthesizer,
            });
        }
        library.voices.sort_by_key(|v| v.name.to_lowercase());
        Ok(library)
    }
}

/// The voice an index file is for, by the name RVC's `train_index.py` gives it:
/// `added_IVF<lists>_Flat_nprobe_<nprobe>_<voice>_<v1|v2>.index`. Its `trained_…` twin holds no
/// vectors and is not a voice's index.
fn rvc_index_voice_name(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix("added_IVF")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix("_Flat_nprobe_")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix('_')?;
    let voice = rest.strip_suffix("_v1.index").or_else(|| rest.strip_suffix("_v2.index"))?;
    Some(voice).filter(|v| !v.is_empty())
}

impl LibraryVoice {
    /// The selection that loads this voice.
    pub fn selection(&self) -> VoiceSelection {
        VoiceSelection {
            synthesizer: Some(self.synthesizer.clone()),
            content_encoder: self.content_encoder.clone(),
            pitch_model: self.pitch_model.clone(),
            index: self.index.clone(),
            speaker_id: self.speaker_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(folder: &Path, name: &str, contents: &str) {
        std::fs::write(folder.join(name), contents).unwrap();
    }

    #[test]
    fn a_folder_lists_voices_and_shared_models() {
        let folder = std::env::temp_dir().join(format!("rvc-live-library-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        for name in
            ["contentvec_embed.onnx", "contentvec_units.onnx", "fcpe.onnx", "rmvpe.pt", "hubert_base.pt", "zed.onnx"]
        {
            touch(&folder, name, "");
        }
        touch(&folder, "alto.onnx", "");
        touch(&folder, "alto.index", "");
        touch(&folder, "alto.json", r#"{"name": "Alto", "pitch": 12, "speaker_id": 2, "pitch_model": "fcpe.onnx"}"#);
        touch(&folder, "zed.json", "{ not json");
        touch(&folder, "mezzo.pth", "");
        touch(&folder, "notes.txt", "");

        let library = VoiceLibrary::scan(&folder).unwrap();
        let names: Vec<_> = library.voices.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["Alto", "mezzo", "zed"]);
        assert_eq!(
            library.content_encoders,
            [folder.join("contentvec_units.onnx"), folder.join("contentvec_embed.onnx"), folder.join("hubert_base.pt")]
        );
        assert_eq!(library.pitch_models, [folder.join("rmvpe.pt"), folder.join("fcpe.onnx")]);

        let alto = library.voices[0].selection();
        assert_eq!(alto.synthesizer, Some(folder.join("alto.onnx")));
        assert_eq!(alto.index, Some(folder.join("alto.index")));
        assert_eq!(alto.content_encoder, Some(folder.join("contentvec_units.onnx")));
        assert_eq!(alto.pitch_model, Some(folder.join("fcpe.onnx")), "the sidecar's choice wins");
        assert_eq!(alto.speaker_id, 2);
        assert_eq!(library.voices[0].pitch, Some(12.0));

        assert_eq!(library.voices[1].selection().synthesizer, Some(folder.join("mezzo.pth")));
        let why = library.voices[1].checkpoint_description().unwrap();
        assert!(why.contains("not a readable PyTorch checkpoint"), "an empty .pth is listed with why: {why}");
        assert_eq!(library.voices[0].checkpoint, None, "ONNX voices are not read");

        let zed = &library.voices[2];
        assert_eq!(zed.pitch_model, Some(folder.join("rmvpe.pt")), "RMVPE is suggested first");
        assert_eq!(zed.index, None);
        assert_eq!(library.problems.len(), 1, "the broken sidecar is reported: {:?}", library.problems);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn rvc_training_names_pair_an_index_with_its_voice() {
        assert_eq!(rvc_index_voice_name("added_IVF1024_Flat_nprobe_1_alto_v2.index"), Some("alto"));
        assert_eq!(rvc_index_voice_name("added_IVF97_Flat_nprobe_3_my_voice_v1.index"), Some("my_voice"));
        assert_eq!(rvc_index_voice_name("trained_IVF1024_Flat_nprobe_1_alto_v2.index"), None);
        assert_eq!(rvc_index_voice_name("added_IVF1024_Flat_nprobe_1__v2.index"), None);
        assert_eq!(rvc_index_voice_name("alto.index"), None);

        let folder = std::env::temp_dir().join(format!("rvc-live-library-rvc-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        for name in [
            "alto.onnx",
            "trained_IVF256_Flat_nprobe_1_alto_v2.index",
            "added_IVF256_Flat_nprobe_1_alto_v2.index",
            "bass.onnx",
            "bass.index",
            "added_IVF64_Flat_nprobe_1_bass_v2.index",
            "tenor.onnx",
            "added_IVF64_Flat_nprobe_1_tenor2_v2.index",
        ] {
            touch(&folder, name, "");
        }
        let library = VoiceLibrary::scan(&folder).unwrap();
        let index = |name: &str| library.voices.iter().find(|v| v.name == name).unwrap().index.clone();
        assert_eq!(index("alto"), Some(folder.join("added_IVF256_Flat_nprobe_1_alto_v2.index")));
        assert_eq!(index("bass"), Some(folder.join("bass.index")), "the voice's own name comes first");
        assert_eq!(index("tenor"), None, "tenor2's index is not tenor's");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        assert!(VoiceLibrary::scan(Path::new("/nonexistent/rvc-live-voices")).is_err());
    }
}
