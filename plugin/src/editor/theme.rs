//! Sizes and colours shared by the editor's sections, so they line up.

use egui::{Color32, RichText, Ui, Vec2};

/// Around the whole window.
pub const MARGIN: i8 = 10;
/// Between sections in a column.
pub const SECTION_GAP: f32 = 7.0;
/// Between a section's last row and what follows inside it.
pub const ROW_GAP: f32 = 4.0;
pub const GRID_SPACING: Vec2 = Vec2::new(10.0, 2.0);
/// Width of the label column in the right-hand grids, so the sliders line up across sections.
pub const LABEL_WIDTH: f32 = 100.0;

pub const BACKGROUND: Color32 = Color32::from_rgb(0x1e, 0x20, 0x24);
pub const PANEL: Color32 = Color32::from_rgb(0x27, 0x2a, 0x30);
pub const ACCENT: Color32 = Color32::from_rgb(0x5e, 0xa8, 0xf0);

pub const NEUTRAL: Color32 = Color32::from_rgb(0x3a, 0x3f, 0x48);
pub const BUSY: Color32 = Color32::from_rgb(0x8a, 0x6a, 0x1c);
pub const GOOD: Color32 = Color32::from_rgb(0x2c, 0x6e, 0x49);
pub const BAD: Color32 = Color32::from_rgb(0x8e, 0x2c, 0x2c);
/// Text saying something failed, readable on a panel.
pub const BAD_TEXT: Color32 = Color32::from_rgb(0xf0, 0x80, 0x80);

/// A section heading in the accent colour.
pub fn heading(ui: &mut Ui, text: &str) {
    ui.label(RichText::new(text).strong().size(13.5).color(ACCENT));
    ui.add_space(2.0);
}

/// A framed group holding one section, filling the column's width.
pub fn section<R>(ui: &mut Ui, title: &str, contents: impl FnOnce(&mut Ui) -> R) -> R {
    panel(ui, |ui| {
        heading(ui, title);
        contents(ui)
    })
}

/// A frame without a heading, for a section whose labels say enough.
pub fn panel<R>(ui: &mut Ui, contents: impl FnOnce(&mut Ui) -> R) -> R {
    egui::Frame::new()
        .fill(PANEL)
        .corner_radius(6)
        .inner_margin(egui::Margin::same(8))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            contents(ui)
        })
        .inner
}
