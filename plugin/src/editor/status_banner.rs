//! The banner across the top: whether a voice converts, loads, or failed and why. The reason
//! matters most after a project restore whose model files moved: the audio then plays dry, and
//! the banner is where the user learns which file is missing.

use std::path::Path;

use egui::text::LayoutJob;
use egui::{Color32, FontId, RichText, Ui};

use super::theme;
use crate::voice_status::VoiceState;

/// Two lines of message; the banner keeps its height so the window below it never jumps.
const HEIGHT: f32 = 34.0;
const MESSAGE_ROWS: usize = 2;

/// `message` with the folders of `paths` left out, so that the banner's two lines carry the file
/// names and the reason rather than the same long folder twice. The hover text keeps it whole.
pub fn shorten(message: &str, paths: &[&Path]) -> String {
    let mut short = message.to_owned();
    for path in paths {
        if let Some(folder) = path.parent().map(|p| p.display().to_string()).filter(|f| f.len() > 1) {
            short = short.replace(&format!("{folder}{}", std::path::MAIN_SEPARATOR), "");
        }
    }
    short
}

pub fn show(ui: &mut Ui, state: VoiceState, message: &str, short: &str) {
    let (fill, label) = match state {
        VoiceState::NoVoice => (theme::NEUTRAL, "NO VOICE"),
        VoiceState::Loading => (theme::BUSY, "LOADING"),
        VoiceState::Loaded => (theme::GOOD, "CONVERTING"),
        VoiceState::LoadedWithoutIndex => (theme::BUSY, "NO INDEX"),
        VoiceState::Failed => (theme::BAD, "ERROR"),
    };
    egui::Frame::new().fill(fill).corner_radius(6).inner_margin(egui::Margin::symmetric(10, 5)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.set_height(HEIGHT);
        ui.horizontal_centered(|ui| {
            ui.add_sized(
                [92.0, HEIGHT],
                egui::Label::new(RichText::new(label).strong().monospace().color(Color32::WHITE)),
            );
            let mut job =
                LayoutJob::simple(short.to_owned(), FontId::proportional(12.5), Color32::WHITE, ui.available_width());
            job.wrap.max_rows = MESSAGE_ROWS;
            job.wrap.break_anywhere = true;
            ui.add(egui::Label::new(job).wrap()).on_hover_text(message);
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_the_chosen_files_are_left_out() {
        let voice = Path::new("/home/me/voices/alto.onnx");
        let message = "Could not load the voice /home/me/voices/alto.onnx: /home/me/voices/alto.onnx does not exist";
        assert_eq!(shorten(message, &[voice]), "Could not load the voice alto.onnx: alto.onnx does not exist");
    }
}
