//! RVC's `hubert_base.pt` — fairseq's HuBERT checkpoint: the weights under `model` with fairseq's
//! names, the training configuration beside them as pickled fairseq and omegaconf objects — made
//! into the content encoder's "units" model (layer 9 through ContentVec's final projection for v1
//! voices, layer 12 for v2), from the committed template whose shapes it has (see
//! `models/rvc/hubert_template.py`), without Python.

use std::path::Path;

use pytorch_reader::PickleValue;

use crate::graph_template;
use crate::torch_checkpoint::TorchCheckpoint;

/// HuBERT's templates' names start with this.
const HUBERT_TEMPLATE_PREFIX: &str = "hubert";
/// Where fairseq keeps the weights.
const WEIGHTS_KEY: &str = "model";

/// Whether the checkpoint is fairseq's: its weights under `model`, its configuration beside them.
pub fn is_fairseq(checkpoint: &TorchCheckpoint) -> bool {
    let root = checkpoint.root();
    matches!(root.get(WEIGHTS_KEY), Some(PickleValue::Dict(_)))
        && (root.contains_key("cfg") || root.contains_key("args"))
}

/// The ONNX model built from the HuBERT checkpoint at `path`, and the template it was built from;
/// or why the file is not RVC's HuBERT.
pub fn build(path: &Path) -> Result<(Vec<u8>, String), String> {
    let checkpoint = TorchCheckpoint::open(path).map_err(|e| e.to_string())?;
    if !is_fairseq(&checkpoint) {
        return Err(format!("{} is not a fairseq HuBERT checkpoint (no `model` and `cfg`)", path.display()));
    }
    // fairseq's configuration objects are never looked at, so what they name does not matter; the
    // weights' part of the pickle must hold tensors and data only.
    let others: Vec<&str> = checkpoint.root().keys().map(String::as_str).filter(|k| *k != WEIGHTS_KEY).collect();
    checkpoint.refuse_foreign(&others).map_err(|e| e.to_string())?;
    let tensors = checkpoint.tensors(Some(WEIGHTS_KEY)).map_err(|e| e.to_string())?;
    graph_template::fill_first_fitting(HUBERT_TEMPLATE_PREFIX, &tensors)
        .map_err(|why| format!("{} is not RVC's HuBERT ({why})", path.display()))
}
