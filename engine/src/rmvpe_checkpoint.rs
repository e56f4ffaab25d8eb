//! RVC's `rmvpe.pt` — a plain state dict of its E2E pitch network — made into the mel-input model
//! RVC's `rmvpe.onnx` is, from the committed template whose weights it has (see
//! `models/rvc/rmvpe_template.py`), without Python.

use std::path::Path;

use crate::graph_template::GraphTemplate;
use crate::graph_templates::TEMPLATES;
use crate::torch_checkpoint::TorchCheckpoint;

/// RMVPE's templates' names start with this.
const RMVPE_TEMPLATE_PREFIX: &str = "rmvpe";

/// The ONNX model built from the RMVPE checkpoint at `path`, and the template it was built from;
/// or why the file is not RVC's RMVPE.
pub fn build(path: &Path) -> Result<(Vec<u8>, String), String> {
    let checkpoint = TorchCheckpoint::open(path).map_err(|e| e.to_string())?;
    checkpoint.refuse_foreign(&[]).map_err(|e| e.to_string())?;
    let tensors = checkpoint.tensors(None).map_err(|e| e.to_string())?;
    let mut closest = None;
    for (name, gz) in TEMPLATES.iter().filter(|(name, _)| name.starts_with(RMVPE_TEMPLATE_PREFIX)) {
        let template = GraphTemplate::parse(name, gz).expect("a committed template parses");
        let mismatch = template.weights().find_map(|(weight, shape)| match tensors.shape(weight) {
            None => Some(format!("`{weight}` is missing")),
            Some(found) if found != shape.as_slice() => Some(format!("`{weight}` is {found:?}, not {shape:?}")),
            Some(_) => None,
        });
        match mismatch {
            None => {
                let onnx = template.fill(|weight| {
                    let values = tensors.read_f32(weight).map_err(|e| e.to_string())?;
                    Ok::<_, String>((tensors.shape(weight).unwrap_or_default().to_vec(), values))
                })?;
                return Ok((onnx, (*name).to_owned()));
            }
            Some(mismatch) => {
                closest.get_or_insert(mismatch);
            }
        }
    }
    Err(format!(
        "{} is not RVC's RMVPE ({})",
        path.display(),
        closest.unwrap_or_else(|| "no RMVPE template is built in".into())
    ))
}
