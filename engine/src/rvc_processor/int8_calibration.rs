//! Making the int8 copies at load: the pipeline converts the calibration voice while both models
//! record what they see.

use std::sync::Arc;
use std::time::Instant;

use super::{ConversionControls, ConversionStats, ModelPrecision, Precision, RvcProcessor};
use crate::calibration_voice;
use crate::int8::{self, Int8Error};
use crate::stream::{BlockProcessor, InputHistory};

/// Audio the int8 copies are calibrated on at load: every pitch, vowel and level of
/// [`calibration_voice`] at least once, for a few blocks' worth of load time.
const CALIBRATION_SECONDS: f64 = 2.4;

impl RvcProcessor {
    /// Calibrate and swap in int8 copies of the content encoder and the voice's decoder (see
    /// [`super::int8`]): the pipeline converts the calibration voice block by block, as it will
    /// convert the user's, while both models record what they see. Leaves the processor as freshly
    /// loaded; a model whose copy cannot be made stays in float.
    pub(super) fn make_int8_copies(&mut self, rate: u32, threads: usize) -> ModelPrecision {
        let encoder_started = self.encoder.lock().begin_int8_calibration(threads);
        let synthesizer_started = self.synthesizer.begin_int8_calibration(threads);
        let mut converted = Ok(());
        if encoder_started.is_ok() || synthesizer_started.is_ok() {
            // Calibration blocks are not the user's: keep them out of the counters.
            let stats = std::mem::replace(&mut self.stats, Arc::new(ConversionStats::default()));
            let voice = calibration_voice::render(rate, CALIBRATION_SECONDS);
            let mut output = vec![0.0; self.block];
            let controls = ConversionControls::default();
            let mut history = InputHistory::new(self.window_host);
            for block in voice.chunks_exact(self.block) {
                history.push(block);
                if let Err(e) = self.convert(history.samples(), &controls, &mut output, Instant::now()) {
                    converted = Err(Int8Error::Calibration(format!("calibration failed: {e}")));
                    break;
                }
            }
            self.stats = stats;
            self.reset();
        }
        // Each model that started calibrating finishes (its float session comes back either way);
        // where the calibration run itself failed, that is the reason to give.
        let ok = converted.is_ok();
        let encoder_made = encoder_started.map(|()| self.encoder.lock().finish_int8_calibration(threads, ok));
        let synthesizer_made = synthesizer_started.map(|()| self.synthesizer.finish_int8_calibration(threads, ok));
        int8::return_to_system();
        let precision = |made: Result<Result<usize, Int8Error>, Int8Error>| {
            Precision::of(made.and_then(|quantised| converted.clone().and(quantised)))
        };
        ModelPrecision { content_encoder: precision(encoder_made), synthesizer: precision(synthesizer_made) }
    }
}
