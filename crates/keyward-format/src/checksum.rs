//! CRC32 of everything before the checksum, written as six base62 digits.

use crate::base62;
use crate::format::CHECKSUM_LEN;

/// CRC32 over the concatenation of `parts`.
#[inline]
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

/// The fixed-width checksum digits for `parts`.
pub(crate) fn digits(parts: &[&[u8]]) -> [u8; CHECKSUM_LEN] {
    let mut out = [0u8; CHECKSUM_LEN];
    // 62^6 > 2^32, so six digits hold every CRC32.
    base62::encode_fixed(u64::from(crc32(parts)), &mut out);
    out
}

/// Whether `checksum` is the checksum of `parts`.
#[inline]
pub(crate) fn matches(parts: &[&[u8]], checksum: &[u8]) -> bool {
    base62::decode_fixed(checksum) == Some(u64::from(crc32(parts)))
}
