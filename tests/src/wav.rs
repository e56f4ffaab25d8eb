//! Planar `f32` audio to and from WAV files (hound), for the `render` command and for subprocess
//! scenarios that hand their output back to the test that started them.

use std::path::Path;

use anyhow::{Context, bail};

/// Planar audio: one `Vec` per channel, all the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

pub fn read(path: &Path) -> anyhow::Result<Audio> {
    let mut reader = hound::WavReader::open(path).with_context(|| format!("opening {}", path.display()))?;
    let spec = reader.spec();
    let count = usize::from(spec.channels);
    if count == 0 {
        bail!("{} has no channels", path.display());
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>()?
        }
    };
    let mut channels = vec![Vec::with_capacity(interleaved.len() / count); count];
    for frame in interleaved.chunks_exact(count) {
        for (channel, &sample) in channels.iter_mut().zip(frame) {
            channel.push(sample);
        }
    }
    Ok(Audio { sample_rate: spec.sample_rate, channels })
}

/// Write 32-bit float WAV, so nothing the plugin produced is rounded away.
pub fn write(path: &Path, audio: &Audio) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: audio.channels.len() as u16,
        sample_rate: audio.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).with_context(|| format!("creating {}", path.display()))?;
    for n in 0..audio.frames() {
        for channel in &audio.channels {
            writer.write_sample(channel[n])?;
        }
    }
    writer.finalize().with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_wav_round_trips_exactly() {
        let path = std::env::temp_dir().join(format!("rvc-live-wav-{}.wav", std::process::id()));
        let audio = Audio { sample_rate: 44_100, channels: vec![vec![0.25, -1.0, 1e-7], vec![0.0, 0.5, -0.125]] };
        write(&path, &audio).unwrap();
        let back = read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, audio);
    }
}
