//! The engine choice: this computer, or a remote server (`rvc-live serve`), with the server's
//! address, the user's leave to stream to it and its token (both saved in the user's config
//! folder, never in the project) and the server voice of the selected slot. Details open in a
//! window of their own so the section stays one row and a status line.

use std::sync::Arc;
use std::time::Duration;

use egui::{RichText, Ui};
use nice_plug::context::gui::GuiContext;
use parking_lot::Mutex;

use super::{stream_settings, theme};
use crate::params::RvcLiveParams;
use crate::remote_engine::{RemoteEngineSettings, RemoteLinks};
use crate::remote_servers;
use rvc_live_engine::remote::client::{ServerHealth, server_health};

/// How long "List voices" waits for the server.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct RemoteEnginePanel {
    window_open: bool,
    /// The token being typed; saved only when the user says so.
    token: String,
    /// The address the token and `allowed` were read for.
    loaded_for: Option<String>,
    /// Whether the user allowed streaming to that address (read from the config folder when the
    /// address changes, not every frame).
    allowed: bool,
    /// The last answer to "List voices", filled by a thread so the editor never waits.
    health: Arc<Mutex<Option<Result<ServerHealth, String>>>>,
    note: Option<String>,
}

impl RemoteEnginePanel {
    pub fn show(&mut self, ui: &mut Ui, params: &RvcLiveParams, links: &RemoteLinks, active: bool, gui: &GuiContext) {
        let mut settings = params.remote.read().clone();
        let before = settings.clone();
        ui.horizontal(|ui| {
            ui.selectable_value(&mut settings.enabled, false, "This computer")
                .on_hover_text("The voice converts on this computer's CPU (or GPU)");
            ui.selectable_value(&mut settings.enabled, true, "Remote server")
                .on_hover_text("The voice converts on an `rvc-live serve` server; this computer only sends audio");
            if ui.button("Server…").clicked() {
                self.window_open = !self.window_open;
            }
        });
        self.status_line(ui, params, links, active, &settings, gui);
        if self.window_open {
            self.window(ui, params, &mut settings);
        }
        if settings != before {
            *params.remote.write() = settings;
        }
    }

    fn status_line(
        &self,
        ui: &mut Ui,
        params: &RvcLiveParams,
        links: &RemoteLinks,
        active: bool,
        settings: &RemoteEngineSettings,
        gui: &GuiContext,
    ) {
        let running = links.running();
        let running_enabled = running.as_ref().is_some_and(|r| r.enabled);
        if active && (running.as_ref() != Some(settings)) && (settings.enabled || running_enabled) {
            ui.horizontal(|ui| {
                ui.label(RichText::new("Applies when the host restarts the plugin").small().weak());
                if ui.small_button("Apply").clicked() {
                    stream_settings::apply(gui);
                }
            });
            return;
        }
        if !settings.enabled {
            ui.label(RichText::new("Converting on this computer").small().weak());
            return;
        }
        let slot = params.active_slot();
        let text = match links.slot(slot) {
            Some((voice, stats)) if stats.is_connected() => {
                let server = stats.server().unwrap_or_default();
                let round_trip = f64::from(stats.round_trip_us.load(std::sync::atomic::Ordering::Relaxed)) / 1000.0;
                let compute = f64::from(stats.compute_us.load(std::sync::atomic::Ordering::Relaxed)) / 1000.0;
                RichText::new(format!(
                    "{voice} on {server} · round trip {round_trip:.1} ms · {compute:.1} ms per block · network budget {:.0} ms",
                    links.budget_ms()
                ))
            }
            Some((_, stats)) => {
                RichText::new(stats.problem().unwrap_or_else(|| "Connecting…".into())).color(theme::BAD_TEXT)
            }
            None if active => RichText::new(format!("No server voice for slot {}", slot + 1)).weak(),
            None => RichText::new("Connects when the plugin starts").weak(),
        };
        ui.label(text.small());
    }

    fn window(&mut self, ui: &mut Ui, params: &RvcLiveParams, settings: &mut RemoteEngineSettings) {
        let address = settings.address.trim().to_owned();
        if self.loaded_for.as_deref() != Some(address.as_str()) {
            self.token = remote_servers::token_for(&address).unwrap_or_default();
            self.allowed = remote_servers::is_allowed(&address);
            self.loaded_for = Some(address.clone());
        }
        let slot = params.active_slot();
        let mut open = true;
        egui::Window::new("Remote server").open(&mut open).collapsible(false).resizable(false).show(ui.ctx(), |ui| {
            egui::Grid::new("remote-engine").num_columns(2).spacing(theme::GRID_SPACING).show(ui, |ui| {
                ui.label("Address");
                ui.add(egui::TextEdit::singleline(&mut settings.address).hint_text("host:7865").desired_width(220.0))
                    .on_hover_text("Saved with the project");
                ui.end_row();

                ui.label("Token");
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut self.token).password(true).desired_width(150.0));
                    let allow = ui
                        .add_enabled(!address.is_empty(), egui::Button::new("Allow"))
                        .on_hover_text("Let this plugin send your audio to this server, with this token");
                    if allow.clicked() {
                        self.note = Some(match remote_servers::allow(&address, &self.token) {
                            Ok(path) => format!("Allowed {address}; saved in {} (not in the project)", path.display()),
                            Err(e) => format!("Could not save: {e}"),
                        });
                        self.loaded_for = None;
                    }
                    if self.allowed
                        && ui
                            .button("Forget")
                            .on_hover_text("Stop streaming to this server until allowed again")
                            .clicked()
                    {
                        self.note = Some(match remote_servers::forget(&address) {
                            Ok(_) => format!("Forgot {address} and its token"),
                            Err(e) => format!("Could not save: {e}"),
                        });
                        self.loaded_for = None;
                    }
                });
                ui.end_row();

                ui.label(format!("Slot {} voice", slot + 1));
                ui.horizontal(|ui| {
                    let mut name = settings.voice(slot).unwrap_or_default().to_owned();
                    let voices = match &*self.health.lock() {
                        Some(Ok(health)) => health.voices.clone(),
                        _ => Vec::new(),
                    };
                    egui::ComboBox::from_id_salt("remote-voice")
                        .selected_text(if name.is_empty() { "none" } else { name.as_str() })
                        .width(150.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut name, String::new(), "none");
                            for voice in voices {
                                ui.selectable_value(&mut name, voice.clone(), voice);
                            }
                        });
                    if settings.voice(slot).unwrap_or_default() != name {
                        settings.set_voice(slot, &name);
                    }
                    if ui.button("List voices").clicked() {
                        self.list_voices(address.clone());
                    }
                });
                ui.end_row();
            });
            match &*self.health.lock() {
                Some(Ok(health)) => ui.label(
                    RichText::new(format!(
                        "rvc-live {} · {} of {} streams · {} voices",
                        health.version,
                        health.streams,
                        health.max_streams,
                        health.voices.len()
                    ))
                    .small()
                    .weak(),
                ),
                Some(Err(why)) => ui.label(RichText::new(why).small().color(theme::BAD_TEXT)),
                None => ui.label(RichText::new("List the server's voices to choose one").small().weak()),
            };
            if !address.is_empty() && !self.allowed {
                ui.label(
                    RichText::new("Not allowed yet: a project alone never sends your audio to another machine")
                        .small()
                        .color(theme::BAD_TEXT),
                );
            }
            if let Some(note) = &self.note {
                ui.label(RichText::new(note).small().weak());
            }
        });
        self.window_open = open;
    }

    fn list_voices(&self, address: String) {
        let answer = self.health.clone();
        *answer.lock() = None;
        let _ = std::thread::Builder::new().name("rvc-live-server-voices".into()).spawn(move || {
            *answer.lock() = Some(server_health(&address, HEALTH_TIMEOUT));
        });
    }
}
