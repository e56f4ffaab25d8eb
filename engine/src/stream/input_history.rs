//! The stream's recent input: the one copy every processor converts from.
//!
//! The inference thread keeps it and appends each block before the processor runs, so a processor
//! reads its whole window (context included) from here instead of keeping its own copy, and a voice
//! swapped in mid-stream starts from the same samples the one it replaces was converting.

/// The newest input samples at the host rate, oldest first; zeros before the stream's start.
/// The default keeps nothing (and allocates nothing).
#[derive(Default)]
pub struct InputHistory {
    samples: Vec<f32>,
}

impl InputHistory {
    /// Keep the newest `len` samples. Allocates; build it off the audio and inference threads'
    /// per-block paths.
    pub fn new(len: usize) -> Self {
        Self { samples: vec![0.0; len] }
    }

    /// Append a block that arrives in two pieces (a ring buffer's two slices), dropping as many of
    /// the oldest samples.
    pub fn push_split(&mut self, first: &[f32], second: &[f32]) {
        let n = first.len() + second.len();
        if n >= self.samples.len() {
            // Only the newest samples fit; taken from the end of the two pieces together.
            let len = self.samples.len();
            let from_second = second.len().min(len);
            let from_first = len - from_second;
            self.samples[..from_first].copy_from_slice(&first[first.len() - from_first..]);
            self.samples[from_first..].copy_from_slice(&second[second.len() - from_second..]);
            return;
        }
        let keep = self.samples.len() - n;
        self.samples.copy_within(n.., 0);
        self.samples[keep..keep + first.len()].copy_from_slice(first);
        self.samples[keep + first.len()..].copy_from_slice(second);
    }

    /// Append `block`, dropping as many of the oldest samples.
    pub fn push(&mut self, block: &[f32]) {
        self.push_split(block, &[]);
    }

    /// Everything kept, newest last.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// The newest `n` samples, or all of them where fewer are kept.
    pub fn newest(&self, n: usize) -> &[f32] {
        &self.samples[self.samples.len().saturating_sub(n)..]
    }

    /// The newest `n` samples, to process in place (as a denoiser does the block it just got).
    pub fn newest_mut(&mut self, n: usize) -> &mut [f32] {
        let from = self.samples.len().saturating_sub(n);
        &mut self.samples[from..]
    }

    /// The sample `back` samples before the end (1 is the newest); zero before what is kept.
    pub fn back(&self, back: usize) -> f32 {
        self.samples.len().checked_sub(back).map_or(0.0, |i| self.samples[i])
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Forget everything, as after a transport jump.
    pub fn clear(&mut self) {
        self.samples.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_append_at_the_end_and_push_the_oldest_out() {
        let mut history = InputHistory::new(5);
        history.push(&[1.0, 2.0]);
        assert_eq!(history.samples(), &[0.0, 0.0, 0.0, 1.0, 2.0]);
        history.push_split(&[3.0], &[4.0, 5.0]);
        assert_eq!(history.samples(), &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(history.newest(2), &[4.0, 5.0]);
        assert_eq!(history.newest(9), history.samples());
        assert_eq!((history.back(1), history.back(5), history.back(6)), (5.0, 1.0, 0.0));
    }

    #[test]
    fn a_block_longer_than_the_history_keeps_its_newest_samples() {
        let mut history = InputHistory::new(3);
        history.push_split(&[1.0, 2.0], &[3.0, 4.0]);
        assert_eq!(history.samples(), &[2.0, 3.0, 4.0]);
        history.push_split(&[5.0, 6.0, 7.0, 8.0], &[]);
        assert_eq!(history.samples(), &[6.0, 7.0, 8.0]);
        history.push_split(&[9.0], &[10.0, 11.0, 12.0]);
        assert_eq!(history.samples(), &[10.0, 11.0, 12.0]);
        history.clear();
        assert_eq!(history.samples(), &[0.0; 3]);
    }
}
