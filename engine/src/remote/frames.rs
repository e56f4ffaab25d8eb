//! The binary frames: audio to convert, and converted audio back. Little-endian; one frame per
//! WebSocket binary message, so the transport delimits them.
//!
//! ```text
//! audio     [1u8][seq u64][samples u32][samples × f32]
//! converted [2u8][seq u64][compute µs u32][samples u32][pending u32]
//!           [samples × f32 signal][samples × f32 weight][pending × f32 signal][pending × f32 weight]
//! ```

use super::error::ProtocolError;

/// The largest block a stream may send: half a second at 192 kHz.
pub const MAX_BLOCK_SAMPLES: usize = 96_000;
/// The largest frame either end accepts: a converted block of the largest size with a pending
/// tail as long, and its header.
pub const MAX_FRAME_BYTES: usize = CONVERTED_HEADER + 16 * MAX_BLOCK_SAMPLES;

const AUDIO: u8 = 1;
const CONVERTED: u8 = 2;
const AUDIO_HEADER: usize = 1 + 8 + 4;
const CONVERTED_HEADER: usize = 1 + 8 + 4 + 4 + 4;

/// A block of mono input at the stream's rate, numbered from 0 in the order it was played.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBlock {
    pub seq: u64,
    pub samples: Vec<f32>,
}

/// The block converted: signal premultiplied by weight, as the engine's processors give it (see
/// the stream's `BlockProcessor`), with the time the server spent on it, and what the server's
/// processor would play next (its `pending_output`, the SOLA tail): the client fades out of that
/// when the next block is late, so a lost server is heard as a crossfade to the dry input.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedBlock {
    pub seq: u64,
    pub compute_us: u32,
    pub signal: Vec<f32>,
    pub weight: Vec<f32>,
    pub pending_signal: Vec<f32>,
    pub pending_weight: Vec<f32>,
}

impl AudioBlock {
    pub fn encode(&self) -> Vec<u8> {
        let mut frame = Vec::with_capacity(AUDIO_HEADER + 4 * self.samples.len());
        frame.push(AUDIO);
        frame.extend_from_slice(&self.seq.to_le_bytes());
        frame.extend_from_slice(&(self.samples.len() as u32).to_le_bytes());
        self.samples.iter().for_each(|s| frame.extend_from_slice(&s.to_le_bytes()));
        frame
    }

    /// Check and read a frame a client sent.
    pub fn decode(frame: &[u8]) -> Result<Self, ProtocolError> {
        let mut reader = Reader::new(frame, AUDIO)?;
        let seq = reader.u64()?;
        let samples = reader.block_size()?;
        reader.expect_remaining(4 * samples)?;
        let samples = reader.samples(samples, |_| true)?;
        Ok(Self { seq, samples })
    }
}

impl ConvertedBlock {
    pub fn encode(&self) -> Vec<u8> {
        let pending = self.pending_signal.len();
        let mut frame = Vec::with_capacity(CONVERTED_HEADER + 8 * (self.signal.len() + pending));
        frame.push(CONVERTED);
        frame.extend_from_slice(&self.seq.to_le_bytes());
        frame.extend_from_slice(&self.compute_us.to_le_bytes());
        frame.extend_from_slice(&(self.signal.len() as u32).to_le_bytes());
        frame.extend_from_slice(&(pending as u32).to_le_bytes());
        let values = self.signal.iter().chain(&self.weight).chain(&self.pending_signal).chain(&self.pending_weight);
        values.for_each(|s| frame.extend_from_slice(&s.to_le_bytes()));
        frame
    }

    /// Check and read a frame a server sent.
    pub fn decode(frame: &[u8]) -> Result<Self, ProtocolError> {
        let mut reader = Reader::new(frame, CONVERTED)?;
        let seq = reader.u64()?;
        let compute_us = reader.u32()?;
        let samples = reader.block_size()?;
        let pending = reader.u32()? as usize;
        if pending > MAX_BLOCK_SAMPLES {
            return Err(ProtocolError::BadBlockSize { samples: pending, max: MAX_BLOCK_SAMPLES });
        }
        reader.expect_remaining(8 * (samples + pending))?;
        let is_weight = |w: f32| (0.0..=1.0).contains(&w);
        let at = |offset: usize| {
            move |e| match e {
                ProtocolError::BadSample { index } => ProtocolError::BadSample { index: offset + index },
                other => other,
            }
        };
        let signal = reader.samples(samples, |_| true)?;
        let weight = reader.samples(samples, is_weight).map_err(at(samples))?;
        let pending_signal = reader.samples(pending, |_| true).map_err(at(2 * samples))?;
        let pending_weight = reader.samples(pending, is_weight).map_err(at(2 * samples + pending))?;
        Ok(Self { seq, compute_us, signal, weight, pending_signal, pending_weight })
    }
}

/// Reads a frame front to back, every read checked against its length.
struct Reader<'a> {
    frame: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(frame: &'a [u8], kind: u8) -> Result<Self, ProtocolError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(ProtocolError::TooLarge { bytes: frame.len(), max: MAX_FRAME_BYTES });
        }
        match frame.first() {
            None => Err(ProtocolError::WrongLength { expected: 1, got: 0 }),
            Some(&k) if k != kind => Err(ProtocolError::UnknownKind(k)),
            Some(_) => Ok(Self { frame, at: 1 }),
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let bytes = self
            .frame
            .get(self.at..self.at + N)
            .ok_or(ProtocolError::WrongLength { expected: self.at + N, got: self.frame.len() })?;
        self.at += N;
        Ok(bytes.try_into().expect("N bytes"))
    }

    fn u64(&mut self) -> Result<u64, ProtocolError> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, ProtocolError> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    fn block_size(&mut self) -> Result<usize, ProtocolError> {
        let samples = self.u32()? as usize;
        if samples == 0 || samples > MAX_BLOCK_SAMPLES {
            return Err(ProtocolError::BadBlockSize { samples, max: MAX_BLOCK_SAMPLES });
        }
        Ok(samples)
    }

    fn expect_remaining(&self, bytes: usize) -> Result<(), ProtocolError> {
        let expected = self.at + bytes;
        if self.frame.len() != expected {
            return Err(ProtocolError::WrongLength { expected, got: self.frame.len() });
        }
        Ok(())
    }

    fn samples(&mut self, count: usize, valid: impl Fn(f32) -> bool) -> Result<Vec<f32>, ProtocolError> {
        let mut samples = Vec::with_capacity(count);
        for index in 0..count {
            let sample = f32::from_le_bytes(self.take::<4>()?);
            if !sample.is_finite() || !valid(sample) {
                return Err(ProtocolError::BadSample { index });
            }
            samples.push(sample);
        }
        Ok(samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let audio = AudioBlock { seq: 7, samples: vec![0.5, -0.25, 1e-3] };
        assert_eq!(AudioBlock::decode(&audio.encode()), Ok(audio));
        let converted = ConvertedBlock {
            seq: u64::MAX,
            compute_us: 41_000,
            signal: vec![0.1, -0.2],
            weight: vec![1.0, 0.5],
            pending_signal: vec![0.3],
            pending_weight: vec![0.75],
        };
        assert_eq!(ConvertedBlock::decode(&converted.encode()), Ok(converted.clone()));
        let no_tail = ConvertedBlock { pending_signal: vec![], pending_weight: vec![], ..converted };
        assert_eq!(ConvertedBlock::decode(&no_tail.encode()), Ok(no_tail));
    }

    #[test]
    fn frames_that_lie_about_themselves_are_refused() {
        let audio = AudioBlock { seq: 1, samples: vec![0.5; 4] }.encode();
        assert!(matches!(AudioBlock::decode(&audio[..audio.len() - 1]), Err(ProtocolError::WrongLength { .. })));
        let mut longer = audio.clone();
        longer.push(0);
        assert!(matches!(AudioBlock::decode(&longer), Err(ProtocolError::WrongLength { .. })));
        assert_eq!(ConvertedBlock::decode(&audio), Err(ProtocolError::UnknownKind(1)));
        let mut nan = audio.clone();
        nan[AUDIO_HEADER + 4..AUDIO_HEADER + 8].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(AudioBlock::decode(&nan), Err(ProtocolError::BadSample { index: 1 }));
        let mut huge = audio.clone();
        huge[9..13].copy_from_slice(&(MAX_BLOCK_SAMPLES as u32 + 1).to_le_bytes());
        assert!(matches!(AudioBlock::decode(&huge), Err(ProtocolError::BadBlockSize { .. })));
        let weights = ConvertedBlock {
            seq: 0,
            compute_us: 0,
            signal: vec![0.0],
            weight: vec![1.5],
            pending_signal: vec![],
            pending_weight: vec![],
        };
        assert_eq!(ConvertedBlock::decode(&weights.encode()), Err(ProtocolError::BadSample { index: 1 }));
        let tail =
            ConvertedBlock { weight: vec![1.0], pending_signal: vec![0.0], pending_weight: vec![-0.5], ..weights };
        assert_eq!(ConvertedBlock::decode(&tail.encode()), Err(ProtocolError::BadSample { index: 3 }));
        assert!(matches!(AudioBlock::decode(&vec![1; MAX_FRAME_BYTES + 1]), Err(ProtocolError::TooLarge { .. })));
        assert!(AudioBlock::decode(&[]).is_err());
    }
}
