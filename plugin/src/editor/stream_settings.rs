//! Denoise, block size and context, with the latency they give. They size the stream, so they
//! take effect when the plugin is activated again; the editor can ask the host for that.

use egui::{DragValue, RichText, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::PluginApi;

use super::theme;
use crate::active_stream::ActiveSnapshot;
use crate::params::RvcLiveParams;
use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{RvcProcessor, int8};

/// Used for the latency preview while the plugin is inactive: the rate and buffer most hosts use.
const FALLBACK_RATE: f32 = 48_000.0;
const FALLBACK_BUFFER: u32 = 512;

/// The editor's side of the stream settings.
#[derive(Default)]
pub struct StreamSettingsPanel {
    /// `(settings, rate, buffer) -> latency in ms`. Working the denoiser's delay out builds an
    /// RNNoise state, which is too much to do 30 times a second.
    cached: Option<((StreamSettings, u32, u32), f64)>,
}

impl StreamSettingsPanel {
    /// `pending`: the latency the next activation would report for the voices loaded since this
    /// one, where their measured budget differs from what the running stream reserves.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        params: &RvcLiveParams,
        active: Option<ActiveSnapshot>,
        pending: Option<u32>,
        gui: &GuiContext,
    ) {
        let mut settings = *params.stream.read();
        let before = settings;
        let (min_block, max_block) = StreamSettings::BLOCK_MS_RANGE;
        let (min_context, max_context) = StreamSettings::CONTEXT_MS_RANGE;

        egui::Grid::new("stream-settings")
            .num_columns(2)
            .spacing(theme::GRID_SPACING)
            .min_col_width(theme::LABEL_WIDTH)
            .show(ui, |ui| {
                ui.label("Block / context");
                ui.horizontal(|ui| {
                    ui.add(
                        DragValue::new(&mut settings.block_ms)
                            .range(min_block..=max_block)
                            .speed(10.0)
                            .max_decimals(0)
                            .suffix(" ms"),
                    )
                    .on_hover_text("Audio converted per model call. Longer blocks cost less CPU and add latency.");
                    ui.add(
                        DragValue::new(&mut settings.context_ms)
                            .range(min_context..=max_context)
                            .speed(10.0)
                            .max_decimals(0)
                            .suffix(" ms"),
                    )
                    .on_hover_text("Audio before each block the model also hears. Costs CPU, not latency.");
                });
                ui.end_row();

                ui.label("Worker budget");
                ui.checkbox(&mut settings.measured_budget, "Measured: what this machine needs").on_hover_text(
                    "Reserve in the latency the time each voice's block takes here, timed when it loads, with \
                     room to spare, instead of a whole block. The sound is the same; the latency is shorter by \
                     what this machine does not need. A slower voice loaded later is reserved for at the next \
                     activation; the latency line below offers it.",
                );
                ui.end_row();

                ui.label("Denoise");
                ui.checkbox(&mut settings.denoise, "RNNoise on the input (+10 ms)");
                ui.end_row();

                ui.label("Precision");
                let cost = int8::DECODER_COST;
                ui.checkbox(&mut settings.int8, "Fast (approximate): int8 on the CPU").on_hover_text(format!(
                    "Run the content encoder and the voice's decoder from 8-bit copies made when the voice \
                     loads: about 1.6 times as fast on a CPU, but not the same sound. On a trained voice they \
                     score a wideband PESQ of {:.1} against the float models (4.6 is identical) and raise \
                     the level in pauses by {:.0} dB (hiss). Off runs the models exactly as the files are.",
                    cost.pesq_wb, cost.pause_rise_db
                ));
                ui.end_row();
            });
        // Rounded the way the stream rounds it, so the field shows what will be used.
        settings.block_ms = (settings.block_ms / 10.0).round() * 10.0;
        if settings != before {
            *params.stream.write() = settings;
        }

        let (rate, buffer) = active.map_or((FALLBACK_RATE, FALLBACK_BUFFER), |a| (a.sample_rate, a.max_buffer));
        let latency_ms = self.latency_ms(settings, rate, buffer);
        ui.add_space(theme::ROW_GAP);
        let at = format!("at {:.1} kHz, {buffer}-sample buffers", rate / 1000.0);
        let strong_at = |text: String| RichText::new(text).strong();
        match active {
            Some(active) if active.settings == settings && pending.is_some_and(|p| p != active.latency) => {
                let now_ms = f64::from(active.latency) * 1000.0 / f64::from(rate);
                let then_ms = f64::from(pending.unwrap_or(active.latency)) * 1000.0 / f64::from(rate);
                ui.horizontal(|ui| {
                    ui.label(strong_at(format!("Latency {now_ms:.0} → {then_ms:.0} ms")));
                    restart_button(ui, gui);
                });
                let why = if then_ms > now_ms {
                    "A voice loaded since needs more time per block than the stream reserves."
                } else {
                    "The voice loaded since needs less time per block than the stream reserves."
                };
                ui.label(RichText::new(why).small().weak());
            }
            Some(active) if active.settings == settings => {
                // What the host was told, which with the remote engine counts the network.
                let reported_ms = f64::from(active.latency) * 1000.0 / f64::from(rate);
                ui.horizontal(|ui| {
                    ui.label(strong_at(format!("Latency {reported_ms:.0} ms")))
                        .on_hover_text(format!("{} samples", active.latency));
                    ui.label(RichText::new(at).small().weak());
                });
            }
            Some(active) => {
                let now_ms = f64::from(active.latency) * 1000.0 / f64::from(rate);
                ui.horizontal(|ui| {
                    ui.label(strong_at(format!("Latency {now_ms:.0} → {}{latency_ms:.0} ms", at_most(&settings))));
                    restart_button(ui, gui);
                });
                ui.label(RichText::new("Changes apply when the host restarts the plugin.").small().weak());
            }
            None => {
                ui.horizontal(|ui| {
                    ui.label(strong_at(format!("Latency {}{latency_ms:.0} ms", at_most(&settings))));
                    ui.label(RichText::new(format!("{at}, once the plugin starts")).small().weak());
                });
            }
        }
    }

    fn latency_ms(&mut self, settings: StreamSettings, rate: f32, buffer: u32) -> f64 {
        let key = (settings, rate.to_bits(), buffer);
        match self.cached {
            Some((cached, ms)) if cached == key => ms,
            _ => {
                let ms = latency_ms(settings, rate, buffer);
                self.cached = Some((key, ms));
                ms
            }
        }
    }
}

/// Restarts the stream, which applies the settings and reserves what the loaded voices need. The
/// standalone has no host to ask; loading its own state re-activates it.
fn restart_button(ui: &mut Ui, gui: &GuiContext) {
    let restart = if gui.plugin_api() == PluginApi::Standalone {
        ui.button("Apply").on_hover_text("Restart the audio stream with these settings")
    } else {
        ui.button("Ask host to apply")
            .on_hover_text("Asks the host to restart the plugin, which applies these settings")
    };
    if restart.clicked() {
        apply(gui);
    }
}

/// A measured budget is known only once the voice is timed: the preview is its cap.
fn at_most(settings: &StreamSettings) -> &'static str {
    if settings.measured_budget { "≤ " } else { "" }
}

/// The latency `activate` will report for `settings`, in milliseconds (with a measured budget, the
/// most it can be).
pub fn latency_ms(settings: StreamSettings, rate: f32, buffer: u32) -> f64 {
    let geometry = RvcProcessor::stream_geometry(&settings, rate, buffer);
    geometry.samples_to_ms(geometry.latency())
}

pub(super) fn apply(gui: &GuiContext) {
    if gui.plugin_api() == PluginApi::Standalone {
        // nice-plug's standalone ignores restart requests but re-activates the plugin after
        // loading state, so loading the current state applies the new settings.
        gui.set_state(gui.get_state());
    } else {
        // CLAP: `clap_host::request_restart`; VST3: `restartComponent(kLatencyChanged)`. Both make
        // the host deactivate and activate the plugin, which also re-reads the latency.
        gui.request_restart();
    }
}
