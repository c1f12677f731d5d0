//! The numeric part of a column sketch: counts, exact extremes, moments, quantiles, distinct.

use serde::{Deserialize, Serialize};

use super::buckets::{self, BucketStore};
use super::exact_f64;
use super::hash::{hash_bits, normalised_bits};
use super::hll::Hll;
use super::{EXACT_DISTINCT_LIMIT, SketchError};

/// Values are processed in blocks of this many: small enough to stay in L1 between the
/// counting pass and the moments pass, large enough to amortise the per-block merge.
const BLOCK: usize = 1024;
const SIGN_BIT: u64 = 1 << 63;
const EXPONENT_MASK: u64 = 0x7FF0_0000_0000_0000;
/// The quiet NaN a missing value is counted as inside the update loop.
const MISSING_BITS: u64 = 0x7FF8_0000_0000_0000;

/// One finite value and how often it occurred (kept while a column has few distinct values).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueCount {
    /// The value (`-0.0` is stored as `0.0`).
    #[serde(with = "exact_f64")]
    pub value: f64,
    /// How many times it occurred.
    pub count: u64,
}

/// A contiguous range of finite values and how many fell in it.
///
/// Every value counted in the bin lies in `[lower, upper]`; `lower == upper` is a point mass
/// (zeros, or an exact value of a low-cardinality column).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bin {
    /// The smallest value the bin may hold.
    pub lower: f64,
    /// The largest value the bin may hold.
    pub upper: f64,
    /// How many values fell in the bin.
    pub count: u64,
}

/// The distinct-value state: exact counts per value while there are at most
/// [`EXACT_DISTINCT_LIMIT`] distinct finite values, a `HyperLogLog` afterwards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Distinct {
    Exact(Vec<ValueCount>),
    Approximate(Hll),
}

/// The sketch of a numeric (`f64`) column's non-missing values.
///
/// NaN and ±infinity are counted (`nan`, `pos_inf`, `neg_inf`) but take no part in the
/// extremes, moments, quantiles or distinct count, which describe the finite values only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NumericRepr")]
pub struct NumericSketch {
    finite: u64,
    zeros: u64,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
    #[serde(with = "exact_f64")]
    min: f64,
    #[serde(with = "exact_f64")]
    max: f64,
    #[serde(with = "exact_f64")]
    mean: f64,
    #[serde(with = "exact_f64")]
    m2: f64,
    negative: BucketStore,
    positive: BucketStore,
    distinct: Distinct,
}

impl Default for NumericSketch {
    fn default() -> Self {
        Self {
            finite: 0,
            zeros: 0,
            nan: 0,
            pos_inf: 0,
            neg_inf: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            m2: 0.0,
            negative: BucketStore::default(),
            positive: BucketStore::default(),
            distinct: Distinct::Exact(Vec::new()),
        }
    }
}

/// Per-block tallies of the counting pass.
#[derive(Default)]
struct Tally {
    missing: u64,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
    zeros: u64,
}

/// Combines two `(count, mean, M2)` triples (Chan et al.). Bitwise commutative: every operation
/// is symmetric in the two operands.
fn merge_moments(na: u64, ma: f64, m2a: f64, nb: u64, mb: f64, m2b: f64) -> (f64, f64) {
    if nb == 0 {
        return (ma, m2a);
    }
    if na == 0 {
        return (mb, m2b);
    }
    let (fa, fb) = (na as f64, nb as f64);
    let n = fa + fb;
    let mean = ma * (fa / n) + mb * (fb / n);
    let delta = mb - ma;
    let m2 = (m2a + m2b) + delta * delta * (fa * fb / n);
    (mean, m2)
}

impl NumericSketch {
    /// The number of finite values (zeros included).
    pub fn finite(&self) -> u64 {
        self.finite
    }

    /// The number of exact zeros (`0.0` or `-0.0`).
    pub fn zeros(&self) -> u64 {
        self.zeros
    }

    /// The number of NaN values.
    pub fn nan(&self) -> u64 {
        self.nan
    }

    /// The number of `+inf` values.
    pub fn pos_inf(&self) -> u64 {
        self.pos_inf
    }

    /// The number of `-inf` values.
    pub fn neg_inf(&self) -> u64 {
        self.neg_inf
    }

    /// Non-missing values of any kind: finite, NaN and infinite.
    pub fn non_missing(&self) -> u64 {
        self.finite
            .saturating_add(self.nan)
            .saturating_add(self.pos_inf)
            .saturating_add(self.neg_inf)
    }

    /// The smallest finite value, exactly; `None` without finite values.
    pub fn min(&self) -> Option<f64> {
        (self.finite > 0).then_some(self.min)
    }

    /// The largest finite value, exactly; `None` without finite values.
    pub fn max(&self) -> Option<f64> {
        (self.finite > 0).then_some(self.max)
    }

    /// The mean of the finite values; `None` without finite values or if it overflowed `f64`.
    pub fn mean(&self) -> Option<f64> {
        (self.finite > 0 && self.mean.is_finite()).then_some(self.mean)
    }

    /// The sample standard deviation (`ddof = 1`, as pandas' and polars' `describe`) of the
    /// finite values; `None` with fewer than two or if the sum of squares overflowed `f64`.
    pub fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The sample variance (`ddof = 1`) of the finite values; `None` with fewer than two.
    pub fn variance(&self) -> Option<f64> {
        if self.finite < 2 || !self.m2.is_finite() {
            return None;
        }
        Some(self.m2.max(0.0) / (self.finite - 1) as f64)
    }

    /// The exact `(value, count)` list, ascending, while the column has at most
    /// [`EXACT_DISTINCT_LIMIT`] distinct finite values; `None` afterwards.
    pub fn exact_values(&self) -> Option<&[ValueCount]> {
        match &self.distinct {
            Distinct::Exact(v) => Some(v),
            Distinct::Approximate(_) => None,
        }
    }

    /// `(estimate, exact)` distinct finite values.
    pub(crate) fn distinct(&self) -> (u64, bool) {
        match &self.distinct {
            Distinct::Exact(v) => (v.len() as u64, true),
            Distinct::Approximate(h) => {
                let e = h.estimate().round() as u64;
                (
                    e.max(EXACT_DISTINCT_LIMIT as u64 + 1).min(self.finite),
                    false,
                )
            }
        }
    }

    /// Whether quantiles may be outside the documented relative bound because magnitudes
    /// spanning more than 32 octaves made a store fold its lowest buckets.
    pub fn collapsed(&self) -> bool {
        self.positive.collapsed() || self.negative.collapsed()
    }

    /// Adds a batch of values (`valid` has the same length when given); returns how many
    /// were missing.
    pub(crate) fn update(&mut self, values: &[f64], valid: Option<&[bool]>) -> u64 {
        let mut distinct = LocalDistinct::take(&mut self.distinct);
        // Work on local stores: the compiler then keeps their fields in registers.
        let mut stores = [
            std::mem::take(&mut self.negative),
            std::mem::take(&mut self.positive),
        ];
        let mut missing = 0;
        match valid {
            None => {
                for block in values.chunks(BLOCK) {
                    missing += self.update_block(
                        block,
                        &std::iter::repeat(true),
                        &mut stores,
                        &mut distinct,
                    );
                }
            }
            Some(valid) => {
                for (block, ok) in values.chunks(BLOCK).zip(valid.chunks(BLOCK)) {
                    missing +=
                        self.update_block(block, &ok.iter().copied(), &mut stores, &mut distinct);
                }
            }
        }
        let [negative, positive] = stores;
        self.negative = negative;
        self.positive = positive;
        self.distinct = distinct.finish();
        missing
    }

    /// Adds one block in a single pass: classification, bucket, distinct value, extremes and
    /// the sums of deviations from a shift, then merges the block's moments.
    ///
    /// The shift is the block's first finite value. Because it is one of the data,
    /// `(shift − mean)² <= M2`, so the cancellation in `Σd² − (Σd)²/n` amplifies rounding by at
    /// most `n + 1 <= BLOCK + 1`; blocks are then combined with Chan's formula.
    #[inline]
    fn update_block<I>(
        &mut self,
        xs: &[f64],
        valid: &I,
        stores: &mut [BucketStore; 2],
        distinct: &mut LocalDistinct,
    ) -> u64
    where
        I: Iterator<Item = bool> + Clone,
    {
        let shift = xs
            .iter()
            .zip(valid.clone())
            .find(|&(x, ok)| ok && x.is_finite())
            .map_or(0.0, |(&x, _)| x);
        let mut t = Tally::default();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (&x, ok) in xs.iter().zip(valid.clone()) {
            // A missing value becomes a NaN here (a select, not a branch) and is taken off the
            // NaN count after the loop: one rarely-taken branch handles both.
            t.missing += u64::from(!ok);
            let bits = if ok { x.to_bits() } else { MISSING_BITS };
            let abs = bits & !SIGN_BIT;
            if abs >= EXPONENT_MASK {
                if abs > EXPONENT_MASK {
                    t.nan += 1;
                } else if bits == abs {
                    t.pos_inf += 1;
                } else {
                    t.neg_inf += 1;
                }
                continue;
            }
            let x = f64::from_bits(bits);
            let d = x - shift;
            s1 += d;
            s2 += d * d;
            lo = if x < lo { x } else { lo };
            hi = if x > hi { x } else { hi };
            if abs == 0 {
                t.zeros += 1;
                distinct.observe(0);
                continue;
            }
            stores[usize::from(bits == abs)].add(buckets::bucket_index(abs));
            distinct.observe(bits);
        }
        let n = xs.len() as u64 - t.nan - t.pos_inf - t.neg_inf;
        t.nan -= t.missing;
        self.nan += t.nan;
        self.pos_inf += t.pos_inf;
        self.neg_inf += t.neg_inf;
        self.zeros += t.zeros;
        if n > 0 {
            let count = n as f64;
            let mut mean = shift + s1 / count;
            let mut m2 = s2 - s1 * (s1 / count);
            if !(mean.is_finite() && m2.is_finite()) {
                (mean, m2) = two_pass_moments(xs, valid, count);
            }
            let (mean, m2) = merge_moments(self.finite, self.mean, self.m2, n, mean, m2.max(0.0));
            self.finite += n;
            self.mean = mean;
            self.m2 = m2;
            // `+ 0.0` turns a `-0.0` extreme into `0.0`, so the result does not depend on
            // which zero came first.
            self.min = self.min.min(lo + 0.0);
            self.max = self.max.max(hi + 0.0);
        }
        t.missing
    }

    /// Adds one non-missing value.
    pub(crate) fn push(&mut self, x: f64) {
        let bits = x.to_bits();
        let abs = bits & !SIGN_BIT;
        if abs >= EXPONENT_MASK {
            if abs > EXPONENT_MASK {
                self.nan += 1;
            } else if bits == abs {
                self.pos_inf += 1;
            } else {
                self.neg_inf += 1;
            }
            return;
        }
        if abs == 0 {
            self.zeros += 1;
        } else if bits == abs {
            self.positive.add(buckets::bucket_index(abs));
        } else {
            self.negative.add(buckets::bucket_index(abs));
        }
        let (mean, m2) = merge_moments(self.finite, self.mean, self.m2, 1, x, 0.0);
        self.finite += 1;
        self.mean = mean;
        self.m2 = m2;
        self.min = self.min.min(x + 0.0);
        self.max = self.max.max(x + 0.0);
        let value_bits = normalised_bits(x);
        let value = f64::from_bits(value_bits);
        match &mut self.distinct {
            Distinct::Approximate(h) => h.insert_hash(hash_bits(value_bits)),
            Distinct::Exact(list) => match list.binary_search_by(|vc| vc.value.total_cmp(&value)) {
                Ok(i) => {
                    if let Some(vc) = list.get_mut(i) {
                        vc.count += 1;
                    }
                }
                Err(i) if list.len() < EXACT_DISTINCT_LIMIT => {
                    list.insert(i, ValueCount { value, count: 1 });
                }
                Err(_) => {
                    let mut h = hll_of(list);
                    h.insert_hash(hash_bits(value_bits));
                    self.distinct = Distinct::Approximate(h);
                }
            },
        }
    }

    /// Adds everything `other` has seen.
    pub(crate) fn merge(&mut self, other: &NumericSketch) {
        let (mean, m2) = merge_moments(
            self.finite,
            self.mean,
            self.m2,
            other.finite,
            other.mean,
            other.m2,
        );
        self.mean = mean;
        self.m2 = m2;
        self.finite = self.finite.saturating_add(other.finite);
        self.zeros = self.zeros.saturating_add(other.zeros);
        self.nan = self.nan.saturating_add(other.nan);
        self.pos_inf = self.pos_inf.saturating_add(other.pos_inf);
        self.neg_inf = self.neg_inf.saturating_add(other.neg_inf);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.negative.merge(&other.negative);
        self.positive.merge(&other.positive);
        let distinct = std::mem::replace(&mut self.distinct, Distinct::Exact(Vec::new()));
        self.distinct = match (distinct, &other.distinct) {
            (Distinct::Exact(a), Distinct::Exact(b)) => {
                let merged = merge_value_counts(&a, b);
                if merged.len() <= EXACT_DISTINCT_LIMIT {
                    Distinct::Exact(merged)
                } else {
                    Distinct::Approximate(hll_of(&merged))
                }
            }
            (Distinct::Exact(a), Distinct::Approximate(h)) => {
                let mut h = h.clone();
                h.merge(&hll_of(&a));
                Distinct::Approximate(h)
            }
            (Distinct::Approximate(mut h), Distinct::Exact(b)) => {
                h.merge(&hll_of(b));
                Distinct::Approximate(h)
            }
            (Distinct::Approximate(mut h), Distinct::Approximate(g)) => {
                h.merge(g);
                Distinct::Approximate(h)
            }
        };
    }

    /// The value at 0-based rank `rank` among the `finite` sorted values, estimated.
    fn value_at_rank(&self, rank: u64) -> f64 {
        if rank == 0 {
            return self.min;
        }
        if rank >= self.finite.saturating_sub(1) {
            return self.max;
        }
        let clamp = |v: f64| within(v, self.min, self.max);
        if let Distinct::Exact(list) = &self.distinct {
            let mut seen = 0u64;
            for vc in list {
                seen = seen.saturating_add(vc.count);
                if rank < seen {
                    return vc.value;
                }
            }
            return self.max;
        }
        let mut seen = 0u64;
        for (index, count) in self.negative.iter().rev() {
            seen = seen.saturating_add(count);
            if rank < seen {
                return clamp(-buckets::bucket_mid(index));
            }
        }
        seen = seen.saturating_add(self.zeros);
        if rank < seen {
            return clamp(0.0);
        }
        for (index, count) in self.positive.iter() {
            seen = seen.saturating_add(count);
            if rank < seen {
                return clamp(buckets::bucket_mid(index));
            }
        }
        self.max
    }

    /// The estimated `q`-quantile of the finite values: the value at rank `floor(q·(n−1))`.
    ///
    /// `None` without finite values or when `q` is not in `[0, 1]`. See [`super::ColumnSketch::quantile`].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.finite == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (self.finite - 1) as f64).floor() as u64;
        Some(self.value_at_rank(rank.min(self.finite - 1)))
    }

    /// The sketch's bins in ascending order of value (see [`Bin`]).
    ///
    /// While the exact value list is kept each distinct value is a point bin. Otherwise: the
    /// negative buckets (most negative first), the zeros as the point bin `[0, 0]`, then the
    /// positive buckets, each narrowed to `[min, max]`; a collapsed store's lowest bucket is
    /// widened down to zero so that it still contains every value folded into it.
    pub fn bins(&self) -> impl Iterator<Item = Bin> + '_ {
        let exact = self.exact_values();
        let approximate = exact.is_none() && self.finite > 0;
        let (min, max) = (self.min, self.max);
        let clip = move |lower: f64, upper: f64, count: u64| Bin {
            lower: within(lower, min, max),
            upper: within(upper, min, max),
            count,
        };
        let neg_lowest = self.negative.iter().next().map(|(i, _)| i);
        let pos_lowest = self.positive.iter().next().map(|(i, _)| i);
        let neg_collapsed = self.negative.collapsed();
        let pos_collapsed = self.positive.collapsed();
        let exact_bins = exact.into_iter().flatten().map(|vc| Bin {
            lower: vc.value,
            upper: vc.value,
            count: vc.count,
        });
        let negative =
            self.negative
                .iter()
                .rev()
                .filter(move |_| approximate)
                .map(move |(i, c)| {
                    let inner = if neg_collapsed && Some(i) == neg_lowest {
                        0.0
                    } else {
                        buckets::bucket_lower(i)
                    };
                    clip(-buckets::bucket_upper(i), -inner, c)
                });
        let zeros = (approximate && self.zeros > 0).then_some(Bin {
            lower: 0.0,
            upper: 0.0,
            count: self.zeros,
        });
        let positive = self
            .positive
            .iter()
            .filter(move |_| approximate)
            .map(move |(i, c)| {
                let inner = if pos_collapsed && Some(i) == pos_lowest {
                    0.0
                } else {
                    buckets::bucket_lower(i)
                };
                clip(inner, buckets::bucket_upper(i), c)
            });
        exact_bins.chain(negative).chain(zeros).chain(positive)
    }

    /// The estimated fraction of finite values `<= x` (values spread evenly within a bin).
    pub fn cdf(&self, x: f64) -> Option<f64> {
        if self.finite == 0 || x.is_nan() {
            return None;
        }
        let mut below = 0.0;
        for bin in self.bins() {
            if bin.upper <= x {
                below += bin.count as f64;
            } else if bin.lower <= x {
                below += bin.count as f64 * (x - bin.lower) / (bin.upper - bin.lower);
            }
        }
        Some((below / self.finite as f64).clamp(0.0, 1.0))
    }

    /// Distributes the bins' counts over `[edges[i], edges[i+1])` (the last interval closed),
    /// spreading each bin's count evenly over its range. Mass outside the edges is dropped.
    pub fn counts_in(&self, edges: &[f64]) -> Result<Vec<f64>, SketchError> {
        check_edges(edges)?;
        let k = edges.len() - 1;
        let mut out = vec![0.0; k];
        let (first, last) = (edges[0], edges[k]);
        for bin in self.bins() {
            if bin.upper < first || bin.lower > last {
                continue;
            }
            let count = bin.count as f64;
            let width = bin.upper - bin.lower;
            if width <= 0.0 || !width.is_finite() {
                // A point mass: the interval holding it (the last interval is closed).
                let j = edges
                    .partition_point(|&e| e <= bin.lower)
                    .saturating_sub(1)
                    .min(k - 1);
                if let Some(slot) = out.get_mut(j) {
                    *slot += count;
                }
                continue;
            }
            let mut j = edges.partition_point(|&e| e <= bin.lower).saturating_sub(1);
            while j < k {
                let (a, b) = (edges[j], edges[j + 1]);
                if a >= bin.upper {
                    break;
                }
                let overlap = b.min(bin.upper) - a.max(bin.lower);
                if overlap > 0.0 {
                    out[j] += count * (overlap / width);
                }
                j += 1;
            }
        }
        Ok(out)
    }

    /// Checks the invariants of a deserialised sketch.
    fn validate(&self) -> Result<(), String> {
        let stored = self
            .zeros
            .checked_add(self.negative.total())
            .and_then(|n| n.checked_add(self.positive.total()))
            .ok_or("numeric counts overflow")?;
        if stored != self.finite {
            return Err(format!(
                "numeric sketch holds {stored} bucketed values but declares {} finite values",
                self.finite
            ));
        }
        let all = self
            .finite
            .checked_add(self.nan)
            .and_then(|n| n.checked_add(self.pos_inf))
            .and_then(|n| n.checked_add(self.neg_inf))
            .ok_or("numeric counts overflow")?;
        if all > super::MAX_ROWS {
            return Err(format!("numeric sketch declares {all} values: too many"));
        }
        if self.finite == 0 {
            if self.min != f64::INFINITY || self.max != f64::NEG_INFINITY {
                return Err("numeric sketch without finite values has a min or max".to_owned());
            }
        } else if !(self.min.is_finite() && self.max.is_finite() && self.min <= self.max) {
            return Err(format!(
                "numeric sketch has invalid extremes min = {:?}, max = {:?}",
                self.min, self.max
            ));
        }
        if matches!(self.distinct, Distinct::Approximate(_))
            && self.finite <= EXACT_DISTINCT_LIMIT as u64
        {
            return Err(format!(
                "numeric sketch counts distinct values approximately with only {} finite values",
                self.finite
            ));
        }
        if let Distinct::Exact(list) = &self.distinct {
            if list.len() > EXACT_DISTINCT_LIMIT {
                return Err(format!(
                    "numeric sketch lists {} exact values: expected at most {EXACT_DISTINCT_LIMIT}",
                    list.len()
                ));
            }
            let mut total = 0u64;
            for (i, vc) in list.iter().enumerate() {
                if !vc.value.is_finite() || vc.count == 0 || vc.value.to_bits() == SIGN_BIT {
                    return Err(format!("invalid exact value {:?} × {}", vc.value, vc.count));
                }
                if i > 0 && list[i - 1].value >= vc.value {
                    return Err("exact values are not strictly ascending".to_owned());
                }
                total = total
                    .checked_add(vc.count)
                    .ok_or("numeric counts overflow")?;
            }
            if total != self.finite {
                return Err(format!(
                    "exact values count {total} values but the sketch declares {} finite values",
                    self.finite
                ));
            }
            if let (Some(first), Some(last)) = (list.first(), list.last())
                && (first.value != self.min || last.value != self.max)
            {
                return Err("exact values disagree with min and max".to_owned());
            }
        }
        Ok(())
    }
}

/// Mean and M2 of a block's finite valid values by two passes over values pre-divided by the
/// count — the fallback when the shifted sums overflow (magnitudes near `f64::MAX`). M2 may
/// still be infinite, in which case the standard deviation is reported as unknown.
fn two_pass_moments<I: Iterator<Item = bool> + Clone>(
    xs: &[f64],
    valid: &I,
    count: f64,
) -> (f64, f64) {
    let finite = || {
        xs.iter()
            .zip(valid.clone())
            .filter(|&(x, ok)| ok && x.is_finite())
            .map(|(&x, _)| x)
    };
    let mean: f64 = finite().map(|x| x / count).sum();
    let m2: f64 = finite().map(|x| (x - mean) * (x - mean)).sum();
    (mean, m2)
}

/// `v` moved into `[lo, hi]`; unlike `f64::clamp` it never panics (on a corrupt `lo > hi`
/// it returns `hi`).
#[inline]
fn within(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

/// Checks bin edges: at least two, no NaN, strictly increasing.
pub(crate) fn check_edges(edges: &[f64]) -> Result<(), SketchError> {
    if edges.len() < 2 {
        return Err(SketchError::InvalidEdges {
            reason: format!("{} edges given, at least 2 needed", edges.len()),
        });
    }
    for (i, w) in edges.windows(2).enumerate() {
        if w[0].is_nan() || w[1].is_nan() || w[0] >= w[1] {
            return Err(SketchError::InvalidEdges {
                reason: format!(
                    "edges {i} and {} are {:?} and {:?}: edges must be increasing and not NaN",
                    i + 1,
                    w[0],
                    w[1]
                ),
            });
        }
    }
    Ok(())
}

/// The `HyperLogLog` of an exact value list.
fn hll_of(list: &[ValueCount]) -> Hll {
    let mut h = Hll::new();
    for vc in list {
        h.insert_hash(hash_bits(normalised_bits(vc.value)));
    }
    h
}

/// Sum of two ascending value lists.
fn merge_value_counts(a: &[ValueCount], b: &[ValueCount]) -> Vec<ValueCount> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].value.total_cmp(&b[j].value) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(ValueCount {
                    value: a[i].value,
                    count: a[i].count.saturating_add(b[j].count),
                });
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// A small open-addressing table of exact value counts used during one bulk update.
struct SmallTable {
    keys: [u64; Self::SLOTS],
    counts: [u64; Self::SLOTS],
    len: usize,
}

impl SmallTable {
    const SLOTS: usize = 2 * EXACT_DISTINCT_LIMIT;
    /// A NaN pattern: never the bits of a finite value.
    const EMPTY: u64 = u64::MAX;

    fn new() -> Self {
        Self {
            keys: [Self::EMPTY; Self::SLOTS],
            counts: [0; Self::SLOTS],
            len: 0,
        }
    }

    /// Counts `bits` (hash `h`) once more, or `count` times; `false` when a new key does not fit.
    #[inline]
    fn add(&mut self, bits: u64, h: u64, count: u64) -> bool {
        let mut slot = (h >> 57) as usize % Self::SLOTS;
        for _ in 0..Self::SLOTS {
            let key = self.keys[slot];
            if key == bits {
                self.counts[slot] += count;
                return true;
            }
            if key == Self::EMPTY {
                if self.len == EXACT_DISTINCT_LIMIT {
                    return false;
                }
                self.keys[slot] = bits;
                self.counts[slot] = count;
                self.len += 1;
                return true;
            }
            slot = (slot + 1) % Self::SLOTS;
        }
        false
    }

    fn keys(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.keys
            .iter()
            .zip(self.counts.iter())
            .filter(|&(&k, _)| k != Self::EMPTY)
            .map(|(&k, &c)| (k, c))
    }
}

/// The distinct-value state while a bulk update runs.
enum LocalDistinct {
    Exact(Box<SmallTable>),
    Approximate(Hll),
}

impl LocalDistinct {
    fn take(distinct: &mut Distinct) -> Self {
        match std::mem::replace(distinct, Distinct::Exact(Vec::new())) {
            Distinct::Approximate(h) => Self::Approximate(h),
            Distinct::Exact(list) => {
                let mut table = Box::new(SmallTable::new());
                for vc in &list {
                    let bits = normalised_bits(vc.value);
                    table.add(bits, hash_bits(bits), vc.count);
                }
                Self::Exact(table)
            }
        }
    }

    /// Records one finite value by its normalised bits.
    #[inline]
    fn observe(&mut self, bits: u64) {
        let h = hash_bits(bits);
        match self {
            Self::Approximate(hll) => hll.insert_hash(h),
            Self::Exact(table) => {
                if !table.add(bits, h, 1) {
                    self.overflow(h);
                }
            }
        }
    }

    #[cold]
    fn overflow(&mut self, h: u64) {
        if let Self::Exact(table) = self {
            let mut hll = Hll::new();
            for (k, _) in table.keys() {
                hll.insert_hash(hash_bits(k));
            }
            hll.insert_hash(h);
            *self = Self::Approximate(hll);
        }
    }

    fn finish(self) -> Distinct {
        match self {
            Self::Approximate(h) => Distinct::Approximate(h),
            Self::Exact(table) => {
                let mut list: Vec<ValueCount> = table
                    .keys()
                    .map(|(k, count)| ValueCount {
                        value: f64::from_bits(k),
                        count,
                    })
                    .collect();
                list.sort_by(|a, b| a.value.total_cmp(&b.value));
                Distinct::Exact(list)
            }
        }
    }
}

/// The serialised form of [`NumericSketch`], validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NumericRepr {
    finite: u64,
    zeros: u64,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
    #[serde(with = "exact_f64")]
    min: f64,
    #[serde(with = "exact_f64")]
    max: f64,
    #[serde(with = "exact_f64")]
    mean: f64,
    #[serde(with = "exact_f64")]
    m2: f64,
    negative: BucketStore,
    positive: BucketStore,
    distinct: Distinct,
}

impl TryFrom<NumericRepr> for NumericSketch {
    type Error = String;

    fn try_from(r: NumericRepr) -> Result<Self, String> {
        let sketch = Self {
            finite: r.finite,
            zeros: r.zeros,
            nan: r.nan,
            pos_inf: r.pos_inf,
            neg_inf: r.neg_inf,
            // `+ 0.0` folds a stored `-0.0` onto `0.0`, as updates do.
            min: r.min + 0.0,
            max: r.max + 0.0,
            mean: r.mean,
            m2: r.m2,
            negative: r.negative,
            positive: r.positive,
            distinct: r.distinct,
        };
        sketch.validate()?;
        Ok(sketch)
    }
}
