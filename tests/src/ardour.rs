//! Ardour 7 as a headless test host: `ardour7-lua` runs `tests/ardour/session.lua` against a
//! session on Ardour's dummy audio backend, with RVC Live's VST3 bundle in Ardour's plugin list.
//!
//! Every test gets a sandbox of its own under `target/ardour-tests/NAME`: a home folder and XDG
//! folders for Ardour's configuration, plugin cache and scripts (so no test sees another's state
//! or the user's), the sessions, and the exports. It is left in place after the test for
//! inspection and removed when the test runs again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail, ensure};

use crate::plugin_paths::workspace_root;
use crate::subprocess::{self, ChildRun, StopLog};
use crate::wav::{self, Audio};

/// The interpreter Debian's `ardour` package installs (Ardour 7.3 in Debian 12).
pub const LUA_SESSION: &str = "ardour7-lua";
/// Ardour's libraries and helper programs; the VST3 scanner runs from here.
pub const LIB_DIR: &str = "/usr/lib/ardour7";
/// `PBD::FPU` flags FTZ 0x1 | DAZ 0x2 | SSE 0x4 | SSE2 0x8 | AVX 0x10 | FMA 0x40 (see [`Sandbox`]'s
/// environment for why AVX-512 is left out).
const ARDOUR_FPU_FLAGS_WITHOUT_AVX512: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40;
/// The VST3 bundle under test (`cargo xtask test` passes it, as to pytest).
pub const VST3_ENV: &str = "RVC_LIVE_VST3";

/// What the scripts run at: Ardour's dummy backend at its default buffer size.
pub const SAMPLE_RATE: u32 = 48_000;
pub const BLOCK: u32 = 1024;

/// Every session's name (and its folder's).
pub const SESSION_NAME: &str = "rvc-live";

/// One Ardour run can load a voice, calibrate its int8 copies and export a few seconds.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// The installed Ardour.
#[derive(Debug, Clone)]
pub struct Ardour {
    lua: PathBuf,
    scanner: PathBuf,
}

impl Ardour {
    /// Ardour 7's `ardour7-lua` and VST3 scanner, or an error that says how to install them.
    pub fn locate() -> anyhow::Result<Self> {
        let lua = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join(LUA_SESSION))
            .find(|p| p.is_file());
        let scanner = Path::new(LIB_DIR).join("ardour-vst3-scanner");
        match lua {
            Some(lua) if scanner.is_file() => Ok(Self { lua, scanner }),
            _ => bail!(
                "Ardour 7 is not installed (no {LUA_SESSION} on PATH, or no {}): install it with \
                 `sudo apt-get install --no-install-recommends ardour` (Debian 12 / Ubuntu), or run \
                 `cargo xtask test`, which installs it",
                scanner.display()
            ),
        }
    }
}

/// The VST3 bundle under test: `RVC_LIVE_VST3`, or the release bundle where `cargo xtask bundle`
/// writes it. A missing bundle is an error, never a skipped test.
pub fn vst3_bundle() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os(VST3_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("target/bundled/RVC Live.vst3"),
    };
    ensure!(
        path.join("Contents").is_dir(),
        "the VST3 bundle {} does not exist; run `cargo xtask test`, which builds it and runs this suite, or \
         `cargo xtask bundle rvc_live --release`, or point {VST3_ENV} at a built bundle",
        path.display()
    );
    path.canonicalize().with_context(|| format!("resolving {}", path.display()))
}

/// The files `tests/ardour/` provides.
fn script(name: &str) -> PathBuf {
    workspace_root().join("tests/ardour").join(name)
}

/// What one `ardour7-lua` run printed, and how it ended.
#[derive(Debug)]
pub struct ArdourRun {
    pub child: ChildRun,
    /// The `RVC_ARDOUR key<TAB>value` lines, in order.
    pub values: Vec<(String, String)>,
}

impl ArdourRun {
    /// Whether every step ran: exit status 0 and the script's closing line. (ardour7-lua exits
    /// with 1 when a step raises an error.)
    pub fn succeeded(&self) -> bool {
        self.child.status.success() && self.value("done").is_some()
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A value the script printed as a number; panics, with the run's output, when it did not.
    #[track_caller]
    pub fn number(&self, key: &str) -> f64 {
        match self.value(key).map(str::parse::<f64>) {
            Some(Ok(v)) => v,
            _ => panic!("Ardour printed no number for {key:?}\n{}", self.describe()),
        }
    }

    /// RVC Live's parameters as Ardour reports them, by label.
    pub fn parameters(&self) -> Vec<(String, f64)> {
        self.values
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("parameter ")?.to_string(), v.parse().ok()?)))
            .collect()
    }

    /// The xruns Ardour counted while the `capture:NAME` step rolled: with any, the process thread
    /// missed real time and the capture holds gaps.
    #[track_caller]
    pub fn capture_xruns(&self, name: &str) -> u64 {
        self.number(&format!("capture {name} xruns")) as u64
    }

    /// The counters every RVC Live instance logged when it stopped, in order. Ardour deactivates
    /// and reactivates plugins around an export, so one run logs several.
    pub fn plugin_counters(&self) -> Vec<StopLog> {
        StopLog::parse_all(self.plugin_log())
    }

    /// The plugin's log lines (nice-plug logs to stderr).
    pub fn plugin_log(&self) -> &str {
        &self.child.stderr
    }

    pub fn describe(&self) -> String {
        self.child.describe()
    }
}

/// A test's private Ardour setup: configuration, plugin cache, scripts, sessions and exports.
pub struct Sandbox {
    ardour: Ardour,
    pub root: PathBuf,
    home: PathBuf,
    pub exports: PathBuf,
}

impl Sandbox {
    /// A fresh sandbox under `target/ardour-tests/NAME`, with the test's scripts and export
    /// preset installed and `vst3` scanned into its plugin cache.
    pub fn new(name: &str, vst3: &Path) -> anyhow::Result<Self> {
        let ardour = Ardour::locate()?;
        let root = workspace_root().join("target/ardour-tests").join(name);
        if root.exists() {
            std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
        }
        let home = root.join("home");
        let config = home.join(".config/ardour7");
        for dir in [config.join("scripts"), config.join("export"), home.join(".cache"), home.join(".local/share")] {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // Ardour finds Lua DSP scripts in its configuration folder's `scripts`, and export
        // presets and formats in its `export`.
        for (file, into) in [
            ("test_signal_player.lua", "scripts"),
            ("rvc-live-test.preset", "export"),
            ("rvc-live-test.format", "export"),
        ] {
            std::fs::copy(script(file), config.join(into).join(file))
                .with_context(|| format!("installing {file} into {}", config.join(into).display()))?;
        }
        // Ardour 7 looks for VST3 bundles in ~/.vst3, /usr/local/lib/vst3, /usr/lib/vst3 and, when
        // its configuration is new (as a sandbox's is), in $VST3_PATH. A bundle linked into the
        // sandbox's ~/.vst3 was not found by Ardour 7.3; a link in a folder on $VST3_PATH is, and
        // puts the bundle under test there and nothing else.
        let vst3_dir = root.join("vst3");
        std::fs::create_dir_all(&vst3_dir)?;
        let linked = vst3_dir.join(vst3.file_name().context("the bundle has a name")?);
        std::os::unix::fs::symlink(vst3, &linked).with_context(|| format!("linking {}", linked.display()))?;
        let exports = root.join("exports");
        std::fs::create_dir_all(&exports)?;
        let sandbox = Self { ardour, root, home, exports };
        sandbox.scan(&linked)?;
        Ok(sandbox)
    }

    /// The environment that confines Ardour to the sandbox.
    fn env(&self) -> Vec<(&'static str, String)> {
        let home = self.home.to_string_lossy().into_owned();
        vec![
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", format!("{home}/.config")),
            ("XDG_CACHE_HOME", format!("{home}/.cache")),
            ("XDG_DATA_HOME", format!("{home}/.local/share")),
            ("VST3_PATH", self.root.join("vst3").to_string_lossy().into_owned()),
            // Ardour 7.3's own AVX-512 mixing routines corrupt its heap on CPUs that have AVX-512:
            // a session with the plugin and no voice (ONNX Runtime never loaded) crashed in 2 of
            // 8 runs at exit or in the next allocation, and in 0 of 10 with this. It is Ardour's
            // override of the CPU features it detects (PBD::FPU's flags): flush-to-zero,
            // denormals-are-zero, SSE, SSE2, AVX and FMA, without AVX-512.
            ("ARDOUR_FPU_FLAGS", ARDOUR_FPU_FLAGS_WITHOUT_AVX512.to_string()),
        ]
    }

    /// `ardour7-lua` never scans for plugins: it lists the VST3 plugins in its scan cache, which
    /// Ardour's scanner writes (a separate process, as the GUI runs it, so that a plugin crashing
    /// while it is scanned cannot take the host down).
    fn scan(&self, bundle: &Path) -> anyhow::Result<()> {
        let bundle_arg = bundle.to_string_lossy().into_owned();
        let mut env = self.env();
        env.push(("LD_LIBRARY_PATH", LIB_DIR.to_string()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = subprocess::run(&self.ardour.scanner, &["-f", &bundle_arg], &env, Duration::from_secs(120))?;
        ensure!(run.status.success(), "ardour-vst3-scanner failed on {}:\n{}", bundle.display(), run.describe());
        let cache = self.home.join(".cache/ardour7/vst");
        let cached = std::fs::read_dir(&cache)
            .map(|entries| entries.filter_map(Result::ok).any(|e| e.path().extension().is_some_and(|x| x == "v3i")))
            .unwrap_or(false);
        ensure!(cached, "ardour-vst3-scanner wrote no cache file into {}:\n{}", cache.display(), run.describe());
        Ok(())
    }

    /// The session folder for case `case` (not created: the `create` step does that). Every
    /// session is called [`SESSION_NAME`], in a folder per case, so a session copied from one
    /// case's folder to another's keeps its name, its snapshot file's name and its sources'
    /// folder (`interchange/NAME`) in agreement.
    pub fn session(&self, case: &str) -> PathBuf {
        self.root.join("sessions").join(case).join(SESSION_NAME)
    }

    /// A copy of the saved session `from` for case `case`.
    pub fn copy_session(&self, from: &Path, case: &str) -> anyhow::Result<PathBuf> {
        let to = self.session(case);
        copy_dir(from, &to)?;
        Ok(to)
    }

    /// Run `session.lua` with `steps` on the session in `session`. `signal` is the stereo signal
    /// for a `create` step; exports render `export_frames` samples.
    pub fn run(
        &self,
        session: &Path,
        steps: &[&str],
        signal: Option<&[Vec<f32>; 2]>,
        export_frames: usize,
    ) -> anyhow::Result<ArdourRun> {
        std::fs::create_dir_all(session.parent().context("a session folder has a parent")?)?;
        let mut env = self.env();
        env.push(("RVC_ARDOUR_SESSION", session.to_string_lossy().into_owned()));
        env.push(("RVC_ARDOUR_EXPORT", self.exports.to_string_lossy().into_owned()));
        env.push(("RVC_ARDOUR_EXPORT_FRAMES", export_frames.to_string()));
        if let Some([left, right]) = signal {
            ensure!(left.len() == right.len(), "both channels of the signal must be as long");
            let path = self.root.join("signal.f32");
            let bytes: Vec<u8> = left.iter().chain(right).flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(&path, bytes)?;
            env.push(("RVC_ARDOUR_SIGNAL", path.to_string_lossy().into_owned()));
        }
        let script = script("session.lua").to_string_lossy().into_owned();
        let args: Vec<&str> = std::iter::once(script.as_str()).chain(steps.iter().copied()).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let child = subprocess::run(&self.ardour.lua, &args, &env, RUN_TIMEOUT)?;
        let values = child
            .stdout
            .lines()
            .filter_map(|line| line.strip_prefix("RVC_ARDOUR "))
            .filter_map(|rest| rest.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(ArdourRun { child, values })
    }

    /// Like [`Self::run`], failing with the run's output unless every step ran.
    pub fn run_ok(
        &self,
        session: &Path,
        steps: &[&str],
        signal: Option<&[Vec<f32>; 2]>,
        export_frames: usize,
    ) -> anyhow::Result<ArdourRun> {
        let run = self.run(session, steps, signal, export_frames)?;
        ensure!(run.succeeded(), "ardour7-lua {steps:?} failed:\n{}", run.describe());
        Ok(run)
    }

    /// The master bus a `capture:NAME` step recorded in `run`: the files of the region Ardour made.
    /// A capture lags the session's timeline by an offset of its own (1040 samples at a 1024-sample
    /// buffer in Ardour 7.3: the master bus's output reaches a track's input about one process
    /// cycle later), so tests compare captures made the same way with each other rather than
    /// with the timeline.
    pub fn capture(&self, run: &ArdourRun, name: &str) -> anyhow::Result<Audio> {
        let mut channels = Vec::new();
        for c in 1..=2 {
            let path = run.value(&format!("capture {name} {c}")).context("the capture lists no file")?;
            let audio = wav::read(Path::new(path))?;
            ensure!(
                audio.sample_rate == SAMPLE_RATE && audio.channels.len() == 1,
                "{path}: not mono at {SAMPLE_RATE} Hz"
            );
            channels.extend(audio.channels);
        }
        Ok(Audio { sample_rate: SAMPLE_RATE, channels })
    }

    /// The export `NAME.wav` an `export:NAME` step wrote.
    pub fn export(&self, name: &str) -> anyhow::Result<Audio> {
        let audio = wav::read(&self.exports.join(format!("{name}.wav")))?;
        ensure!(audio.sample_rate == SAMPLE_RATE, "the export {name} is at {} Hz", audio.sample_rate);
        ensure!(audio.channels.len() == 2, "the export {name} has {} channels, not 2", audio.channels.len());
        Ok(audio)
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
