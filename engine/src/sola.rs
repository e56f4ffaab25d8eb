//! SOLA: joining consecutively converted blocks without a click.
//!
//! Each call of the synthesizer restarts its sine source's phase and draws new noise, so two
//! blocks never continue each other sample-exactly. RVC's real-time engine renders a little more
//! than a block (`crossfade + search` extra samples), finds the offset within the search range
//! where the new audio best matches the tail kept from the previous block (normalised
//! cross-correlation), and crossfades the two there with complementary sin² windows. The tail it
//! keeps back is what makes the processor's delay `crossfade + search`.

use crate::stream::block_processor::fade_in;

/// Joins blocks of `block` samples, each rendered with `crossfade + search` samples to spare.
pub struct Sola {
    block: usize,
    crossfade: usize,
    search: usize,
    /// The end of the previous rendering, to crossfade the next one into.
    tail: Vec<f32>,
    /// What the listener hears next, which the next rendering is aligned to: the tail itself,
    /// except after taking over from a predecessor that played (partly) the dry input.
    heard: Vec<f32>,
    fade_in: Vec<f32>,
}

impl Sola {
    pub fn new(block: usize, crossfade: usize, search: usize) -> Self {
        let fade_in = (0..crossfade).map(|i| fade_in(i, crossfade)).collect();
        Self { block, crossfade, search, tail: vec![0.0; crossfade], heard: vec![0.0; crossfade], fade_in }
    }

    /// Samples the synthesizer must render per block.
    pub fn rendered_len(&self) -> usize {
        self.block + self.crossfade + self.search
    }

    /// The delay SOLA adds: the tail it holds back.
    pub fn delay(&self) -> usize {
        self.crossfade + self.search
    }

    /// Align `rendered` (`rendered_len()` samples; the first `crossfade + search` of them overlap
    /// the previous block's tail) and write one block into `output`. Returns the offset into
    /// `rendered` the block was taken from.
    pub fn process(&mut self, rendered: &[f32], output: &mut [f32]) -> usize {
        debug_assert_eq!(rendered.len(), self.rendered_len());
        debug_assert_eq!(output.len(), self.block);
        let offset = self.best_offset(rendered);
        let aligned = &rendered[offset..offset + self.block + self.crossfade];
        output.copy_from_slice(&aligned[..self.block]);
        for ((y, &old), &w) in output.iter_mut().zip(&self.tail).zip(&self.fade_in) {
            *y = *y * w + old * (1.0 - w);
        }
        self.tail.copy_from_slice(&aligned[self.block..]);
        self.heard.copy_from_slice(&self.tail);
        offset
    }

    /// What the next block fades in from: the start of the output still to come.
    pub fn tail(&self) -> &[f32] {
        &self.tail
    }

    /// Fade the next block in from `pending` instead (a predecessor's output still to come), as
    /// when another voice hands the stream over, aligning it to `heard`: what the listener hears
    /// over those samples (`pending` itself, or the dry input where the predecessor passed it
    /// through), so a voice taking over from the user's own voice joins it in phase.
    pub fn continue_from(&mut self, pending: &[f32], heard: &[f32]) {
        for (into, from) in [(&mut self.tail, pending), (&mut self.heard, heard)] {
            let n = from.len().min(into.len());
            into.fill(0.0);
            into[..n].copy_from_slice(&from[..n]);
        }
    }

    pub fn reset(&mut self) {
        self.tail.fill(0.0);
        self.heard.fill(0.0);
    }

    fn best_offset(&self, rendered: &[f32]) -> usize {
        if self.crossfade == 0 || self.heard.iter().all(|&s| s == 0.0) {
            return 0;
        }
        let mut best = (f32::NEG_INFINITY, 0);
        for offset in 0..=self.search {
            let window = &rendered[offset..offset + self.crossfade];
            let (mut dot, mut energy) = (0.0f32, 0.0f32);
            for (&a, &b) in window.iter().zip(&self.heard) {
                dot += a * b;
                energy += a * a;
            }
            let score = dot / (energy + 1e-8).sqrt();
            if score > best.0 {
                best = (score, offset);
            }
        }
        best.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in synthesizer: renders a sine for the block's span, but starting `jitter` samples
    /// early or late, as a real one drifts in phase between calls.
    fn render(start: usize, len: usize, jitter: isize, period: f32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = start as isize + i as isize + jitter;
                (2.0 * std::f32::consts::PI * t as f32 / period).sin()
            })
            .collect()
    }

    #[test]
    fn phase_jumps_between_blocks_are_aligned_away() {
        let (block, crossfade, search) = (480, 160, 48);
        let mut sola = Sola::new(block, crossfade, search);
        let period = 73.3;
        let mut out = Vec::new();
        for (k, jitter) in [0isize, 11, -7, 23, 3, -19, 30, 0].into_iter().enumerate() {
            // Block k covers output samples from k*block, rendered from `delay` before them.
            let rendered = render(k * block, sola.rendered_len(), jitter - search as isize, period);
            let mut y = vec![0.0; block];
            sola.process(&rendered, &mut y);
            out.extend(y);
        }
        // After the first block, the output is one continuous sine: no step larger than the
        // sine's own plus a little crossfade ripple.
        let own_step = 2.0 * std::f32::consts::PI / period;
        let worst = out[block..].windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max);
        assert!(worst < own_step * 1.1, "largest step {worst} vs {own_step}");
    }

    /// Taking over from the dry input (nothing pending, weight 0): the new voice is aligned to
    /// what is heard, so a voice singing the input's own pitch joins it in phase.
    #[test]
    fn a_voice_taking_over_from_the_dry_input_aligns_to_it() {
        let (block, crossfade, search) = (480, 160, 48);
        let period = 37.0;
        let mut sola = Sola::new(block, crossfade, search);
        let heard = render(1000, crossfade, 0, period);
        sola.continue_from(&vec![0.0; crossfade], &heard);
        let jitter = 17;
        let rendered = render(1000, sola.rendered_len(), -jitter, period);
        let mut out = vec![0.0; block];
        let offset = sola.process(&rendered, &mut out);
        assert_eq!(offset, jitter as usize, "aligned to the dry input");
    }

    #[test]
    fn a_continuous_source_joins_exactly() {
        let (block, crossfade, search) = (100, 40, 10);
        let mut sola = Sola::new(block, crossfade, search);
        let signal: Vec<f32> = (0..2000).map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 0.5).collect();
        let mut out = Vec::new();
        for k in 0..10 {
            let rendered = &signal[k * block..k * block + sola.rendered_len()];
            let mut y = vec![0.0; block];
            let offset = sola.process(rendered, &mut y);
            if k > 0 {
                // Each rendering starts exactly where the previous block's tail did.
                assert_eq!(offset, 0, "block {k}");
            }
            out.extend(y);
        }
        // A continuous source comes out as itself once there is a tail to join.
        for (i, &y) in out.iter().enumerate().skip(block) {
            assert!((y - signal[i]).abs() < 1e-5, "sample {i}");
        }
    }
}
