//! The row of voice slots: which one converts (the Voice parameter, so a click goes through the
//! host like automation), what each holds, and which failed to load and why. The library and the
//! voice files below edit the selected slot.

use egui::{RichText, Ui};
use nice_plug::prelude::*;

use super::theme;
use crate::params::RvcLiveParams;
use crate::voice::VOICE_SLOTS;
use crate::voice_status::{VoiceState, VoiceStatuses};

const SLOT_WIDTH: f32 = 31.0;

pub fn show(ui: &mut Ui, params: &RvcLiveParams, statuses: &VoiceStatuses, setter: &ParamSetter) {
    theme::panel(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Voice").strong().color(theme::ACCENT)).on_hover_text(
                "Voices kept loaded: the Voice parameter switches between them within a block. \
                 The library and the files below fill the selected slot.",
            );
            let active = params.active_slot();
            for slot in 0..VOICE_SLOTS {
                let status = statuses.slot(slot);
                let (state, message) = status.current();
                let name = params.voices.name(slot);
                let text = RichText::new((slot + 1).to_string());
                let text = match (state, &name) {
                    (VoiceState::Failed, _) => text.color(theme::BAD_TEXT),
                    (_, None) => text.weak(),
                    _ => text.strong(),
                };
                let button = egui::Button::selectable(slot == active, text).min_size(egui::vec2(SLOT_WIDTH, 0.0));
                let hover = match &name {
                    Some(name) => format!("{name}\n{message}"),
                    None => "Empty: pick a voice below to put it in this slot".to_owned(),
                };
                if ui.add(button).on_hover_text(hover).clicked() && slot != active {
                    setter.begin_set_parameter(&params.voice_slot);
                    setter.set_parameter(&params.voice_slot, slot as i32);
                    setter.end_set_parameter(&params.voice_slot);
                }
            }
        });
    });
}
