//! The `rvc-live-host render` command the demo uses: a WAV file bounced through the plugin
//! offline must come back aligned with its input, and the command must report the delay it
//! measured.

use std::path::PathBuf;
use std::time::Duration;

use rvc_live_hosts::fixtures::{EXACT, assert_audio_eq, release_bundle};
use rvc_live_hosts::latency::ExpectedLatency;
use rvc_live_hosts::scenarios::RenderReport;
use rvc_live_hosts::wav::{self, Audio};
use rvc_live_hosts::{signals, subprocess};

fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rvc-live-host"))
}

fn render(input: &Audio, extra: &[&str], name: &str) -> (RenderReport, Audio) {
    let dir = std::env::temp_dir();
    let (in_path, out_path) = (
        dir.join(format!("rvc-live-{name}-{}-in.wav", std::process::id())),
        dir.join(format!("rvc-live-{name}-{}-out.wav", std::process::id())),
    );
    wav::write(&in_path, input).unwrap();
    let plugin = release_bundle();
    let mut args =
        vec!["render", "--plugin", plugin.to_str().unwrap(), in_path.to_str().unwrap(), out_path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = subprocess::run(&host_binary(), &args, &[], Duration::from_secs(60)).unwrap();
    assert!(run.status.success(), "{}", run.describe());
    let report: RenderReport = serde_json::from_str(run.stdout.trim()).unwrap();
    let output = wav::read(&out_path).unwrap();
    std::fs::remove_file(&in_path).unwrap();
    std::fs::remove_file(&out_path).unwrap();
    (report, output)
}

/// Mono at 22.05 kHz, what espeak-ng writes for the demo.
#[test]
fn rendering_a_mono_file_returns_it_aligned_and_reports_the_measured_delay() {
    let input = Audio { sample_rate: 22_050, channels: vec![signals::chirp(33_075, 22_050.0, 80.0, 9_000.0, 0.6)] };
    let (report, output) = render(&input, &[], "mono");
    assert_eq!(report.reported_latency as usize, ExpectedLatency::defaults(22_050.0, 512).total());
    assert_eq!(report.measured_delay, Some(report.reported_latency as usize));
    assert_eq!((output.sample_rate, output.channels.len()), (22_050, 1));
    assert_audio_eq(&output.channels[0], &input.channels[0], EXACT, "rendered mono file");
}

/// Stereo in random buffer sizes, no voice: each channel comes back as it went in (stereo stays
/// stereo), aligned.
#[test]
fn rendering_a_stereo_file_in_random_buffers_returns_each_channel_aligned() {
    let channels = vec![signals::noise(44_100, 80, 0.5), signals::chirp(44_100, 44_100.0, 50.0, 15_000.0, 0.5)];
    let input = Audio { sample_rate: 44_100, channels };
    let (report, output) = render(&input, &["--block", "1024", "--random-blocks", "7"], "stereo");
    assert_eq!(report.measured_delay, Some(report.reported_latency as usize));
    assert_eq!(output.channels.len(), 2);
    for ((channel, input), name) in output.channels.iter().zip(&input.channels).zip(["left", "right"]) {
        assert_audio_eq(channel, input, EXACT, &format!("rendered stereo file, {name}"));
    }
}
