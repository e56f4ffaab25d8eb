//! Why a retrieval index file was refused, in words a user can act on.

use std::fmt;

use crate::synthesizer_format::ModelVersion;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexFileError {
    /// The file could not be read at all (missing, no permission); the system's reason.
    Unreadable(String),
    /// The file ends inside `what`.
    Truncated { what: &'static str },
    /// Another kind of faiss index than RVC's IVF-Flat, named where known.
    OtherIndexType { fourcc: String, name: Option<&'static str> },
    /// Trained but empty: RVC writes a `trained_…` file beside the `added_…` one, and only the
    /// latter holds the voice's features.
    NoVectors,
    /// A distance other than the squared L2 RVC searches with.
    UnsupportedMetric(i32),
    /// Inverted lists stored in a way other than in the file itself (faiss's on-disk lists, or
    /// none).
    UnsupportedLists(String),
    /// The file's parts contradict each other (the message says where).
    Inconsistent(String),
    /// Bytes left after the index.
    TrailingBytes(usize),
    /// A sound index, but of features another width than the voice's: made for a v1 voice and
    /// chosen for a v2 one, or the other way round.
    WrongWidth { index: usize, voice: usize },
}

impl fmt::Display for IndexFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(why) => write!(f, "the index file cannot be read: {why}"),
            Self::Truncated { what } => write!(f, "the index file is cut short (it ends inside {what})"),
            Self::OtherIndexType { fourcc, name: Some(name) } => {
                write!(f, "a faiss {name} index ({fourcc}); RVC voices use IVF-Flat indexes")
            }
            Self::OtherIndexType { fourcc, name: None } => {
                write!(f, "not a faiss IVF-Flat index (it starts with {fourcc:?})")
            }
            Self::NoVectors => f.write_str(
                "the index holds no vectors: this is the `trained_…` file RVC writes first; use the `added_…` one",
            ),
            Self::UnsupportedMetric(metric) => {
                write!(f, "the index measures distance with faiss metric {metric}; RVC's indexes use L2 (1)")
            }
            Self::UnsupportedLists(kind) => write!(f, "the index keeps its lists as {kind}, not in the file"),
            Self::Inconsistent(why) => write!(f, "the index file contradicts itself: {why}"),
            Self::TrailingBytes(n) => write!(f, "{n} unexpected bytes follow the index"),
            Self::WrongWidth { index, voice } => write!(
                f,
                "the index holds {index}-wide features ({}) but the voice takes {voice}-wide ones ({}): \
                 it was made for another voice",
                width_name(*index),
                width_name(*voice)
            ),
        }
    }
}

impl std::error::Error for IndexFileError {}

/// Which RVC version a feature width belongs to.
fn width_name(width: usize) -> &'static str {
    match ModelVersion::with_feature_width(width) {
        Some(ModelVersion::V1) => "RVC v1",
        Some(ModelVersion::V2) => "RVC v2",
        None => "not RVC's",
    }
}
