//! The native `.index` reader against files faiss itself wrote (`models/generate_indexes.py`): what
//! it reads must be exactly what faiss reads back, and what RVC Live cannot use must be refused by
//! name, never crash, and never allocate beyond the file.

use rvc_live_engine::{IndexFileError, IvfFlatIndex};
use rvc_live_test_support::models::retrieval_index;

fn f32_file(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(retrieval_index(name)).unwrap();
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

fn facts(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(retrieval_index(&format!("{name}.json"))).unwrap()).unwrap()
}

fn read(name: &str) -> Result<IvfFlatIndex, IndexFileError> {
    IvfFlatIndex::read(&retrieval_index(&format!("{name}.index")))
}

/// Both ways faiss stores the list sizes; the generator asserts which one each file uses.
#[test]
fn an_ivf_flat_file_reads_back_exactly_as_faiss_reads_it() {
    let mut encodings = Vec::new();
    for name in ["ivf_flat_v1_full", "ivf_flat_v2_sparse"] {
        let index = read(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let facts = facts(name);
        assert_eq!(index.dim() as u64, facts["dim"].as_u64().unwrap(), "{name}");
        assert_eq!(index.len() as u64, facts["ntotal"].as_u64().unwrap(), "{name}");
        assert_eq!(index.nlist() as u64, facts["nlist"].as_u64().unwrap(), "{name}");
        assert_eq!(index.nprobe() as u64, facts["nprobe"].as_u64().unwrap(), "{name}");
        // Bit for bit: the reader copies faiss's floats, it computes nothing.
        assert!(index.vectors() == f32_file(&format!("{name}.vectors.f32")).as_slice(), "{name}: big_npy differs");
        assert!(index.centroids() == f32_file(&format!("{name}.centroids.f32")).as_slice(), "{name}: centres differ");
        let lists: Vec<Vec<u32>> = serde_json::from_value(facts["lists"].clone()).unwrap();
        assert_eq!(index.lists(), lists.as_slice(), "{name}: list membership");
        encodings.push(facts["size_encoding"].as_str().unwrap().to_owned());
    }
    assert_eq!(encodings, ["full", "sprs"]);
}

#[test]
fn a_trained_only_index_is_refused_with_the_file_to_use_instead() {
    let err = read("trained_ivf_flat").unwrap_err();
    assert_eq!(err, IndexFileError::NoVectors);
    assert!(err.to_string().contains("use the `added_…` one"), "{err}");
}

#[test]
fn other_index_types_and_metrics_are_refused_by_name() {
    let err = read("ivf_pq").unwrap_err();
    assert!(matches!(&err, IndexFileError::OtherIndexType { name: Some("IVF-PQ"), .. }), "{err:?}");
    assert!(err.to_string().contains("RVC voices use IVF-Flat"), "{err}");
    assert_eq!(read("ivf_flat_inner_product").unwrap_err(), IndexFileError::UnsupportedMetric(0));
    let not_faiss = IvfFlatIndex::from_bytes(b"PK\x03\x04 a zip, say").unwrap_err();
    assert!(matches!(not_faiss, IndexFileError::OtherIndexType { name: None, .. }), "{not_faiss:?}");
}

/// A file cut anywhere is an error, not a panic and not a half-read index: cut at every byte of
/// the headers and of the file's last 256 bytes (the last list's ids), and every 61st byte between.
#[test]
fn every_truncation_is_refused() {
    let bytes = std::fs::read(retrieval_index("ivf_flat_v2_sparse.index")).unwrap();
    let (head, tail) = (256, bytes.len() - 256);
    for len in (0..head).chain((head..tail).step_by(61)).chain(tail..bytes.len()) {
        match IvfFlatIndex::from_bytes(&bytes[..len]) {
            Err(IndexFileError::Truncated { .. } | IndexFileError::Inconsistent(_)) => {}
            other => panic!("cut at {len} of {}: {other:?}", bytes.len()),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(IvfFlatIndex::from_bytes(&longer).unwrap_err(), IndexFileError::TrailingBytes(1));
}

/// Counts in a hostile file are checked against the bytes left before anything is allocated: a
/// file claiming 2^40 lists (consistently, in all three places) is refused as cut short.
#[test]
fn a_count_beyond_the_file_is_refused_before_it_is_allocated() {
    let mut bytes = std::fs::read(retrieval_index("ivf_flat_v2_sparse.index")).unwrap();
    let nlist: u64 = 1 << 40;
    // Offsets in faiss's layout: fourcc 4 + header 33, then nlist; nprobe 8, the quantizer's
    // fourcc 4 and `d` 4, then its ntotal; then its header's rest (8 + 8 + 1 + 4), then the count.
    let put = |bytes: &mut Vec<u8>, at: usize, value: u64| bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    put(&mut bytes, 37, nlist);
    put(&mut bytes, 61, nlist);
    put(&mut bytes, 90, nlist * 768);
    assert_eq!(IvfFlatIndex::from_bytes(&bytes).unwrap_err(), IndexFileError::Truncated { what: "the list centres" });
}

/// Lists that do not add up to the header's count, or name a list twice, are refused.
#[test]
fn contradicting_lists_are_refused() {
    let bytes = std::fs::read(retrieval_index("ivf_flat_v2_sparse.index")).unwrap();
    let mut fewer = bytes.clone();
    // The header's ntotal (after the fourcc and `d`).
    fewer[8..16].copy_from_slice(&11i64.to_le_bytes());
    let err = IvfFlatIndex::from_bytes(&fewer).unwrap_err();
    assert!(err.to_string().contains("its lists hold 12 vectors, its header says 11"), "{err}");
}
