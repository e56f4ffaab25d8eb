//! The voice's model files and its retrieval index, typed or picked from the library's shared
//! models or with the system's open dialog, for the selected voice slot. A voice loads when the
//! selection is written to the slot (`params.active_voice()`): its `set` bumps the generation the
//! voice loader watches, so the model loads on the loader's thread and swaps in between two
//! blocks.

use std::path::{Path, PathBuf};

use egui::{DragValue, RichText, TextEdit, Ui};
use nice_plug::params::persist::PersistentField;

use super::browse_button::BrowseButton;
use super::file_dialog::Pick;
use super::theme;
use crate::params::RvcLiveParams;
use crate::voice::VoiceSelection;
use crate::voice_library::VoiceLibrary;

const BUILT_IN_PITCH: &str = "built-in tracker (YIN)";
const NO_INDEX: &str = "none (no retrieval)";

/// What the user is editing; becomes the voice when loaded.
#[derive(Default)]
pub struct VoicePicker {
    synthesizer: String,
    content_encoder: String,
    pitch_model: String,
    index: String,
    speaker_id: u32,
    /// The slot and its voice generation the fields show. When the voice changes elsewhere (a
    /// project loads, the library list is clicked, another slot is selected) the fields follow.
    shown_generation: Option<(usize, u64)>,
    /// The library folder the fields' relative names are relative to.
    shown_folder: Option<PathBuf>,
    /// The "…" buttons for the voice model and its index.
    browse_model: BrowseButton,
    browse_index: BrowseButton,
}

/// Files in the library folder show by name alone, so the field shows what tells voices apart.
fn to_text(path: &Option<PathBuf>, folder: Option<&Path>) -> String {
    let Some(path) = path else {
        return String::new();
    };
    folder.and_then(|f| path.strip_prefix(f).ok()).unwrap_or(path).display().to_string()
}

/// Relative paths are relative to the library folder.
fn to_path(text: &str, folder: Option<&Path>) -> Option<PathBuf> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let path = PathBuf::from(text);
    Some(match folder {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl VoicePicker {
    fn follow(&mut self, params: &RvcLiveParams, folder: Option<&Path>) {
        let generation = (params.active_slot(), params.active_voice().generation());
        if self.shown_generation != Some(generation) || self.shown_folder.as_deref() != folder {
            let voice = params.active_voice().get();
            self.synthesizer = to_text(&voice.synthesizer, folder);
            self.content_encoder = to_text(&voice.content_encoder, folder);
            self.pitch_model = to_text(&voice.pitch_model, folder);
            self.index = to_text(&voice.index, folder);
            self.speaker_id = voice.speaker_id;
            self.shown_generation = Some(generation);
            self.shown_folder = folder.map(Path::to_path_buf);
        }
    }

    fn selection(&self, folder: Option<&Path>) -> VoiceSelection {
        VoiceSelection {
            synthesizer: to_path(&self.synthesizer, folder),
            content_encoder: to_path(&self.content_encoder, folder),
            pitch_model: to_path(&self.pitch_model, folder),
            index: to_path(&self.index, folder),
            speaker_id: self.speaker_id,
        }
    }

    /// The "…" button beside the voice model. Returns whether a file was picked (it then loads,
    /// like a pick from the library's lists).
    fn browse(&mut self, ui: &mut Ui, folder: Option<&Path>) -> bool {
        let start = || to_path(&self.synthesizer, folder).and_then(|p| p.parent().map(Path::to_path_buf));
        let start = || start().or(folder.map(Path::to_path_buf));
        let hover = "Choose a voice model (.onnx)";
        let Some(path) = self.browse_model.show(ui, Pick::Model, "RVC Live: voice model", hover, start) else {
            return false;
        };
        // Another voice's index would not fit it: take the one beside it, if any.
        let beside = Some(path.with_extension("index")).filter(|p| p.is_file());
        self.index = to_text(&beside, folder);
        self.synthesizer = to_text(&Some(path), folder);
        true
    }

    /// The "…" button beside the index. Returns whether an index was picked.
    fn browse_index(&mut self, ui: &mut Ui, folder: Option<&Path>) -> bool {
        let beside = to_path(&self.index, folder).or_else(|| to_path(&self.synthesizer, folder));
        let start = || beside.and_then(|p| p.parent().map(Path::to_path_buf)).or(folder.map(Path::to_path_buf));
        let hover = "Choose the voice's retrieval index (.index, RVC's added_… file)";
        let Some(path) = self.browse_index.show(ui, Pick::Index, "RVC Live: retrieval index", hover, start) else {
            return false;
        };
        self.index = to_text(&Some(path), folder);
        true
    }

    pub fn show(&mut self, ui: &mut Ui, params: &RvcLiveParams, library: Option<&VoiceLibrary>) {
        let folder = library.map(|l| l.folder.as_path());
        self.follow(params, folder);
        let no_models: &[PathBuf] = &[];
        let (encoders, pitch_models) =
            library.map_or((no_models, no_models), |l| (l.content_encoders.as_slice(), l.pitch_models.as_slice()));
        let mut picked = false;

        // Measured outside the grid: inside it, the available width is the cell's.
        let field_width = ui.available_width() - theme::LABEL_WIDTH - theme::GRID_SPACING.x - 12.0;
        egui::Grid::new("voice-picker")
            .num_columns(2)
            .spacing(theme::GRID_SPACING)
            .min_col_width(theme::LABEL_WIDTH)
            .show(ui, |ui| {
                ui.label("Voice model");
                ui.horizontal(|ui| {
                    ui.add(
                        TextEdit::singleline(&mut self.synthesizer)
                            .hint_text("voice.onnx")
                            .desired_width(field_width - 30.0),
                    );
                    picked |= self.browse(ui, folder);
                });
                ui.end_row();

                ui.label("Content encoder");
                ui.horizontal(|ui| {
                    ui.add(
                        TextEdit::singleline(&mut self.content_encoder)
                            .hint_text("contentvec.onnx")
                            .desired_width(field_width - 30.0),
                    );
                    picked |= choices(ui, "encoder-choices", &mut self.content_encoder, encoders, None, folder);
                });
                ui.end_row();

                ui.label("Pitch model");
                ui.horizontal(|ui| {
                    ui.add(
                        TextEdit::singleline(&mut self.pitch_model)
                            .hint_text(BUILT_IN_PITCH)
                            .desired_width(field_width - 30.0),
                    );
                    picked |=
                        choices(ui, "pitch-choices", &mut self.pitch_model, pitch_models, Some(BUILT_IN_PITCH), folder);
                });
                ui.end_row();

                ui.label("Index");
                ui.horizontal(|ui| {
                    ui.add(TextEdit::singleline(&mut self.index).hint_text(NO_INDEX).desired_width(field_width - 30.0))
                        .on_hover_text("The voice's retrieval index; Index Rate sets how much it is heard");
                    picked |= self.browse_index(ui, folder);
                });
                ui.end_row();

                ui.label("Speaker");
                ui.horizontal(|ui| {
                    ui.add(DragValue::new(&mut self.speaker_id).range(0..=1023))
                        .on_hover_text("Speaker id, for voices trained on several speakers");
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let current = params.active_voice().get();
                        let load = ui.add_enabled(
                            !self.synthesizer.trim().is_empty(),
                            egui::Button::new(RichText::new("Load voice").strong()),
                        );
                        if load.clicked() || (picked && current.synthesizer.is_some()) {
                            params.active_voice().set(self.selection(folder));
                        }
                        if ui.add_enabled(current.synthesizer.is_some(), egui::Button::new("Unload")).clicked() {
                            params.active_voice().set(VoiceSelection::default());
                        }
                    });
                });
                ui.end_row();
            });
    }
}

/// A drop-down beside a path field offering the library's models. Returns whether one was picked.
fn choices(
    ui: &mut Ui,
    id: &str,
    text: &mut String,
    models: &[PathBuf],
    none: Option<&str>,
    folder: Option<&Path>,
) -> bool {
    let mut picked = false;
    let enabled = !models.is_empty() || none.is_some();
    ui.add_enabled_ui(enabled, |ui| {
        egui::ComboBox::from_id_salt(id).selected_text("").width(18.0).show_ui(ui, |ui| {
            ui.set_min_width(200.0);
            if let Some(none) = none
                && ui.selectable_label(text.trim().is_empty(), none).clicked()
            {
                text.clear();
                picked = true;
            }
            for model in models {
                let path = to_text(&Some(model.clone()), folder);
                if ui.selectable_label(*text == path, file_name(model)).clicked() {
                    *text = path;
                    picked = true;
                }
            }
        });
    });
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_files_show_by_name_and_load_by_full_path() {
        let folder = Path::new("/voices");
        let path = Some(PathBuf::from("/voices/alto.onnx"));
        assert_eq!(to_text(&path, Some(folder)), "alto.onnx");
        assert_eq!(to_path("alto.onnx", Some(folder)), path);
        assert_eq!(to_text(&Some(PathBuf::from("/elsewhere/b.onnx")), Some(folder)), "/elsewhere/b.onnx");
        assert_eq!(to_path(" /elsewhere/b.onnx ", Some(folder)), Some(PathBuf::from("/elsewhere/b.onnx")));
        assert_eq!(to_path("  ", Some(folder)), None);
    }
}
