//! The log-linear bucket store behind numeric quantiles.
//!
//! A non-zero finite magnitude `|x|` falls in bucket `i = bits(|x|) >> 45`: the 11 exponent bits
//! and the top 7 mantissa bits of its IEEE-754 pattern. Each binary octave `[2^e, 2^(e+1))` is
//! cut into 128 equal sub-buckets, bucket `i` covers `[from_bits(i << 45), from_bits((i+1) << 45))`
//! and its representative is the exact midpoint `from_bits(i << 45 | 1 << 44)`. Every `|x|` in a
//! normal bucket is within `2^-8 · |x|` of the midpoint (relative accuracy `1/256 ≈ 0.0039`);
//! subnormal buckets (`|x| < 2^-1022`) are linear, absolute error at most `2^-1030`. The index
//! takes one shift — no logarithm — and is the same on every platform.
//!
//! Counts are held densely over a window of at most [`MAX_BUCKETS`] indices. When values span
//! more, the store *collapses*: with `hi` the highest non-empty index ever seen and
//! `c = hi − (MAX_BUCKETS − 1)`, every count below `c` is added to bucket `c`. The state is
//! therefore a fixed function of the multiset of indices offered — "the exact histogram with
//! everything below `c(max)` folded into `c(max)`" — whatever the order of inserts and merges,
//! so merging stays exactly associative and commutative even after collapsing (see
//! `docs/formats/sketch.md` for the argument).

use serde::{Deserialize, Serialize};

/// Bits of mantissa kept in a bucket index (128 sub-buckets per octave).
pub(crate) const SUB_BUCKET_BITS: u32 = 7;
/// Right shift from an `f64` bit pattern to its bucket index.
const SHIFT: u32 = 52 - SUB_BUCKET_BITS;
/// The bucket index of `f64::MAX`, the largest finite magnitude.
pub(crate) const MAX_INDEX: u32 = (0x7FEF_FFFF_FFFF_FFFF_u64 >> SHIFT) as u32;
/// The most buckets a store keeps per sign (32 octaves, about 9.6 decades).
pub(crate) const MAX_BUCKETS: usize = 4096;
/// Guaranteed relative accuracy of a bucket's representative for normal magnitudes.
pub(crate) const RELATIVE_ACCURACY: f64 = 1.0 / 256.0;

/// The bucket index of a non-zero finite magnitude given by its bit pattern (sign bit clear).
#[inline]
pub(crate) fn bucket_index(abs_bits: u64) -> u32 {
    (abs_bits >> SHIFT) as u32
}

/// The smallest magnitude in bucket `index`.
#[inline]
pub(crate) fn bucket_lower(index: u32) -> f64 {
    f64::from_bits(u64::from(index) << SHIFT)
}

/// The exclusive upper bound of the magnitudes in bucket `index` (`2^1024` saturates to
/// `f64::MAX` for the top bucket, which then includes it).
#[inline]
pub(crate) fn bucket_upper(index: u32) -> f64 {
    if index >= MAX_INDEX {
        f64::MAX
    } else {
        f64::from_bits(u64::from(index + 1) << SHIFT)
    }
}

/// The representative magnitude of bucket `index`: the exact midpoint of its range.
#[inline]
pub(crate) fn bucket_mid(index: u32) -> f64 {
    f64::from_bits((u64::from(index) << SHIFT) | (1 << (SHIFT - 1)))
}

/// The lowest index kept when the highest non-empty index is `hi`.
#[inline]
fn threshold(hi: u32) -> u32 {
    hi.saturating_sub(MAX_BUCKETS as u32 - 1)
}

/// Counts per bucket index for one sign, with deterministic collapsing of the lowest buckets.
///
/// The window `lo .. lo + counts.len()` may carry empty slack at both ends; it never spans more
/// than [`MAX_BUCKETS`] indices and always contains every non-empty bucket. Equality and the
/// serialised form ignore the slack.
#[derive(Clone, Debug, Default)]
pub(crate) struct BucketStore {
    lo: u32,
    counts: Vec<u64>,
    collapsed: bool,
}

impl PartialEq for BucketStore {
    fn eq(&self, other: &Self) -> bool {
        self.trimmed() == other.trimmed() && self.collapsed == other.collapsed
    }
}

impl BucketStore {
    /// Whether any value was folded into a higher bucket.
    pub(crate) fn collapsed(&self) -> bool {
        self.collapsed
    }

    /// The total count over all buckets.
    pub(crate) fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// `(first non-empty index, counts from it to the last non-empty index)`.
    pub(crate) fn trimmed(&self) -> (u32, &[u64]) {
        let Some(first) = self.counts.iter().position(|&c| c > 0) else {
            return (0, &[]);
        };
        let last = self.counts.iter().rposition(|&c| c > 0).unwrap_or(first);
        (self.lo + first as u32, &self.counts[first..=last])
    }

    /// Non-empty buckets as `(index, count)`, lowest index first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (u32, u64)> + '_ {
        let lo = self.lo;
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(move |(i, &c)| (lo + i as u32, c))
    }

    /// Adds one value in bucket `index` (`index <= MAX_INDEX`).
    #[inline]
    pub(crate) fn add(&mut self, index: u32) {
        let offset = index.wrapping_sub(self.lo) as usize;
        if let Some(c) = self.counts.get_mut(offset) {
            *c += 1;
        } else {
            self.add_slow(index, 1);
        }
    }

    #[cold]
    fn add_slow(&mut self, index: u32, n: u64) {
        let index = index.min(MAX_INDEX);
        let (a, b) = self.nonzero_range().unwrap_or((index, index));
        let hi = b.max(index);
        let c = threshold(hi);
        if index < c || a < c {
            self.collapsed = true;
        }
        let target = index.max(c);
        self.relayout(a.min(target).max(c), hi, c);
        let offset = (target - self.lo) as usize;
        if let Some(slot) = self.counts.get_mut(offset) {
            *slot = slot.saturating_add(n);
        }
    }

    /// The lowest and highest non-empty indices.
    fn nonzero_range(&self) -> Option<(u32, u32)> {
        let first = self.counts.iter().position(|&c| c > 0)?;
        let last = self.counts.iter().rposition(|&c| c > 0)?;
        Some((self.lo + first as u32, self.lo + last as u32))
    }

    /// Moves the counts into a new window that covers `[need_lo, need_hi]` plus some slack,
    /// folding every count below `c` into bucket `c`. Requires `c <= need_lo <= need_hi` and
    /// `need_hi - c < MAX_BUCKETS`.
    fn relayout(&mut self, need_lo: u32, need_hi: u32, c: u32) {
        let span = (need_hi - need_lo + 1) as usize;
        let pad = (span / 2)
            .clamp(16, 256)
            .min((MAX_BUCKETS - span.min(MAX_BUCKETS)) / 2) as u32;
        let new_lo = need_lo.saturating_sub(pad);
        let new_hi = need_hi.saturating_add(pad).min(MAX_INDEX);
        let mut counts = vec![0u64; (new_hi - new_lo + 1) as usize];
        for (index, count) in self.iter() {
            let offset = (index.max(c) - new_lo) as usize;
            if let Some(slot) = counts.get_mut(offset) {
                *slot = slot.saturating_add(count);
            }
        }
        self.lo = new_lo;
        self.counts = counts;
    }

    /// Adds every count of `other`, as if its values had been inserted here.
    pub(crate) fn merge(&mut self, other: &BucketStore) {
        self.collapsed |= other.collapsed;
        let Some((oa, ob)) = other.nonzero_range() else {
            return;
        };
        let (a, b) = match self.nonzero_range() {
            Some((sa, sb)) => (sa.min(oa), sb.max(ob)),
            None => (oa, ob),
        };
        let c = threshold(b);
        if a < c {
            self.collapsed = true;
        }
        let window_hi = self.lo as usize + self.counts.len();
        if self.counts.is_empty() || oa.max(c) < self.lo || ob as usize >= window_hi || a < c {
            self.relayout(a.max(c), b, c);
        }
        for (index, count) in other.iter() {
            let offset = (index.max(c) - self.lo) as usize;
            if let Some(slot) = self.counts.get_mut(offset) {
                *slot = slot.saturating_add(count);
            }
        }
    }

    /// Rebuilds a store from its serialised parts, checking that they are in range.
    fn from_parts(offset: u32, counts: Vec<u64>, collapsed: bool) -> Result<Self, String> {
        if counts.len() > MAX_BUCKETS {
            return Err(format!(
                "bucket store has {} buckets: expected at most {MAX_BUCKETS}",
                counts.len()
            ));
        }
        if !counts.is_empty() && offset as usize + counts.len() - 1 > MAX_INDEX as usize {
            return Err(format!(
                "bucket store offset {offset} with {} buckets exceeds the largest index {MAX_INDEX}",
                counts.len()
            ));
        }
        let mut total = 0u64;
        for &c in &counts {
            total = total
                .checked_add(c)
                .ok_or_else(|| "bucket counts overflow".to_owned())?;
        }
        let _ = total;
        Ok(Self {
            lo: offset,
            counts,
            collapsed,
        })
    }
}

/// The serialised form: the trimmed window.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreRepr {
    offset: u32,
    counts: Vec<u64>,
    collapsed: bool,
}

impl Serialize for BucketStore {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            offset: u32,
            counts: &'a [u64],
            collapsed: bool,
        }
        let (offset, counts) = self.trimmed();
        Borrowed {
            offset,
            counts,
            collapsed: self.collapsed,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for BucketStore {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = StoreRepr::deserialize(deserializer)?;
        Self::from_parts(repr.offset, repr.counts, repr.collapsed).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_of(indices: &[u32]) -> BucketStore {
        let mut s = BucketStore::default();
        for &i in indices {
            s.add(i);
        }
        s
    }

    #[test]
    fn index_and_bounds() {
        for x in [
            1.0f64,
            1.5,
            3.0,
            1e-300,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let i = bucket_index(x.to_bits());
            assert!(
                bucket_lower(i) <= x && (x < bucket_upper(i) || i == MAX_INDEX),
                "{x}"
            );
            let mid = bucket_mid(i);
            if x >= f64::MIN_POSITIVE {
                assert!((mid - x).abs() <= RELATIVE_ACCURACY * x, "{x} vs {mid}");
            } else {
                assert!((mid - x).abs() <= f64::from_bits(1 << 44)); // 2^-1030
            }
        }
        assert_eq!(bucket_index(f64::MAX.to_bits()), MAX_INDEX);
        assert_eq!(
            bucket_mid(bucket_index(1.0f64.to_bits())),
            1.0 + 1.0 / 256.0
        );
    }

    #[test]
    fn order_independent_even_when_collapsing() {
        let indices: Vec<u32> = (0..20_000u32).map(|i| (i * 7919) % 9000 + 100).collect();
        let forward = store_of(&indices);
        let mut reversed: Vec<u32> = indices.clone();
        reversed.reverse();
        let backward = store_of(&reversed);
        assert!(forward.collapsed());
        assert_eq!(forward, backward);
        let (offset, counts) = forward.trimmed();
        assert_eq!(offset, 9099 - (MAX_BUCKETS as u32 - 1));
        assert_eq!(counts.len(), MAX_BUCKETS);
        assert_eq!(forward.total(), 20_000);

        let mut merged = store_of(&indices[..7000]);
        merged.merge(&store_of(&indices[7000..13000]));
        merged.merge(&store_of(&indices[13000..]));
        assert_eq!(merged, forward);
        let mut other_way = store_of(&indices[13000..]);
        let mut mid = store_of(&indices[7000..13000]);
        mid.merge(&store_of(&indices[..7000]));
        other_way.merge(&mid);
        assert_eq!(other_way, forward);
    }

    #[test]
    fn merge_into_empty_and_with_empty() {
        let a = store_of(&[5, 6, 6, 200]);
        let mut e = BucketStore::default();
        e.merge(&a);
        assert_eq!(e, a);
        let mut a2 = a.clone();
        a2.merge(&BucketStore::default());
        assert_eq!(a2, a);
        assert!(!a.collapsed());
    }

    #[test]
    fn extremes_do_not_panic() {
        let s = store_of(&[0, MAX_INDEX, 0, MAX_INDEX, 1]);
        assert!(s.collapsed());
        assert_eq!(s.total(), 5);
        let (offset, counts) = s.trimmed();
        assert_eq!(offset as usize + counts.len() - 1, MAX_INDEX as usize);
        assert_eq!(counts.first().copied(), Some(3));
    }

    #[test]
    fn serde_trims_and_validates() -> Result<(), serde_json::Error> {
        let s = store_of(&[1000, 1001, 1001, 1010]);
        let json = serde_json::to_string(&s)?;
        assert_eq!(
            json,
            r#"{"offset":1000,"counts":[1,2,0,0,0,0,0,0,0,0,1],"collapsed":false}"#
        );
        let back: BucketStore = serde_json::from_str(&json)?;
        assert_eq!(back, s);
        let bad = format!(r#"{{"offset":{MAX_INDEX},"counts":[1,1],"collapsed":false}}"#);
        assert!(serde_json::from_str::<BucketStore>(&bad).is_err());
        Ok(())
    }
}
