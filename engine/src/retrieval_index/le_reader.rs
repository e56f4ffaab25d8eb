//! Little-endian fields read one after another from a file, every length checked against what is
//! left of it before anything is allocated: a count in a hostile file cannot ask for more memory
//! than the file itself holds. The file is read as it is parsed, never held whole: an index's
//! vectors then exist once in memory, where they are kept, not also as the file's bytes.

use std::io::{self, Read};

use super::IndexFileError;

pub(super) struct LeReader<R> {
    reader: R,
    remaining: u64,
}

impl<R: Read> LeReader<R> {
    /// `reader` holding `len` bytes (a file's size, a slice's length).
    pub fn new(reader: R, len: u64) -> Self {
        Self { reader, remaining: len }
    }

    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Whether `count` items of `size` bytes each are left; the byte count if so.
    fn fits(&self, count: u64, size: usize) -> Option<usize> {
        count.checked_mul(size as u64).filter(|&len| len <= self.remaining).and_then(|len| usize::try_from(len).ok())
    }

    /// Check that `count` items of `size` bytes each are left, without reading them.
    pub fn ensure(&self, count: u64, size: usize, what: &'static str) -> Result<(), IndexFileError> {
        self.fits(count, size).map(|_| ()).ok_or(IndexFileError::Truncated { what })
    }

    /// The next `count` items of `size` bytes each, as raw bytes, into `buffer` (replacing what it
    /// held, so one buffer serves a loop).
    pub fn take_into(
        &mut self,
        buffer: &mut Vec<u8>,
        count: u64,
        size: usize,
        what: &'static str,
    ) -> Result<(), IndexFileError> {
        let len = self.fits(count, size).ok_or(IndexFileError::Truncated { what })?;
        buffer.clear();
        buffer.resize(len, 0);
        self.reader.read_exact(buffer).map_err(|e| read_error(&e, what))?;
        self.remaining -= len as u64;
        Ok(())
    }

    /// The next `count` items of `size` bytes each, as raw bytes.
    pub fn take(&mut self, count: u64, size: usize, what: &'static str) -> Result<Vec<u8>, IndexFileError> {
        let mut bytes = Vec::new();
        self.take_into(&mut bytes, count, size, what)?;
        Ok(bytes)
    }

    /// Pass over `count` items of `size` bytes each.
    pub fn skip(&mut self, count: u64, size: usize, what: &'static str) -> Result<(), IndexFileError> {
        let len = self.fits(count, size).ok_or(IndexFileError::Truncated { what })? as u64;
        let copied = io::copy(&mut (&mut self.reader).take(len), &mut io::sink()).map_err(|e| read_error(&e, what))?;
        if copied != len {
            return Err(IndexFileError::Truncated { what });
        }
        self.remaining -= len;
        Ok(())
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], IndexFileError> {
        self.fits(1, N).ok_or(IndexFileError::Truncated { what })?;
        let mut bytes = [0u8; N];
        self.reader.read_exact(&mut bytes).map_err(|e| read_error(&e, what))?;
        self.remaining -= N as u64;
        Ok(bytes)
    }

    pub fn fourcc(&mut self, what: &'static str) -> Result<[u8; 4], IndexFileError> {
        self.array(what)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, IndexFileError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32, IndexFileError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub fn f32(&mut self, what: &'static str) -> Result<f32, IndexFileError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    pub fn i64(&mut self, what: &'static str) -> Result<i64, IndexFileError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, IndexFileError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// `count` little-endian `f32`s.
    pub fn f32s(&mut self, count: u64, what: &'static str) -> Result<Vec<f32>, IndexFileError> {
        let bytes = self.take(count, 4, what)?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4"))).collect())
    }

    /// `count` little-endian `u64`s.
    pub fn u64s(&mut self, count: u64, what: &'static str) -> Result<Vec<u64>, IndexFileError> {
        let bytes = self.take(count, 8, what)?;
        Ok(bytes.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().expect("chunks of 8"))).collect())
    }
}

/// A file that ends before its size said (it changed while being read) is cut short; any other
/// failure is the system's.
fn read_error(error: &io::Error, what: &'static str) -> IndexFileError {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        IndexFileError::Truncated { what }
    } else {
        IndexFileError::Unreadable(error.to_string())
    }
}
