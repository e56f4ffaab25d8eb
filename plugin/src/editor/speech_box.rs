//! The Say box: text spoken by a Piper voice into the input, where the selected voice converts it
//! like the microphone — chat messages read out in the character's voice while the streamer
//! cannot talk. The speech reaches the host, OBS or Discord by the same route as the voice.

use std::path::PathBuf;

use egui::{RichText, TextEdit, Ui};
use rvc_live_engine::text_to_speech::{SpeechRequests, SpeechState};

use super::browse_button::BrowseButton;
use super::file_dialog::Pick;
use super::theme;
use crate::params::RvcLiveParams;

/// Room right of the text field: Say, Stop and "…".
const BUTTON_ROOM: f32 = 128.0;

#[derive(Default)]
pub struct SpeechBox {
    text: String,
    /// The "…" button choosing the Piper voice.
    browse: BrowseButton,
}

impl SpeechBox {
    /// `running`: whether the plugin is active (speech waits for the stream otherwise).
    pub fn show(&mut self, ui: &mut Ui, params: &RvcLiveParams, speech: &SpeechRequests, running: bool) {
        let mut tts_voice = params.tts_voice.read().clone();
        let width = ui.available_width();
        let mut say = false;
        ui.horizontal(|ui| {
            let field = ui.add(
                TextEdit::singleline(&mut self.text)
                    .hint_text("Text to say in the voice, then Enter")
                    .desired_width(width - BUTTON_ROOM),
            );
            say |= field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ready = !self.text.trim().is_empty() && tts_voice.is_some();
            say |= ui.add_enabled(ready, egui::Button::new(RichText::new("Say").strong())).clicked();
            let speaking = matches!(speech.state(), SpeechState::Speaking { .. });
            if ui.add_enabled(speaking, egui::Button::new("Stop")).clicked() {
                speech.stop();
            }
            let start = || tts_voice.as_ref().and_then(|p| p.parent().map(PathBuf::from));
            let hover = match &tts_voice {
                Some(path) => format!("The Piper voice that speaks: {}\nClick to choose another", path.display()),
                None => "Choose the Piper voice that speaks (.onnx, with its .onnx.json beside it)".into(),
            };
            if let Some(path) = self.browse.show(ui, Pick::Model, "RVC Live: Piper voice", &hover, start) {
                *params.tts_voice.write() = Some(path.clone());
                tts_voice = Some(path);
            }
        });
        if say
            && !self.text.trim().is_empty()
            && let Some(path) = tts_voice.clone()
        {
            speech.say(path, std::mem::take(&mut self.text));
        }
        let state = speech.state();
        let line = match (&tts_voice, &state) {
            (None, _) => "Choose a Piper voice with … first (en_US-joe-medium.onnx and its .onnx.json)".to_owned(),
            (Some(_), SpeechState::Speaking { .. }) if !running => "Waiting for the audio to start".to_owned(),
            (Some(path), SpeechState::Idle) => {
                format!("{}: {}", file_stem(path), state.describe())
            }
            (Some(_), _) => state.describe(),
        };
        let text = RichText::new(line).small();
        let text = if matches!(state, SpeechState::Failed(_)) { text.color(theme::BAD_TEXT) } else { text.weak() };
        ui.add(egui::Label::new(text).truncate());
    }
}

fn file_stem(path: &std::path::Path) -> String {
    path.file_stem().unwrap_or(path.as_os_str()).to_string_lossy().into_owned()
}
