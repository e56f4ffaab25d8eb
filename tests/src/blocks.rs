//! Host buffer sizes. Hosts like FL Studio change the buffer size on every call, which is where
//! latency bookkeeping goes wrong, so the main sequence here never repeats a size twice in a row.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Log-uniform sizes in `1..=max`, never the same twice in a row: tiny buffers (1, 2, 3 samples)
/// come up as often as large ones, which uniform sizes would almost never produce.
pub struct RandomBlocks {
    rng: SmallRng,
    max: usize,
    previous: usize,
}

impl RandomBlocks {
    pub fn new(seed: u64, max: usize) -> Self {
        assert!(max >= 2, "sizes cannot change on every call with max {max}");
        Self { rng: SmallRng::seed_from_u64(seed), max, previous: 0 }
    }
}

impl Iterator for RandomBlocks {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let size = (self.rng.random_range(0.0..=(self.max as f64).ln()).exp().round() as usize).clamp(1, self.max);
            if size != self.previous {
                self.previous = size;
                return Some(size);
            }
        }
    }
}

/// The same size on every call, as most hosts do.
pub fn fixed(size: usize) -> impl Iterator<Item = usize> {
    std::iter::repeat(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_blocks_change_every_call_and_span_the_range() {
        let sizes: Vec<usize> = RandomBlocks::new(7, 4096).take(2000).collect();
        assert!(sizes.windows(2).all(|w| w[0] != w[1]));
        assert!(sizes.iter().all(|&s| (1..=4096).contains(&s)));
        assert!(sizes.iter().any(|&s| s <= 2) && sizes.iter().any(|&s| s >= 3500));
    }
}
