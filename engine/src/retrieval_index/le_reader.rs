//! Little-endian fields read one after another from a file's bytes, every length checked against
//! what is left before anything is allocated: a count in a hostile file cannot ask for more memory
//! than the file itself holds.

use super::IndexFileError;

pub(super) struct LeReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> LeReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The next `count` items of `size` bytes each, as raw bytes.
    pub fn take(&mut self, count: u64, size: usize, what: &'static str) -> Result<&'a [u8], IndexFileError> {
        let len = usize::try_from(count)
            .ok()
            .and_then(|count| count.checked_mul(size))
            .filter(|&len| len <= self.remaining())
            .ok_or(IndexFileError::Truncated { what })?;
        let taken = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], IndexFileError> {
        let bytes = self.take(1, N, what)?;
        Ok(bytes.try_into().expect("take returns exactly N bytes"))
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
