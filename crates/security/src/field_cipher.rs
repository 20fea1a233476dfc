//! Personal data at rest, encrypted field by field: SM4-GCM (GB/T 32907-2016 block cipher in the GCM mode of
//! NIST SP 800-38D, as profiled by RFC 8998) or AES-256-GCM, with a random 96-bit nonce per value, and an
//! HMAC-SM3 blind index for exact lookup.
//!
//! # Stored form
//! `v1.<algorithm>.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, e.g. `v1.sm4-gcm.k2.Hq3…`. The text names
//! its algorithm and key, so values written under an older key stay readable while `keys rotate` re-encrypts
//! them, and [`Keyring::needs_rotation`] finds the ones still to do. The AEAD associated data is the header
//! `v1.<algorithm>.<key id>.` followed by the caller's `aad` (a column, and the row where it is known:
//! `instructors.mobile`), so a value copied into another column, or relabelled, fails to decrypt.
//!
//! # Keys
//! A [`Keyring`] holds named 32-byte master keys. Each master key is never used directly: per-purpose subkeys are
//! derived from it with the NIST SP 800-108r1 counter-mode KDF using HMAC-SM3 as the PRF and distinct labels —
//! a 16-byte SM4 key, a 32-byte AES-256 key, and a 32-byte blind-index key. One entry is *active* (new values are
//! encrypted with it); one other entry is the *index* key, used only for blind indexes and never for encryption,
//! so rotating the encryption key leaves every blind index unchanged. Changing the index key itself means
//! recomputing every blind index column (decrypt, then [`Keyring::blind_index`]).
//!
//! # Key file
//! UTF-8 text, one `name=value` per line, blank lines and `#` comments ignored, whitespace around `=` allowed:
//! ```text
//! # Dangjian field-encryption keyring
//! algorithm=sm4-gcm        # or aes-256-gcm; optional, sm4-gcm by default
//! active=k2                # the key new values are encrypted with
//! index=idx1               # the blind-index key: a separate entry, never the active key
//! idx1=<64 hex characters>
//! k1=<64 hex characters>   # older key, kept until `keys rotate` has re-encrypted every value
//! k2=<64 hex characters>
//! ```
//! Key ids are 1–32 ASCII letters, digits, `-` or `_`, starting with a letter. The same text may be held in an
//! environment variable, where `;` also separates entries. Keys that are short, not hex, repeated, or visibly
//! patterned (fewer than 16 distinct byte values, or an arithmetic run such as `000102…`) are rejected.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::digest::hmac_sm3;
use crate::rng;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag (RFC 8998 section 3.5.1, AEAD_SM4_GCM).
pub type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Length of a master key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the random GCM nonce in bytes (96 bits, NIST SP 800-38D section 8.2.2).
pub const NONCE_LEN: usize = 12;
/// Length of the GCM authentication tag in bytes.
pub const TAG_LEN: usize = 16;
/// Environment variable conventionally holding the keyring text when there is no key file.
pub const DEFAULT_ENV_VAR: &str = "DANGJIAN_FIELD_KEYS";

const VERSION: &str = "v1";
const LABEL_SM4: &[u8] = b"dangjian/field-encryption/sm4-gcm";
const LABEL_AES: &[u8] = b"dangjian/field-encryption/aes-256-gcm";
const LABEL_INDEX: &[u8] = b"dangjian/blind-index/hmac-sm3";
const MIN_DISTINCT_BYTES: usize = 16;
const MAX_KEY_ID_LEN: usize = 32;

/// The AEAD used for new values. Both remain readable whatever is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// SM4-GCM (GB/T 32907-2016, RFC 8998): the default, as commercial cryptography rules expect.
    #[default]
    Sm4Gcm,
    /// AES-256-GCM (FIPS 197, NIST SP 800-38D), for deployments that must use it.
    Aes256Gcm,
}

impl Algorithm {
    /// The name used in the key file and in stored values: `sm4-gcm` or `aes-256-gcm`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sm4Gcm => "sm4-gcm",
            Self::Aes256Gcm => "aes-256-gcm",
        }
    }

    /// Parses the name written by [`Algorithm::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "sm4-gcm" => Some(Self::Sm4Gcm),
            "aes-256-gcm" => Some(Self::Aes256Gcm),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a keyring's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyfileProblem {
    #[error("expected `name=value`")]
    NotNameValue,
    #[error("`{0}` is set twice")]
    DuplicateSetting(String),
    /// The value, or `<withheld: N characters>` where it might be key material.
    #[error("unknown algorithm `{0}` (expected sm4-gcm or aes-256-gcm)")]
    UnknownAlgorithm(String),
    /// The id, or `<withheld: N characters>` where it might be key material.
    #[error("invalid key id `{0}`: use 1–32 ASCII letters, digits, '-' or '_', starting with a letter")]
    InvalidKeyId(String),
    #[error("key `{id}` is {found} characters long; a key is 64 hex characters (32 bytes)")]
    KeyLength { id: String, found: usize },
    #[error("key `{id}` is not hexadecimal")]
    KeyNotHex { id: String },
    #[error("key `{id}` is too weak ({why}); generate keys with `dangjian keys init` or `openssl rand -hex 32`")]
    WeakKey { id: String, why: &'static str },
    #[error("key id `{0}` appears twice")]
    DuplicateKeyId(String),
    #[error("key `{id}` has the same material as key `{other}`")]
    SameMaterial { id: String, other: String },
    #[error("no keys")]
    NoKeys,
    #[error("`{0}=` is missing")]
    MissingSetting(&'static str),
    #[error("`{setting}={id}` names a key that is not in the keyring")]
    UnknownKey { setting: &'static str, id: String },
    #[error("the index key must be a separate entry from the active encryption key")]
    IndexIsActive,
}

/// Why a keyring could not be loaded or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The text is malformed; `line` is 1-based (in an environment variable, `;`-separated entries count as lines).
    #[error("{origin}{}: {problem}", line.map(|n| format!(", line {n}")).unwrap_or_default())]
    Parse { origin: String, line: Option<usize>, problem: KeyfileProblem },
    #[error("cannot read key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("environment variable {0} is not set or is not UTF-8")]
    MissingEnv(String),
    #[error("no key with id `{0}` in the keyring")]
    UnknownKey(String),
    #[error("key `{0}` is the active or the index key and cannot be removed")]
    KeyInUse(String),
}

/// Why a value could not be encrypted or decrypted. Authentication failures are not told apart (wrong key, wrong
/// associated data and tampering look the same), as an AEAD requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldCipherError {
    #[error("not an encrypted field (expected v1.<algorithm>.<key id>.<data>)")]
    Malformed,
    #[error("unsupported encrypted-field version")]
    UnsupportedVersion,
    #[error("unknown encryption algorithm in encrypted field")]
    UnknownAlgorithm,
    #[error("key `{0}` is not in the keyring (removed before every value was re-encrypted?)")]
    UnknownKey(String),
    #[error("decryption failed: wrong key, wrong associated data, or altered ciphertext")]
    Authentication,
    #[error("value too long to encrypt")]
    TooLong,
    #[error("decrypted value is not UTF-8")]
    NotUtf8,
}

/// One master key and the subkeys derived from it. Everything is zeroized on drop.
#[derive(Clone)]
struct KeyEntry {
    material: Zeroizing<[u8; KEY_LEN]>,
    sm4: Sm4Gcm,
    aes: Aes256Gcm,
    index: Zeroizing<[u8; 32]>,
}

impl KeyEntry {
    fn new(material: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let sm4_key = Zeroizing::new(derive_subkey(&material, LABEL_SM4, 16));
        let aes_key = Zeroizing::new(derive_subkey(&material, LABEL_AES, 32));
        let index = Zeroizing::new(derive_subkey(&material, LABEL_INDEX, 32));
        let mut sm4_bytes = Zeroizing::new([0u8; 16]);
        sm4_bytes.copy_from_slice(&sm4_key[..16]);
        Self { sm4: Sm4Gcm::new(&(*sm4_bytes).into()), aes: Aes256Gcm::new(&(*aes_key).into()), index, material }
    }

    fn seal(&self, algorithm: Algorithm, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::<U12>::from(*nonce);
        let payload = Payload { msg: plaintext, aad };
        match algorithm {
            Algorithm::Sm4Gcm => self.sm4.encrypt(&nonce, payload).ok(),
            Algorithm::Aes256Gcm => self.aes.encrypt(&nonce, payload).ok(),
        }
    }

    fn open(&self, algorithm: Algorithm, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let nonce = Nonce::<U12>::from(nonce);
        let payload = Payload { msg: sealed, aad };
        match algorithm {
            Algorithm::Sm4Gcm => self.sm4.decrypt(&nonce, payload).ok(),
            Algorithm::Aes256Gcm => self.aes.decrypt(&nonce, payload).ok(),
        }
    }
}

impl fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEntry(<redacted>)")
    }
}

/// NIST SP 800-108r1 KDF in counter mode, PRF = HMAC-SM3, one block:
/// `HMAC-SM3(master, [1]₃₂ ‖ label ‖ 0x00 ‖ [L]₃₂)[..L/8]`, with an empty context. `len` is at most 32.
fn derive_subkey(master: &[u8; KEY_LEN], label: &[u8], len: usize) -> [u8; 32] {
    let bits = u32::try_from(len * 8).unwrap_or(u32::MAX);
    let mut input = Zeroizing::new(Vec::with_capacity(label.len() + 9));
    input.extend_from_slice(&1u32.to_be_bytes());
    input.extend_from_slice(label);
    input.push(0);
    input.extend_from_slice(&bits.to_be_bytes());
    let mut out = hmac_sm3(master, &input);
    for byte in out.iter_mut().skip(len) {
        *byte = 0;
    }
    out
}

/// Named master keys: one active for encryption, one reserved for the blind index. Key material never appears in
/// `Debug` output and is zeroized on drop.
#[derive(Clone)]
pub struct Keyring {
    algorithm: Algorithm,
    active: String,
    index: String,
    /// The index entry's derived blind-index subkey, held apart so that lookups cannot miss it.
    index_subkey: Zeroizing<[u8; 32]>,
    keys: BTreeMap<String, KeyEntry>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("algorithm", &self.algorithm)
            .field("active", &self.active)
            .field("index", &self.index)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// A fresh keyring for `dangjian keys init`: SM4-GCM, an active key `k1` and an index key `idx1`, both 32
    /// bytes from the CSPRNG.
    pub fn generate() -> Self {
        let index_entry = KeyEntry::new(fresh_material());
        let index_subkey = index_entry.index.clone();
        let mut keys = BTreeMap::new();
        keys.insert("idx1".to_owned(), index_entry);
        keys.insert("k1".to_owned(), KeyEntry::new(fresh_material()));
        Self { algorithm: Algorithm::Sm4Gcm, active: "k1".to_owned(), index: "idx1".to_owned(), index_subkey, keys }
    }

    /// Parses key-file text (format in the module documentation). `origin` names the source in errors, e.g. the
    /// file path.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyringError> {
        parse_entries(text.split('\n'), origin)
    }

    /// Parses the keyring held in an environment variable's value: the key-file format, where `;` also separates
    /// entries. `var` names the variable in errors.
    pub fn parse_env_value(value: &str, var: &str) -> Result<Self, KeyringError> {
        parse_entries(value.split(['\n', ';']), &format!("environment variable {var}"))
    }

    /// Reads and parses a key file.
    pub fn from_file(path: &Path) -> Result<Self, KeyringError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| KeyringError::Read { path: path.display().to_string(), reason: e.to_string() })?,
        );
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads and parses the keyring held in environment variable `var` (e.g. [`DEFAULT_ENV_VAR`]).
    pub fn from_env(var: &str) -> Result<Self, KeyringError> {
        let value = Zeroizing::new(std::env::var(var).map_err(|_| KeyringError::MissingEnv(var.to_owned()))?);
        Self::parse_env_value(&value, var)
    }

    /// The key-file text of this keyring, for writing with mode 0600 (outside the database and its backups).
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        out.push_str("# Dangjian field-encryption keyring. Secret: keep it out of the database and its backups.\n");
        out.push_str("# Removing a key makes every value still encrypted with it unreadable.\n");
        out.push_str(&format!("algorithm={}\nactive={}\nindex={}\n", self.algorithm, self.active, self.index));
        for (id, entry) in &self.keys {
            let hex = Zeroizing::new(hex::encode(*entry.material));
            out.push_str(id);
            out.push('=');
            out.push_str(&hex);
            out.push('\n');
        }
        out
    }

    /// The algorithm new values are encrypted with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Changes the algorithm for new values; existing values stay readable and report [`Keyring::needs_rotation`].
    pub fn set_algorithm(&mut self, algorithm: Algorithm) {
        self.algorithm = algorithm;
    }

    /// Id of the key new values are encrypted with.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Id of the blind-index key.
    pub fn index_key_id(&self) -> &str {
        &self.index
    }

    /// Ids of all keys, the index key included, in sorted order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// `keys rotate`, step 1: adds a fresh key `k<n+1>` and makes it active, returning its id. Old keys stay so
    /// that existing values remain readable until re-encrypted ([`Keyring::reencrypt`]); then
    /// [`Keyring::remove_key`] retires them. The index key is untouched.
    pub fn rotate(&mut self) -> String {
        let mut next = self.keys.keys().filter_map(|id| id.strip_prefix('k')?.parse::<u64>().ok()).max().unwrap_or(0);
        let id = loop {
            next += 1;
            let candidate = format!("k{next}");
            if !self.keys.contains_key(&candidate) {
                break candidate;
            }
        };
        self.keys.insert(id.clone(), KeyEntry::new(fresh_material()));
        self.active = id.clone();
        id
    }

    /// Makes an existing key (not the index key) the active one.
    pub fn set_active(&mut self, id: &str) -> Result<(), KeyringError> {
        if !self.keys.contains_key(id) || id == self.index {
            return Err(KeyringError::UnknownKey(id.to_owned()));
        }
        self.active = id.to_owned();
        Ok(())
    }

    /// Retires a key once no stored value uses it. The active and the index key cannot be removed.
    pub fn remove_key(&mut self, id: &str) -> Result<(), KeyringError> {
        if id == self.active || id == self.index {
            return Err(KeyringError::KeyInUse(id.to_owned()));
        }
        self.keys.remove(id).map(|_| ()).ok_or_else(|| KeyringError::UnknownKey(id.to_owned()))
    }

    /// Encrypts a text value with the active key and algorithm, a fresh random 96-bit nonce, and `aad` naming
    /// where the value belongs (e.g. `instructors.mobile`). Returns the self-describing stored form.
    pub fn encrypt(&self, plaintext: &str, aad: &str) -> Result<String, FieldCipherError> {
        self.encrypt_bytes(plaintext.as_bytes(), aad)
    }

    /// [`Keyring::encrypt`] for arbitrary bytes.
    pub fn encrypt_bytes(&self, plaintext: &[u8], aad: &str) -> Result<String, FieldCipherError> {
        let entry = self.keys.get(&self.active).ok_or_else(|| FieldCipherError::UnknownKey(self.active.clone()))?;
        let header = format!("{VERSION}.{}.{}.", self.algorithm, self.active);
        let full_aad = [header.as_bytes(), aad.as_bytes()].concat();
        let nonce: [u8; NONCE_LEN] = rng::random_bytes();
        let sealed = entry.seal(self.algorithm, &nonce, &full_aad, plaintext).ok_or(FieldCipherError::TooLong)?;
        let mut payload = Vec::with_capacity(NONCE_LEN + sealed.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&sealed);
        Ok(header + &URL_SAFE_NO_PAD.encode(payload))
    }

    /// Decrypts a stored value to text, choosing the key by the id it names (so values under an older key stay
    /// readable during rotation). `aad` must be what was given to [`Keyring::encrypt`].
    pub fn decrypt(&self, stored: &str, aad: &str) -> Result<String, FieldCipherError> {
        String::from_utf8(self.decrypt_bytes(stored, aad)?).map_err(|_| FieldCipherError::NotUtf8)
    }

    /// [`Keyring::decrypt`] for arbitrary bytes.
    pub fn decrypt_bytes(&self, stored: &str, aad: &str) -> Result<Vec<u8>, FieldCipherError> {
        let parsed = Parsed::parse(stored)?;
        if parsed.key_id == self.index {
            return Err(FieldCipherError::UnknownKey(parsed.key_id.to_owned()));
        }
        let entry =
            self.keys.get(parsed.key_id).ok_or_else(|| FieldCipherError::UnknownKey(parsed.key_id.to_owned()))?;
        let payload = URL_SAFE_NO_PAD.decode(parsed.payload).map_err(|_| FieldCipherError::Malformed)?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(FieldCipherError::Malformed);
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        let full_aad = [parsed.header.as_bytes(), aad.as_bytes()].concat();
        entry.open(parsed.algorithm, nonce, &full_aad, sealed).ok_or(FieldCipherError::Authentication)
    }

    /// Whether a stored value was written under another key or algorithm than the active ones, and so is due for
    /// [`Keyring::reencrypt`]. Text that is not an encrypted field at all also reports `true`, so that a rotation
    /// job meets it and fails loudly rather than skipping it.
    pub fn needs_rotation(&self, stored: &str) -> bool {
        match Parsed::parse(stored) {
            Ok(parsed) => parsed.algorithm != self.algorithm || parsed.key_id != self.active,
            Err(_) => true,
        }
    }

    /// `keys rotate`, step 2: decrypts a stored value with whichever key it names and encrypts it again with the
    /// active key and algorithm (and a new nonce).
    pub fn reencrypt(&self, stored: &str, aad: &str) -> Result<String, FieldCipherError> {
        let plaintext = Zeroizing::new(self.decrypt_bytes(stored, aad)?);
        self.encrypt_bytes(&plaintext, aad)
    }

    /// Blind index for exact lookup: 64 hex characters of HMAC-SM3, under the index key's derived subkey, of the
    /// normalized value ([`normalize_for_index`]). Equal for equal normalized values and unchanged by rotation of
    /// the encryption key. Pass the canonical domain form (e.g. `Mobile::as_str`).
    pub fn blind_index(&self, value: &str) -> String {
        let normalized = Zeroizing::new(normalize_for_index(value));
        hex::encode(hmac_sm3(self.index_subkey.as_slice(), normalized.as_bytes()))
    }
}

/// Removes presentation differences before blind indexing: full-width ASCII (`１３８`) becomes half-width,
/// whitespace and `-` are dropped, and ASCII letters are upper-cased (`x` → `X` in an ID number).
pub fn normalize_for_index(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The parts of a stored value.
struct Parsed<'a> {
    header: &'a str,
    algorithm: Algorithm,
    key_id: &'a str,
    payload: &'a str,
}

impl<'a> Parsed<'a> {
    fn parse(stored: &'a str) -> Result<Self, FieldCipherError> {
        let mut parts = stored.splitn(4, '.');
        let (Some(version), Some(algorithm), Some(key_id), Some(payload)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FieldCipherError::Malformed);
        };
        if version != VERSION {
            return Err(FieldCipherError::UnsupportedVersion);
        }
        let algorithm = Algorithm::parse(algorithm).ok_or(FieldCipherError::UnknownAlgorithm)?;
        if !valid_key_id(key_id) {
            return Err(FieldCipherError::Malformed);
        }
        let header_len = stored.len() - payload.len();
        Ok(Self { header: &stored[..header_len], algorithm, key_id, payload })
    }
}

fn fresh_material() -> Zeroizing<[u8; KEY_LEN]> {
    loop {
        let mut material = Zeroizing::new([0u8; KEY_LEN]);
        rng::fill(material.as_mut_slice());
        if weakness(&material).is_none() {
            return material;
        }
    }
}

/// Why key material looks typed or patterned rather than random. Not a randomness test: it catches
/// `000…`, `0123…`, repeated short strings and ASCII phrases, and rejects a random key with probability below 10⁻⁹.
fn weakness(material: &[u8; KEY_LEN]) -> Option<&'static str> {
    let mut seen = [false; 256];
    for &b in material {
        seen[usize::from(b)] = true;
    }
    if seen.iter().filter(|s| **s).count() < MIN_DISTINCT_BYTES {
        return Some("fewer than 16 distinct byte values");
    }
    let step = material[1].wrapping_sub(material[0]);
    if material.windows(2).all(|w| w[1].wrapping_sub(w[0]) == step) {
        return Some("an arithmetic run of bytes");
    }
    None
}

fn valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !matches!(id, "algorithm" | "active" | "index")
}

fn parse_entries<'t>(lines: impl Iterator<Item = &'t str>, origin: &str) -> Result<Keyring, KeyringError> {
    let err =
        |line: Option<usize>, problem: KeyfileProblem| KeyringError::Parse { origin: origin.to_owned(), line, problem };
    let mut algorithm: Option<Algorithm> = None;
    let mut active: Option<(String, usize)> = None;
    let mut index: Option<(String, usize)> = None;
    let mut keys: BTreeMap<String, KeyEntry> = BTreeMap::new();
    let mut fingerprints: Vec<([u8; 32], String)> = Vec::new();

    for (i, raw) in lines.enumerate() {
        let n = i + 1;
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(err(Some(n), KeyfileProblem::NotNameValue));
        };
        let (name, value) = (name.trim(), value.trim());
        match name {
            "algorithm" => {
                if algorithm.is_some() {
                    return Err(err(Some(n), KeyfileProblem::DuplicateSetting(name.to_owned())));
                }
                algorithm = Some(
                    Algorithm::parse(value)
                        .ok_or_else(|| err(Some(n), KeyfileProblem::UnknownAlgorithm(echo(value))))?,
                );
            }
            "active" | "index" => {
                let slot = if name == "active" { &mut active } else { &mut index };
                if slot.is_some() {
                    return Err(err(Some(n), KeyfileProblem::DuplicateSetting(name.to_owned())));
                }
                if !valid_key_id(value) {
                    return Err(err(Some(n), KeyfileProblem::InvalidKeyId(echo(value))));
                }
                *slot = Some((value.to_owned(), n));
            }
            id => {
                if !valid_key_id(id) {
                    return Err(err(Some(n), KeyfileProblem::InvalidKeyId(echo(id))));
                }
                if keys.contains_key(id) {
                    return Err(err(Some(n), KeyfileProblem::DuplicateKeyId(id.to_owned())));
                }
                let material = decode_key(id, value).map_err(|p| err(Some(n), p))?;
                let fingerprint = hmac_sm3(b"dangjian/keyring/duplicate-check", material.as_slice());
                if let Some((_, other)) = fingerprints.iter().find(|(f, _)| *f == fingerprint) {
                    return Err(err(Some(n), KeyfileProblem::SameMaterial { id: id.to_owned(), other: other.clone() }));
                }
                fingerprints.push((fingerprint, id.to_owned()));
                keys.insert(id.to_owned(), KeyEntry::new(material));
            }
        }
    }

    if keys.is_empty() {
        return Err(err(None, KeyfileProblem::NoKeys));
    }
    let (active, active_line) = active.ok_or_else(|| err(None, KeyfileProblem::MissingSetting("active")))?;
    let (index, index_line) = index.ok_or_else(|| err(None, KeyfileProblem::MissingSetting("index")))?;
    if !keys.contains_key(&active) {
        return Err(err(Some(active_line), KeyfileProblem::UnknownKey { setting: "active", id: active }));
    }
    if index == active {
        return Err(err(Some(index_line), KeyfileProblem::IndexIsActive));
    }
    let Some(index_subkey) = keys.get(&index).map(|entry| entry.index.clone()) else {
        return Err(err(Some(index_line), KeyfileProblem::UnknownKey { setting: "index", id: index }));
    };
    Ok(Keyring { algorithm: algorithm.unwrap_or_default(), active, index, index_subkey, keys })
}

/// Text from a key file fit to repeat in an error: withheld when it is long or looks like hex key material pasted
/// in the wrong place.
fn echo(text: &str) -> String {
    let looks_like_key = text.len() >= 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if text.chars().count() > MAX_KEY_ID_LEN || looks_like_key {
        format!("<withheld: {} characters>", text.chars().count())
    } else {
        text.to_owned()
    }
}

fn decode_key(id: &str, value: &str) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyfileProblem> {
    if value.len() != KEY_LEN * 2 {
        return Err(KeyfileProblem::KeyLength { id: id.to_owned(), found: value.chars().count() });
    }
    let mut material = Zeroizing::new([0u8; KEY_LEN]);
    hex::decode_to_slice(value, material.as_mut_slice())
        .map_err(|_| KeyfileProblem::KeyNotHex { id: id.to_owned() })?;
    if let Some(why) = weakness(&material) {
        return Err(KeyfileProblem::WeakKey { id: id.to_owned(), why });
    }
    Ok(material)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use sm4::cipher::{BlockCipherEncrypt, KeyInit as _};

    use super::*;

    const K1: &str = "8f1c2a9b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829a3b4c5d6e7f";
    const K2: &str = "1d2c3b4a59687f8e9dacbbcad9e8f70615243342516f7e8d9cabbac9d8e7f605";
    const IDX: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0fedcba9876543210";

    fn keyring(active: &str, algorithm: &str) -> Keyring {
        let text = format!(
            "# test keyring\nalgorithm={algorithm}\nactive={active}\nindex=idx1\n\nidx1={IDX}\nk1={K1}\nk2={K2}\n"
        );
        Keyring::parse(&text, "test").unwrap()
    }

    fn hex16(s: &str) -> [u8; 16] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    #[test]
    fn sm4_block_gbt_32907_example() {
        let key = hex16("0123456789abcdeffedcba9876543210");
        let cipher = sm4::Sm4::new(&key.into());
        let mut block = key.into();
        cipher.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
        // GB/T 32907-2016 Appendix A example 2: the same block encrypted 1,000,000 times.
        let mut block = key.into();
        for _ in 0..1_000_000 {
            cipher.encrypt_block(&mut block);
        }
        assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
    }

    #[test]
    fn sm4_gcm_rfc_8998_appendix_a1() {
        let key = hex16("0123456789ABCDEFFEDCBA9876543210");
        let nonce: [u8; 12] = hex::decode("00001234567800000000ABCD").unwrap().try_into().unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let plaintext = hex::decode(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let cipher = Sm4Gcm::new(&key.into());
        let sealed = cipher.encrypt(&Nonce::<U12>::from(nonce), Payload { msg: &plaintext, aad: &aad }).unwrap();
        let (ciphertext, tag) = sealed.split_at(plaintext.len());
        assert_eq!(
            hex::encode_upper(ciphertext),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        );
        assert_eq!(hex::encode_upper(tag), "83DE3541E4C2B58177E065A9BF7B62EC");
        let opened = cipher.decrypt(&Nonce::<U12>::from(nonce), Payload { msg: &sealed, aad: &aad }).unwrap();
        assert_eq!(opened, plaintext);
    }

    #[test]
    fn round_trip_both_algorithms() {
        for algorithm in ["sm4-gcm", "aes-256-gcm"] {
            let ring = keyring("k1", algorithm);
            for value in ["13812341234", "11010519491231002X", "", "张三丰 · 党支部"] {
                let stored = ring.encrypt(value, "instructors.mobile").unwrap();
                assert!(stored.starts_with(&format!("v1.{algorithm}.k1.")), "{stored}");
                assert!(!stored.contains(value) || value.is_empty());
                assert_eq!(ring.decrypt(&stored, "instructors.mobile").unwrap(), value);
            }
        }
    }

    #[test]
    fn bytes_round_trip() {
        let ring = keyring("k1", "sm4-gcm");
        let data: Vec<u8> = (0..=255).collect();
        let stored = ring.encrypt_bytes(&data, "users.totp_secret").unwrap();
        assert_eq!(ring.decrypt_bytes(&stored, "users.totp_secret").unwrap(), data);
        assert_eq!(ring.decrypt(&stored, "users.totp_secret"), Err(FieldCipherError::NotUtf8));
    }

    #[test]
    fn tampering_is_detected() {
        let ring = keyring("k1", "sm4-gcm");
        let stored = ring.encrypt("13812341234", "instructors.mobile").unwrap();
        let (header, payload) = stored.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(payload).unwrap();
        for position in [0, NONCE_LEN, raw.len() - 1] {
            let mut flipped = raw.clone();
            flipped[position] ^= 0x01;
            let tampered = format!("{header}.{}", URL_SAFE_NO_PAD.encode(flipped));
            assert_eq!(ring.decrypt(&tampered, "instructors.mobile"), Err(FieldCipherError::Authentication));
        }
        assert_eq!(ring.decrypt(&stored, "instructors.id_number"), Err(FieldCipherError::Authentication));
        assert_eq!(ring.decrypt(&stored, ""), Err(FieldCipherError::Authentication));
        let relabelled = stored.replacen(".k1.", ".k2.", 1);
        assert_eq!(ring.decrypt(&relabelled, "instructors.mobile"), Err(FieldCipherError::Authentication));
        let realgorithmed = stored.replacen("sm4-gcm", "aes-256-gcm", 1);
        assert_eq!(ring.decrypt(&realgorithmed, "instructors.mobile"), Err(FieldCipherError::Authentication));
    }

    #[test]
    fn wrong_key_material_fails() {
        let ring = keyring("k1", "sm4-gcm");
        let stored = ring.encrypt("13812341234", "instructors.mobile").unwrap();
        let other = Keyring::parse(&format!("active=k1\nindex=idx1\nk1={K2}\nidx1={IDX}"), "other").unwrap();
        assert_eq!(other.decrypt(&stored, "instructors.mobile"), Err(FieldCipherError::Authentication));
    }

    #[test]
    fn malformed_values_are_rejected() {
        let ring = keyring("k1", "sm4-gcm");
        assert_eq!(ring.decrypt("13812341234", "a"), Err(FieldCipherError::Malformed));
        assert_eq!(ring.decrypt("v2.sm4-gcm.k1.AAAA", "a"), Err(FieldCipherError::UnsupportedVersion));
        assert_eq!(ring.decrypt("v1.des.k1.AAAA", "a"), Err(FieldCipherError::UnknownAlgorithm));
        assert_eq!(ring.decrypt("v1.sm4-gcm.k9.AAAA", "a"), Err(FieldCipherError::UnknownKey("k9".into())));
        assert_eq!(ring.decrypt("v1.sm4-gcm.k1.AAAA", "a"), Err(FieldCipherError::Malformed));
        assert_eq!(ring.decrypt("v1.sm4-gcm.k1.!!!", "a"), Err(FieldCipherError::Malformed));
        assert_eq!(ring.decrypt("v1.sm4-gcm.idx1.AAAA", "a"), Err(FieldCipherError::UnknownKey("idx1".into())));
    }

    #[test]
    fn nonces_are_unique_across_10000_encryptions() {
        let ring = keyring("k1", "sm4-gcm");
        let mut nonces = HashSet::new();
        let mut texts = HashSet::new();
        for _ in 0..10_000 {
            let stored = ring.encrypt("13812341234", "instructors.mobile").unwrap();
            let raw = URL_SAFE_NO_PAD.decode(stored.rsplit_once('.').unwrap().1).unwrap();
            assert!(nonces.insert(raw[..NONCE_LEN].to_vec()));
            assert!(texts.insert(stored));
        }
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = keyring("k1", "sm4-gcm");
        let stored_old = old.encrypt("13812341234", "instructors.mobile").unwrap();
        let new = keyring("k2", "sm4-gcm");
        assert!(new.needs_rotation(&stored_old));
        assert!(!old.needs_rotation(&stored_old));
        assert_eq!(new.decrypt(&stored_old, "instructors.mobile").unwrap(), "13812341234");
        let rotated = new.reencrypt(&stored_old, "instructors.mobile").unwrap();
        assert!(rotated.starts_with("v1.sm4-gcm.k2."));
        assert!(!new.needs_rotation(&rotated));
        assert_eq!(new.decrypt(&rotated, "instructors.mobile").unwrap(), "13812341234");

        let mut switched = keyring("k2", "sm4-gcm");
        switched.set_algorithm(Algorithm::Aes256Gcm);
        assert!(switched.needs_rotation(&rotated));
        assert_eq!(switched.decrypt(&rotated, "instructors.mobile").unwrap(), "13812341234");
        assert!(switched.needs_rotation("plain text"));
    }

    #[test]
    fn rotate_adds_a_fresh_active_key_and_keeps_the_index() {
        let mut ring = keyring("k2", "sm4-gcm");
        let before = ring.encrypt("13812341234", "m").unwrap();
        let index_before = ring.blind_index("13812341234");
        assert_eq!(ring.rotate(), "k3");
        assert_eq!(ring.active_key_id(), "k3");
        assert_eq!(ring.index_key_id(), "idx1");
        assert!(ring.needs_rotation(&before));
        assert_eq!(ring.blind_index("13812341234"), index_before);
        let reread = Keyring::parse(&ring.to_text(), "round trip").unwrap();
        assert_eq!(reread.key_ids().collect::<Vec<_>>(), ["idx1", "k1", "k2", "k3"]);
        assert_eq!(reread.decrypt(&before, "m").unwrap(), "13812341234");
        assert_eq!(ring.remove_key("k3"), Err(KeyringError::KeyInUse("k3".into())));
        assert_eq!(ring.remove_key("idx1"), Err(KeyringError::KeyInUse("idx1".into())));
        ring.remove_key("k2").unwrap();
        assert_eq!(ring.decrypt(&before, "m"), Err(FieldCipherError::UnknownKey("k2".into())));
        assert_eq!(ring.set_active("idx1"), Err(KeyringError::UnknownKey("idx1".into())));
        ring.set_active("k1").unwrap();
        assert_eq!(ring.active_key_id(), "k1");
    }

    #[test]
    fn blind_index_is_stable_across_rotation_and_normalizes() {
        let k1 = keyring("k1", "sm4-gcm");
        let k2 = keyring("k2", "aes-256-gcm");
        let a = k1.blind_index("13812341234");
        assert_eq!(a.len(), 64);
        assert_eq!(a, k2.blind_index("13812341234"));
        assert_eq!(a, k1.blind_index(" 138-1234-1234 "));
        assert_eq!(a, k1.blind_index("１３８１２３４１２３４"));
        assert_ne!(a, k1.blind_index("13812341235"));
        assert_eq!(k1.blind_index("11010519491231002x"), k1.blind_index("11010519491231002X"));
        let other_index = Keyring::parse(&format!("active=k1\nindex=idx2\nk1={K1}\nidx2={K2}"), "other").unwrap();
        assert_ne!(a, other_index.blind_index("13812341234"));
    }

    #[test]
    fn subkeys_are_distinct_per_purpose() {
        let material = hex::decode(K1).unwrap().try_into().unwrap();
        let sm4 = derive_subkey(&material, LABEL_SM4, 16);
        let aes = derive_subkey(&material, LABEL_AES, 32);
        let index = derive_subkey(&material, LABEL_INDEX, 32);
        assert_eq!(sm4[16..], [0u8; 16]);
        assert_ne!(sm4[..16], aes[..16]);
        assert_ne!(aes, index);
        assert_ne!(aes.as_slice(), material.as_slice());
    }

    #[test]
    fn generate_gives_a_usable_keyring() {
        let ring = Keyring::generate();
        assert_eq!(ring.algorithm(), Algorithm::Sm4Gcm);
        assert_eq!(ring.active_key_id(), "k1");
        assert_eq!(ring.index_key_id(), "idx1");
        let reread = Keyring::parse(&ring.to_text(), "generated").unwrap();
        let stored = ring.encrypt("13812341234", "m").unwrap();
        assert_eq!(reread.decrypt(&stored, "m").unwrap(), "13812341234");
        assert_eq!(reread.blind_index("x"), ring.blind_index("x"));
        assert_ne!(Keyring::generate().to_text(), ring.to_text());
    }

    #[test]
    fn key_material_never_appears_in_debug() {
        let ring = keyring("k1", "sm4-gcm");
        let debug = format!("{ring:?}");
        assert!(debug.contains("k1") && debug.contains("idx1"));
        for key in [K1, K2, IDX] {
            assert!(!debug.to_lowercase().contains(&key[..16]));
        }
        assert!(!format!("{:?}", Keyring::parse("active=", "x")).contains(K1));
    }

    fn problem(text: &str) -> (Option<usize>, KeyfileProblem) {
        match Keyring::parse(text, "keys.txt") {
            Err(KeyringError::Parse { line, problem, .. }) => (line, problem),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_key_files_are_rejected_naming_the_line() {
        let ok = format!("active=k1\nindex=idx1\nk1={K1}\nidx1={IDX}\n");
        assert!(Keyring::parse(&ok, "keys.txt").is_ok());
        assert_eq!(problem(&format!("{ok}garbage")).0, Some(5));
        assert_eq!(problem(&format!("{ok}garbage")).1, KeyfileProblem::NotNameValue);
        assert_eq!(
            problem(&format!("{ok}k2=abcd")),
            (Some(5), KeyfileProblem::KeyLength { id: "k2".into(), found: 4 })
        );
        let not_hex = format!("{ok}k2={}", "g".repeat(64));
        assert_eq!(problem(&not_hex), (Some(5), KeyfileProblem::KeyNotHex { id: "k2".into() }));
        let zeros = format!("{ok}k2={}", "0".repeat(64));
        assert!(matches!(problem(&zeros), (Some(5), KeyfileProblem::WeakKey { .. })));
        let ascii = format!("{ok}k2={}", hex::encode("passwordpassword1234567812345678"));
        assert!(matches!(problem(&ascii), (Some(5), KeyfileProblem::WeakKey { .. })));
        let run: Vec<u8> = (0..32).collect();
        let run = format!("{ok}k2={}", hex::encode(run));
        assert!(matches!(problem(&run), (Some(5), KeyfileProblem::WeakKey { why: "an arithmetic run of bytes", .. })));
        assert_eq!(problem(&format!("{ok}k1={K2}")), (Some(5), KeyfileProblem::DuplicateKeyId("k1".into())));
        assert_eq!(
            problem(&format!("{ok}k2={K1}")),
            (Some(5), KeyfileProblem::SameMaterial { id: "k2".into(), other: "k1".into() })
        );
        assert_eq!(problem(&format!("{ok}active=k1")), (Some(5), KeyfileProblem::DuplicateSetting("active".into())));
        assert_eq!(problem(&format!("algorithm=des\n{ok}")), (Some(1), KeyfileProblem::UnknownAlgorithm("des".into())));
        assert_eq!(problem(&format!("{ok}k.2={K2}")).1, KeyfileProblem::InvalidKeyId("k.2".into()));
        assert_eq!(problem(&format!("{ok}2k={K2}")).1, KeyfileProblem::InvalidKeyId("2k".into()));
        assert_eq!(
            problem(&format!("{ok}{K2}=k2")).1,
            KeyfileProblem::InvalidKeyId("<withheld: 64 characters>".into())
        );
        assert_eq!(
            problem(&format!("algorithm={}\n{ok}", &K2[..20])).1,
            KeyfileProblem::UnknownAlgorithm("<withheld: 20 characters>".into())
        );
        assert_eq!(problem("# nothing\n"), (None, KeyfileProblem::NoKeys));
        assert_eq!(
            problem(&format!("index=idx1\nidx1={IDX}\nk1={K1}")),
            (None, KeyfileProblem::MissingSetting("active"))
        );
        assert_eq!(problem(&format!("active=k1\nk1={K1}")), (None, KeyfileProblem::MissingSetting("index")));
        assert_eq!(
            problem(&format!("active=k9\nindex=idx1\nk1={K1}\nidx1={IDX}")),
            (Some(1), KeyfileProblem::UnknownKey { setting: "active", id: "k9".into() })
        );
        assert_eq!(problem(&format!("active=k1\nindex=k1\nk1={K1}")), (Some(2), KeyfileProblem::IndexIsActive));
        let message = Keyring::parse(&format!("{ok}k2=abcd"), "/etc/dangjian/keys").unwrap_err().to_string();
        assert!(message.starts_with("/etc/dangjian/keys, line 5: key `k2` is 4 characters long"), "{message}");
    }

    #[test]
    fn key_files_allow_comments_spaces_and_any_order() {
        let text = format!(
            "\n  # keyring\nk1 = {K1}   # current\nidx1={IDX}\n\nindex = idx1\nalgorithm = aes-256-gcm\nactive= k1\n"
        );
        let ring = Keyring::parse(&text, "keys.txt").unwrap();
        assert_eq!(ring.algorithm(), Algorithm::Aes256Gcm);
        assert_eq!(ring.active_key_id(), "k1");
    }

    #[test]
    fn env_values_use_semicolons() {
        let value = format!("active=k1;index=idx1;k1={K1};idx1={IDX}");
        let ring = Keyring::parse_env_value(&value, DEFAULT_ENV_VAR).unwrap();
        assert_eq!(ring.algorithm(), Algorithm::Sm4Gcm);
        let bad = Keyring::parse_env_value("active=k1;index=idx1;k1=00", DEFAULT_ENV_VAR).unwrap_err();
        assert_eq!(bad.to_string(), "environment variable DANGJIAN_FIELD_KEYS, line 3: key `k1` is 2 characters long; a key is 64 hex characters (32 bytes)");
    }

    #[test]
    fn key_file_is_read_from_disk() {
        let dir = std::env::temp_dir().join(format!("dangjian-security-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        std::fs::write(&path, keyring("k2", "sm4-gcm").to_text().as_bytes()).unwrap();
        let ring = Keyring::from_file(&path).unwrap();
        assert_eq!(ring.active_key_id(), "k2");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(Keyring::from_file(&path), Err(KeyringError::Read { .. })));
        assert_eq!(
            Keyring::from_env("DANGJIAN_SECURITY_TEST_UNSET_VARIABLE").unwrap_err(),
            KeyringError::MissingEnv("DANGJIAN_SECURITY_TEST_UNSET_VARIABLE".into())
        );
    }
}
