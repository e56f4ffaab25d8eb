//! Nearest-neighbour search in an IVF-Flat index, as faiss's `IndexIVFFlat::search` does it: the
//! `nprobe` lists whose centres are nearest the query are scanned exhaustively, and the `k`
//! nearest vectors found are returned by increasing squared L2 distance. Runs on the inference
//! thread for every new frame, so it never allocates: the scratch is sized once per index.

use super::IvfFlatIndex;

/// Neighbours RVC retrieves per frame (`index.search(feats, k=8)` in RVC's pipelines).
pub const NEIGHBOURS: usize = 8;

/// The nearest vectors of one query, nearest first. Fewer than [`NEIGHBOURS`] only when the
/// probed lists hold fewer vectors (faiss pads those slots with id −1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbours {
    ids: [u32; NEIGHBOURS],
    distances: [f32; NEIGHBOURS],
    len: usize,
}

impl Default for Neighbours {
    fn default() -> Self {
        Self { ids: [0; NEIGHBOURS], distances: [f32::INFINITY; NEIGHBOURS], len: 0 }
    }
}

impl Neighbours {
    /// Rows of the index's vectors, nearest first.
    pub fn ids(&self) -> &[u32] {
        &self.ids[..self.len]
    }

    /// Squared L2 distances, ascending, one per id.
    pub fn distances(&self) -> &[f32] {
        &self.distances[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// Keep `id` if it is nearer than the farthest kept (faiss's max-heap keeps the first of equal
    /// distances too).
    fn offer(&mut self, id: u32, distance: f32) {
        if self.len == NEIGHBOURS && distance >= self.distances[NEIGHBOURS - 1] {
            return;
        }
        let mut at = self.len.min(NEIGHBOURS - 1);
        while at > 0 && self.distances[at - 1] > distance {
            self.distances[at] = self.distances[at - 1];
            self.ids[at] = self.ids[at - 1];
            at -= 1;
        }
        self.distances[at] = distance;
        self.ids[at] = id;
        self.len = (self.len + 1).min(NEIGHBOURS);
    }
}

/// What a search needs besides the index: one distance per list. Sized for one index.
#[derive(Debug, Clone, Default)]
pub struct SearchScratch {
    lists: Vec<(f32, u32)>,
}

impl SearchScratch {
    pub fn for_index(index: &IvfFlatIndex) -> Self {
        Self { lists: Vec::with_capacity(index.nlist()) }
    }
}

impl IvfFlatIndex {
    /// The nearest stored vectors of `query` (`dim` wide) over the `nprobe` nearest lists (at
    /// least 1, at most every list; [`IvfFlatIndex::nprobe`] is the file's own).
    pub fn search(&self, query: &[f32], nprobe: usize, scratch: &mut SearchScratch, out: &mut Neighbours) {
        debug_assert_eq!(query.len(), self.dim());
        out.clear();
        let dim = self.dim();
        scratch.lists.clear();
        scratch.lists.extend(
            self.centroids()
                .chunks_exact(dim)
                .enumerate()
                .map(|(list, centre)| (squared_l2(query, centre), list as u32)),
        );
        let nprobe = nprobe.clamp(1, scratch.lists.len());
        if nprobe < scratch.lists.len() {
            scratch.lists.select_nth_unstable_by(nprobe - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        let vectors = self.vectors();
        for &(_, list) in &scratch.lists[..nprobe] {
            for &id in &self.lists()[list as usize] {
                let row = id as usize * dim;
                out.offer(id, squared_l2(query, &vectors[row..row + dim]));
            }
        }
    }
}

/// `Σ (a − b)²`, over eight running sums so the compiler can keep them in one vector register
/// (a single running sum is a dependency chain it may not reorder).
pub(crate) fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0.0f32; LANES];
    let (a_body, a_tail) = a.split_at(a.len() / LANES * LANES);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for lane in 0..LANES {
            let d = x[lane] - y[lane];
            sums[lane] += d * d;
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| (x - y) * (x - y)).sum();
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_stay_sorted_and_keep_the_nearest_eight() {
        let mut n = Neighbours::default();
        for (id, d) in [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 6.0, 4.0, 0.5, 10.0].into_iter().enumerate() {
            n.offer(id as u32, d);
        }
        assert_eq!(n.distances(), &[0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(n.ids(), &[9, 1, 5, 3, 8, 0, 7, 4]);
    }

    #[test]
    fn the_distance_is_the_squared_euclidean_one_at_any_width() {
        for width in [1, 7, 8, 9, 256, 771] {
            let a: Vec<f32> = (0..width).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..width).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
            assert!((f64::from(squared_l2(&a, &b)) - plain).abs() <= 1e-5 * plain.max(1.0), "width {width}");
        }
    }
}
