//! Where the keys for personal data at rest come from: the environment (`DANGJIAN_FIELD_KEYS` holding
//! the key text, or `DANGJIAN_KEY_FILE` naming a key file), or — for the demo only — a key file made
//! beside the demo database. Keys never go into the database.

use crate::args::Lang;
use anyhow::{bail, Context};
use dangjian_security::field_cipher::{Algorithm, Keyring};
use std::path::Path;

pub const KEYS_ENV: &str = "DANGJIAN_FIELD_KEYS";
pub const KEY_FILE_ENV: &str = "DANGJIAN_KEY_FILE";

/// The keyring named by the environment, if any.
pub fn from_environment() -> anyhow::Result<Option<Keyring>> {
    if std::env::var_os(KEYS_ENV).is_some() {
        return Ok(Some(Keyring::from_env(KEYS_ENV).context(KEYS_ENV)?));
    }
    if let Some(path) = std::env::var_os(KEY_FILE_ENV) {
        let path = Path::new(&path);
        return Ok(Some(Keyring::from_file(path).with_context(|| format!("{}", path.display()))?));
    }
    Ok(None)
}

/// The keyring for `serve`: it must be configured.
pub fn required(lang: Lang) -> anyhow::Result<Keyring> {
    match from_environment()? {
        Some(k) => Ok(k),
        None => bail!(
            "{}",
            lang.t("cli.no_keys", &[("key_file_env", KEY_FILE_ENV.to_owned()), ("keys_env", KEYS_ENV.to_owned())])
        ),
    }
}

/// The keyring for the demo: from the environment, else `DIR/field-keys.txt`, created on first run
/// (readable by its owner only).
pub fn for_demo(dir: &Path) -> anyhow::Result<Keyring> {
    if let Some(k) = from_environment()? {
        return Ok(k);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
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

/// `keys add-key`: a fresh active key (and optionally another algorithm) in an existing key file, which
/// is replaced atomically and stays readable by its owner only. Returns the new key's id.
pub fn add_key(path: &Path, algorithm: Option<Algorithm>) -> anyhow::Result<String> {
    let mut keys = Keyring::from_file(path).with_context(|| format!("{}", path.display()))?;
    let id = keys.rotate();
    if let Some(a) = algorithm {
        keys.set_algorithm(a);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new().prefix(".keys-").tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))?;
    }
    {
        use std::io::Write;
        let mut f = tmp.as_file();
        f.write_all(keys.to_text().as_bytes())?;
        f.sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_becomes_active_and_the_old_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.txt");
        let old = Keyring::generate();
        write_private(&path, old.to_text().as_bytes()).unwrap();
        let sealed = old.encrypt("13812341234", "instructors.mobile").unwrap();
        let id = add_key(&path, Some(Algorithm::Aes256Gcm)).unwrap();
        let new = Keyring::from_file(&path).unwrap();
        assert_eq!(new.active_key_id(), id);
        assert_ne!(id, old.active_key_id());
        assert_eq!(new.algorithm(), Algorithm::Aes256Gcm);
        assert_eq!(new.decrypt(&sealed, "instructors.mobile").unwrap(), "13812341234");
        assert!(new.needs_rotation(&sealed));
        assert_eq!(new.blind_index("13812341234"), old.blind_index("13812341234"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
