//! A faiss `IndexIVFFlat` file, as RVC's `train_index.py` writes it, read without the faiss
//! library. The layout is faiss's own (`faiss/impl/index_read.cpp`: `read_index_header`,
//! `read_ivf_header`, `read_direct_map`, `read_InvertedLists`): little-endian fields one after
//! another, no padding.

use std::io::{BufReader, Read};
use std::path::Path;

use super::IndexFileError;
use super::le_reader::LeReader;

/// faiss's metric number for squared L2, the distance RVC searches with.
const METRIC_L2: i32 = 1;

/// The widest feature vector accepted: RVC's are 256 (v1) or 768 (v2) wide.
const MAX_DIM: i32 = 4096;

/// The retrieval index of an RVC voice: the training features, grouped into lists around coarse
/// centroids so a search visits only the `nprobe` nearest lists.
#[derive(Debug, Clone, PartialEq)]
pub struct IvfFlatIndex {
    dim: usize,
    nprobe: usize,
    /// `nlist × dim`: the centre of each list.
    centroids: Vec<f32>,
    /// `len × dim`: every stored vector at the row of its id (RVC's `big_npy`).
    vectors: Vec<f32>,
    /// The ids (rows of `vectors`) in each list, in the file's order.
    lists: Vec<Vec<u32>>,
}

impl IvfFlatIndex {
    /// Read an index file as it is parsed. Allocates as much as the file holds; never more.
    pub fn read(path: &Path) -> Result<Self, IndexFileError> {
        let unreadable = |e: std::io::Error| IndexFileError::Unreadable(e.to_string());
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let len = file.metadata().map_err(unreadable)?.len();
        Self::from_reader(BufReader::new(file), len)
    }

    /// Parse the bytes of an index file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IndexFileError> {
        Self::from_reader(bytes, bytes.len() as u64)
    }

    /// Parse an index file of `len` bytes from `reader`. Each list's vectors go straight to their
    /// rows: the vectors are held once, not also as the file's bytes.
    fn from_reader(reader: impl Read, len: u64) -> Result<Self, IndexFileError> {
        let mut r = LeReader::new(reader, len);
        let fourcc = r.fourcc("the index type")?;
        if &fourcc != b"IwFl" {
            return Err(other_index_type(fourcc));
        }
        let header = read_header(&mut r)?;
        if header.ntotal == 0 {
            return Err(IndexFileError::NoVectors);
        }
        let nlist = r.u64("the number of lists")?;
        let nprobe = r.u64("nprobe")?;
        if nlist == 0 {
            return Err(IndexFileError::Inconsistent("it has no lists".into()));
        }

        let centroids = read_coarse_quantizer(&mut r, header.dim, nlist)?;
        skip_direct_map(&mut r)?;
        let sizes = read_list_sizes(&mut r, header.dim, nlist, header.ntotal)?;

        let dim = header.dim as usize;
        let code_size = 4 * dim;
        // Every vector is `code_size` bytes and an 8-byte id in the file: the rows are allocated
        // only once the file is known to hold them.
        r.ensure(header.ntotal, code_size + 8, "a list's vectors")?;
        let len = header.ntotal as usize;
        let mut vectors = vec![0.0f32; len * dim];
        let mut seen = vec![false; len];
        let mut ids_by_list = Vec::with_capacity(sizes.len());
        let (mut codes, mut id_bytes) = (Vec::new(), Vec::new());
        for &size in &sizes {
            if size == 0 {
                ids_by_list.push(Vec::new());
                continue;
            }
            r.take_into(&mut codes, size, code_size, "a list's vectors")?;
            r.take_into(&mut id_bytes, size, 8, "a list's ids")?;
            let mut ids = Vec::with_capacity(size as usize);
            for (id, codes) in id_bytes.chunks_exact(8).zip(codes.chunks_exact(code_size)) {
                let id = i64::from_le_bytes(id.try_into().expect("chunks of 8"));
                let row = usize::try_from(id).ok().filter(|&row| row < len).ok_or_else(|| {
                    IndexFileError::Inconsistent(format!(
                        "a vector has id {id}, outside 0..{len} (an index built with its own ids is not RVC's)"
                    ))
                })?;
                if std::mem::replace(&mut seen[row], true) {
                    return Err(IndexFileError::Inconsistent(format!("id {id} is stored twice")));
                }
                for (v, b) in vectors[row * dim..(row + 1) * dim].iter_mut().zip(codes.chunks_exact(4)) {
                    *v = f32::from_le_bytes(b.try_into().expect("chunks of 4"));
                }
                ids.push(row as u32);
            }
            ids_by_list.push(ids);
        }
        if r.remaining() > 0 {
            return Err(IndexFileError::TrailingBytes(usize::try_from(r.remaining()).unwrap_or(usize::MAX)));
        }
        if let Some(v) = vectors.iter().chain(&centroids).find(|v| !v.is_finite()) {
            return Err(IndexFileError::Inconsistent(format!("it holds a non-finite value ({v})")));
        }
        let nprobe = usize::try_from(nprobe).unwrap_or(usize::MAX).clamp(1, ids_by_list.len());
        Ok(Self { dim, nprobe, centroids, vectors, lists: ids_by_list })
    }

    /// The width of a feature vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many lists a search visits, as the file says (at least 1, at most every list).
    pub fn nprobe(&self) -> usize {
        self.nprobe
    }

    pub fn nlist(&self) -> usize {
        self.lists.len()
    }

    /// How many vectors the index holds.
    pub fn len(&self) -> usize {
        self.vectors.len() / self.dim
    }

    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Every vector at the row of its id, `len × dim` (RVC's `big_npy`).
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }

    /// The centre of each list, `nlist × dim`.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The ids (rows of [`IvfFlatIndex::vectors`]) in each list.
    pub fn lists(&self) -> &[Vec<u32>] {
        &self.lists
    }

    /// "12 vectors 768 wide in 64 lists, nprobe 4": the index in a line, for logs and tools.
    pub fn summary(&self) -> String {
        format!("{} vectors {} wide in {} lists, nprobe {}", self.len(), self.dim, self.nlist(), self.nprobe)
    }
}

struct Header {
    dim: i32,
    ntotal: u64,
}

/// faiss's `read_index_header`: `d`, `ntotal`, two unused fields, `is_trained`, the metric (and its
/// argument for metrics above inner product and L2).
fn read_header(r: &mut LeReader<impl Read>) -> Result<Header, IndexFileError> {
    let dim = r.i32("the header")?;
    let ntotal = r.i64("the header")?;
    r.i64("the header")?;
    r.i64("the header")?;
    let trained = r.u8("the header")?;
    let metric = r.i32("the header")?;
    if metric > METRIC_L2 {
        r.f32("the header")?;
    }
    if !(1..=MAX_DIM).contains(&dim) {
        return Err(IndexFileError::Inconsistent(format!("vectors {dim} wide")));
    }
    let ntotal = u64::try_from(ntotal)
        .map_err(|_| IndexFileError::Inconsistent(format!("a negative number of vectors ({ntotal})")))?;
    if metric != METRIC_L2 {
        return Err(IndexFileError::UnsupportedMetric(metric));
    }
    if trained == 0 {
        return Err(IndexFileError::Inconsistent("it was never trained".into()));
    }
    Ok(Header { dim, ntotal })
}

/// The coarse quantizer: a flat L2 index over the list centres.
fn read_coarse_quantizer(r: &mut LeReader<impl Read>, dim: i32, nlist: u64) -> Result<Vec<f32>, IndexFileError> {
    let fourcc = r.fourcc("the coarse quantizer")?;
    if &fourcc != b"IxF2" {
        return Err(IndexFileError::Inconsistent(format!(
            "its coarse quantizer is {}, not a flat L2 index",
            fourcc_text(fourcc)
        )));
    }
    let header = read_header(r)?;
    if header.dim != dim || header.ntotal != nlist {
        return Err(IndexFileError::Inconsistent(format!(
            "{nlist} lists of {dim}-wide vectors, but {} centres {} wide",
            header.ntotal, header.dim
        )));
    }
    let count = r.u64("the list centres")?;
    if Some(count) != nlist.checked_mul(dim as u64) {
        return Err(IndexFileError::Inconsistent(format!("{count} centre values for {nlist} × {dim}")));
    }
    r.f32s(count, "the list centres")
}

/// The map from ids to list positions faiss may keep (type 0: none, 1: an array, 2: a hash). The
/// lists hold every id, so it is checked for size and skipped.
fn skip_direct_map(r: &mut LeReader<impl Read>) -> Result<(), IndexFileError> {
    let kind = r.u8("the direct map")?;
    if kind > 2 {
        return Err(IndexFileError::Inconsistent(format!("direct map type {kind}")));
    }
    let entries = r.u64("the direct map")?;
    r.skip(entries, 8, "the direct map")?;
    if kind == 2 {
        let pairs = r.u64("the direct map")?;
        r.skip(pairs, 16, "the direct map")?;
    }
    Ok(())
}

/// faiss's `ArrayInvertedLists` (`ilar`): the list sizes, in full or as (list, size) pairs of the
/// non-empty ones; each non-empty list's vectors (`size` rows of raw `f32`s) and ids follow, read
/// by the caller.
fn read_list_sizes(r: &mut LeReader<impl Read>, dim: i32, nlist: u64, ntotal: u64) -> Result<Vec<u64>, IndexFileError> {
    let fourcc = r.fourcc("the inverted lists")?;
    match &fourcc {
        b"ilar" => {}
        b"il00" => return Err(IndexFileError::UnsupportedLists("nothing (the file holds no lists)".into())),
        other => return Err(IndexFileError::UnsupportedLists(fourcc_text(*other))),
    }
    if r.u64("the inverted lists")? != nlist {
        return Err(IndexFileError::Inconsistent("the inverted lists disagree on the number of lists".into()));
    }
    let code_size = r.u64("the inverted lists")?;
    if code_size != 4 * dim as u64 {
        return Err(IndexFileError::Inconsistent(format!(
            "{code_size}-byte codes for {dim}-wide vectors (an IVF-Flat code is 4 bytes a value)"
        )));
    }
    // The centres, already read, bound `nlist` by the file's size.
    let list_count = nlist as usize;
    let size_kind = r.fourcc("the list sizes")?;
    let count = r.u64("the list sizes")?;
    let entries = r.u64s(count, "the list sizes")?;
    let sizes = match &size_kind {
        b"full" if count == nlist => entries,
        b"full" => return Err(IndexFileError::Inconsistent(format!("{count} list sizes for {nlist} lists"))),
        b"sprs" => {
            if count % 2 != 0 {
                return Err(IndexFileError::Inconsistent("an odd number of (list, size) values".into()));
            }
            let (mut sizes, mut sized) = (vec![0u64; list_count], vec![false; list_count]);
            for pair in entries.chunks_exact(2) {
                let (list, size) = (pair[0], pair[1]);
                if list >= nlist {
                    return Err(IndexFileError::Inconsistent(format!("a size for list {list} of {nlist}")));
                }
                if std::mem::replace(&mut sized[list as usize], true) {
                    return Err(IndexFileError::Inconsistent(format!("list {list} is sized twice")));
                }
                sizes[list as usize] = size;
            }
            sizes
        }
        other => return Err(IndexFileError::Inconsistent(format!("list sizes stored as {}", fourcc_text(*other)))),
    };
    let stored = sizes.iter().try_fold(0u64, |sum, &size| sum.checked_add(size));
    if stored != Some(ntotal) {
        return Err(IndexFileError::Inconsistent(format!(
            "its lists hold {} vectors, its header says {ntotal}",
            stored.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string())
        )));
    }
    Ok(sizes)
}

fn fourcc_text(fourcc: [u8; 4]) -> String {
    fourcc.iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect()
}

/// Names for the faiss index types met in the wild, for the message.
fn other_index_type(fourcc: [u8; 4]) -> IndexFileError {
    let name = match &fourcc {
        b"IwPQ" => Some("IVF-PQ"),
        b"IwSQ" | b"IwSq" => Some("IVF scalar-quantizer"),
        b"IwFd" => Some("IVF-Flat with deduplication"),
        b"IvFl" | b"IvFL" => Some("IVF-Flat of an old faiss version"),
        b"IHNf" | b"IHNp" | b"IHNs" | b"IHN2" => Some("HNSW"),
        b"IxF2" | b"IxFI" => Some("flat (brute-force)"),
        b"IxPQ" => Some("PQ"),
        b"IxMp" | b"IxM2" => Some("ID-mapped"),
        _ => None,
    };
    IndexFileError::OtherIndexType { fourcc: fourcc_text(fourcc), name }
}
