//! RVC's retrieval: each content frame moves toward the weighted mean of its nearest training
//! features, by the Index Rate. Allocation-free once built: it runs on the inference thread.

use super::IvfFlatIndex;
use super::search::{Neighbours, SearchScratch};

/// An index ready to blend frames: the index and the scratch a search needs.
#[derive(Debug, Clone)]
pub struct Retrieval {
    index: IvfFlatIndex,
    scratch: SearchScratch,
    neighbours: Neighbours,
    retrieved: Vec<f32>,
}

impl Retrieval {
    pub fn new(index: IvfFlatIndex) -> Self {
        let scratch = SearchScratch::for_index(&index);
        let retrieved = vec![0.0; index.dim()];
        Self { index, scratch, neighbours: Neighbours::default(), retrieved }
    }

    pub fn index(&self) -> &IvfFlatIndex {
        &self.index
    }

    /// Blend every frame of `frames` (`n × dim`, row-major) toward what it retrieves, as RVC
    /// does: `rate · retrieved + (1 − rate) · frame`, where `retrieved` weighs the nearest
    /// [`super::NEIGHBOURS`] training vectors by `1/d²` (`d` the squared L2 distance faiss
    /// reports), searched over the file's `nprobe` lists.
    pub fn blend(&mut self, frames: &mut [f32], rate: f32) {
        let dim = self.index.dim();
        for frame in frames.chunks_exact_mut(dim) {
            self.index.search(frame, self.index.nprobe(), &mut self.scratch, &mut self.neighbours);
            if !weighted_mean(&self.index, &self.neighbours, &mut self.retrieved) {
                continue;
            }
            for (x, &r) in frame.iter_mut().zip(&self.retrieved) {
                *x = rate * r + (1.0 - rate) * *x;
            }
        }
    }
}

/// `Σ wᵢ vᵢ` with `wᵢ = (1/dᵢ²) / Σⱼ 1/dⱼ²`, into `out`. Computed as `(d_min/dᵢ)²`, which is the
/// same after normalising but cannot overflow; where the nearest distance is 0 (a frame that is a
/// training vector), the limit of the formula: the mean of the vectors at distance 0. `false`
/// (and `out` untouched) when there is nothing to weigh: no neighbour, or a query that was not
/// finite.
fn weighted_mean(index: &IvfFlatIndex, neighbours: &Neighbours, out: &mut [f32]) -> bool {
    let (ids, distances) = (neighbours.ids(), neighbours.distances());
    let Some(&nearest) = distances.first() else { return false };
    if !nearest.is_finite() {
        return false;
    }
    let weight = |d: f32| if nearest == 0.0 { f32::from(d == 0.0) } else { (nearest / d).powi(2) };
    let total: f32 = distances.iter().map(|&d| weight(d)).sum();
    let dim = index.dim();
    out.fill(0.0);
    for (&id, &d) in ids.iter().zip(distances) {
        let w = weight(d) / total;
        let row = &index.vectors()[id as usize * dim..(id as usize + 1) * dim];
        for (o, &v) in out.iter_mut().zip(row) {
            *o += w * v;
        }
    }
    true
}
