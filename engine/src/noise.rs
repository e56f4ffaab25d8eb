//! The latent noise RVC WebUI exports take as an input (`rnd`): normal, scaled by 0.66666 as RVC's
//! own inference scales it. Seeded, so a conversion is reproducible.

/// xorshift64* with Box–Muller: tiny, allocation-free, and good enough for latent noise.
pub struct LatentNoise {
    state: u64,
}

/// RVC samples the prior as `m + exp(logs) * randn * 0.66666`.
pub const NOISE_SCALE: f32 = 0.66666;

impl LatentNoise {
    pub fn new(seed: u64) -> Self {
        Self { state: seed.max(1) }
    }

    fn next_uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (bits as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Fill `out` with scaled standard normal samples.
    pub fn fill(&mut self, out: &mut [f32]) {
        for pair in out.chunks_mut(2) {
            let (u1, u2) = (self.next_uniform(), self.next_uniform());
            let radius = (-2.0 * u1.ln()).sqrt();
            let angle = 2.0 * std::f64::consts::PI * u2;
            pair[0] = (radius * angle.cos()) as f32 * NOISE_SCALE;
            if let Some(second) = pair.get_mut(1) {
                *second = (radius * angle.sin()) as f32 * NOISE_SCALE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_scaled_normal_moments() {
        let mut noise = LatentNoise::new(7);
        let mut x = vec![0.0; 200_000];
        noise.fill(&mut x);
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / x.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var.sqrt() - f64::from(NOISE_SCALE)).abs() < 0.01, "std {}", var.sqrt());
    }

    #[test]
    fn the_same_seed_gives_the_same_noise() {
        let (mut a, mut b) = (vec![0.0; 64], vec![0.0; 64]);
        LatentNoise::new(3).fill(&mut a);
        LatentNoise::new(3).fill(&mut b);
        assert_eq!(a, b);
    }
}
