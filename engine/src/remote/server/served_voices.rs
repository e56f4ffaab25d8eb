//! The voices a server offers: one library folder, looked up by name only. A client's voice name
//! is compared with the names the scan found and is never joined to a path, so no name can reach
//! a file outside the folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::rvc_processor::{ControlSource, ConversionStats, RvcProcessor};
use crate::shared_models::SharedModels;
use crate::stream::{StreamGeometry, StreamSettings};
use crate::voice_library::{LibraryVoice, VoiceLibrary};

/// A name the library lacks triggers a rescan at most this often, so voices copied into the
/// folder while the server runs become available without letting a client make it rescan at will.
const RESCAN_INTERVAL: Duration = Duration::from_secs(5);

pub struct ServedVoices {
    folder: PathBuf,
    /// The latest scan and when it ran. Locked by connection tasks while they look a name up.
    library: Mutex<(VoiceLibrary, Instant)>,
    /// Content encoders and pitch models, shared by every stream that loads them with the same
    /// window and threads (their voices' synthesizers are each stream's own), unless the server
    /// runs with separate models. Streams sharing one take turns on it. Used by the loading tasks.
    shared: SharedModels,
}

impl ServedVoices {
    pub fn open(folder: &Path) -> Result<Self, String> {
        let library = VoiceLibrary::scan(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        Ok(Self {
            folder: folder.to_path_buf(),
            library: Mutex::new((library, Instant::now())),
            shared: SharedModels::default(),
        })
    }

    /// The voices' names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.library.lock().0.voices.iter().map(|v| v.name.clone()).collect()
    }

    /// Problems the scan found (unreadable sidecars), for the log.
    pub fn problems(&self) -> Vec<String> {
        self.library.lock().0.problems.clone()
    }

    /// The voice named exactly `name`, rescanning the folder first when it is not listed and the
    /// last scan is old enough.
    pub fn find(&self, name: &str) -> Option<LibraryVoice> {
        let mut library = self.library.lock();
        let lookup = |library: &VoiceLibrary| library.voices.iter().find(|v| v.name == name).cloned();
        if let Some(voice) = lookup(&library.0) {
            return Some(voice);
        }
        if library.1.elapsed() < RESCAN_INTERVAL {
            return None;
        }
        match VoiceLibrary::scan(&self.folder) {
            Ok(rescanned) => *library = (rescanned, Instant::now()),
            Err(e) => tracing::warn!(folder = %self.folder.display(), error = %e, "cannot rescan the voice library"),
        }
        lookup(&library.0)
    }

    /// Load `voice` for a stream of `geometry`. Blocking: runs on a loading thread.
    pub fn load(
        &self,
        voice: &LibraryVoice,
        geometry: &StreamGeometry,
        settings: &StreamSettings,
        controls: ControlSource,
        threads: usize,
        share: bool,
    ) -> Result<RvcProcessor, String> {
        let selection = voice.selection();
        if selection.content_encoder.is_none() {
            return Err(format!("the server's library has no content encoder for the voice {}", voice.name));
        }
        let stats = Arc::new(ConversionStats::default());
        let own = SharedModels::default();
        let models = if share { &self.shared } else { &own };
        RvcProcessor::load_sharing(&selection, geometry, settings, controls, stats, threads, models)
            .map_err(|e| format!("the server cannot load the voice {}: {e}", voice.name))
    }
}
