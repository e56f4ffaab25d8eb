//! The remote engine's tokens, one per server address, in the user's config folder
//! (`rvc-live/remote-tokens.json`, readable by the user only). Never in a project: a DAW project
//! is shared with collaborators and uploaded with stems, and must not carry a key to a server.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Overrides the config folder (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "RVC_LIVE_CONFIG_DIR";
const FILE: &str = "remote-tokens.json";

fn folder() -> Option<PathBuf> {
    match std::env::var_os(CONFIG_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::config_dir().map(|dir| dir.join("rvc-live")),
    }
}

/// Where the tokens are kept, for the editor to say.
pub fn file() -> Option<PathBuf> {
    folder().map(|f| f.join(FILE))
}

fn read_all() -> BTreeMap<String, String> {
    let Some(path) = file() else { return BTreeMap::new() };
    std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

/// The token saved for `address`, if any.
pub fn token_for(address: &str) -> Option<String> {
    read_all().remove(address.trim()).filter(|t| !t.is_empty())
}

/// Save `token` for `address` (an empty token forgets it).
pub fn save(address: &str, token: &str) -> std::io::Result<PathBuf> {
    let path = file().ok_or_else(|| std::io::Error::other("this system has no config folder"))?;
    let mut tokens = read_all();
    if token.is_empty() {
        tokens.remove(address.trim());
    } else {
        tokens.insert(address.trim().to_owned(), token.to_owned());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(&tokens).map_err(std::io::Error::other)?;
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
    fn tokens_are_kept_per_address_in_the_config_folder_only() {
        let dir = std::env::temp_dir().join(format!("rvc-live-tokens-{}", std::process::id()));
        // SAFETY: this crate's tests set this variable in this test only.
        unsafe { std::env::set_var(CONFIG_DIR_ENV, &dir) };
        let path = save("gpu-box:7865", "abc").unwrap();
        save("other:7865", "xyz").unwrap();
        assert_eq!(token_for("gpu-box:7865").as_deref(), Some("abc"));
        assert_eq!(token_for(" other:7865 ").as_deref(), Some("xyz"));
        assert_eq!(token_for("unknown:1"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        save("gpu-box:7865", "").unwrap();
        assert_eq!(token_for("gpu-box:7865"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
