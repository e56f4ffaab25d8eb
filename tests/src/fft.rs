//! A minimal radix-2 FFT, enough for cross-correlating test signals of a few seconds without
//! pulling in a DSP crate.

/// In-place iterative FFT of `re`/`im` (length a power of two). `inverse` computes the unscaled
/// inverse transform.
pub fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    assert!(n.is_power_of_two() && im.len() == n, "FFT length must be a power of two");
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * 2.0 * std::f64::consts::PI / len as f64;
        let (w_re, w_im) = (angle.cos(), angle.sin());
        for start in (0..n).step_by(len) {
            let (mut c_re, mut c_im) = (1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (start + k, start + k + len / 2);
                let t_re = re[b] * c_re - im[b] * c_im;
                let t_im = re[b] * c_im + im[b] * c_re;
                re[b] = re[a] - t_re;
                im[b] = im[a] - t_im;
                re[a] += t_re;
                im[a] += t_im;
                (c_re, c_im) = (c_re * w_re - c_im * w_im, c_re * w_im + c_im * w_re);
            }
        }
        len <<= 1;
    }
}

/// `c[lag] = sum_n a[n] * b[n + lag]` for `lag` in `0..=max_lag`.
pub fn cross_correlation(a: &[f32], b: &[f32], max_lag: usize) -> Vec<f64> {
    let n = (a.len() + b.len()).next_power_of_two();
    let load = |x: &[f32]| {
        let mut re: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        re.resize(n, 0.0);
        re
    };
    let (mut a_re, mut a_im) = (load(a), vec![0.0; n]);
    let (mut b_re, mut b_im) = (load(b), vec![0.0; n]);
    fft(&mut a_re, &mut a_im, false);
    fft(&mut b_re, &mut b_im, false);
    // conj(A) * B is the transform of the correlation.
    let (mut c_re, mut c_im): (Vec<f64>, Vec<f64>) =
        (0..n).map(|k| (a_re[k] * b_re[k] + a_im[k] * b_im[k], a_re[k] * b_im[k] - a_im[k] * b_re[k])).unzip();
    fft(&mut c_re, &mut c_im, true);
    c_re.truncate((max_lag + 1).min(n));
    c_re.iter_mut().for_each(|v| *v /= n as f64);
    c_re
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_matches_the_direct_sum() {
        let a: Vec<f32> = (0..37).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let b: Vec<f32> = (0..53).map(|i| ((i * 5 % 13) as f32 - 6.0) / 6.0).collect();
        let fast = cross_correlation(&a, &b, 20);
        for (lag, &c) in fast.iter().enumerate() {
            let direct: f64 =
                a.iter().enumerate().filter_map(|(n, &x)| b.get(n + lag).map(|&y| f64::from(x) * f64::from(y))).sum();
            assert!((c - direct).abs() < 1e-9, "lag {lag}: {c} vs {direct}");
        }
    }
}
