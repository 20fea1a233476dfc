//! Passwords: the policy a new password must meet, and argon2id hashing (RFC 9106) with the OWASP-recommended
//! parameters m = 19 MiB, t = 2, p = 1.
//!
//! The default policy follows current guidance (length and a block list, no forced composition or expiry). The
//! [`PasswordPolicy::mlps`] preset switches on what MLPS 2.0 testers check under GB/T 22239-2019 8.1.4.1 a)
//! ("身份鉴别信息具有复杂度要求并定期更换"): at least three character classes, and a change every 90 days.

use dangjian_i18n::Message;
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use serde::{Deserialize, Serialize};

/// The shortest minimum length a policy may set (the issue's floor).
pub const MIN_LENGTH_FLOOR: usize = 12;
/// Longest password accepted, in characters: generous for passphrases, bounded against hashing abuse.
pub const MAX_LENGTH: usize = 256;
/// argon2 memory cost in KiB (OWASP Password Storage Cheat Sheet: 19 MiB).
pub const ARGON2_M_COST: u32 = 19_456;
/// argon2 iterations.
pub const ARGON2_T_COST: u32 = 2;
/// argon2 parallelism.
pub const ARGON2_P_COST: u32 = 1;

/// A PHC string made with the parameters above, verified against by [`dummy_verify`] so that an unknown user costs
/// the same time as a known one. `needs_rehash` of it must stay `false` (a test checks).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$gCU7xYPXhpjTPRAq2iGwQQ$K6Mb077ARFRUSbQBxLYMq6pB9PO9qXdwXpQyu/80RiQ";

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Which rules a new password must satisfy. Deserializable from deployment configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    /// Minimum length in Unicode characters; values below [`MIN_LENGTH_FLOOR`] are raised to it.
    pub min_length: usize,
    /// Require at least three of: lower-case letter, upper-case letter, digit, other character.
    pub require_composition: bool,
    /// Days after which a password must be changed; `None` for never.
    pub max_age_days: Option<u32>,
}

impl Default for PasswordPolicy {
    /// Length 12, the common-password list and the pattern rules; composition and expiry off.
    fn default() -> Self {
        Self { min_length: MIN_LENGTH_FLOOR, require_composition: false, max_age_days: None }
    }
}

impl PasswordPolicy {
    /// The preset for deployments assessed under MLPS 2.0 (GB/T 22239-2019 8.1.4.1 a): composition required and a
    /// 90-day maximum age, on top of the default rules.
    pub fn mlps() -> Self {
        Self { min_length: MIN_LENGTH_FLOOR, require_composition: true, max_age_days: Some(90) }
    }

    /// Checks a proposed password for `username`, returning every problem found (in a stable order) so that a form
    /// can show them all at once.
    pub fn check(&self, password: &str, username: &str) -> Result<(), Vec<PasswordProblem>> {
        let mut problems = Vec::new();
        let length = password.chars().count();
        let min = self.min_length.max(MIN_LENGTH_FLOOR);
        if length < min {
            problems.push(PasswordProblem::TooShort { min, actual: length });
        }
        if length > MAX_LENGTH {
            problems.push(PasswordProblem::TooLong { max: MAX_LENGTH });
            return Err(problems);
        }
        if is_common(password) {
            problems.push(PasswordProblem::Common);
        }
        let lower = password.to_lowercase();
        let core = strip_trailing_non_letters(&lower);
        let cores = [lower.as_str(), core];
        let considered = || cores.iter().filter(|c| c.chars().count() >= 4 || **c == lower);
        if considered().any(|c| is_repetitive(c)) {
            problems.push(PasswordProblem::Repetitive);
        } else if considered().any(|c| is_sequential(c)) {
            problems.push(PasswordProblem::Sequential);
        }
        if contains_username(&lower, username) {
            problems.push(PasswordProblem::ContainsUsername);
        }
        if self.require_composition {
            let classes = character_classes(password);
            if classes < 3 {
                problems.push(PasswordProblem::Composition { classes });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether a password last changed at `changed_at` (Unix seconds) must be changed at `now`.
    pub fn is_expired(&self, changed_at: i64, now: i64) -> bool {
        match self.max_age_days {
            Some(days) => now.saturating_sub(changed_at) >= i64::from(days) * 86_400,
            None => false,
        }
    }
}

/// One reason a password was refused, with a stable machine code and messages in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PasswordProblem {
    TooShort { min: usize, actual: usize },
    TooLong { max: usize },
    Common,
    Repetitive,
    Sequential,
    ContainsUsername,
    Composition { classes: usize },
}

impl PasswordProblem {
    /// Stable machine code: `too_short`, `too_long`, `common`, `repetitive`, `sequential`, `contains_username`,
    /// `composition`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::Common => "common",
            Self::Repetitive => "repetitive",
            Self::Sequential => "sequential",
            Self::ContainsUsername => "contains_username",
            Self::Composition { .. } => "composition",
        }
    }

    /// What is wrong, as a catalogue message (`password_problem.<code>`).
    pub fn message(&self) -> Message {
        let m = Message::new(match self {
            Self::TooShort { .. } => "password_problem.too_short",
            Self::TooLong { .. } => "password_problem.too_long",
            Self::Common => "password_problem.common",
            Self::Repetitive => "password_problem.repetitive",
            Self::Sequential => "password_problem.sequential",
            Self::ContainsUsername => "password_problem.contains_username",
            Self::Composition { .. } => "password_problem.composition",
        });
        match self {
            Self::TooShort { min, actual } => m.arg("min", min).arg("actual", actual),
            Self::TooLong { max } => m.arg("max", max),
            Self::Composition { classes } => m.arg("classes", classes),
            _ => m,
        }
    }

    /// The message in the requested language (`zh…` for Chinese, anything else English), as `FieldError::message_in`.
    pub fn message_in(&self, lang: &str) -> String {
        self.message().render(lang)
    }
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_in("en"))
    }
}

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordHashError(String);

/// Whether the password, compared case-insensitively, is on the built-in list — as typed, with trailing digits and
/// symbols removed (`Password2024!` → `password`), with leading ones removed too, or with simple substitutions
/// undone (`P@ssw0rd` → `password`). Stripped forms count only from 4 characters up.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lower.as_str()) {
        return true;
    }
    let trailing = strip_trailing_non_letters(&lower);
    let both = trailing.trim_start_matches(|c: char| !c.is_alphabetic());
    [trailing.to_owned(), both.to_owned(), undo_substitutions(trailing), undo_substitutions(&lower)]
        .iter()
        .filter(|candidate| candidate.chars().count() >= 4)
        .any(|candidate| COMMON_PASSWORDS.contains(candidate.as_str()))
}

fn strip_trailing_non_letters(s: &str) -> &str {
    s.trim_end_matches(|c: char| !c.is_alphabetic())
}

fn undo_substitutions(s: &str) -> String {
    let undone: String = s
        .chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '$' | '5' => 's',
            '7' => 't',
            _ => c,
        })
        .collect();
    strip_trailing_non_letters(&undone).to_owned()
}

/// The same character throughout, or a unit of up to 4 characters repeated (`abababab`, `123123123123`).
fn is_repetitive(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return false;
    }
    (1..=4).filter(|p| chars.len() >= 2 * p).any(|p| chars.iter().enumerate().all(|(i, c)| *c == chars[i % p]))
}

/// A run going up or down by one throughout (`123456789012`, `abcdefgh`, `987654321098`; digits wrap 9↔0).
fn is_sequential(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return false;
    }
    let step = |a: char, b: char| -> Option<i32> {
        match (a, b) {
            ('9', '0') => Some(1),
            ('0', '9') => Some(-1),
            _ if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => Some(b as i32 - a as i32),
            _ => None,
        }
    };
    let Some(first) = step(chars[0], chars[1]) else {
        return false;
    };
    (first == 1 || first == -1) && chars.windows(2).all(|w| step(w[0], w[1]) == Some(first))
}

/// The user name (from 3 characters), or it reversed, inside the password, ignoring case.
fn contains_username(lower_password: &str, username: &str) -> bool {
    let name = username.trim().to_lowercase();
    if name.chars().count() < 3 {
        return false;
    }
    let reversed: String = name.chars().rev().collect();
    lower_password.contains(&name) || lower_password.contains(&reversed)
}

/// How many of lower-case letter, upper-case letter, ASCII digit and other character (symbols, Chinese characters)
/// occur.
fn character_classes(password: &str) -> usize {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_ascii_digit() {
            digit = true;
        } else {
            other = true;
        }
    }
    [lower, upper, digit, other].into_iter().filter(|x| *x).count()
}

fn argon2() -> Result<Argon2<'static>, PasswordHashError> {
    let params =
        Params::new(ARGON2_M_COST, ARGON2_T_COST, ARGON2_P_COST, None).map_err(|e| PasswordHashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id (RFC 9106), m = 19456 KiB, t = 2, p = 1, and a random 128-bit salt, returning
/// the PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). Slow by design (tens of milliseconds): call it off the
/// async runtime.
pub fn hash_password(password: &str) -> Result<String, PasswordHashError> {
    argon2()?
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordHashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (parameters are read from the hash). A malformed hash or an
/// over-long password gives `false`. Constant-time in the comparison; as slow as [`hash_password`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    match argon2() {
        Ok(argon2) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of a [`verify_password`] against a fixed hash and returns `false`, for logins naming an unknown
/// user, so that response time does not reveal which accounts exist.
pub fn dummy_verify(password: &str) -> bool {
    let _ = verify_password(DUMMY_HASH, password);
    false
}

/// Whether a stored hash was made with other parameters than today's (or is not argon2id), so that it should be
/// replaced by [`hash_password`] at the next successful login.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(0x13)
        || params.m_cost() != ARGON2_M_COST
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn codes(policy: &PasswordPolicy, password: &str, username: &str) -> Vec<&'static str> {
        match policy.check(password, username) {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(PasswordProblem::code).collect(),
        }
    }

    #[test]
    fn default_and_mlps_presets() {
        let default = PasswordPolicy::default();
        assert_eq!(default.min_length, 12);
        assert!(!default.require_composition);
        assert_eq!(default.max_age_days, None);
        let mlps = PasswordPolicy::mlps();
        assert!(mlps.require_composition);
        assert_eq!(mlps.max_age_days, Some(90));
    }

    #[test]
    fn good_passwords_pass() {
        let policy = PasswordPolicy::default();
        assert_eq!(codes(&policy, "correct horse battery staple", "zhangsan"), Vec::<&str>::new());
        assert_eq!(codes(&policy, "红旗渠精神永放光芒了", "zhangsan").len(), 1); // 10 characters: too short only
        assert_eq!(codes(&policy, "红旗渠精神永放光芒万丈长", "zhangsan"), Vec::<&str>::new());
        assert_eq!(codes(&PasswordPolicy::mlps(), "Kq7#mVp2xLw9", "zhangsan"), Vec::<&str>::new());
    }

    #[test]
    fn length_counts_unicode_characters() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("Kq7#mVp2xLw", "u"), Err(vec![PasswordProblem::TooShort { min: 12, actual: 11 }]));
        // 11 Chinese characters are 33 bytes but still too short.
        assert_eq!(codes(&policy, "党员先锋模范作用发挥好", "u"), ["too_short"]);
        let lax = PasswordPolicy { min_length: 6, ..PasswordPolicy::default() };
        assert_eq!(codes(&lax, "Kq7#mVp2xLw", "u"), ["too_short"]);
        let long = "Kq7#mVp2xLw9".repeat(30);
        assert_eq!(codes(&policy, &long, "u"), ["too_long"]);
    }

    #[test]
    fn common_passwords_are_refused() {
        assert!(COMMON_PASSWORDS.len() >= 1000, "{}", COMMON_PASSWORDS.len());
        let policy = PasswordPolicy::default();
        for password in [
            "password1234",
            "Password1234",
            "PASSWORD2024!",
            "P@ssw0rd2024!",
            "woaini1314520",
            "woaini131452",
            "1qaz2wsx3edc4rfv",
            "qq1234567890",
            "Admin@123456",
            "Huawei@12345",
            "dangjian2024!",
            "zhangwei19900101",
            "qwertyuiop[]",
        ] {
            assert!(codes(&policy, password, "u").contains(&"common"), "{password}");
        }
        for listed in ["woaini1314", "5201314", "qq123456", "1qaz2wsx", "password1234"] {
            assert!(is_common(listed), "{listed}");
        }
        assert!(!is_common("correct horse battery staple"));
        assert!(!is_common("Kq7#mVp2xLw9"));
    }

    #[test]
    fn repetition_and_sequences_are_refused() {
        let policy = PasswordPolicy::default();
        assert!(codes(&policy, "aaaaaaaaaaaa", "u").contains(&"repetitive"));
        assert!(codes(&policy, "我我我我我我我我我我我我", "u").contains(&"repetitive"));
        assert!(codes(&policy, "xyzxyzxyzxyz", "u").contains(&"repetitive"));
        assert!(codes(&policy, "zzzzzzzzzz!!", "u").contains(&"repetitive"));
        assert!(codes(&policy, "135713571357", "u").contains(&"repetitive"));
        assert!(codes(&policy, "345678901234", "u").contains(&"sequential"));
        assert!(codes(&policy, "ghijklmnopqr", "u").contains(&"sequential"));
        assert!(codes(&policy, "rqponmlkjihg", "u").contains(&"sequential"));
        assert!(codes(&policy, "stuvwxyz2024", "u").contains(&"sequential"));
        assert!(is_sequential("7890123"));
        assert!(!is_sequential("13579"));
        assert!(!is_repetitive("abcdeabcde"));
    }

    #[test]
    fn username_inside_is_refused() {
        let policy = PasswordPolicy::default();
        assert!(codes(&policy, "my-ZhangSan-key-2024", "zhangsan").contains(&"contains_username"));
        assert!(codes(&policy, "xx-nasgnahz-xx-77", "zhangsan").contains(&"contains_username"));
        assert!(!codes(&policy, "Kq7#mVp2xLw9", "li").contains(&"contains_username"));
    }

    #[test]
    fn composition_only_when_switched_on() {
        let lowercase_only = "velvetmoonriver";
        assert_eq!(codes(&PasswordPolicy::default(), lowercase_only, "u"), Vec::<&str>::new());
        assert_eq!(
            PasswordPolicy::mlps().check(lowercase_only, "u"),
            Err(vec![PasswordProblem::Composition { classes: 1 }])
        );
        assert_eq!(codes(&PasswordPolicy::mlps(), "velvetmoon7river", "u"), ["composition"]);
        assert_eq!(codes(&PasswordPolicy::mlps(), "velvet-moon7river", "u"), Vec::<&str>::new());
        assert_eq!(codes(&PasswordPolicy::mlps(), "红旗渠精神Moon7river", "u"), Vec::<&str>::new());
    }

    #[test]
    fn expiry_only_when_configured() {
        let day = 86_400;
        assert!(!PasswordPolicy::default().is_expired(0, 1000 * day));
        assert!(!PasswordPolicy::mlps().is_expired(0, 89 * day));
        assert!(PasswordPolicy::mlps().is_expired(0, 90 * day));
    }

    #[test]
    fn problems_have_codes_and_both_languages() {
        let all = [
            PasswordProblem::TooShort { min: 12, actual: 3 },
            PasswordProblem::TooLong { max: 256 },
            PasswordProblem::Common,
            PasswordProblem::Repetitive,
            PasswordProblem::Sequential,
            PasswordProblem::ContainsUsername,
            PasswordProblem::Composition { classes: 2 },
        ];
        let codes: HashSet<&str> = all.iter().map(PasswordProblem::code).collect();
        assert_eq!(codes.len(), all.len());
        for problem in &all {
            assert!(!problem.message_in("en").starts_with("password_problem."));
            assert!(problem.message_in("zh-CN").chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
            assert_eq!(problem.message_in("en"), problem.to_string());
        }
        assert_eq!(
            serde_json::to_string(&PasswordProblem::TooShort { min: 12, actual: 3 }).unwrap(),
            r#"{"code":"too_short","min":12,"actual":3}"#
        );
        assert_eq!(serde_json::to_string(&PasswordProblem::Common).unwrap(), r#"{"code":"common"}"#);
    }

    #[test]
    fn policy_reads_from_partial_configuration() {
        let policy: PasswordPolicy = serde_json::from_str(r#"{"require_composition": true}"#).unwrap();
        assert_eq!(policy, PasswordPolicy { require_composition: true, ..PasswordPolicy::default() });
        let mlps: PasswordPolicy =
            serde_json::from_str(r#"{"require_composition": true, "max_age_days": 90}"#).unwrap();
        assert_eq!(mlps, PasswordPolicy::mlps());
    }

    #[test]
    fn hashing_and_verification() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery staple"));
        assert!(!verify_password(&hash, "correct horse battery stapler"));
        assert!(!verify_password(&hash, ""));
        assert!(!verify_password("not a hash", "correct horse battery staple"));
        assert_ne!(hash, hash_password("correct horse battery staple").unwrap(), "salts differ");
        assert!(!needs_rehash(&hash));
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c8s2Zc8VGEJVbO6DFvQhAQ$kR4H3mbvP3JwVk4bGCyiHxEHbcD0wnY9QeU3aPsmVKI"
        ));
        assert!(needs_rehash("garbage"));
    }

    #[test]
    fn dummy_verify_uses_current_parameters_and_never_succeeds() {
        assert!(!needs_rehash(DUMMY_HASH), "regenerate DUMMY_HASH with hash_password after changing parameters");
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!dummy_verify("anything"));
        assert!(!dummy_verify(""));
    }
}
