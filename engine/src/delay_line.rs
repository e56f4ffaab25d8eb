//! A fixed delay for one channel, sample by sample.

/// Delays a signal by a fixed number of samples. The buffer is sized once, so pushing samples never
/// allocates.
pub struct DelayLine {
    buffer: Vec<f32>,
    /// Index of the slot the next sample goes into.
    write: usize,
}

impl DelayLine {
    pub fn new(delay: usize) -> Self {
        Self { buffer: vec![0.0; delay + 1], write: 0 }
    }

    /// Push one sample and get back the one pushed `delay` samples ago (silence at first).
    #[inline]
    pub fn process(&mut self, sample: f32) -> f32 {
        self.buffer[self.write] = sample;
        let len = self.buffer.len();
        // `write + 1` is the oldest slot: with `delay + 1` slots it holds the sample from exactly
        // `delay` pushes ago.
        let read = if self.write + 1 == len { 0 } else { self.write + 1 };
        self.write = read;
        self.buffer[read]
    }

    pub fn reset(&mut self) {
        self.buffer.fill(0.0);
        self.write = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_exactly_the_given_samples() {
        for delay in [0, 1, 7, 64] {
            let mut line = DelayLine::new(delay);
            let out: Vec<f32> = (0..200).map(|i| line.process(i as f32 + 1.0)).collect();
            for (i, &y) in out.iter().enumerate() {
                let expected = if i >= delay { (i - delay) as f32 + 1.0 } else { 0.0 };
                assert_eq!(y, expected, "delay {delay}, sample {i}");
            }
        }
    }

    #[test]
    fn reset_clears_history() {
        let mut line = DelayLine::new(3);
        for _ in 0..5 {
            line.process(1.0);
        }
        line.reset();
        assert_eq!(line.process(0.0), 0.0);
        assert_eq!(line.process(0.0), 0.0);
    }
}
