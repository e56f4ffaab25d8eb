//! RVC's retrieval index (the `.index` file beside a voice): the training features the voice was
//! made from, which a conversion blends into the content features to sound more like the voice.
//! Read from faiss's file format without the faiss library; the file comes from a stranger, so
//! every part of it is checked before it is used.

mod index_file_error;
mod ivf_flat;
mod le_reader;
mod protect;
mod retrieval;
mod search;

pub use index_file_error::IndexFileError;
pub use ivf_flat::IvfFlatIndex;
pub use protect::{PROTECT_OFF, protect_unvoiced};
pub use retrieval::Retrieval;
pub use search::{NEIGHBOURS, Neighbours, SearchScratch};
