//! The system's "open" dialog, run as a program of its own: zenity or kdialog on Linux,
//! AppleScript on macOS, PowerShell on Windows. Loading a GUI toolkit (GTK, Qt) into the host's
//! process is a classic way for a plugin to crash a DAW, and a dialog must not block the editor's
//! thread either, so the program runs on a thread and the editor polls for its answer each frame.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// Replaces the dialog with a program of the user's (or a test's) choosing: it is run with the
/// title as its only argument and must print the chosen path, or exit with a failure on cancel.
pub const DIALOG_ENV: &str = "RVC_LIVE_FILE_DIALOG";

/// What to pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// An ONNX model file.
    Model,
    /// A voice's retrieval index (`.index`).
    Index,
    /// A voice pack (`.zip`).
    Pack,
    /// A folder (the voice library).
    Folder,
}

/// What a dialog came back with.
pub type Answer = Result<Option<PathBuf>, String>;

/// One dialog at a time, owned by the widget that opened it.
#[derive(Default)]
pub struct FileDialog {
    pending: Option<Receiver<Answer>>,
}

impl FileDialog {
    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Open the dialog (unless one is open already), starting in `start`.
    pub fn open(&mut self, pick: Pick, title: &str, start: Option<&Path>) {
        if self.is_open() {
            return;
        }
        let (send, receive) = channel();
        let candidates = candidates(pick, title, start);
        let spawned = std::thread::Builder::new().name("rvc-live-file-dialog".into()).spawn(move || {
            let _ = send.send(run_first_available(candidates));
        });
        if spawned.is_ok() {
            self.pending = Some(receive);
        }
    }

    /// The answer, once the user has made one: `Ok(None)` when cancelled, `Err` when no dialog
    /// program could run.
    pub fn poll(&mut self) -> Option<Answer> {
        let receiver = self.pending.as_ref()?;
        let answer = match receiver.try_recv() {
            Ok(answer) => answer,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err("the file dialog stopped without an answer".into()),
        };
        self.pending = None;
        Some(answer)
    }
}

/// The dialog programs to try, in order.
fn candidates(pick: Pick, title: &str, start: Option<&Path>) -> Vec<Command> {
    if let Some(program) = std::env::var_os(DIALOG_ENV).filter(|p| !p.is_empty()) {
        let mut command = Command::new(program);
        command.arg(title);
        return vec![command];
    }
    let start = start.map(|p| p.display().to_string()).unwrap_or_default();
    let mut commands = Vec::new();
    if cfg!(target_os = "macos") {
        let what = if pick == Pick::Folder { "folder" } else { "file" };
        let mut command = Command::new("osascript");
        command.arg("-e").arg(format!("POSIX path of (choose {what} with prompt \"{}\")", title.replace('"', "'")));
        commands.push(command);
    } else if cfg!(windows) {
        let script = match pick {
            Pick::Model => {
                "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.OpenFileDialog; \
                            $d.Filter = 'Voices and models|*.pth;*.pt;*.onnx|All files|*.*'; if ($d.ShowDialog() -eq 'OK') { $d.FileName } else { exit 1 }"
            }
            Pick::Index => {
                "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.OpenFileDialog; \
                            $d.Filter = 'RVC indexes|*.index|All files|*.*'; if ($d.ShowDialog() -eq 'OK') { $d.FileName } else { exit 1 }"
            }
            Pick::Pack => {
                "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.OpenFileDialog; \
                            $d.Filter = 'Voice packs|*.zip|All files|*.*'; if ($d.ShowDialog() -eq 'OK') { $d.FileName } else { exit 1 }"
            }
            Pick::Folder => {
                "Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.FolderBrowserDialog; \
                             if ($d.ShowDialog() -eq 'OK') { $d.SelectedPath } else { exit 1 }"
            }
        };
        let mut command = Command::new("powershell");
        command.args(["-NoProfile", "-STA", "-Command", script]);
        commands.push(command);
    } else {
        let mut zenity = Command::new("zenity");
        zenity.args(["--file-selection", &format!("--title={title}")]);
        match pick {
            Pick::Model => {
                zenity.args(["--file-filter=Voices and models | *.pth *.pt *.onnx", "--file-filter=All files | *"])
            }
            Pick::Index => zenity.args(["--file-filter=RVC indexes | *.index", "--file-filter=All files | *"]),
            Pick::Pack => zenity.args(["--file-filter=Voice packs | *.zip", "--file-filter=All files | *"]),
            Pick::Folder => zenity.arg("--directory"),
        };
        if !start.is_empty() {
            zenity.arg(format!("--filename={start}/"));
        }
        commands.push(zenity);
        let mut kdialog = Command::new("kdialog");
        kdialog.args(["--title", title]);
        let start = if start.is_empty() { ".".to_owned() } else { start };
        match pick {
            Pick::Model => kdialog.args(["--getopenfilename", &start, "*.pth *.pt *.onnx|Voices and models"]),
            Pick::Index => kdialog.args(["--getopenfilename", &start, "*.index|RVC indexes"]),
            Pick::Pack => kdialog.args(["--getopenfilename", &start, "*.zip|Voice packs"]),
            Pick::Folder => kdialog.args(["--getexistingdirectory", &start]),
        };
        commands.push(kdialog);
    }
    commands
}

/// Run the first program that exists. Its first line of output is the path; a failure exit is
/// a cancel.
fn run_first_available(candidates: Vec<Command>) -> Answer {
    let mut tried = Vec::new();
    for mut command in candidates {
        let program = command.get_program().to_string_lossy().into_owned();
        match command.output() {
            Ok(output) if output.status.success() => {
                let text = String::from_utf8_lossy(&output.stdout);
                let path = text.lines().next().unwrap_or("").trim();
                return Ok((!path.is_empty()).then(|| PathBuf::from(path)));
            }
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => tried.push(program),
            Err(e) => return Err(format!("the file dialog ({program}) failed: {e}")),
        }
    }
    Err(format!(
        "no file dialog program found (tried {}); install zenity or kdialog, or type the path",
        tried.join(", ")
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A throwaway executable script standing in for a dialog program; removed when dropped.
    struct Script(PathBuf);

    impl Script {
        fn new(body: &str) -> Self {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let n = COUNT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("rvc-live-dialog-{}-{n}.sh", std::process::id()));
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            Self(path)
        }
    }

    impl Drop for Script {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn answer_of(commands: Vec<Command>) -> Answer {
        let mut dialog = FileDialog::default();
        let (send, receive) = channel();
        std::thread::spawn(move || send.send(run_first_available(commands)).unwrap());
        dialog.pending = Some(receive);
        let started = std::time::Instant::now();
        loop {
            if let Some(answer) = dialog.poll() {
                assert!(!dialog.is_open());
                return answer;
            }
            assert!(started.elapsed().as_secs() < 10, "the dialog never answered");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn the_chosen_path_comes_back_and_a_cancel_is_no_path() {
        let chosen = Script::new("echo /voices/alto.onnx");
        assert_eq!(answer_of(vec![Command::new(&chosen.0)]), Ok(Some(PathBuf::from("/voices/alto.onnx"))));
        let cancelled = Script::new("exit 1");
        assert_eq!(answer_of(vec![Command::new(&cancelled.0)]), Ok(None));
    }

    #[test]
    fn missing_programs_are_skipped_and_named_when_none_exists() {
        let chosen = Script::new("echo /voices/bass.onnx");
        let missing = || Command::new("/nonexistent/dialog-program");
        assert_eq!(answer_of(vec![missing(), Command::new(&chosen.0)]), Ok(Some(PathBuf::from("/voices/bass.onnx"))));
        let error = answer_of(vec![missing()]).unwrap_err();
        assert!(error.contains("/nonexistent/dialog-program") && error.contains("type the path"), "{error}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn linux_dialogs_are_asked_for_voices_and_models_indexes_or_a_folder() {
        let commands = candidates(Pick::Model, "Voice model", Some(Path::new("/voices")));
        let programs: Vec<_> = commands.iter().map(|c| c.get_program().to_string_lossy().into_owned()).collect();
        assert_eq!(programs, ["zenity", "kdialog"], "unless {DIALOG_ENV} is set");
        let zenity: Vec<_> = commands[0].get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert!(zenity.contains(&"--file-filter=Voices and models | *.pth *.pt *.onnx".to_owned()), "{zenity:?}");
        assert!(zenity.contains(&"--filename=/voices/".to_owned()), "{zenity:?}");
        let index = candidates(Pick::Index, "Retrieval index", None);
        assert!(index[0].get_args().any(|a| a == "--file-filter=RVC indexes | *.index"));
        assert!(index[1].get_args().any(|a| a == "*.index|RVC indexes"));
        let folder = candidates(Pick::Folder, "Voice library", None);
        assert!(folder[0].get_args().any(|a| a == "--directory"));
        assert!(folder[1].get_args().any(|a| a == "--getexistingdirectory"));
    }
}
