//! RVC's `rmvpe.pt` — a plain state dict of its E2E pitch network — made into the mel-input model
//! RVC's `rmvpe.onnx` is, from the committed template whose weights it has (see
//! `models/rvc/rmvpe_template.py`), without Python.

use std::path::Path;

use crate::graph_template;
use crate::torch_checkpoint::TorchCheckpoint;

/// RMVPE's templates' names start with this.
const RMVPE_TEMPLATE_PREFIX: &str = "rmvpe";

/// The ONNX model built from the RMVPE checkpoint at `path`, and the template it was built from;
/// or why the file is not RVC's RMVPE.
pub fn build(path: &Path) -> Result<(Vec<u8>, String), String> {
    let checkpoint = TorchCheckpoint::open(path).map_err(|e| e.to_string())?;
    checkpoint.refuse_foreign(&[]).map_err(|e| e.to_string())?;
    let tensors = checkpoint.tensors(None).map_err(|e| e.to_string())?;
    graph_template::fill_first_fitting(RMVPE_TEMPLATE_PREFIX, &tensors)
        .map_err(|why| format!("{} is not RVC's RMVPE ({why})", path.display()))
}
