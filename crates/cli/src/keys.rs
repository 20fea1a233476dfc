//! Where the keys for personal data at rest come from: the environment (`DANGJIAN_FIELD_KEYS` holding
//! the key text, or `DANGJIAN_KEY_FILE` naming a key file), or — for the demo only — a key file made
//! beside the demo database. Keys never go into the database.

use anyhow::{bail, Context};
use dangjian_security::field_cipher::Keyring;
use std::path::Path;

pub const KEYS_ENV: &str = "DANGJIAN_FIELD_KEYS";
pub const KEY_FILE_ENV: &str = "DANGJIAN_KEY_FILE";

/// The keyring named by the environment, if any.
pub fn from_environment() -> anyhow::Result<Option<Keyring>> {
    if std::env::var_os(KEYS_ENV).is_some() {
        return Ok(Some(Keyring::from_env(KEYS_ENV).with_context(|| format!("{KEYS_ENV}"))?));
    }
    if let Some(path) = std::env::var_os(KEY_FILE_ENV) {
        let path = Path::new(&path);
        return Ok(Some(Keyring::from_file(path).with_context(|| format!("{}", path.display()))?));
    }
    Ok(None)
}

/// The keyring for `serve`: it must be configured.
pub fn required() -> anyhow::Result<Keyring> {
    match from_environment()? {
        Some(k) => Ok(k),
        None => bail!(
            "no keys for personal data: set {KEY_FILE_ENV} to a key file (create one with `dangjian keys init FILE`) \
             or {KEYS_ENV} to its contents"
        ),
    }
}

/// The keyring for the demo: from the environment, else `DIR/field-keys.txt`, created on first run
/// (readable by its owner only).
pub fn for_demo(dir: &Path) -> anyhow::Result<Keyring> {
    if let Some(k) = from_environment()? {
        return Ok(k);
    }
    let path = dir.join("field-keys.txt");
    if path.exists() {
        return Keyring::from_file(&path).with_context(|| format!("{}", path.display()));
    }
    let keys = Keyring::generate();
    write_private(&path, keys.to_text().as_bytes())?;
    Ok(keys)
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
