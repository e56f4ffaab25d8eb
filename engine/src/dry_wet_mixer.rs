//! The latency-compensated mixer: the dry signal is delayed by the plugin's latency so it lines up
//! with the converted one, for dry/wet, for the fallback when conversion is late, and for bypass.

use crate::delay_line::DelayLine;

/// The per-sample controls, already smoothed.
#[derive(Debug, Clone, Copy)]
pub struct MixControls {
    /// 0 = only the (delayed) dry input, 1 = only the converted voice.
    pub dry_wet: f32,
    /// Linear gain applied to the mix.
    pub output_gain: f32,
    /// 0 = active, 1 = bypassed (the delayed dry input, untouched by any gain).
    pub bypass: f32,
}

pub struct DryWetMixer {
    /// One delay per channel, each exactly the reported latency long.
    dry: Vec<DelayLine>,
}

impl DryWetMixer {
    pub fn new(channels: usize, latency: usize) -> Self {
        Self { dry: (0..channels).map(|_| DelayLine::new(latency)).collect() }
    }

    /// Mix one frame in place. `wet` is the converted mono sample, already multiplied by
    /// `wet_weight`, which says how much of the slot is converted audio; the rest comes from each
    /// channel's own dry input, so a late inference thread, a failed block or no voice at all is
    /// heard as the user's own signal, in time and with its channels as they were.
    #[inline]
    pub fn process_frame<'a>(
        &mut self,
        frame: impl Iterator<Item = &'a mut f32>,
        wet: f32,
        wet_weight: f32,
        controls: MixControls,
    ) {
        for (sample, delay) in frame.zip(self.dry.iter_mut()) {
            let dry = delay.process(*sample);
            let voice = wet + (1.0 - wet_weight) * dry;
            let active = controls.output_gain * (controls.dry_wet * voice + (1.0 - controls.dry_wet) * dry);
            *sample = controls.bypass * dry + (1.0 - controls.bypass) * active;
        }
    }

    pub fn reset(&mut self) {
        self.dry.iter_mut().for_each(DelayLine::reset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mixer: &mut DryWetMixer, input: &[[f32; 2]], wet: f32, weight: f32, controls: MixControls) -> Vec<[f32; 2]> {
        input
            .iter()
            .map(|frame| {
                let mut f = *frame;
                mixer.process_frame(f.iter_mut(), wet, weight, controls);
                f
            })
            .collect()
    }

    const ACTIVE: MixControls = MixControls { dry_wet: 1.0, output_gain: 1.0, bypass: 0.0 };

    #[test]
    fn dry_path_is_delayed_by_the_latency() {
        let mut mixer = DryWetMixer::new(2, 3);
        let input: Vec<[f32; 2]> = (1..=6).map(|i| [i as f32, -(i as f32)]).collect();
        let dry_only = MixControls { dry_wet: 0.0, ..ACTIVE };
        let out = run(&mut mixer, &input, 100.0, 1.0, dry_only);
        assert_eq!(out, vec![[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]);
    }

    #[test]
    fn missing_converted_audio_is_replaced_by_the_delayed_dry_signal() {
        let mut mixer = DryWetMixer::new(2, 1);
        let input = [[0.5, 0.25], [0.0, 0.0]];
        // Weight 0: nothing converted, so the (premultiplied) converted sample is 0.
        let out = run(&mut mixer, &input, 0.0, 0.0, ACTIVE);
        assert_eq!(out[1], [0.5, 0.25], "each channel as it came in, not a mono mix");
    }

    #[test]
    fn a_partial_weight_fills_the_rest_of_each_channel_from_its_own_dry_input() {
        let mut mixer = DryWetMixer::new(2, 0);
        // Converted 0.6 at weight 0.5 (premultiplied: 0.3), dry 0.5 and -0.5.
        let out = run(&mut mixer, &[[0.5, -0.5]], 0.3, 0.5, ACTIVE);
        assert!((out[0][0] - 0.55).abs() < 1e-6 && (out[0][1] - 0.05).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn bypass_ignores_gain_and_conversion() {
        let mut mixer = DryWetMixer::new(2, 0);
        let controls = MixControls { dry_wet: 1.0, output_gain: 4.0, bypass: 1.0 };
        assert_eq!(run(&mut mixer, &[[0.5, -0.5]], 9.0, 1.0, controls), vec![[0.5, -0.5]]);
    }

    #[test]
    fn output_gain_scales_the_mix() {
        let mut mixer = DryWetMixer::new(2, 0);
        let controls = MixControls { dry_wet: 0.5, output_gain: 2.0, bypass: 0.0 };
        // 2 * (0.5 * 1.0 + 0.5 * 0.25)
        assert_eq!(run(&mut mixer, &[[0.25, 0.25]], 1.0, 1.0, controls), vec![[1.25, 1.25]]);
    }
}
