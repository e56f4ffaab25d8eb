//! The demo voice through the CLAP bundle in clack-host: three sung vowels go in, and what comes
//! out must be the same three vowels — each segment's spectral envelope close to its own input's
//! and far from the other vowels' — at the pitch the Pitch parameter asks for; with the Formant
//! parameter, the envelope moves by its ratio and the pitch stays.

use rvc_live_hosts::blocks::RandomBlocks;
use rvc_live_hosts::fft::fft;
use rvc_live_hosts::fixtures::offline_host_with_voice;
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::state::VoiceSelection;
use rvc_live_hosts::{AudioConfig, Pace};
use rvc_live_test_support::models::demo;

const RATE: f64 = 48_000.0;
const F0: f64 = 140.0;
const SEMITONES: f32 = 7.0;
/// Formant frequencies and bandwidths (Hz) of three vowels far apart in the vowel chart.
const VOWELS: [(&str, [(f64, f64); 3]); 3] = [
    ("a", [(730.0, 90.0), (1090.0, 110.0), (2440.0, 160.0)]),
    ("i", [(270.0, 60.0), (2290.0, 120.0), (3010.0, 200.0)]),
    ("u", [(300.0, 60.0), (870.0, 90.0), (2240.0, 150.0)]),
];
const LEAD: f64 = 0.6;
const SEGMENT: f64 = 1.5;
/// The analysed part of each segment: past the voice's take-over, before the next vowel.
const ANALYSED: std::ops::Range<f64> = 0.5..1.3;

/// Harmonics of F0 up to 7.5 kHz, each weighted by the vowel's resonances.
fn vowel(formants: &[(f64, f64); 3], seconds: f64, phase: &mut f64) -> Vec<f32> {
    let envelope = |f: f64| {
        0.01 + formants
            .iter()
            .enumerate()
            .map(|(i, (centre, width))| (0.7f64).powi(i as i32) / (1.0 + ((f - centre) / width).powi(2)))
            .sum::<f64>()
    };
    let harmonics: Vec<(f64, f64)> =
        (1..).map(|k| k as f64 * F0).take_while(|f| *f < 7500.0).map(|f| (f, envelope(f))).collect();
    let scale = 0.25 / harmonics.iter().map(|(_, a)| a).sum::<f64>().max(1.0).sqrt();
    (0..(seconds * RATE) as usize)
        .map(|_| {
            *phase += F0 / RATE;
            let p = 2.0 * std::f64::consts::PI * *phase;
            (scale * harmonics.iter().map(|(f, a)| a * (p * f / F0).sin()).sum::<f64>()) as f32
        })
        .collect()
}

/// Mean power spectrum (Hann windows of 4096 samples, half overlapping) in 400 Hz bands from
/// 200 Hz to 7 kHz, in dB: wide enough that every band holds harmonics at either pitch.
fn band_levels(signal: &[f32]) -> Vec<f64> {
    const N: usize = 4096;
    let mut power = vec![0.0; N / 2];
    let mut frames = 0;
    for start in (0..signal.len().saturating_sub(N)).step_by(N / 2) {
        let mut re: Vec<f64> = (0..N)
            .map(|n| {
                let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N as f64).cos();
                w * f64::from(signal[start + n])
            })
            .collect();
        let mut im = vec![0.0; N];
        fft(&mut re, &mut im, false);
        for (bin, p) in power.iter_mut().enumerate() {
            *p += re[bin] * re[bin] + im[bin] * im[bin];
        }
        frames += 1;
    }
    assert!(frames > 0, "too short to analyse");
    let hz_per_bin = RATE / N as f64;
    (0..17)
        .map(|band| {
            let (lo, hi) = (200.0 + 400.0 * band as f64, 600.0 + 400.0 * band as f64);
            let bins = (lo / hz_per_bin).ceil() as usize..(hi / hz_per_bin).ceil() as usize;
            let mean = power[bins.clone()].iter().sum::<f64>() / (bins.len() * frames) as f64;
            10.0 * (mean + 1e-20).log10()
        })
        .collect()
}

/// How far apart two envelopes' shapes are: the RMS over bands of their difference in dB, less its
/// mean (the level is checked apart).
fn shape_distance(a: &[f64], b: &[f64]) -> f64 {
    let difference: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = difference.iter().sum::<f64>() / difference.len() as f64;
    (difference.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / difference.len() as f64).sqrt()
}

/// The fundamental of a harmonic signal: the first autocorrelation peak within 10 % of the
/// highest between 60 and 600 Hz (so a period's multiples are not taken for it), refined by a
/// parabola through its neighbours.
fn fundamental(signal: &[f32]) -> f64 {
    let x: Vec<f64> = signal.iter().map(|v| f64::from(*v)).collect();
    let (shortest, longest) = ((RATE / 600.0) as usize, (RATE / 60.0) as usize);
    let n = x.len() - longest - 1;
    let energy: f64 = x[..n].iter().map(|v| v * v).sum();
    let r: Vec<f64> =
        (0..=longest + 1).map(|lag| x[..n].iter().zip(&x[lag..]).map(|(a, b)| a * b).sum::<f64>() / energy).collect();
    let highest = r[shortest..=longest].iter().copied().fold(f64::MIN, f64::max);
    let lag =
        (shortest..=longest).find(|&l| r[l] >= 0.9 * highest && r[l] >= r[l - 1] && r[l] >= r[l + 1]).expect("a peak");
    let (a, b, c) = (r[lag - 1], r[lag], r[lag + 1]);
    let offset = 0.5 * (a - c) / (a - 2.0 * b + c);
    RATE / (lag as f64 + offset)
}

/// The three vowels, after a silent lead, converted by the demo voice in clack-host with the
/// Pitch and Formant parameters set. Returns the input and the output channels, the output
/// already shifted back by the reported latency.
fn converted_vowels(semitones: f32, formant: f32) -> (Vec<f32>, Vec<Vec<f32>>) {
    let voice = VoiceSelection {
        synthesizer: Some(demo("demo_synth_v2_40k.onnx")),
        content_encoder: Some(demo("demo_content_envelope.onnx")),
        ..Default::default()
    };
    let mut host = offline_host_with_voice(&voice, &[("pitch", semitones), ("formant", formant)]);
    host.activate(AudioConfig::new(RATE, 512)).unwrap();
    let latency = host.latency().unwrap() as usize;
    // A voice changes only the worker budget: what its blocks measured, at most a block.
    ExpectedLatency::defaults(RATE, 512).with_measured_budget(latency);

    let mut phase = 0.0;
    let mut input = vec![0.0f32; (LEAD * RATE) as usize];
    for (_, formants) in &VOWELS {
        input.extend(vowel(formants, SEGMENT, &mut phase));
    }
    let padded: Vec<f32> = input.iter().copied().chain(std::iter::repeat_n(0.0, latency)).collect();
    let output =
        host.process_signal(&[padded.clone(), padded], &mut RandomBlocks::new(21, 512), Pace::Unpaced).unwrap();
    for channel in &output {
        assert!(channel.iter().all(|v| v.is_finite()));
    }
    (input, output.into_iter().map(|channel| channel[latency..].to_vec()).collect())
}

/// The analysed part of vowel `k` in a signal aligned with the input.
fn segment(signal: &[f32], k: usize) -> &[f32] {
    let at = |t: f64| ((LEAD + k as f64 * SEGMENT + t) * RATE) as usize;
    &signal[at(ANALYSED.start)..at(ANALYSED.end)]
}

#[test]
fn the_demo_voice_speaks_each_vowel_at_the_shifted_pitch() {
    let (input, output) = converted_vowels(SEMITONES, 0.0);
    let inputs: Vec<Vec<f64>> = (0..VOWELS.len()).map(|k| band_levels(segment(&input, k))).collect();
    let expected_f0 = F0 * 2f64.powf(f64::from(SEMITONES) / 12.0);
    for channel in &output {
        for (k, (name, _)) in VOWELS.iter().enumerate() {
            let heard = segment(channel, k);
            let levels = band_levels(heard);
            let own = shape_distance(&levels, &inputs[k]);
            let nearest_other = (0..VOWELS.len())
                .filter(|&j| j != k)
                .map(|j| shape_distance(&levels, &inputs[j]))
                .fold(f64::INFINITY, f64::min);
            let level = levels.iter().sum::<f64>() / levels.len() as f64
                - inputs[k].iter().sum::<f64>() / inputs[k].len() as f64;
            let f0 = fundamental(heard);
            eprintln!(
                "/{name}/: envelope {own:.1} dB from its input, {nearest_other:.1} dB from the nearest other vowel; \
                 level {level:+.1} dB; pitch {f0:.2} Hz (expected {expected_f0:.2})"
            );
            assert!(own < 3.0, "/{name}/: the envelope is {own:.1} dB (RMS over bands) from the input's");
            assert!(
                own < 0.6 * nearest_other,
                "/{name}/: the envelope is {own:.1} dB from its own vowel's, {nearest_other:.1} dB from another's"
            );
            assert!(level.abs() < 1.5, "/{name}/: {level:+.1} dB from the input's level");
            assert!((f0 / expected_f0 - 1.0).abs() < 0.002, "/{name}/: pitch {f0:.2} Hz, expected {expected_f0:.2}");
        }
    }
}

/// Mean power spectrum (as [`band_levels`]) smoothed over 300 Hz, in dB, every 10 Hz from
/// 200 Hz to 6 kHz: the envelope at a resolution that shows where the formants are.
fn envelope_db(signal: &[f32]) -> Vec<f64> {
    const N: usize = 4096;
    let mut power = vec![0.0; N / 2];
    for start in (0..signal.len() - N).step_by(N / 2) {
        let mut re: Vec<f64> = (0..N)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N as f64).cos()) * f64::from(signal[start + n])
            })
            .collect();
        let mut im = vec![0.0; N];
        fft(&mut re, &mut im, false);
        for (bin, p) in power.iter_mut().enumerate() {
            *p += re[bin] * re[bin] + im[bin] * im[bin];
        }
    }
    let hz_per_bin = RATE / N as f64;
    (20..600)
        .map(|step| {
            let centre = step as f64 * 10.0;
            let bins =
                ((centre - 150.0) / hz_per_bin).round() as usize..((centre + 150.0) / hz_per_bin).round() as usize;
            10.0 * (power[bins.clone()].iter().sum::<f64>() / bins.len() as f64 + 1e-20).log10()
        })
        .collect()
}

/// The frequency ratio that maps `input`'s envelope onto `output`'s best: the ratio r (0.7–1.4,
/// steps of 0.005) minimising the RMS difference, less its mean, between the output's envelope
/// at f and the input's at f / r over 300 Hz–4 kHz.
fn envelope_ratio(input: &[f64], output: &[f64]) -> f64 {
    let at = |envelope: &[f64], hz: f64| {
        let x = ((hz - 200.0) / 10.0).clamp(0.0, (envelope.len() - 1) as f64);
        let (i, frac) = (x.floor() as usize, x.fract());
        envelope[i] * (1.0 - frac) + envelope[(i + 1).min(envelope.len() - 1)] * frac
    };
    let distance = |r: f64| {
        let differences: Vec<f64> =
            (30..400).map(|s| s as f64 * 10.0).map(|hz| at(output, hz) - at(input, hz / r)).collect();
        let mean = differences.iter().sum::<f64>() / differences.len() as f64;
        differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>()
    };
    (0..=140).map(|i| 0.7 + 0.005 * i as f64).min_by(|a, b| distance(*a).total_cmp(&distance(*b))).unwrap()
}

#[test]
fn the_formant_parameter_moves_the_envelope_and_keeps_the_pitch() {
    for formant in [3.0f32, -3.0] {
        let (input, output) = converted_vowels(0.0, formant);
        let expected = 2f64.powf(f64::from(formant) / 12.0);
        for (k, (name, _)) in VOWELS.iter().enumerate() {
            let heard = segment(&output[0], k);
            let ratio = envelope_ratio(&envelope_db(segment(&input, k)), &envelope_db(heard));
            let f0 = fundamental(heard);
            eprintln!(
                "{formant:+} st, /{name}/: envelope moved by {ratio:.3} (expected {expected:.3}); pitch {f0:.2} Hz"
            );
            assert!(
                (ratio / expected - 1.0).abs() < 0.02,
                "{formant:+} st, /{name}/: the envelope moved by {ratio:.3}"
            );
            assert!((f0 / F0 - 1.0).abs() < 0.005, "{formant:+} st, /{name}/: the pitch moved to {f0:.2} Hz");
        }
    }
}
