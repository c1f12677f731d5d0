//! Stable 64-bit hashes of column values.
//!
//! Distinct-count registers are stored in bundles and merged across processes, machines and
//! releases, so the hash must never change: std's `DefaultHasher` makes no such promise. Both
//! functions here are specified bit for bit in `docs/formats/sketch.md`.

use std::hash::{BuildHasher, Hasher};

use crate::rng::mix64;

/// Added to a value's bits before mixing, so that `0.0` does not hash to `0`.
const F64_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
/// The initial state of the string hash, xored with the length in bytes.
const STR_SEED: u64 = 0x6A09_E667_F3BC_C909;

/// The bits of `x` with `-0.0` folded onto `0.0`, so both hash and compare as one value.
#[inline]
pub(crate) fn normalised_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// The stable hash of already-normalised `f64` bits.
#[inline]
pub(crate) fn hash_bits(bits: u64) -> u64 {
    mix64(bits.wrapping_add(F64_SEED))
}

/// The stable 64-bit hash of a numeric value: `mix64(bits + 0x9E3779B97F4A7C15)`, where `bits`
/// is the IEEE-754 pattern of `x` with `-0.0` replaced by `0.0`.
///
/// It is a bijection on bit patterns, identical on every platform and in every release.
#[inline]
pub fn stable_hash_f64(x: f64) -> u64 {
    hash_bits(normalised_bits(x))
}

/// The stable 64-bit hash of a string's UTF-8 bytes.
///
/// The state starts at `0x6A09E667F3BCC909 ^ len`; each full 8-byte little-endian word `w`
/// updates it to `mix64(state ^ w)`; the 0–7 remaining bytes, zero-padded to a little-endian
/// word, update it once more the same way (also when there are none), and that is the hash.
/// It is identical on every platform and in every release.
pub fn stable_hash_str(s: &str) -> u64 {
    hash_bytes(STR_SEED, s.as_bytes())
}

/// The word-at-a-time mixing behind [`stable_hash_str`], from initial state `seed`.
#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(word);
        h = mix64(h ^ u64::from_le_bytes(buf));
    }
    mix64(h ^ load_tail(words.remainder()))
}

/// The 0–7 bytes of `tail` as a zero-padded little-endian word, read without a byte-wise copy
/// through memory (which stalls store forwarding).
#[inline]
fn load_tail(tail: &[u8]) -> u64 {
    let r = tail.len();
    if r >= 4 {
        let first = u64::from(u32_le(tail, 0));
        // The last four bytes, shifted so that only bytes 4.. remain (none when r = 4).
        let last = u64::from(u32_le(tail, r - 4)) >> (8 * (8 - r));
        first | last << 32
    } else {
        tail.iter()
            .enumerate()
            .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i))
    }
}

/// The little-endian `u32` at `tail[at..at + 4]` (zero if out of range, which callers avoid).
#[inline]
fn u32_le(tail: &[u8], at: usize) -> u32 {
    tail.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes)
}

/// A fast hasher for in-memory tables that are never persisted (counting a batch of strings).
///
/// It feeds `write` calls through the same word-at-a-time mixing as [`stable_hash_str`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher {
    state: u64,
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.state = hash_bytes(self.state ^ STR_SEED, bytes);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        // `str` hashing ends with `write_u8(0xff)`; a cheap bijective step is enough here.
        self.state ^= u64::from(i);
    }
}

/// Builds [`FastHasher`]s for `HashMap`s of batch-local counts.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastBuildHasher;

impl BuildHasher for FastBuildHasher {
    type Hasher = FastHasher;

    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher::default()
    }
}

/// A hasher for tables keyed by an already well-mixed 64-bit hash (a stable hash).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdentityHasher {
    state: u64,
}

impl Hasher for IdentityHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are expected; anything else is still hashed properly.
        self.state = hash_bytes(self.state ^ STR_SEED, bytes);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.state = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_hashes_like_zero() {
        assert_eq!(stable_hash_f64(-0.0), stable_hash_f64(0.0));
        assert_ne!(stable_hash_f64(0.0), 0);
        assert_ne!(stable_hash_f64(1.0), stable_hash_f64(-1.0));
    }

    #[test]
    fn string_hash_is_pinned() {
        // These values are part of the stored format: changing them breaks merging with
        // sketches written by earlier releases.
        assert_eq!(stable_hash_str(""), mix64(STR_SEED));
        let abc = u64::from_le_bytes([b'a', b'b', b'c', 0, 0, 0, 0, 0]);
        assert_eq!(stable_hash_str("abc"), mix64(STR_SEED ^ 3 ^ abc));
        let word = u64::from_le_bytes(*b"abcdefgh");
        assert_eq!(
            stable_hash_str("abcdefgh"),
            mix64(mix64(STR_SEED ^ 8 ^ word))
        );
        assert_eq!(
            stable_hash_f64(1.0),
            mix64(1.0f64.to_bits().wrapping_add(F64_SEED))
        );
    }

    #[test]
    fn tail_loading_matches_zero_padding() {
        let bytes: Vec<u8> = (1..=7).collect();
        for r in 0..=7 {
            let mut buf = [0u8; 8];
            buf[..r].copy_from_slice(&bytes[..r]);
            assert_eq!(load_tail(&bytes[..r]), u64::from_le_bytes(buf), "{r} bytes");
        }
    }

    #[test]
    fn string_hash_separates_lengths_and_padding() {
        let hashes = ["", "\0", "\0\0", "a", "a\0", "abcdefgh", "abcdefgh\0"].map(stable_hash_str);
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
