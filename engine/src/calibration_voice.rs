//! The voice the int8 copies are calibrated on, made on the spot: no recording ships with the plugin.
//!
//! Calibration needs the models to see the range of what a performance gives it: low and high
//! pitch, open and closed vowels, quiet and loud, and breath. A glottal-pulse-like harmonic series
//! (−6 dB per octave) through three vowel resonances does that, with its pitch sweeping 70–450 Hz
//! (covering a ±12-semitone shift of most voices), its level stepping over 27 dB up to a peak of
//! [`PEAK`], and noise bursts between phrases.

use std::f64::consts::TAU;

/// First and second formant of /a/, /i/, /u/ in Hz, and their bandwidths.
const VOWELS: [(f64, f64); 3] = [(800.0, 1200.0), (300.0, 2300.0), (320.0, 800.0)];
const FORMANT_BANDWIDTH: f64 = 120.0;
const PHRASE_SECONDS: f64 = 0.45;
const BREATH_SECONDS: f64 = 0.08;
const LEVELS_DB: [f64; 4] = [-30.0, -18.0, -9.0, -3.0];

/// The loudest phrase's peak: a hot microphone. Calibrating on less clips louder input later.
const PEAK: f32 = 0.95;

/// `seconds` of the calibration voice at `rate`.
pub fn render(rate: u32, seconds: f64) -> Vec<f32> {
    let rate_f = f64::from(rate);
    let total = (seconds * rate_f) as usize;
    let mut out = Vec::with_capacity(total);
    let mut phase = 0.0f64;
    let mut noise = 0x1234_5678_u32;
    let cycle = PHRASE_SECONDS + BREATH_SECONDS;
    for n in 0..total {
        let t = n as f64 / rate_f;
        let phrase = (t / cycle) as usize;
        let within = t - phrase as f64 * cycle;
        let gain = 10f64.powf(LEVELS_DB[phrase % LEVELS_DB.len()] / 20.0);
        if within >= PHRASE_SECONDS {
            // Breath: white noise 20 dB under the phrase.
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            out.push(((f64::from(noise) / f64::from(u32::MAX) * 2.0 - 1.0) * gain * 0.1) as f32);
            continue;
        }
        // Pitch glides geometrically across the whole file and back, so every phrase has its own.
        let sweep = (t / seconds * TAU).cos() * -0.5 + 0.5;
        let f0 = 70.0 * (450.0f64 / 70.0).powf(sweep);
        phase = (phase + f0 / rate_f).fract();
        let (f1, f2) = VOWELS[phrase % VOWELS.len()];
        let mut sample = 0.0;
        let mut harmonic = 1.0;
        while harmonic * f0 < (rate_f / 2.0).min(5000.0) {
            let f = harmonic * f0;
            let resonance = |formant: f64| 1.0 / (1.0 + ((f - formant) / FORMANT_BANDWIDTH).powi(2));
            let amplitude = (0.15 + resonance(f1) + 0.5 * resonance(f2)) / harmonic;
            sample += amplitude * (TAU * harmonic * phase).sin();
            harmonic += 1.0;
        }
        // Soft phrase edges, as a voice starts and stops.
        let edge = (within / 0.03).min((PHRASE_SECONDS - within) / 0.03).min(1.0);
        out.push((sample * gain * edge) as f32);
    }
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        out.iter_mut().for_each(|v| *v *= PEAK / peak);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_spans_its_levels_and_stays_in_range() {
        let voice = render(48_000, 2.4);
        assert_eq!(voice.len(), 115_200);
        let peak = voice.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - PEAK).abs() < 1e-6, "peak {peak}");
        let phrase = ((PHRASE_SECONDS + BREATH_SECONDS) * 48_000.0) as usize;
        let rms = |s: &[f32]| (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
        let quiet = rms(&voice[..phrase]);
        let loud = rms(&voice[3 * phrase..4 * phrase]);
        assert!(loud / quiet > 10.0, "quiet {quiet}, loud {loud}");
    }
}
