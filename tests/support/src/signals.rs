//! Test signals. Each is deterministic (seeded where random) so a subprocess and its parent test
//! can build the same input independently.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Silence with unit-ish impulses at `positions`; the amplitudes differ so a swapped pair of
/// impulses would be caught.
pub fn impulses(len: usize, positions: &[usize]) -> Vec<f32> {
    let mut x = vec![0.0; len];
    for (i, &p) in positions.iter().enumerate() {
        x[p] = 0.9 - 0.1 * (i % 5) as f32;
    }
    x
}

/// A logarithmic sweep from `f0` to `f1` Hz over `len` samples, with 5 ms fades so its ends do
/// not click.
pub fn chirp(len: usize, sample_rate: f64, f0: f64, f1: f64, amplitude: f32) -> Vec<f32> {
    let duration = len as f64 / sample_rate;
    let k = (f1 / f0).ln();
    let fade = ((0.005 * sample_rate) as usize).max(1);
    (0..len)
        .map(|n| {
            let t = n as f64 / sample_rate;
            let phase = 2.0 * std::f64::consts::PI * f0 * duration / k * ((t / duration * k).exp() - 1.0);
            let edge = (n.min(len - 1 - n) as f64 / fade as f64).min(1.0);
            (phase.sin() * edge) as f32 * amplitude
        })
        .collect()
}

pub fn sine(len: usize, sample_rate: f64, frequency: f64, amplitude: f32) -> Vec<f32> {
    let w = 2.0 * std::f64::consts::PI * frequency / sample_rate;
    (0..len).map(|n| ((w * n as f64).sin() as f32) * amplitude).collect()
}

/// Uniform white noise in `[-amplitude, amplitude]`.
pub fn noise(len: usize, seed: u64, amplitude: f32) -> Vec<f32> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-amplitude..=amplitude)).collect()
}

pub fn silence(len: usize) -> Vec<f32> {
    vec![0.0; len]
}

/// `x` preceded by `lead` samples of silence.
pub fn delayed(x: &[f32], lead: usize) -> Vec<f32> {
    let mut out = vec![0.0; lead];
    out.extend_from_slice(x);
    out
}

/// `x` shifted right by `delay` samples and cut to `len`: what a plugin with that latency plays.
pub fn shifted(x: &[f32], delay: usize, len: usize) -> Vec<f32> {
    (0..len).map(|n| if n >= delay { x.get(n - delay).copied().unwrap_or(0.0) } else { 0.0 }).collect()
}

/// The plugin's mono downmix: the average of the channels.
pub fn mono_mix(channels: &[Vec<f32>]) -> Vec<f32> {
    let len = channels.iter().map(Vec::len).min().unwrap_or(0);
    (0..len).map(|n| channels.iter().map(|c| c[n]).sum::<f32>() / channels.len() as f32).collect()
}

/// A voice-like tone at `amplitude`: six harmonics falling off as 1/k, what pitch models were
/// trained on (a bare low sine is out of FCPE's training distribution and reads a few percent
/// sharp). `frequency` gives the pitch in Hz at each sample, so the tone may glide.
pub fn harmonic_tone(frequency: impl Fn(usize) -> f64, samples: usize, rate: f64, amplitude: f32) -> Vec<f32> {
    let mut cycles = 0.0f64;
    (0..samples)
        .map(|n| {
            cycles += frequency(n) / rate;
            let phase = 2.0 * std::f64::consts::PI * cycles;
            (f64::from(amplitude) * (1..=6).map(|k| (k as f64 * phase).sin() / k as f64).sum::<f64>()) as f32
        })
        .collect()
}

/// 20 s at `rate` of a voice-like harmonic tone around 170 Hz whose pitch glides over ±4
/// semitones with a 5 Hz vibrato; with `pauses`, in phrases of 3.3 s out of every 4 s.
pub fn gliding_voice(rate: f32, pauses: bool) -> Vec<f32> {
    let rate = f64::from(rate);
    let seconds = |n: usize| n as f64 / rate;
    let pitch = |n: usize| {
        let t = seconds(n);
        let semitones =
            4.0 * (2.0 * std::f64::consts::PI * 0.07 * t).sin() + 0.3 * (2.0 * std::f64::consts::PI * 5.0 * t).sin();
        170.0 * 2f64.powf(semitones / 12.0)
    };
    let mut voice = harmonic_tone(pitch, (20.0 * rate) as usize, rate, 0.25);
    if pauses {
        for (n, sample) in voice.iter_mut().enumerate() {
            if seconds(n) % 4.0 >= 3.3 {
                *sample = 0.0;
            }
        }
    }
    voice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_moves_samples_later() {
        assert_eq!(shifted(&[1.0, 2.0, 3.0], 2, 5), vec![0.0, 0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn chirp_stays_within_its_amplitude_and_starts_silent() {
        let c = chirp(48_000, 48_000.0, 50.0, 10_000.0, 0.5);
        assert_eq!(c[0], 0.0);
        assert!(c.iter().all(|v| v.abs() <= 0.5));
        assert!(c.iter().any(|v| v.abs() > 0.49));
    }
}
