//! Second factor: time-based one-time passwords (RFC 6238 TOTP over RFC 4226 HOTP) with HMAC-SHA-1, 6 digits and
//! 30-second steps — the profile every authenticator app accepts — and ±1 step of clock skew (RFC 6238 section 5.2).
//! With the password it makes the two-technique login that GB/T 22239-2019 8.1.4.1 d) asks of level-3 systems.
//!
//! Enrolment: [`TotpSecret::generate`], show [`Enrolment`] (otpauth URL as a QR code, plus the base32 text for manual
//! entry), store the secret encrypted (see [`crate::field_cipher`]), and confirm with a first code. Login:
//! [`verify_once`] with the last accepted time step, then store the step it returns, so that a code is accepted
//! once only (RFC 6238 section 5.2).

use std::fmt;

use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::rng;

/// Issuer shown by authenticator apps.
pub const ISSUER: &str = "党建 Dangjian";
/// Code length.
pub const DIGITS: u8 = 6;
/// Time step in seconds (RFC 6238 section 5.2 default).
pub const STEP_SECONDS: u64 = 30;
/// Steps of clock skew accepted either side of the current one.
pub const SKEW_STEPS: u16 = 1;
/// Length of a generated secret: 160 bits, as RFC 4226 section 4 recommends.
pub const SECRET_LEN: usize = 20;
/// Shortest secret accepted: 128 bits (RFC 4226 section 4, requirement R6).
pub const MIN_SECRET_LEN: usize = 16;

/// Why a TOTP secret, URL or QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a TOTP secret must be at least 128 bits")]
    SecretTooShort,
    #[error("the TOTP secret is not valid base32")]
    InvalidBase32,
    #[error("the account name must be non-empty and contain no ':'")]
    InvalidAccountName,
    #[error("cannot build the otpauth URL: {0}")]
    Url(String),
    #[error("cannot draw the QR code: {0}")]
    Qr(String),
}

/// Why [`verify_once`] refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpRejection {
    #[error("the code is wrong or expired")]
    Invalid,
    #[error("the code was already used; wait for the next one")]
    Replayed,
}

/// A shared TOTP secret. Zeroized on drop; `Debug` shows nothing of it.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// A fresh 160-bit secret from the CSPRNG (RFC 4226 section 4).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        rng::fill(&mut bytes);
        Self(bytes)
    }

    /// A secret from raw bytes, at least 128 bits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(TotpError::SecretTooShort);
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// A secret from its RFC 4648 base32 text; case, spaces and `=` padding are ignored.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let cleaned: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace() && *c != '=').collect::<String>().to_uppercase());
        let secret = Secret::try_from_base32(cleaned.as_str()).map_err(|_| TotpError::InvalidBase32)?;
        Self::from_bytes(secret.as_bytes())
    }

    /// RFC 4648 base32 text without padding, for manual entry in an authenticator app.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(Secret::from(self.0.as_slice()).to_base32())
    }

    /// The raw secret, for storing encrypted.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, digits: u8) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(digits)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.to_vec())
            .build_noncompliant()
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// What an enrolment page shows: the QR code, and the same secret as text for manual entry.
#[derive(Clone)]
pub struct Enrolment {
    /// `otpauth://totp/…` (Google Authenticator key URI format), issuer [`ISSUER`].
    pub url: Zeroizing<String>,
    /// The URL as an inline SVG QR code (no XML declaration, no script).
    pub qr_svg: Zeroizing<String>,
    /// The secret in base32.
    pub secret_base32: Zeroizing<String>,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

/// The otpauth URL, QR code and base32 text for enrolling `account` (e.g. the user name) with `secret`.
pub fn enrolment(secret: &TotpSecret, account: &str) -> Result<Enrolment, TotpError> {
    let url = otpauth_url(secret, account)?;
    let qr_svg = Zeroizing::new(qr_svg(&url)?);
    Ok(Enrolment { url, qr_svg, secret_base32: secret.to_base32() })
}

/// The `otpauth://totp/党建 Dangjian:<account>?secret=…&issuer=…` URL (Google Authenticator key URI format) that
/// authenticator apps scan.
pub fn otpauth_url(secret: &TotpSecret, account: &str) -> Result<Zeroizing<String>, TotpError> {
    if account.is_empty() || account.contains(':') {
        return Err(TotpError::InvalidAccountName);
    }
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.0.to_vec())
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| TotpError::Url(e.to_string()))?;
    totp.to_url().map(Zeroizing::new).map_err(|e| TotpError::Url(e.to_string()))
}

/// `text` (an otpauth URL) as an SVG QR code string, at least 200 px square with the standard quiet zone, ready to
/// inline in a page.
pub fn qr_svg(text: &str) -> Result<String, TotpError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| TotpError::Qr(e.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// The code for `unix_time` (RFC 6238 section 4), for tests and enrolment previews.
pub fn code_at(secret: &TotpSecret, unix_time: u64) -> String {
    secret.totp(DIGITS).generate(unix_time).to_string()
}

/// Checks `code` at `unix_time` with ±1 step of skew (RFC 6238 sections 4 and 5.2). Spaces in the code are
/// ignored. Returns the matched time step (`T = unix_time / 30`, give or take one), which the caller must store
/// and refuse to accept again — see [`verify_once`].
pub fn verify(secret: &TotpSecret, code: &str, unix_time: u64) -> Option<u64> {
    verify_digits(secret, DIGITS, code, unix_time)
}

/// [`verify`] with replay protection (RFC 6238 section 5.2): a code whose time step is not later than
/// `last_used_step` (the step returned by the previous successful login, if any) is refused, so neither the same
/// code nor an older one can be used twice. On success returns the step to store.
pub fn verify_once(
    secret: &TotpSecret,
    code: &str,
    unix_time: u64,
    last_used_step: Option<u64>,
) -> Result<u64, TotpRejection> {
    let step = verify(secret, code, unix_time).ok_or(TotpRejection::Invalid)?;
    match last_used_step {
        Some(last) if step <= last => Err(TotpRejection::Replayed),
        _ => Ok(step),
    }
}

fn verify_digits(secret: &TotpSecret, digits: u8, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    secret.totp(digits).check(&code, unix_time)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890", 8 digits.
    const RFC_6238_SHA1: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let secret = rfc_secret();
        for (time, expected) in RFC_6238_SHA1 {
            assert_eq!(secret.totp(8).generate(time).to_string(), expected, "T = {time}");
            assert_eq!(verify_digits(&secret, 8, expected, time), Some(time / 30), "T = {time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_rfc_values() {
        let secret = rfc_secret();
        for (time, expected) in RFC_6238_SHA1 {
            assert_eq!(code_at(&secret, time), expected[2..], "T = {time}");
        }
    }

    #[test]
    fn skew_of_one_step_either_side() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = code_at(&secret, now);
        let step = now / STEP_SECONDS;
        assert_eq!(verify(&secret, &code, now), Some(step));
        assert_eq!(verify(&secret, &code, now - STEP_SECONDS), Some(step));
        assert_eq!(verify(&secret, &code, now + STEP_SECONDS), Some(step));
        assert_eq!(verify(&secret, &code, now + 2 * STEP_SECONDS), None);
        assert_eq!(verify(&secret, &code, now - 2 * STEP_SECONDS), None);
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = rfc_secret();
        let code = code_at(&secret, 59);
        assert_eq!(verify(&secret, &format!("{} {}", &code[..3], &code[3..]), 59), Some(1));
        assert_eq!(verify(&secret, "", 59), None);
        assert_eq!(verify(&secret, "12345", 59), None);
        assert_eq!(verify(&secret, "+28708", 59), None);
        assert_eq!(verify(&secret, "２８７０８２", 59), None);
    }

    #[test]
    fn replay_of_a_step_is_refused() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = code_at(&secret, now);
        let step = verify_once(&secret, &code, now, None).unwrap();
        assert_eq!(verify_once(&secret, &code, now + 5, Some(step)), Err(TotpRejection::Replayed));
        let older = code_at(&secret, now - STEP_SECONDS);
        assert_eq!(verify_once(&secret, &older, now, Some(step)), Err(TotpRejection::Replayed));
        let next = code_at(&secret, now + STEP_SECONDS);
        assert_eq!(verify_once(&secret, &next, now + STEP_SECONDS, Some(step)), Ok(step + 1));
    }

    #[test]
    fn wrong_code_is_invalid() {
        let secret = rfc_secret();
        // Codes at steps 0, 1 and 2 are 755224, 287082 and 359152 (RFC 4226 Appendix D, counters 0–2).
        assert_eq!(code_at(&secret, 0), "755224");
        assert_eq!(code_at(&secret, 59), "287082");
        assert_eq!(code_at(&secret, 60), "359152");
        assert_eq!(verify_once(&secret, "287083", 59, None), Err(TotpRejection::Invalid));
        assert_eq!(verify_once(&secret, "755224", 59, None), Ok(0));
        assert_eq!(verify_once(&secret, "359152", 59, None), Ok(2));
    }

    #[test]
    fn secrets_are_160_bits_random_and_round_trip_through_base32() {
        let a = TotpSecret::generate();
        let b = TotpSecret::generate();
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let text = a.to_base32();
        assert_eq!(text.len(), 32);
        assert_eq!(TotpSecret::from_base32(&text).unwrap().as_bytes(), a.as_bytes());
        let spaced: String = text
            .to_lowercase()
            .chars()
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(TotpSecret::from_base32(&spaced).unwrap().as_bytes(), a.as_bytes());
        assert_eq!(TotpSecret::from_base32("not base32!").unwrap_err(), TotpError::InvalidBase32);
        assert_eq!(TotpSecret::from_base32("GEZDGNBV").unwrap_err(), TotpError::SecretTooShort);
        assert_eq!(TotpSecret::from_bytes(&[1; 15]).unwrap_err(), TotpError::SecretTooShort);
        assert_eq!(format!("{a:?}"), "TotpSecret(<redacted>)");
    }

    #[test]
    fn otpauth_url_and_qr() {
        let secret = rfc_secret();
        let url = otpauth_url(&secret, "zhangsan").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{}", *url);
        assert!(url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{}", *url);
        assert!(url.contains("zhangsan"), "{}", *url);
        assert!(url.contains("issuer=%E5%85%9A%E5%BB%BA%20Dangjian"), "{}", *url);
        let parsed = Totp::from_url(url.as_str()).unwrap();
        assert_eq!(parsed.issuer(), Some(ISSUER));
        assert_eq!(parsed.account_name(), "zhangsan");
        assert_eq!(parsed.secret().as_bytes(), secret.as_bytes());
        assert_eq!(otpauth_url(&secret, "a:b").unwrap_err(), TotpError::InvalidAccountName);
        assert_eq!(otpauth_url(&secret, "").unwrap_err(), TotpError::InvalidAccountName);

        let enrolment = enrolment(&secret, "zhangsan").unwrap();
        assert!(enrolment.qr_svg.starts_with("<svg"), "{}", &enrolment.qr_svg[..40]);
        assert!(enrolment.qr_svg.ends_with("</svg>"));
        assert!(!enrolment.qr_svg.contains("<script"));
        assert_eq!(*enrolment.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(format!("{enrolment:?}"), "Enrolment(<redacted>)");
    }
}
