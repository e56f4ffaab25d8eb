//! Calibrating a session in place: the probe model runs where the float one did, every run records
//! the ranges it saw, and at the end the int8 model takes over (or the float one returns).

use std::path::Path;

use ort::session::{Session, SessionOutputs};

use super::{Int8Error, Int8Plan, Scope, TensorRanges};
use crate::execution_provider::Provider;
use crate::onnx_runtime;

pub struct Calibration {
    plan: Int8Plan,
    probes: Vec<String>,
    ranges: TensorRanges,
    /// The float session, back in place when calibration ends.
    float_session: Session,
}

impl Calibration {
    /// Put the probe of the model at `path` (the file `session` was opened from) in `session`'s
    /// place. Fails, leaving `session` as it was, where a copy cannot be made or would not help (a
    /// session on a GPU).
    pub fn begin(
        session: &mut Session,
        provider: Provider,
        path: &Path,
        scope: Scope,
        threads: usize,
    ) -> Result<Self, Int8Error> {
        if provider != Provider::Cpu {
            return Err(Int8Error::NotOnCpu(provider));
        }
        let bytes =
            std::fs::read(path).map_err(|e| Int8Error::Unreadable { path: path.to_path_buf(), why: e.to_string() })?;
        let plan = Int8Plan::new(&bytes, scope)?;
        let probe = onnx_runtime::open_cpu_session_from_memory(&plan.probe_model()?, threads)?;
        let float_session = std::mem::replace(session, probe);
        Ok(Self { probes: plan.probes(), plan, ranges: TensorRanges::default(), float_session })
    }

    /// Record what one run of the probe saw.
    pub fn observe(&mut self, outputs: &SessionOutputs<'_>) {
        for name in &self.probes {
            if let Some(Ok((_, values))) = outputs.get(name.as_str()).map(|v| v.try_extract_tensor::<f32>()) {
                self.ranges.observe(name, values);
            }
        }
    }

    /// Put the float session back in `session`, then, with `quantise`, the int8 one made from the
    /// ranges seen; returns the float session (for the caller to keep if the int8 one does not
    /// pass its checks) and how many operators run in int8.
    pub fn finish(self, session: &mut Session, threads: usize, quantise: bool) -> Result<(Session, usize), Int8Error> {
        *session = self.float_session;
        if !quantise {
            return Err(Int8Error::Calibration("calibration did not finish".into()));
        }
        let (model, quantised) = self.plan.quantised(&self.ranges)?;
        let int8 = onnx_runtime::open_cpu_session_from_memory(&model, threads)?;
        Ok((std::mem::replace(session, int8), quantised))
    }
}
