//! `rvc-live-bench slot-memory`: what each voice slot costs in resident memory, loaded as the
//! plugin loads slots (the content encoder and pitch model shared through [`SharedModels`])
//! against the reference, every voice loading its own. Each way runs in a process of its own, so
//! neither starts with pages the other freed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use rvc_live_engine::stream::StreamSettings;
use rvc_live_engine::{ConversionControls, ConversionStats, RvcProcessor, SharedModels, VoiceSelection};
use serde::{Deserialize, Serialize};

use super::{HOST_BUFFER, HOST_RATE};

/// What one way of loading measured: resident MiB before any voice, then after each slot loaded.
#[derive(Debug, Serialize, Deserialize)]
pub struct SlotMemory {
    pub before_mib: f64,
    pub after_slot_mib: Vec<f64>,
}

/// The models to fill the slots with: `voices` in turn, each with the same encoder and pitch model.
pub struct SlotModels {
    pub voices: Vec<PathBuf>,
    pub content_encoder: PathBuf,
    pub pitch_model: Option<PathBuf>,
    pub slots: usize,
    pub threads: usize,
}

impl SlotModels {
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--content-encoder".into(), self.content_encoder.display().to_string()];
        for voice in &self.voices {
            args.extend(["--voice".into(), voice.display().to_string()]);
        }
        if let Some(pitch) = &self.pitch_model {
            args.extend(["--pitch-model".into(), pitch.display().to_string()]);
        }
        args.extend(["--slots".into(), self.slots.to_string(), "--threads".into(), self.threads.to_string()]);
        args
    }
}

fn resident_mib() -> Result<f64, String> {
    let stats = memory_stats::memory_stats().ok_or("this system does not report resident memory")?;
    Ok(stats.physical_mem as f64 / (1024.0 * 1024.0))
}

/// In this process: load every slot one way and print what it cost as JSON.
pub fn measure(models: &SlotModels, shared: bool) -> Result<(), String> {
    let settings = StreamSettings::default();
    let geometry = RvcProcessor::stream_geometry(&settings, HOST_RATE as f32, HOST_BUFFER);
    let before_mib = resident_mib()?;
    let cache = SharedModels::default();
    let mut loaded = Vec::new();
    let mut after_slot_mib = Vec::new();
    for slot in 0..models.slots {
        let voice = VoiceSelection {
            synthesizer: Some(models.voices[slot % models.voices.len()].clone()),
            content_encoder: Some(models.content_encoder.clone()),
            pitch_model: models.pitch_model.clone(),
            ..Default::default()
        };
        let stats = Arc::new(ConversionStats::default());
        let controls = Arc::new(ConversionControls::default);
        let own = SharedModels::default();
        let models_from = if shared { &cache } else { &own };
        let processor =
            RvcProcessor::load_sharing(&voice, &geometry, &settings, controls, stats, models.threads, models_from)
                .map_err(|e| format!("slot {}: {e}", slot + 1))?;
        loaded.push(processor);
        after_slot_mib.push(resident_mib()?);
    }
    let report = SlotMemory { before_mib, after_slot_mib };
    println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
    Ok(())
}

/// Both ways, each in a child process, and the table.
pub fn run(models: &SlotModels) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = |way: &str| -> Result<SlotMemory, String> {
        let output = Command::new(&exe)
            .args(["slot-memory", "--measure", way])
            .args(models.args())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if !output.status.success() {
            return Err(format!("measuring {way}: {}", String::from_utf8_lossy(&output.stderr)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().ok_or_else(|| format!("measuring {way} printed nothing"))?;
        serde_json::from_str(line).map_err(|e| format!("measuring {way}: {e}: {line}"))
    };
    let shared = child("shared")?;
    let separate = child("separate")?;
    let names: Vec<_> =
        models.voices.iter().map(|v| v.file_name().unwrap_or(v.as_os_str()).to_string_lossy()).collect();
    println!(
        "{} slots of {} with {}: resident memory after each slot loaded, MiB (added by that slot in brackets)",
        models.slots,
        names.join(", "),
        models.content_encoder.file_name().unwrap_or(models.content_encoder.as_os_str()).to_string_lossy()
    );
    println!("{:>5} {:>22} {:>26}", "slot", "shared (the plugin)", "own models (reference)");
    let mut last = (shared.before_mib, separate.before_mib);
    for (slot, (&s, &r)) in shared.after_slot_mib.iter().zip(&separate.after_slot_mib).enumerate() {
        println!("{:>5} {:>12.0} ({:>+6.0}) {:>16.0} ({:>+6.0})", slot + 1, s, s - last.0, r, r - last.1);
        last = (s, r);
    }
    let extra = |m: &SlotMemory| {
        let n = m.after_slot_mib.len();
        if n < 2 { 0.0 } else { (m.after_slot_mib[n - 1] - m.after_slot_mib[0]) / (n - 1) as f64 }
    };
    println!(
        "each slot after the first: {:.0} MiB shared, {:.0} MiB with its own models",
        extra(&shared),
        extra(&separate)
    );
    Ok(())
}
