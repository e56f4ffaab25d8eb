//! How hard the inference thread works: the last block's compute time over the block's duration
//! (the real-time factor), its peak, and how often converted audio came too late, with what to
//! change when it cannot keep up.

use std::sync::atomic::Ordering;

use egui::{Color32, RichText, Ui};

use rvc_live_engine::ConversionStats;
use rvc_live_engine::stream::StreamStats;

/// `remote`: the stream converts on a remote server, whose speed the advice is then about.
pub fn show(ui: &mut Ui, stats: &StreamStats, conversion: &ConversionStats, remote: bool, width: f32) {
    let load = stats.last_load();
    let peak = stats.peak_load();
    let underruns = stats.underruns.load(Ordering::Relaxed);
    let failed = conversion.failed.load(Ordering::Relaxed);

    ui.horizontal(|ui| {
        ui.add_sized([28.0, 16.0], egui::Label::new(RichText::new("Load").small()));
        // Above 1 the thread is slower than real time and the output falls back to dry.
        let colour = if peak >= 1.0 {
            Color32::from_rgb(0xe0, 0x4c, 0x4c)
        } else if peak >= 0.7 {
            Color32::from_rgb(0xe0, 0xb0, 0x3c)
        } else {
            Color32::from_rgb(0x3c, 0xb3, 0x71)
        };
        ui.add(
            egui::ProgressBar::new(load.clamp(0.0, 1.0))
                .desired_width(width)
                .desired_height(12.0)
                .fill(colour)
                .corner_radius(2),
        )
        .on_hover_text("Compute time per block over the block's duration; above 100 % the voice cannot keep up");
        ui.label(RichText::new(format!("{:.0} %, peak {:.0} %", load * 100.0, peak * 100.0)).small());
    });
    ui.horizontal(|ui| {
        ui.add_space(32.0);
        let late = RichText::new(format!("{underruns} underruns")).small();
        ui.label(if underruns > 0 { late.color(Color32::from_rgb(0xe0, 0xb0, 0x3c)) } else { late.weak() })
            .on_hover_text("Times converted audio came late and the output fell back to the dry input");
        ui.label(RichText::new("·").small().weak());
        let failed_text = RichText::new(format!("{failed} failed blocks")).small();
        ui.label(if failed > 0 { failed_text.color(Color32::from_rgb(0xe0, 0x4c, 0x4c)) } else { failed_text.weak() })
            .on_hover_text("Blocks the model could not convert; they played the input instead");
    });
    // The models run in float by default; a machine too slow for that at this block is told the
    // ways out (the fast one's cost is in its tooltip under Stream). A longer block helps only
    // where a block's compute grows by less than its length, which `cargo xtask bench` measures,
    // so it comes with the others.
    if load >= 1.0 || underruns > 0 {
        let advice = if remote {
            "Too slow for real time: try a longer block, Fast (approximate) under Stream, or a faster server."
        } else {
            "Too slow for real time here: try a longer block, Fast (approximate) under Stream, or a faster computer as a remote server under Engine."
        };
        ui.label(RichText::new(advice).small().color(Color32::from_rgb(0xe0, 0xb0, 0x3c)));
    }
}
