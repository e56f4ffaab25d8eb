//! "Import…": a voice pack (`.zip`) picked in the system's dialog and unpacked into the voice
//! library on a thread of its own — unpacking and checking a voice takes a second or two, and the
//! editor keeps drawing meanwhile.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::Ui;
use rvc_live_engine::voice_pack::{self, ImportedVoice};

use super::file_dialog::{FileDialog, Pick};

#[derive(Default)]
pub struct PackImport {
    dialog: FileDialog,
    /// The import running on its thread.
    running: Option<Receiver<Result<ImportedVoice, String>>>,
}

impl PackImport {
    /// The "Import…" button; it asks for a pack to unpack into `library`.
    pub fn button(&mut self, ui: &mut Ui, library: Option<&Path>) {
        let idle = !self.dialog.is_open() && self.running.is_none();
        let label = if self.running.is_some() { "Importing…" } else { "Import…" };
        let button = ui.add_enabled(idle && library.is_some(), egui::Button::new(label));
        if button.on_hover_text("Unpack a voice pack (.zip with a .pth and its .index) into this folder").clicked() {
            self.dialog.open(Pick::Pack, "RVC Live: import a voice pack", None);
        }
    }

    /// Call each frame: starts the import once the dialog answers, and returns its outcome once
    /// it ends.
    pub fn poll(&mut self, library: Option<&Path>) -> Option<Result<ImportedVoice, String>> {
        match self.dialog.poll() {
            Some(Ok(Some(pack))) => match library {
                Some(library) => self.start(pack, library.to_path_buf()),
                None => return Some(Err("Choose the voice library folder first".into())),
            },
            Some(Err(e)) => return Some(Err(e)),
            _ => {}
        }
        let outcome = match self.running.as_ref()?.try_recv() {
            Ok(outcome) => outcome,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err("the import stopped without an answer".into()),
        };
        self.running = None;
        Some(outcome)
    }

    fn start(&mut self, pack: PathBuf, library: PathBuf) {
        let (send, receive) = channel();
        let spawned = std::thread::Builder::new().name("rvc-live-pack-import".into()).spawn(move || {
            let outcome = voice_pack::import(&pack, &library).map_err(|e| e.to_string());
            let _ = send.send(outcome);
        });
        if spawned.is_ok() {
            self.running = Some(receive);
        }
    }
}
