//! Unified social credit codes for generated data (the demo dataset and the benchmark): valid check
//! characters, deterministic, unique per serial number.

use dangjian_domain::{FieldError, Uscc};

/// The characters a USCC may use, in the order of their values.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A valid USCC for an enterprise (`91`) registered in `county` (a 6-digit code; longer codes are cut to
/// their county part). `series` is one letter that keeps generators apart (`A` demo, `B` benchmark);
/// distinct serials below 31^7 give distinct codes.
pub fn generated_uscc(county: &str, series: char, serial: u64) -> Result<Uscc, FieldError> {
    let county = county.get(..6).unwrap_or(county);
    // Spread consecutive serials over the whole code space so the codes do not look sequential. An affine
    // map with a multiplier prime to 31 is a bijection modulo 31^7, so distinct serials stay distinct.
    const SPACE: u128 = 27_512_614_111; // 31^7
    let mut n = ((u128::from(serial) * 1_103_515_245 + 1_234_567) % SPACE) as u64;
    let mut body = [b'0'; 7];
    for slot in body.iter_mut().rev() {
        *slot = ALPHABET[(n % 31) as usize];
        n /= 31;
    }
    let body = String::from_utf8_lossy(&body);
    Uscc::with_check_character(&format!("91{county}M{series}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for serial in 0..20_000 {
            let u = generated_uscc("659001", 'B', serial).map(|u| u.to_string());
            let Ok(u) = u else { panic!("serial {serial}: {u:?}") };
            assert!(Uscc::parse(&u).is_ok());
            assert!(u.starts_with("91659001MB"), "{u}");
            assert!(seen.insert(u));
        }
        assert_eq!(generated_uscc("110105026", 'A', 1).map(|u| u.to_string()[2..8].to_owned()), Ok("110105".into()));
    }
}
