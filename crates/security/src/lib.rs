//! Security primitives of Dangjian: pure functions over plain data — no database, no async, no logging.
//!
//! | module | what | standard |
//! | --- | --- | --- |
//! | [`digest`] | SM3 and HMAC-SM3 | GB/T 32905-2016, RFC 2104 |
//! | [`field_cipher`] | personal data encrypted field by field, blind index, key file | GB/T 32907-2016 (SM4), NIST SP 800-38D (GCM), RFC 8998, PIPL Art. 51 |
//! | [`masking`] | masked display of mobile numbers, ID numbers and names | PIPL Art. 51 (minimum necessary display) |
//! | [`totp`] | second factor | RFC 6238, RFC 4226, GB/T 22239-2019 8.1.4.1 d) |
//! | [`password`] | password policy and argon2id hashing | RFC 9106, GB/T 22239-2019 (MLPS 2.0) 8.1.4.1 |
//! | [`token`] | API tokens (shown once, stored hashed) and session ids | — |
//! | [`audit_chain`] | tamper-evident audit log: SM3 hash chain with a purge anchor | GB/T 22239-2019 8.1.4.3 |
//!
//! Secrets (key material, TOTP secrets, fresh API tokens) are zeroized on drop and never appear in `Debug` output.

pub mod audit_chain;
pub mod digest;
pub mod field_cipher;
pub mod masking;
pub mod password;
mod rng;
pub use rng::random_u64;
pub mod token;
pub mod totp;
