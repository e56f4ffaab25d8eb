//! The servers this user allowed the plugin to stream to, each with its token, in the user's
//! config folder (`rvc-live/remote-servers.json`, readable by the user only).
//!
//! Never in a project, for two reasons. A DAW project is shared with collaborators and uploaded
//! with stems, and must not carry a key to a server. And a project comes from anyone: if opening
//! one were enough to stream the microphone to the address it names, a stranger's project could
//! listen in. So the plugin connects on its own only to this machine (loopback) and to addresses
//! the user allowed here, from the editor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rvc_live_engine::remote::client::RemoteEndpoint;

/// Overrides the config folder (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "RVC_LIVE_CONFIG_DIR";
const FILE: &str = "remote-servers.json";

fn folder() -> Option<PathBuf> {
    match std::env::var_os(CONFIG_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::config_dir().map(|dir| dir.join("rvc-live")),
    }
}

/// Where the allowed servers are kept, for the editor to say.
pub fn file() -> Option<PathBuf> {
    folder().map(|f| f.join(FILE))
}

/// Allowed address → its token (empty for none).
fn read_all() -> BTreeMap<String, String> {
    let Some(path) = file() else { return BTreeMap::new() };
    std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

fn key(address: &str) -> String {
    address.trim().to_owned()
}

/// Whether the plugin may stream to `address` without asking: this machine, or an address the
/// user allowed.
pub fn is_allowed(address: &str) -> bool {
    let endpoint = RemoteEndpoint { address: address.to_owned(), token: None, voice: String::new() };
    endpoint.is_loopback() || read_all().contains_key(&key(address))
}

/// The token saved for `address`, if any.
pub fn token_for(address: &str) -> Option<String> {
    read_all().remove(&key(address)).filter(|t| !t.is_empty())
}

/// Allow `address`, with `token` (empty for a server that wants none).
pub fn allow(address: &str, token: &str) -> std::io::Result<PathBuf> {
    let mut servers = read_all();
    servers.insert(key(address), token.to_owned());
    write_all(&servers)
}

/// Forget `address` and its token: the plugin no longer connects to it on its own.
pub fn forget(address: &str) -> std::io::Result<PathBuf> {
    let mut servers = read_all();
    servers.remove(&key(address));
    write_all(&servers)
}

fn write_all(servers: &BTreeMap<String, String>) -> std::io::Result<PathBuf> {
    let path = file().ok_or_else(|| std::io::Error::other("this system has no config folder"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(servers).map_err(std::io::Error::other)?;
    // Written beside and renamed over, so a crash never leaves half a file; created readable by
    // the user only.
    let partial = path.with_extension("json.partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&partial)?, text.as_bytes())?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_allowed_per_address_in_the_config_folder_only() {
        let dir = std::env::temp_dir().join(format!("rvc-live-servers-{}", std::process::id()));
        // SAFETY: this crate's tests set this variable in this test only.
        unsafe { std::env::set_var(CONFIG_DIR_ENV, &dir) };
        assert!(is_allowed("127.0.0.1:7865") && is_allowed("localhost"), "this machine needs no allowing");
        assert!(!is_allowed("gpu-box:7865"), "a project's address alone is not enough");

        let path = allow("gpu-box:7865", "abc").unwrap();
        allow("other:7865", "").unwrap();
        assert!(is_allowed("gpu-box:7865") && is_allowed(" other:7865 "));
        assert_eq!(token_for("gpu-box:7865").as_deref(), Some("abc"));
        assert_eq!(token_for("other:7865"), None, "allowed without a token");
        assert_eq!(token_for("unknown:1"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        forget("gpu-box:7865").unwrap();
        assert!(!is_allowed("gpu-box:7865") && token_for("gpu-box:7865").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
