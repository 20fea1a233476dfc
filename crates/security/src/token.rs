//! API tokens and session ids.
//!
//! An API token is `dj_` followed by 43 base62 characters (256 bits from the CSPRNG). It is shown to its owner
//! once, at creation; the database keeps only its SM3 hash (GB/T 32905-2016) in hex, looked up by equality. A fast
//! unsalted hash is enough here because the token is random and long: there is nothing to guess, unlike a
//! password. Session ids are 256 random bits in base64url; store them hashed the same way ([`hash_token`]) so that
//! a copy of the database holds no live session.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::digest::sm3_hex;
use crate::rng;

/// Prefix of every API token, so that leaked tokens are recognisable by secret scanners.
pub const API_TOKEN_PREFIX: &str = "dj_";
/// Number of base62 characters after the prefix: 43 × log2(62) ≈ 256 bits.
pub const API_TOKEN_RANDOM_CHARS: usize = 43;
/// Characters of a token shown in listings to tell tokens apart (`dj_` and 6 more).
pub const DISPLAY_PREFIX_CHARS: usize = 9;
/// Bytes of randomness in a session id.
pub const SESSION_ID_BYTES: usize = 32;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The largest multiple of 62 that fits a byte: bytes at or above it are rejected so that every character is
/// equally likely.
const BASE62_REJECT_FROM: u8 = 248;

/// A freshly generated API token: the secret to show once, and the hash to store. The secret is zeroized on drop
/// and left out of `Debug`.
pub struct NewApiToken {
    secret: Zeroizing<String>,
    hash: String,
}

impl NewApiToken {
    /// Generates a token from the CSPRNG.
    pub fn generate() -> Self {
        let mut secret = Zeroizing::new(String::with_capacity(API_TOKEN_PREFIX.len() + API_TOKEN_RANDOM_CHARS));
        secret.push_str(API_TOKEN_PREFIX);
        let mut pool = Zeroizing::new([0u8; 64]);
        while secret.len() < API_TOKEN_PREFIX.len() + API_TOKEN_RANDOM_CHARS {
            rng::fill(pool.as_mut_slice());
            for &byte in pool.iter().filter(|b| **b < BASE62_REJECT_FROM) {
                if secret.len() == API_TOKEN_PREFIX.len() + API_TOKEN_RANDOM_CHARS {
                    break;
                }
                secret.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
        let hash = hash_token(&secret);
        Self { secret, hash }
    }

    /// The token itself: show it to its owner once, never store or log it.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// SM3 hash of the token, in hex: what the database stores.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The first characters (`dj_` and 6 more), safe to store and list so that owners can tell tokens apart.
    pub fn display_prefix(&self) -> &str {
        display_prefix(&self.secret)
    }
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken").field("prefix", &self.display_prefix()).field("hash", &self.hash).finish()
    }
}

/// SM3 (GB/T 32905-2016) of a presented token or session id, as 64 hex characters: the value to look up.
pub fn hash_token(token: &str) -> String {
    sm3_hex(token.as_bytes())
}

/// Whether `presented` hashes to `stored_hash`, compared in constant time.
pub fn verify_token(presented: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_token(presented).as_bytes(), stored_hash.as_bytes())
}

/// Equality of two byte strings in time that depends only on their lengths, not on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether `s` has the shape of an API token (prefix, length, base62), to refuse garbage before any lookup.
pub fn is_api_token_format(s: &str) -> bool {
    s.strip_prefix(API_TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == API_TOKEN_RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The first characters of a token (`dj_` and 6 more) for listings; the whole string if shorter.
pub fn display_prefix(token: &str) -> &str {
    token.char_indices().nth(DISPLAY_PREFIX_CHARS).map_or(token, |(end, _)| &token[..end])
}

/// A new session id: 256 bits from the CSPRNG in base64url without padding (43 characters).
pub fn generate_session_id() -> String {
    let bytes = Zeroizing::new(rng::random_bytes::<SESSION_ID_BYTES>());
    URL_SAFE_NO_PAD.encode(*bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn api_tokens_have_the_documented_shape_and_strength() {
        let token = NewApiToken::generate();
        assert!(token.secret().starts_with("dj_"));
        assert_eq!(token.secret().len(), 3 + 43);
        assert!(is_api_token_format(token.secret()));
        assert!(API_TOKEN_RANDOM_CHARS as f64 * 62f64.log2() >= 256.0);
        assert_eq!(token.hash(), hash_token(token.secret()));
        assert_eq!(token.hash().len(), 64);
        assert!(token.hash().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(token.display_prefix(), &token.secret()[..9]);
    }

    #[test]
    fn api_tokens_are_unique_and_use_the_whole_alphabet() {
        let mut seen = HashSet::new();
        let mut chars = HashSet::new();
        for _ in 0..2_000 {
            let token = NewApiToken::generate();
            chars.extend(token.secret()[3..].chars());
            assert!(seen.insert(token.secret().to_owned()));
        }
        assert_eq!(chars.len(), 62);
    }

    #[test]
    fn secret_is_not_in_debug_output() {
        let token = NewApiToken::generate();
        let debug = format!("{token:?}");
        assert!(!debug.contains(token.secret()));
        assert!(debug.contains(token.display_prefix()));
    }

    #[test]
    fn verification_and_format_checks() {
        let token = NewApiToken::generate();
        assert!(verify_token(token.secret(), token.hash()));
        let mut wrong = token.secret().to_owned();
        wrong.pop();
        wrong.push(if token.secret().ends_with('a') { 'b' } else { 'a' });
        assert!(!verify_token(&wrong, token.hash()));
        assert!(!verify_token(token.secret(), ""));
        assert!(!is_api_token_format(&wrong[..20]));
        assert!(!is_api_token_format(&format!("xx_{}", &token.secret()[3..])));
        assert!(!is_api_token_format(&format!("dj_{}", "-".repeat(43))));
        assert_eq!(hash_token("abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(display_prefix("dj_ab"), "dj_ab");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn session_ids_are_256_bit_base64url() {
        let id = generate_session_id();
        assert_eq!(id.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&id).unwrap().len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let ids: HashSet<String> = (0..1_000).map(|_| generate_session_id()).collect();
        assert_eq!(ids.len(), 1_000);
    }
}
