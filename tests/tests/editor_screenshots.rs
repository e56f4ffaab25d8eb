//! The editor as a user sees it: the standalone app on the dummy audio backend, in a virtual X
//! server, driven with real mouse clicks, in three states: no voice, a voice loaded from the
//! library list, and the error banner for a voice whose file has gone; then a voice picked in the
//! file dialog, and a voice pack imported into the library and switched to while audio plays. Each state is checked on
//! its pixels (the banner's colour, a picture that is not blank) and against the plugin's log, and
//! saved to `target/screenshots/`, or to `RVC_LIVE_SCREENSHOTS` (`cargo xtask screenshots` puts
//! them in `docs/screenshots/` for the documentation).
//!
//! Needs Xvfb, xdotool and ImageMagick; the test fails with the `apt-get` line when they are missing.

use rvc_live_test_support::models::{analytic, retrieval_index, voice_pack};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const APT: &str = "apt-get install --no-install-recommends xvfb xauth x11-apps imagemagick xdotool libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libxkbcommon-x11-0";
/// Debian's ImageMagick; `convert` earlier on the PATH may be something else.
const CONVERT: &str = "/usr/bin/convert";

/// The window's default size (`plugin/src/editor_window.rs`; this crate loads the plugin as a
/// bundle, not as a library, so it checks the size rather than reading it).
const WIDTH: usize = 720;
const HEIGHT: usize = 690;
/// Banner fills (`plugin/src/editor/theme.rs`).
const NO_VOICE: [u8; 3] = [0x3a, 0x3f, 0x48];
const CONVERTING: [u8; 3] = [0x2c, 0x6e, 0x49];
const ERROR: [u8; 3] = [0x8e, 0x2c, 0x2c];
/// The banner's band, right of the title, in window pixels.
const BANNER_ROWS: std::ops::Range<usize> = 16..50;
const BANNER_COLUMNS: std::ops::Range<usize> = 120..700;
/// Centre of the library list's first row, and the distance between rows; see
/// `plugin/src/editor/voice_library.rs`. If the layout moves, the click misses and the banner
/// check below says so.
const FIRST_ROW: (usize, usize) = (180, 186);
const ROW_PITCH: usize = 26;
/// The "…" button beside the voice model's path (`plugin/src/editor/voice_picker.rs`).
const BROWSE_BUTTON: (usize, usize) = (327, 357);
/// The library's "Import…" button (`plugin/src/editor/voice_library.rs`).
const IMPORT_BUTTON: (usize, usize) = (320, 156);
/// The Say box's text field and its Piper voice "…" button (`plugin/src/editor/speech_box.rs`),
/// once the library says what it imported (a line that moves them down).
const SAY_FIELD: (usize, usize) = (120, 581);
const PIPER_BUTTON: (usize, usize) = (340, 581);

fn standalone() -> PathBuf {
    rvc_live_hosts::fixtures::standalone_app()
}

fn require_tools() {
    for tool in ["Xvfb", "xdotool", "import"] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(found, "`{tool}` is missing; install the screenshot tools with:\n  sudo {APT}");
    }
    assert!(Path::new(CONVERT).is_file(), "ImageMagick's {CONVERT} is missing; install it with:\n  sudo {APT}");
}

/// Kills and reaps the process when dropped, so a failing assertion leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private X server on the first free display number from 90.
fn start_xvfb() -> (Running, String) {
    for number in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
            || Path::new(&format!("/tmp/.X{number}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let xvfb = Running(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
                return (xvfb, display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no X display could be started");
}

fn xdotool(display: &str, args: &[&str]) -> Option<String> {
    let output = Command::new("xdotool").args(args).env("DISPLAY", display).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// An RGB capture of the window.
struct Capture {
    pixels: Vec<u8>,
    width: usize,
    height: usize,
}

impl Capture {
    fn take(display: &str, window: &str, ppm: &Path) -> Self {
        let status = Command::new("import")
            .args(["-window", window, "-depth", "8"])
            .arg(format!("ppm:{}", ppm.display()))
            .env("DISPLAY", display)
            .status()
            .expect("run import");
        assert!(status.success(), "import could not capture the window");
        let mut bytes = Vec::new();
        std::fs::File::open(ppm).unwrap().read_to_end(&mut bytes).unwrap();
        // P6, then width, height and maxval as ASCII separated by whitespace, then one byte of it.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        }
        assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"), "an 8-bit binary PPM");
        let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let pixels = bytes[at + 1..].to_vec();
        assert_eq!(pixels.len(), width * height * 3);
        Self { pixels, width, height }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// The most common colour in the banner's band: its fill, whatever the text on it.
    fn banner_fill(&self) -> [u8; 3] {
        let mut counts = std::collections::HashMap::new();
        for y in BANNER_ROWS {
            for x in BANNER_COLUMNS {
                *counts.entry(self.pixel(x, y)).or_insert(0usize) += 1;
            }
        }
        counts.into_iter().max_by_key(|&(_, n)| n).unwrap().0
    }

    /// Standard deviation of the luminance: near 0 for a blank or single-colour window.
    fn luminance_spread(&self) -> f64 {
        let lum: Vec<f64> = self
            .pixels
            .chunks(3)
            .map(|p| 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]))
            .collect();
        let mean = lum.iter().sum::<f64>() / lum.len() as f64;
        (lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64).sqrt()
    }

    fn distinct_colours(&self) -> usize {
        self.pixels.chunks(3).collect::<std::collections::HashSet<_>>().len()
    }
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(&a, b)| a.abs_diff(b) <= 6)
}

/// Captures until the banner shows `fill`, or fails with what it showed instead.
fn wait_for_banner(display: &str, window: &str, ppm: &Path, fill: [u8; 3], what: &str, log: &Path) -> Capture {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let capture = Capture::take(display, window, ppm);
        let seen = capture.banner_fill();
        if close(seen, fill) {
            // One more frame so that everything else caught up with the banner.
            std::thread::sleep(Duration::from_millis(300));
            return Capture::take(display, window, ppm);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the banner never showed {what} ({fill:02x?}); it shows {seen:02x?}. Plugin log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What the X server shows and what the standalone said, for a window that never came.
fn diagnosis(display: &str, stderr: &Path, log: &Path) -> String {
    let windows = Command::new("xwininfo")
        .args(["-root", "-tree"])
        .env("DISPLAY", display)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(xwininfo: {e})"));
    format!(
        "windows on {display}:\n{windows}\nstandalone stderr:\n{}\nplugin log:\n{}",
        std::fs::read_to_string(stderr).unwrap_or_default(),
        std::fs::read_to_string(log).unwrap_or_default()
    )
}

/// Every thread's stack of a process that hangs, where gdb is installed.
fn backtraces(pid: u32) -> String {
    Command::new("gdb")
        .args(["-p", &pid.to_string(), "-batch", "-ex", "thread apply all bt 30"])
        .output()
        .map(|o| format!("standalone threads:\n{}", String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_else(|e| format!("(no backtrace: gdb: {e})"))
}

fn save_png(ppm: &Path, png: &Path) {
    std::fs::create_dir_all(png.parent().unwrap()).unwrap();
    // A palette keeps each picture a few tens of kilobytes; the editor has few colours anyway.
    let status = Command::new(CONVERT)
        .arg(ppm)
        .args(["-strip", "-colors", "256", "-define", "png:compression-level=9"])
        .arg(format!("png8:{}", png.display()))
        .status()
        .expect("run convert");
    assert!(status.success(), "convert could not write {}", png.display());
}

fn check_picture(capture: &Capture, name: &str) {
    assert_eq!((capture.width, capture.height), (WIDTH, HEIGHT), "{name}: the window's size");
    let spread = capture.luminance_spread();
    assert!(spread > 8.0, "{name}: the window looks blank (luminance spread {spread:.1})");
    let colours = capture.distinct_colours();
    assert!(colours > 50, "{name}: only {colours} colours; text is not being drawn");
}

#[test]
fn the_editor_shows_no_voice_a_loaded_voice_and_a_missing_file() {
    require_tools();
    let started = Instant::now();
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("editor-screenshots");
    let _ = std::fs::remove_dir_all(&scratch);
    let library = scratch.join("voices");
    std::fs::create_dir_all(&library).unwrap();
    // A voice library as a user would have one: a voice with its sidecar and its index under the
    // name RVC's training gives it, the shared encoder, and a second voice whose model file will
    // be gone by the time it is clicked.
    std::fs::copy(analytic("analytic_synth_v2_40k.onnx"), library.join("analytic-tenor.onnx")).unwrap();
    std::fs::write(library.join("analytic-tenor.json"), r#"{"name": "Analytic tenor", "pitch": 7}"#).unwrap();
    let tenor_index = library.join("added_IVF64_Flat_nprobe_4_analytic-tenor_v2.index");
    std::fs::copy(retrieval_index("ivf_flat_v2_sparse.index"), &tenor_index).unwrap();
    std::fs::copy(analytic("analytic_content_units.onnx"), library.join("analytic_content_units.onnx")).unwrap();
    std::fs::copy(analytic("analytic_synth_v2_40k.onnx"), library.join("moved-voice.onnx")).unwrap();
    std::fs::write(library.join("moved-voice.json"), r#"{"name": "Moved voice"}"#).unwrap();

    // The system's file dialog is replaced by a script that answers with a voice outside the
    // library, as a user picking a file elsewhere on disk would.
    let elsewhere = scratch.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let dialog_voice = elsewhere.join("dialog-voice.onnx");
    std::fs::copy(analytic("analytic_synth_v2_40k.onnx"), &dialog_voice).unwrap();
    // Asked for a voice pack (its title says so), it answers with one as users download it; asked
    // for a Piper voice, with the one from PyPI.
    let dialog = scratch.join("file-dialog.sh");
    let pack = voice_pack("subfolder.zip");
    std::fs::write(
        &dialog,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  *pack*) echo '{}' ;;\n  *Piper*) echo '{}' ;;\n  *) echo '{}' ;;\nesac\n",
            pack.display(),
            rvc_live_test_support::speech::piper_voice().display(),
            dialog_voice.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&dialog, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let (mut xvfb, display) = start_xvfb();
    let log = scratch.join("standalone.log");
    let stderr = scratch.join("standalone.stderr");
    let mut app = Running(
        Command::new(standalone())
            .args(["--backend", "dummy", "--sample-rate", "48000", "--period-size", "512"])
            .env("DISPLAY", &display)
            .env("RVC_LIVE_VOICE_LIBRARY", &library)
            .env("RVC_LIVE_FILE_DIALOG", &dialog)
            .env("NICE_LOG", &log)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );

    // The window is found by its title, which is what window managers and hosts show.
    let deadline = Instant::now() + Duration::from_secs(90);
    let window = loop {
        if let Some(ids) = xdotool(&display, &["search", "--name", "^RVC Live$"])
            && let Some(id) = ids.lines().next()
        {
            break id.to_owned();
        }
        if let Ok(Some(status)) = app.0.try_wait() {
            panic!(
                "the standalone exited ({status}) before its window appeared\n{}",
                diagnosis(&display, &stderr, &log)
            );
        }
        if let Ok(Some(status)) = xvfb.0.try_wait() {
            panic!("Xvfb on {display} exited ({status}) before the window appeared");
        }
        if Instant::now() > deadline {
            let threads = backtraces(app.0.id());
            panic!(
                "no window titled `RVC Live` appeared within 90 s\n{}\n{threads}",
                diagnosis(&display, &stderr, &log)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let opened = started.elapsed();
    let shots = std::env::var_os("RVC_LIVE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let ppm = scratch.join("capture.ppm");

    let empty = wait_for_banner(&display, &window, &ppm, NO_VOICE, "no voice", &log);
    check_picture(&empty, "empty");
    save_png(&ppm, &shots.join("empty.png"));

    // The second voice's file goes away after the library was scanned, as after a move.
    std::fs::remove_file(library.join("moved-voice.onnx")).unwrap();

    let click = |row: usize| {
        let (x, y) = (FIRST_ROW.0.to_string(), (FIRST_ROW.1 + row * ROW_PITCH).to_string());
        xdotool(&display, &["mousemove", "--window", &window, &x, &y, "click", "1"]).expect("xdotool click");
    };
    click(0);
    let loaded = wait_for_banner(&display, &window, &ppm, CONVERTING, "the loaded voice", &log);
    check_picture(&loaded, "voice-loaded");
    save_png(&ppm, &shots.join("voice-loaded.png"));

    click(1);
    let failed = wait_for_banner(&display, &window, &ppm, ERROR, "the error", &log);
    check_picture(&failed, "error-banner");
    save_png(&ppm, &shots.join("error-banner.png"));

    // The voice model's "…" button: the dialog's answer replaces the failed voice and loads.
    let (x, y) = (BROWSE_BUTTON.0.to_string(), BROWSE_BUTTON.1.to_string());
    xdotool(&display, &["mousemove", "--window", &window, &x, &y, "click", "1"]).expect("xdotool click");
    wait_for_banner(&display, &window, &ppm, CONVERTING, "the voice picked in the file dialog", &log);

    // "Import…": the pack's .pth and index go into the library, and its voice loads while the
    // audio plays.
    let (x, y) = (IMPORT_BUTTON.0.to_string(), IMPORT_BUTTON.1.to_string());
    xdotool(&display, &["mousemove", "--window", &window, &x, &y, "click", "1"]).expect("xdotool click");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("Loaded") && l.contains("tiny_tenor.pth"))
    {
        assert!(
            Instant::now() < deadline,
            "the imported voice never loaded. Plugin log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let imported = wait_for_banner(&display, &window, &ppm, CONVERTING, "the imported voice", &log);
    check_picture(&imported, "voice-imported");
    save_png(&ppm, &shots.join("voice-imported.png"));
    assert!(library.join("tiny_tenor.pth").is_file() && library.join("tiny_tenor.index").is_file());

    // Say: the Piper voice chosen with its "…", text typed and Enter. The speech goes into the
    // input while the audio runs; the thread says it spoke once the audio thread took it all.
    let click_at = |(x, y): (usize, usize)| {
        xdotool(&display, &["mousemove", "--window", &window, &x.to_string(), &y.to_string(), "click", "1"])
            .expect("xdotool click")
    };
    click_at(PIPER_BUTTON);
    std::thread::sleep(Duration::from_millis(1500));
    click_at(SAY_FIELD);
    xdotool(&display, &["type", "--delay", "20", "Hello from the voice."]).expect("xdotool type");
    xdotool(&display, &["key", "Return"]).expect("xdotool key");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !std::fs::read_to_string(&log).unwrap_or_default().lines().any(|l| l.contains("Spoke")) {
        assert!(
            Instant::now() < deadline,
            "the text was never spoken. Plugin log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // One more frame for the status line.
    std::thread::sleep(Duration::from_millis(300));
    let said = Capture::take(&display, &window, &ppm);
    check_picture(&said, "voice-said");
    save_png(&ppm, &shots.join("voice-said.png"));

    drop(app);
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("Loaded") && log.contains("dialog-voice.onnx"), "the dialog's voice loaded:\n{log}");
    assert!(log.contains("Loaded") && log.contains("analytic-tenor.onnx"), "the click loaded the voice:\n{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("Loaded") && l.contains("analytic-tenor.onnx") && l.contains("index of 12 vectors")),
        "the library paired the voice with its index, and it loaded:\n{log}"
    );
    assert!(log.contains("Could not load the voice") && log.contains("moved-voice.onnx"), "the error:\n{log}");
    assert!(
        log.lines().any(|l| l.contains("Loaded") && l.contains("tiny_tenor.pth") && l.contains("index of")),
        "the imported voice loaded with its index:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    eprintln!(
        "editor screenshots: window after {:.1} s, all three states after {:.1} s, in {}",
        opened.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
