//! The editor window's size as the plugin opens it. The parameters persist the window's state
//! from the first instance on, so it lives below both them and the editor.

use std::sync::Arc;

use nice_plug::editor::dpi::LogicalSize;
use nice_plug_egui::EguiEditorState;

pub const WINDOW_WIDTH: f32 = 720.0;
pub const WINDOW_HEIGHT: f32 = 690.0;

/// The window's state for a new instance: the default size at scale 1.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(WINDOW_WIDTH, WINDOW_HEIGHT), 1.0)
}
