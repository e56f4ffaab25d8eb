//! The remote protocol's decoders against what a hostile or broken peer sends: random bytes,
//! valid frames cut short, grown, bit-flipped or with lying headers, and random JSON. Every frame
//! is either refused with a reason or decoded into exactly what encodes back to it; nothing
//! panics.

use rvc_live_engine::remote::{AudioBlock, ClientMessage, ConvertedBlock, MAX_FRAME_BYTES, ServerMessage};

/// xorshift64*: a seeded stream of bytes, so a failure can be replayed.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Decoded frames must be canonical: what they decode to encodes back to the same bytes.
fn check_frame(frame: &[u8]) -> bool {
    let audio = AudioBlock::decode(frame).map(|block| assert_eq!(block.encode(), frame));
    let converted = ConvertedBlock::decode(frame).map(|block| assert_eq!(block.encode(), frame));
    audio.is_ok() || converted.is_ok()
}

#[test]
fn random_and_mangled_frames_are_refused_or_read_exactly() {
    let mut noise = Noise(0x5eed_1234_abcd_0001);
    let valid = [
        AudioBlock { seq: 3, samples: (0..480).map(|i| (i as f32 / 480.0) - 0.5).collect() }.encode(),
        ConvertedBlock {
            seq: 9,
            compute_us: 1234,
            signal: vec![0.25; 480],
            weight: vec![1.0; 480],
            pending_signal: vec![0.125; 96],
            pending_weight: vec![0.5; 96],
        }
        .encode(),
    ];
    let (mut accepted, mut tried) = (0, 0);
    for round in 0..4_000 {
        let frame = match round % 5 {
            0 => {
                let len = noise.below(64);
                noise.bytes(len)
            }
            1 => {
                let base = &valid[round % 2];
                base[..noise.below(base.len())].to_vec()
            }
            2 => {
                let mut grown = valid[round % 2].clone();
                let extra = 1 + noise.below(16);
                grown.extend(noise.bytes(extra));
                grown
            }
            3 => {
                let mut flipped = valid[round % 2].clone();
                for _ in 0..1 + noise.below(4) {
                    let at = noise.below(flipped.len());
                    flipped[at] ^= 1 << noise.below(8);
                }
                flipped
            }
            _ => {
                // A header claiming any size, followed by anything.
                let mut lying = vec![1 + (round % 2) as u8];
                lying.extend(noise.bytes(8 + 4 + 4));
                let len = noise.below(256);
                lying.extend(noise.bytes(len));
                lying
            }
        };
        accepted += usize::from(check_frame(&frame));
        tried += 1;
    }
    // Flipping a bit inside a sample can leave a valid frame; the rest must be refused.
    assert!(accepted < tried / 5, "{accepted} of {tried} mangled frames were accepted");
    assert!(valid.iter().all(|frame| check_frame(frame)));
    // A frame the size of the limit plus one is refused before it is read.
    assert!(!check_frame(&vec![1; MAX_FRAME_BYTES + 1]));
}

#[test]
fn random_text_is_refused_with_a_reason() {
    let mut noise = Noise(0x7e47_0000_0000_0002);
    let pieces = ["{", "}", "\"type\"", ":", "\"hello\"", "\"controls\"", ",", "\"voice\"", "1e999", "null", "[", "]"];
    for _ in 0..2_000 {
        let text: String = (0..noise.below(12)).map(|_| pieces[noise.below(pieces.len())]).collect();
        // Whatever it is, parsing returns; a message it accepts is one the protocol defines.
        if let Ok(message) = ClientMessage::parse(&text) {
            assert_eq!(ClientMessage::parse(&message.to_text()), Ok(message));
        }
        let _ = ServerMessage::parse(&text);
    }
}
