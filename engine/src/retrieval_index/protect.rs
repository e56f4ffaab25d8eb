//! RVC's Protect: retrieval can blur consonants and breaths into the voice's vowels, so where the
//! pitch tracker hears no voicing the features are pulled back toward what the content encoder
//! gave before retrieval. Applied by RVC to voices with f0 only.

/// At this value and above, Protect does nothing (RVC skips it for `protect ≥ 0.5`).
pub const PROTECT_OFF: f32 = 0.5;

/// RVC's formula over synthesizer frames (`frames × width`, with the retrieved `features`, the
/// `pre_index` ones and the shifted f0 in Hz, 0 where unvoiced): a frame with `f0 < 1` becomes
/// `protect · features + (1 − protect) · pre_index`; voiced frames keep the retrieved features.
pub fn protect_unvoiced(features: &mut [f32], pre_index: &[f32], f0: &[f32], protect: f32) {
    if protect >= PROTECT_OFF || f0.is_empty() {
        return;
    }
    let width = features.len() / f0.len();
    for ((frame, before), &hz) in features.chunks_exact_mut(width).zip(pre_index.chunks_exact(width)).zip(f0) {
        // RVC's mask: 1 where f0 > 0, `protect` where f0 < 1 (between the two, the latter wins).
        if hz < 1.0 {
            for (x, &b) in frame.iter_mut().zip(before) {
                *x = *x * protect + b * (1.0 - protect);
            }
        }
    }
}
