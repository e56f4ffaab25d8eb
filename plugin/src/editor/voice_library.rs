//! The list of voices in the user's voice-library folder. Clicking one loads it; "Import…" unpacks
//! a voice pack into the folder and loads the voice it brought.

use std::path::{Path, PathBuf};

use egui::{RichText, ScrollArea, TextEdit, Ui};

use super::file_dialog::{FileDialog, Pick};
use super::pack_import::PackImport;
use super::theme;
use crate::params::RvcLiveParams;
use crate::voice::VoiceSelection;
use crate::voice_library::{LibraryVoice, VoiceLibrary};

/// Names a library folder for when the project has none yet, e.g. a shared voices folder or the
/// screenshot test's. The project's own folder, once set, wins.
pub const VOICE_LIBRARY_ENV: &str = "RVC_LIVE_VOICE_LIBRARY";

/// Height of the list; the rest of the column belongs to the voice picker. Fixed, so that the
/// picker below does not move with the number of voices.
const LIST_HEIGHT: f32 = 104.0;
const ROW_HEIGHT: f32 = 20.0;

#[derive(Default)]
pub struct LibraryPanel {
    folder: String,
    /// The last scan, or why it failed.
    scan: Option<Result<VoiceLibrary, String>>,
    /// The system's folder dialog, while it is open.
    dialog: FileDialog,
    import: PackImport,
    /// What the last import did, or why it failed.
    import_outcome: Option<Result<String, String>>,
}

impl LibraryPanel {
    /// Called when the editor opens: the folder may have changed on disk since it was last open.
    pub fn open(&mut self, params: &RvcLiveParams) {
        let folder =
            params.voice_library.read().clone().or_else(|| std::env::var_os(VOICE_LIBRARY_ENV).map(PathBuf::from));
        self.folder = folder.map(|f| f.display().to_string()).unwrap_or_default();
        self.rescan(params);
    }

    pub fn library(&self) -> Option<&VoiceLibrary> {
        self.scan.as_ref().and_then(|s| s.as_ref().ok())
    }

    fn rescan(&mut self, params: &RvcLiveParams) {
        let folder = self.folder.trim();
        if folder.is_empty() {
            self.scan = None;
            return;
        }
        self.scan = Some(VoiceLibrary::scan(Path::new(folder)).map_err(|e| format!("Cannot read {folder}: {e}")));
        if self.library().is_some() {
            *params.voice_library.write() = Some(PathBuf::from(folder));
        }
    }

    /// Returns the voice the user clicked, if any.
    pub fn show(&mut self, ui: &mut Ui, params: &RvcLiveParams, current: &VoiceSelection) -> Option<LibraryVoice> {
        ui.horizontal(|ui| {
            let field = ui.add(
                TextEdit::singleline(&mut self.folder)
                    .hint_text("Folder of voices (.pth, .onnx, .index, .json)")
                    .desired_width(ui.available_width() - 150.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let mut chosen = false;
            match self.dialog.poll() {
                Some(Ok(Some(folder))) => {
                    self.folder = folder.display().to_string();
                    chosen = true;
                }
                Some(Err(e)) => self.scan = Some(Err(e)),
                _ => {}
            }
            if ui
                .add_enabled(!self.dialog.is_open(), egui::Button::new("…"))
                .on_hover_text("Choose the folder")
                .clicked()
            {
                let start = PathBuf::from(self.folder.trim());
                self.dialog.open(
                    Pick::Folder,
                    "RVC Live: voice library",
                    Some(&start).filter(|p| p.is_dir()).map(PathBuf::as_path),
                );
            }
            if ui.button("Scan").clicked() || entered || chosen {
                self.rescan(params);
            }
            let folder = self.library().map(|l| l.folder.clone());
            self.import.button(ui, folder.as_deref());
        });
        ui.add_space(theme::ROW_GAP);

        let mut clicked = None;
        let folder = self.library().map(|l| l.folder.clone());
        match self.import.poll(folder.as_deref()) {
            Some(Ok(imported)) => {
                nice_plug::nice_log!("Imported the voice pack's {} into {}", imported.name, imported.voice.display());
                self.rescan(params);
                clicked =
                    self.library().and_then(|l| l.voices.iter().find(|v| v.synthesizer == imported.voice)).cloned();
                self.import_outcome = Some(Ok(format!("Imported {}", imported.name)));
            }
            Some(Err(e)) => {
                nice_plug::nice_error!("Could not import the voice pack: {e}");
                self.import_outcome = Some(Err(e));
            }
            None => {}
        }
        let library = match &self.scan {
            None => {
                placeholder(ui, "Pick a folder to list its voices, or enter the model files below.");
                return None;
            }
            Some(Err(e)) => {
                placeholder(ui, e);
                return None;
            }
            Some(Ok(library)) => library,
        };
        ScrollArea::vertical()
            .max_height(LIST_HEIGHT)
            .min_scrolled_height(LIST_HEIGHT)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if library.voices.is_empty() {
                    ui.label(RichText::new("No voices in this folder").weak());
                }
                for voice in &library.voices {
                    let selected = current.synthesizer.as_deref() == Some(voice.synthesizer.as_path());
                    let mut details = Vec::new();
                    if let Some(pitch) = voice.pitch {
                        details.push(format!("{pitch:+} st"));
                    }
                    if let Some(facts) = voice.short_facts() {
                        details.push(facts);
                    }
                    if voice.index.is_some() {
                        details.push("index".to_owned());
                    }
                    let row = ui.add(
                        egui::Button::selectable(selected, voice.name.as_str())
                            .right_text(RichText::new(details.join(" · ")).small().weak())
                            .min_size(egui::vec2(ui.available_width(), ROW_HEIGHT)),
                    );
                    let hover = match voice.checkpoint_description() {
                        Some(facts) => format!("{}\n{facts}", voice.synthesizer.display()),
                        None => voice.synthesizer.display().to_string(),
                    };
                    if row.on_hover_text(hover).clicked() {
                        clicked = Some(voice.clone());
                    }
                }
            });
        let names = |paths: &[PathBuf]| {
            paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy()).collect::<Vec<_>>().join(", ")
        };
        let shared = format!(
            "{} voices · encoders: {} · pitch: {}",
            library.voices.len(),
            if library.content_encoders.is_empty() { "none".into() } else { names(&library.content_encoders) },
            if library.pitch_models.is_empty() { "built-in".into() } else { names(&library.pitch_models) },
        );
        ui.add(egui::Label::new(RichText::new(shared).small().weak()).truncate());
        match &self.import_outcome {
            Some(Ok(done)) => {
                ui.add(egui::Label::new(RichText::new(done).small().color(theme::GOOD.gamma_multiply(2.0))).truncate());
            }
            Some(Err(e)) => {
                let text = RichText::new(format!("Import: {e}")).small().color(theme::BAD.gamma_multiply(2.0));
                ui.add(egui::Label::new(text).truncate()).on_hover_text(e);
            }
            None => {}
        }
        for problem in &library.problems {
            ui.add(egui::Label::new(RichText::new(problem).small().color(theme::BAD.gamma_multiply(2.0))).truncate());
        }
        clicked
    }
}

fn placeholder(ui: &mut Ui, text: &str) {
    egui::Frame::new().inner_margin(egui::Margin::same(6)).show(ui, |ui| {
        ui.set_min_height(LIST_HEIGHT - 12.0);
        ui.add(egui::Label::new(RichText::new(text).weak()).wrap());
    });
}
