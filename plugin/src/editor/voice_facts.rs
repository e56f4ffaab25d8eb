//! One line on the voice that converts now: what the model turned out to be once loaded.

use egui::{RichText, Ui};

use crate::voice_status::VoiceFacts;

pub fn show(ui: &mut Ui, facts: Option<&VoiceFacts>) {
    let Some(facts) = facts else {
        ui.label(RichText::new("No voice converts: the input plays through, delayed by the latency.").small().weak());
        return;
    };
    let name = facts.synthesizer.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ui.add(egui::Label::new(RichText::new(format!("Playing {name}")).small().strong()).truncate());
    ui.add(egui::Label::new(RichText::new(facts.summary()).small()).truncate())
        .on_hover_text("Sample rate · model version (v1: 256 features, v2: 768) · pitch input · export convention");
}
