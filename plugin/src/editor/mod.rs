//! The plugin window: the voice slots, the voice library and picker on the left; the parameters, the stream
//! settings and the meters on the right; and a banner on top saying what became of the voice.
//!
//! The editor runs on the GUI thread. It reads the audio thread's meters and the inference
//! thread's counters through atomics only, and the voice status through a mutex the audio
//! thread never takes.

use std::time::Duration;

use egui::{RichText, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::params::persist::PersistentField;
use nice_plug_egui::{EguiEditor, EguiNiceSettings, NiceEguiApp, RepaintNotifier, create_egui_editor};

use crate::shared_state::SharedState;
use crate::voice_status::{VoiceState, VoiceStatus};

mod browse_button;
mod controls;
mod engine_load;
mod file_dialog;
mod level_meter;
mod pack_import;
mod remote_engine;
mod speech_box;
mod status_banner;
mod stream_settings;
pub mod theme;
mod voice_facts;
mod voice_library;
mod voice_picker;
mod voice_slots;

pub use stream_settings::latency_ms;
pub use voice_library::VOICE_LIBRARY_ENV;

/// The meters move at this rate; egui-baseview only redraws when asked, so the editor asks once
/// per frame and this sets the pace.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// The title block left of the banner.
const TITLE_WIDTH: f32 = 96.0;

pub fn create(data: SharedState) -> Option<EguiEditor<RvcLiveEditor>> {
    let repaint = RepaintNotifier::new();
    let settings = EguiNiceSettings::new().with_tile("RVC Live").with_repaint_poll_interval(FRAME_INTERVAL);
    let editor_state = data.params.editor_state.clone();
    create_egui_editor(editor_state, repaint.clone(), settings, RvcLiveEditor::new(data, repaint))
}

pub struct RvcLiveEditor {
    data: SharedState,
    repaint: RepaintNotifier,
    /// Only while the window is open.
    gui: Option<GuiContext>,
    library: voice_library::LibraryPanel,
    picker: voice_picker::VoicePicker,
    speech: speech_box::SpeechBox,
    stream: stream_settings::StreamSettingsPanel,
    remote: remote_engine::RemoteEnginePanel,
    input_meter: level_meter::LevelMeter,
    output_meter: level_meter::LevelMeter,
    /// Set when drawing panicked: the editor then only says so.
    broken: Option<String>,
}

impl RvcLiveEditor {
    fn new(data: SharedState, repaint: RepaintNotifier) -> Self {
        Self {
            data,
            repaint,
            gui: None,
            library: Default::default(),
            picker: Default::default(),
            speech: Default::default(),
            stream: Default::default(),
            remote: Default::default(),
            input_meter: Default::default(),
            output_meter: Default::default(),
            broken: None,
        }
    }

    fn voice_column(&mut self, ui: &mut Ui, gui: &GuiContext) {
        let params = self.data.params.clone();
        voice_slots::show(ui, &params, &self.data.voice_status, &gui.param_setter());
        ui.add_space(theme::SECTION_GAP);
        theme::section(ui, "Voice library", |ui| {
            let current = params.active_voice().get();
            if let Some(voice) = self.library.show(ui, &params, &current) {
                params.active_voice().set(voice.selection());
                // The voice's own pitch (e.g. +12 for a male-to-female voice) comes with it.
                if let Some(pitch) = voice.pitch {
                    let setter = gui.param_setter();
                    setter.begin_set_parameter(&params.pitch);
                    setter.set_parameter(&params.pitch, pitch);
                    setter.end_set_parameter(&params.pitch);
                }
            }
        });
        ui.add_space(theme::SECTION_GAP);
        theme::section(ui, &format!("Voice files · slot {}", params.active_slot() + 1), |ui| {
            self.picker.show(ui, &params, self.library.library());
            ui.add_space(theme::ROW_GAP);
            ui.separator();
            voice_facts::show(ui, self.active_status().facts().as_ref());
        });
        ui.add_space(theme::SECTION_GAP);
        theme::section(ui, "Say", |ui| {
            let running = self.data.active_stream.snapshot().is_some();
            self.speech.show(ui, &params, &self.data.speech, running);
        });
    }

    fn control_column(&mut self, ui: &mut Ui, gui: &GuiContext) {
        let params = &self.data.params;
        let shifts_formants = self.active_status().facts().map(|facts| facts.shifts_formants());
        theme::section(ui, "Controls", |ui| controls::show(ui, params, &gui.param_setter(), shifts_formants));
        ui.add_space(theme::SECTION_GAP);
        let pending = self.data.budgets.pending_latency();
        theme::section(ui, "Stream", |ui| {
            self.stream.show(ui, params, self.data.active_stream.snapshot(), pending, gui)
        });
        ui.add_space(theme::SECTION_GAP);
        let active = self.data.active_stream.snapshot().is_some();
        theme::section(ui, "Engine", |ui| self.remote.show(ui, params, &self.data.remote, active, gui));
    }

    fn meter_row(&mut self, ui: &mut Ui) {
        theme::panel(ui, |ui| {
            ui.columns(2, |columns| {
                // Room for the label before the bar and the reading after it.
                let width = columns[0].available_width() - 110.0;
                self.input_meter.show(&mut columns[0], "In", &self.data.meters.input, width);
                self.output_meter.show(&mut columns[0], "Out", &self.data.meters.output, width);
                let width = columns[1].available_width() - 140.0;
                let remote = self.data.remote.running().is_some();
                engine_load::show(&mut columns[1], &self.data.stats, &self.data.conversion, remote, width);
            });
        });
    }
}

impl NiceEguiApp for RvcLiveEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        egui_ctx.global_style_mut(|style| {
            style.spacing.item_spacing = egui::vec2(6.0, 5.0);
            style.spacing.button_padding = egui::vec2(8.0, 3.0);
            style.visuals.panel_fill = theme::BACKGROUND;
            style.visuals.selection.bg_fill = theme::ACCENT.gamma_multiply(0.55);
        });
        self.library.open(&self.data.params);
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        if let Some(why) = &self.broken {
            ui.label(RichText::new(format!("The editor stopped after an internal error: {why}")).color(theme::BAD));
            return;
        }
        // A panic must not reach the host's window callback; the audio goes on regardless.
        if let Err(why) = rvc_live_engine::panic_guard::catch(|| self.draw(ui)) {
            nice_plug::nice_error!("RVC Live's editor stopped after an internal error: {why}");
            self.broken = Some(why);
        }
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

impl RvcLiveEditor {
    /// What the banner says: the voice's state, unless the conversion itself is failing now.
    fn banner(&self) -> (VoiceState, String) {
        if let Some(fault) = self.data.stats.fault() {
            return (VoiceState::Failed, format!("The conversion stopped: {fault}"));
        }
        if self.data.conversion.is_failing()
            && let Some(why) = self.data.conversion.last_failure()
        {
            return (VoiceState::Failed, format!("Blocks fail to convert and play the input: {why}"));
        }
        if let Some(remote) = self.remote_banner() {
            return remote;
        }
        self.active_status().current()
    }

    /// With the remote engine, whether the selected slot's server converts, and if not why.
    fn remote_banner(&self) -> Option<(VoiceState, String)> {
        let (voice, stats) = self.data.remote.slot(self.data.params.active_slot())?;
        let address = self.data.remote.running().map(|r| r.address).unwrap_or_default();
        if stats.is_connected() {
            let server = stats.server().unwrap_or_default();
            return Some((VoiceState::Loaded, format!("Converting on {address} ({server}): {voice}")));
        }
        let problem = stats.problem()?;
        Some((VoiceState::Failed, format!("Remote engine: {problem}. The input plays through; reconnecting")))
    }

    /// The status of the slot the Voice parameter selects.
    fn active_status(&self) -> &VoiceStatus {
        self.data.voice_status.slot(self.data.params.active_slot())
    }

    fn draw(&mut self, ui: &mut Ui) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        egui::Frame::new().fill(theme::BACKGROUND).inner_margin(egui::Margin::same(theme::MARGIN)).show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(TITLE_WIDTH);
                    ui.label(RichText::new("RVC Live").size(19.0).strong());
                    ui.label(
                        RichText::new(format!("{} · {}", env!("CARGO_PKG_VERSION"), gui.plugin_api())).small().weak(),
                    );
                });
                let (state, message) = self.banner();
                let voice = self.data.params.active_voice().get();
                let paths = [&voice.synthesizer, &voice.content_encoder, &voice.pitch_model];
                let paths: Vec<_> = paths.into_iter().flatten().map(|p| p.as_path()).collect();
                status_banner::show(ui, state, &message, &status_banner::shorten(&message, &paths));
            });
            ui.add_space(theme::SECTION_GAP);

            ui.columns(2, |columns| {
                self.voice_column(&mut columns[0], &gui);
                self.control_column(&mut columns[1], &gui);
            });
            ui.add_space(theme::SECTION_GAP);
            self.meter_row(ui);
        });
        // Meters, load and the banner change without any input event.
        self.repaint.request_repaint();
    }
}
