//! The "…" button beside a path: opens the system's dialog without blocking the editor, and
//! hands back what was picked on a later frame. Why a dialog could not open shows on the button.

use std::path::PathBuf;

use egui::Ui;

use super::file_dialog::{FileDialog, Pick};

#[derive(Default)]
pub struct BrowseButton {
    /// The dialog, while it is open.
    dialog: FileDialog,
    /// Why the dialog could not open, until the next pick.
    error: Option<String>,
}

impl BrowseButton {
    /// Show the button. A click opens `pick`'s dialog titled `title` in `start` (asked for only
    /// then). Returns the path picked, on the frame its dialog answers.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        pick: Pick,
        title: &str,
        hover: &str,
        start: impl FnOnce() -> Option<PathBuf>,
    ) -> Option<PathBuf> {
        let mut picked = None;
        match self.dialog.poll() {
            Some(Ok(path)) => {
                self.error = None;
                picked = path;
            }
            Some(Err(e)) => self.error = Some(e),
            None => {}
        }
        let button = ui.add_enabled(!self.dialog.is_open(), egui::Button::new("…"));
        if button.on_hover_text(self.error.as_deref().unwrap_or(hover)).clicked() {
            self.dialog.open(pick, title, start().as_deref());
        }
        picked
    }
}
