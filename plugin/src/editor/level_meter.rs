//! Horizontal peak meters for the input and output levels.
//!
//! The audio thread only raises an atomic peak (see [`crate::meters`]); the falling edge lives
//! here, so that the audio thread does no more than a compare and a store, and the meter falls at
//! the same speed whatever the host's buffer size.

use std::time::Instant;

use egui::{Color32, Rect, RichText, Sense, Stroke, Ui, vec2};

use super::theme;
use crate::meters::PeakMeter;

/// The bottom of the scale.
const FLOOR_DB: f32 = -60.0;
/// How fast the bar falls after a peak, like a PPM's return.
const FALL_DB_PER_SECOND: f32 = 24.0;
/// The peak-hold tick stays this long before falling.
const HOLD_SECONDS: f32 = 1.0;

/// One meter's displayed state, owned by the editor.
pub struct LevelMeter {
    level_db: f32,
    hold_db: f32,
    hold_since: Instant,
    last_frame: Instant,
}

impl Default for LevelMeter {
    fn default() -> Self {
        let now = Instant::now();
        Self { level_db: FLOOR_DB, hold_db: FLOOR_DB, hold_since: now, last_frame: now }
    }
}

impl LevelMeter {
    /// Read the peak since the last frame and draw the meter, `width` wide.
    pub fn show(&mut self, ui: &mut Ui, label: &str, source: &PeakMeter, width: f32) {
        let now = Instant::now();
        let dt = now.duration_since(self.last_frame).as_secs_f32().min(0.25);
        self.last_frame = now;

        let peak = source.take();
        let peak_db = if peak > 0.0 { 20.0 * peak.log10() } else { FLOOR_DB };
        self.level_db = peak_db.max(self.level_db - FALL_DB_PER_SECOND * dt).max(FLOOR_DB);
        if peak_db >= self.hold_db || now.duration_since(self.hold_since).as_secs_f32() > HOLD_SECONDS {
            self.hold_db = self.level_db.max(peak_db);
            self.hold_since = now;
        }

        ui.horizontal(|ui| {
            ui.add_sized([28.0, 16.0], egui::Label::new(RichText::new(label).small()));
            let (rect, _) = ui.allocate_exact_size(vec2(width, 12.0), Sense::hover());
            self.paint(ui, rect);
            let text = if self.hold_db <= FLOOR_DB { "-inf".to_owned() } else { format!("{:+.1}", self.hold_db) };
            ui.add_sized([64.0, 16.0], egui::Label::new(RichText::new(format!("{text:>5} dB")).small().monospace()));
        });
    }

    fn paint(&self, ui: &Ui, rect: Rect) {
        let painter = ui.painter();
        painter.rect_filled(rect, 2, theme::BACKGROUND);
        let x = |db: f32| rect.left() + rect.width() * ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
        // Green up to -18 dBFS (a healthy speaking level), amber to -6, red above.
        for (from, to, colour) in [
            (FLOOR_DB, -18.0, Color32::from_rgb(0x3c, 0xb3, 0x71)),
            (-18.0, -6.0, Color32::from_rgb(0xe0, 0xb0, 0x3c)),
            (-6.0, 0.0, Color32::from_rgb(0xe0, 0x4c, 0x4c)),
        ] {
            let right = x(self.level_db.min(to));
            if self.level_db > from && right > x(from) {
                let bar = Rect::from_min_max(egui::pos2(x(from), rect.top()), egui::pos2(right, rect.bottom()));
                painter.rect_filled(bar, 0, colour);
            }
        }
        if self.hold_db > FLOOR_DB {
            let hold = x(self.hold_db);
            painter.line_segment(
                [egui::pos2(hold, rect.top()), egui::pos2(hold, rect.bottom())],
                Stroke::new(2.0, Color32::WHITE),
            );
        }
        painter.rect_stroke(rect, 2, Stroke::new(1.0, theme::NEUTRAL), egui::StrokeKind::Inside);
    }
}
