//! The automatable parameters. Formant is greyed out, saying why, while the voice loaded cannot
//! shift its formants.

use egui::Ui;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use super::theme;
use crate::params::RvcLiveParams;

const SLIDER_WIDTH: f32 = 140.0;
const FORMANT_HINT: &str = "Semitones: moves the voice's formants (its size: deeper or smaller) and keeps its pitch";
const FORMANT_UNSUPPORTED: &str = "This voice's export has no formant input (RVC WebUI and w-okada exports decode whole \
     windows): load its .pth, or a partial-decoding export, to shift formants";

/// `shifts_formants`: whether the loaded voice takes a formant shift (`None`: no voice loaded).
pub fn show(ui: &mut Ui, params: &RvcLiveParams, setter: &ParamSetter, shifts_formants: Option<bool>) {
    egui::Grid::new("controls").num_columns(2).spacing(theme::GRID_SPACING).min_col_width(theme::LABEL_WIDTH).show(
        ui,
        |ui| {
            let row = |ui: &mut Ui, param: &FloatParam, hint: &str| {
                ui.label(param.name()).on_hover_text(hint);
                ui.add(ParamSlider::for_param(param, setter).with_width(SLIDER_WIDTH));
                ui.end_row();
            };
            row(ui, &params.pitch, "Semitones; fractions are cents. Shift+drag for fine steps, double-click to reset");
            ui.label(params.formant.name()).on_hover_text(FORMANT_HINT);
            let slider = ui.add_enabled(
                shifts_formants != Some(false),
                ParamSlider::for_param(&params.formant, setter).with_width(SLIDER_WIDTH),
            );
            if shifts_formants == Some(false) {
                slider.on_disabled_hover_text(FORMANT_UNSUPPORTED);
            }
            ui.end_row();
            row(ui, &params.dry_wet, "Converted voice against the latency-compensated input");
            row(ui, &params.input_gain, "Level into the voice model (the dry path is not affected)");
            row(ui, &params.output_gain, "Level of the plugin's output");
            row(ui, &params.gate, "Below this input level the model is not run and the voice is silent");
            row(ui, &params.envelope, "How much the voice keeps its own loudness contour rather than the input's");
            row(ui, &params.index_rate, "How far the voice moves toward its training features (its .index file)");
            row(ui, &params.protect, "How much of the index consonants and breaths take (0.5: all of it)");

            ui.label(params.bypass.name());
            // A checkbox reads better than a two-position slider; it still goes through the host.
            let mut bypassed = params.bypass.value();
            if ui.checkbox(&mut bypassed, "input only, delayed").changed() {
                setter.begin_set_parameter(&params.bypass);
                setter.set_parameter(&params.bypass, bypassed);
                setter.end_set_parameter(&params.bypass);
            }
            ui.end_row();
        },
    );
}
