//! The one source of randomness of this crate.

use rand::{CryptoRng, RngCore as _};

/// A cryptographically secure generator: rand's `ThreadRng` (ChaCha12 seeded and periodically reseeded from the
/// operating system). The `CryptoRng` bound makes a swap to a non-cryptographic generator a compile error.
fn csprng() -> impl CryptoRng {
    rand::rng()
}

/// `N` bytes from the CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    csprng().fill_bytes(&mut bytes);
    bytes
}

/// Fills `buf` from the CSPRNG.
pub(crate) fn fill(buf: &mut [u8]) {
    csprng().fill_bytes(buf);
}

/// A random `u64` from the CSPRNG (for identifiers such as case tracking codes).
pub fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}
