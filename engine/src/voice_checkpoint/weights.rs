//! A voice's weights under the names RVC's inference model gives them: weight norm folded.
//!
//! RVC trains its convolutions with weight norm, so a checkpoint stores each such weight as a
//! direction `v` and a per-channel length `g` — named `*.weight_g` / `*.weight_v` (torch's legacy
//! weight norm) or `*.parametrizations.weight.original0` / `original1` (its newer one). RVC's
//! inference model removes weight norm before it runs: `weight = v · g / ‖v‖`, the norm taken per
//! slice of dimension 0. Trained checkpoints have `g ≠ ‖v‖`, so both halves matter.

use crate::torch_checkpoint::{CheckpointError, TensorStore};

/// The two names weight norm's halves go by: (length g, direction v).
const WEIGHT_NORM_NAMES: [(&str, &str); 2] =
    [("weight_g", "weight_v"), ("parametrizations.weight.original0", "parametrizations.weight.original1")];

/// A weight with its shape.
pub struct Weight {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Where in the checkpoint a weight of the inference model comes from.
enum Source<'a> {
    Stored(&'a str),
    WeightNorm { g: String, v: String },
}

/// The tensor names the inference model's `name` is made from, if the checkpoint has them.
fn source<'a>(store: &TensorStore, name: &'a str) -> Option<Source<'a>> {
    if store.contains(name) {
        return Some(Source::Stored(name));
    }
    let module = name.strip_suffix(".weight")?;
    WEIGHT_NORM_NAMES.iter().find_map(|(g, v)| {
        let (g, v) = (format!("{module}.{g}"), format!("{module}.{v}"));
        (store.contains(&g) && store.contains(&v)).then_some(Source::WeightNorm { g, v })
    })
}

/// The shape of the inference model's weight `name`, without reading it.
pub fn shape_of(store: &TensorStore, name: &str) -> Option<Vec<usize>> {
    match source(store, name)? {
        Source::Stored(name) => store.shape(name).map(<[usize]>::to_vec),
        Source::WeightNorm { v, .. } => store.shape(&v).map(<[usize]>::to_vec),
    }
}

/// The inference model's weight `name`, read (and folded) from the checkpoint; `None` when the
/// checkpoint has nothing under that name.
pub fn read(store: &TensorStore, name: &str) -> Result<Option<Weight>, CheckpointError> {
    let Some(source) = source(store, name) else { return Ok(None) };
    match source {
        Source::Stored(stored) => {
            let shape = store.shape(stored).unwrap_or_default().to_vec();
            Ok(Some(Weight { values: store.read_f32(stored)?, shape }))
        }
        Source::WeightNorm { g, v } => {
            let shape = store.shape(&v).unwrap_or_default().to_vec();
            let lengths = store.read_f32(&g)?;
            let mut values = store.read_f32(&v)?;
            let channels = shape.first().copied().unwrap_or(0);
            if lengths.len() != channels || channels == 0 || values.len() % channels != 0 {
                return Err(CheckpointError::BadTensor {
                    path: store.path().to_path_buf(),
                    name: g,
                    reason: format!("{} lengths for a weight of shape {shape:?}", lengths.len()),
                });
            }
            fold_weight_norm(&mut values, &lengths);
            Ok(Some(Weight { shape, values }))
        }
    }
}

/// `v ← v · (g / ‖v‖)` per slice of dimension 0, in the order torch's `_weight_norm` computes it.
fn fold_weight_norm(v: &mut [f32], g: &[f32]) {
    let slice = v.len() / g.len();
    for (direction, &length) in v.chunks_exact_mut(slice).zip(g) {
        let norm = direction.iter().map(|x| x * x).sum::<f32>().sqrt();
        let scale = length / norm;
        direction.iter_mut().for_each(|x| *x *= scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_gives_each_slice_its_length() {
        // Two output channels of 3 taps; lengths 2 and 0.5.
        let mut v = vec![3.0, 0.0, 4.0, 0.0, 1.0, 0.0];
        fold_weight_norm(&mut v, &[2.0, 0.5]);
        assert_eq!(v, vec![1.2, 0.0, 1.6, 0.0, 0.5, 0.0]);
    }
}
