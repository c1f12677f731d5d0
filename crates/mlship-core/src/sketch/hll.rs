//! `HyperLogLog` distinct counting with Ertl's improved estimator.
//!
//! `2^12` one-byte registers; a value's stable 64-bit hash `h` selects register `h >> 52` and
//! offers the rank `1 + leading_zeros((h << 12) | 1 << 11)` (1..=53). Merging takes the
//! register-wise maximum, which is exactly associative, commutative and idempotent, so the
//! registers are a function of the *set* of values seen, however the data was split.
//!
//! The estimate is Ertl's improved raw estimator ("New cardinality estimation algorithms for
//! `HyperLogLog` sketches", 2017, algorithm 6): no empirical bias tables, no switch to linear
//! counting, relative standard error about `1.04 / sqrt(4096) ≈ 1.6 %` over the whole range.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bits of the hash that select a register.
pub(crate) const PRECISION: u32 = 12;
/// Number of registers.
pub(crate) const REGISTERS: usize = 1 << PRECISION;
/// Bits left for the rank.
const Q: u32 = 64 - PRECISION;
/// Largest possible register value.
const MAX_RANK: u8 = (Q + 1) as u8;

/// One character per register value `0..=63` in the serialised form.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The registers of a `HyperLogLog` sketch.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Hll {
    registers: Box<[u8; REGISTERS]>,
}

impl fmt::Debug for Hll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.registers.iter().filter(|&&r| r > 0).count();
        f.debug_struct("Hll")
            .field("registers_set", &set)
            .field("estimate", &self.estimate())
            .finish()
    }
}

impl Default for Hll {
    fn default() -> Self {
        Self::new()
    }
}

impl Hll {
    /// An empty sketch.
    pub(crate) fn new() -> Self {
        Self {
            registers: Box::new([0; REGISTERS]),
        }
    }

    /// Records a value by its stable 64-bit hash.
    #[inline]
    pub(crate) fn insert_hash(&mut self, h: u64) {
        let index = (h >> Q) as usize;
        let rank = ((h << PRECISION) | (1 << (PRECISION - 1))).leading_zeros() as u8 + 1;
        let slot = &mut self.registers[index];
        if rank > *slot {
            *slot = rank;
        }
    }

    /// Register-wise maximum: the sketch of the union of both value sets.
    pub(crate) fn merge(&mut self, other: &Hll) {
        for (a, &b) in self.registers.iter_mut().zip(other.registers.iter()) {
            *a = (*a).max(b);
        }
    }

    /// The estimated number of distinct values (Ertl's improved raw estimator).
    pub(crate) fn estimate(&self) -> f64 {
        let mut histogram = [0u32; MAX_RANK as usize + 1];
        for &r in self.registers.iter() {
            // Registers never exceed MAX_RANK (inserts cap it, deserialisation checks it).
            if let Some(c) = histogram.get_mut(r as usize) {
                *c += 1;
            }
        }
        let m = REGISTERS as f64;
        let mut z = m * tau(1.0 - f64::from(histogram[MAX_RANK as usize]) / m);
        for k in (1..=Q as usize).rev() {
            z = 0.5 * (z + f64::from(histogram[k]));
        }
        z += m * sigma(f64::from(histogram[0]) / m);
        let alpha_inf = 0.5 / std::f64::consts::LN_2;
        alpha_inf * m * m / z
    }
}

/// Ertl's `σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1)`; infinite at `x = 1` (an empty sketch).
fn sigma(mut x: f64) -> f64 {
    if x >= 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if z == previous {
            return z;
        }
    }
}

/// Ertl's `τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3`.
fn tau(mut x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == previous {
            return z / 3.0;
        }
    }
}

impl Serialize for Hll {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text: String = self
            .registers
            .iter()
            .map(|&r| char::from(ALPHABET[(r & 63) as usize]))
            .collect();
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Hll {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(HllVisitor)
    }
}

struct HllVisitor;

impl Visitor<'_> for HllVisitor {
    type Value = Hll;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a string of {REGISTERS} base-64 characters, one per distinct-count register"
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Hll, E> {
        if v.len() != REGISTERS {
            return Err(E::invalid_length(v.len(), &self));
        }
        let mut hll = Hll::new();
        for (slot, byte) in hll.registers.iter_mut().zip(v.bytes()) {
            let value = ALPHABET
                .iter()
                .position(|&a| a == byte)
                .filter(|&p| p <= MAX_RANK as usize)
                .ok_or_else(|| {
                    E::custom(format!(
                        "invalid distinct-count register {:?}: expected a value up to {MAX_RANK}",
                        char::from(byte)
                    ))
                })?;
            *slot = value as u8;
        }
        Ok(hll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::hash::{stable_hash_f64, stable_hash_str};

    fn estimate_of(n: u64) -> f64 {
        let mut hll = Hll::new();
        for i in 0..n {
            hll.insert_hash(stable_hash_str(&format!("value-{i}")));
        }
        hll.estimate()
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Hll::new().estimate(), 0.0);
    }

    #[test]
    fn estimates_within_three_standard_errors() {
        let se = 1.04 / (REGISTERS as f64).sqrt();
        for n in [1u64, 10, 100, 1_000, 10_000, 100_000] {
            let e = estimate_of(n);
            let rel = (e - n as f64).abs() / n as f64;
            assert!(
                rel <= 3.0 * se,
                "n = {n}: estimate {e}, relative error {rel}"
            );
        }
    }

    #[test]
    fn numeric_hundred_thousand() {
        let mut hll = Hll::new();
        for i in 0..100_000u32 {
            hll.insert_hash(stable_hash_f64(f64::from(i) * 0.37 - 1234.5));
        }
        let e = hll.estimate();
        let se = 1.04 / (REGISTERS as f64).sqrt();
        assert!(
            (e - 100_000.0).abs() <= 3.0 * se * 100_000.0,
            "estimate {e}"
        );
    }

    #[test]
    fn merge_is_union() {
        let mut a = Hll::new();
        let mut b = Hll::new();
        let mut all = Hll::new();
        for i in 0..5_000u32 {
            let h = stable_hash_str(&i.to_string());
            if i % 3 == 0 {
                a.insert_hash(h);
            } else {
                b.insert_hash(h);
            }
            all.insert_hash(h);
        }
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
        let mut again = ab.clone();
        again.merge(&a);
        assert_eq!(again, all);
    }

    #[test]
    fn serde_round_trip_and_validation() -> Result<(), serde_json::Error> {
        let mut hll = Hll::new();
        for i in 0..300u32 {
            hll.insert_hash(stable_hash_str(&i.to_string()));
        }
        let json = serde_json::to_string(&hll)?;
        assert_eq!(json.len(), REGISTERS + 2);
        let back: Hll = serde_json::from_str(&json)?;
        assert_eq!(back, hll);
        assert!(serde_json::from_str::<Hll>("\"AAA\"").is_err());
        let too_big = format!("\"{}\"", "/".repeat(REGISTERS));
        assert!(serde_json::from_str::<Hll>(&too_big).is_err());
        let bad_char = format!("\"{}\"", "!".repeat(REGISTERS));
        assert!(serde_json::from_str::<Hll>(&bad_char).is_err());
        Ok(())
    }
}
