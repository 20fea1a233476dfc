//! SM3 hash (GB/T 32905-2016) and HMAC-SM3 (the RFC 2104 / GB/T 15852.2-2012 HMAC construction over SM3).

use hmac::{Hmac, KeyInit, Mac};
use sm3::{Digest, Sm3};

/// Length of an SM3 digest in bytes.
pub const SM3_LEN: usize = 32;

type HmacSm3 = Hmac<Sm3>;

/// SM3 digest of `bytes` (GB/T 32905-2016).
pub fn sm3(bytes: &[u8]) -> [u8; SM3_LEN] {
    Sm3::digest(bytes).into()
}

/// SM3 digest of `bytes` as 64 lowercase hex characters (GB/T 32905-2016).
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(sm3(bytes))
}

/// HMAC-SM3 of `msg` under `key` (RFC 2104 construction with SM3, as in GB/T 15852.2-2012). Keys of any length
/// are accepted; keys longer than the 64-byte SM3 block are first hashed, as RFC 2104 prescribes.
pub fn hmac_sm3(key: &[u8], msg: &[u8]) -> [u8; SM3_LEN] {
    let mut mac = match <HmacSm3 as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length (RFC 2104 section 2)"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_gbt_32905_example_1_abc() {
        assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn sm3_gbt_32905_example_2_abcd_times_16() {
        let message = b"abcd".repeat(16);
        assert_eq!(message.len(), 64);
        assert_eq!(sm3_hex(&message), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    }

    #[test]
    fn sm3_empty_message() {
        assert_eq!(sm3_hex(b""), "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
    }

    // No HMAC-SM3 vectors are published in GB/T 15852.2; these were cross-checked against OpenSSL 3
    // (`openssl dgst -sm3 -hmac`), an independent implementation.
    #[test]
    fn hmac_sm3_matches_openssl() {
        assert_eq!(
            hex::encode(hmac_sm3(b"key", b"abc")),
            "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393"
        );
        assert_eq!(
            hex::encode(hmac_sm3(b"Jefe", b"what do ya want for nothing?")),
            "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"
        );
    }

    #[test]
    fn hmac_sm3_hashes_keys_longer_than_a_block() {
        let key = [0xaa_u8; 80];
        assert_eq!(
            hex::encode(hmac_sm3(&key, b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "c794651f5455f80546855f744ff50146d5286e1cb677d5088c059cd8b03bb9ce"
        );
    }
}
