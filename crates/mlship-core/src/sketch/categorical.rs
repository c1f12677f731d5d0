//! The categorical (string) and boolean parts of a column sketch: exact level frequencies up to
//! a cap, then the most frequent levels, an `other` count and a `HyperLogLog` for distinct.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use super::SketchError;
use super::hash::{FastBuildHasher, IdentityHasher, stable_hash_str};
use super::hll::Hll;

/// The least number of levels the batch-local table of [`CategoricalSketch::update_strs`]
/// holds before it is flushed.
const LOCAL_LEVELS: usize = 8192;

/// The order levels are kept in: count descending, then level ascending.
#[allow(clippy::trivially_copy_pass_by_ref)] // used as a comparator on slices
fn best_first(a: &(u64, &str), b: &(u64, &str)) -> std::cmp::Ordering {
    b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

/// A level of a batch: `(level, count, stable hash)`.
type Counted<'a> = (&'a str, u64, u64);

/// Counts distinct levels of one batch in a table keyed by their stable hash, so that each
/// value is hashed once. Strings are compared on every hit; the (astronomically rare) levels
/// whose hash is taken by another level are counted in a side table, so counts stay exact.
#[derive(Default)]
struct LevelCounter<'a> {
    by_hash: HashMap<u64, (&'a str, u64), BuildHasherDefault<IdentityHasher>>,
    collided: HashMap<&'a str, (u64, u64), FastBuildHasher>,
}

impl<'a> LevelCounter<'a> {
    #[inline]
    fn add(&mut self, level: &'a str, hash: u64, count: u64) {
        match self.by_hash.entry(hash) {
            Entry::Occupied(mut e) => {
                let (known, c) = e.get_mut();
                if *known == level {
                    *c += count;
                } else {
                    self.collided.entry(level).or_insert((hash, 0)).1 += count;
                }
            }
            Entry::Vacant(e) => {
                e.insert((level, count));
            }
        }
    }

    fn len(&self) -> usize {
        self.by_hash.len() + self.collided.len()
    }

    /// The distinct levels counted so far; the counter is left empty.
    fn drain(&mut self) -> Vec<Counted<'a>> {
        let mut out: Vec<Counted<'a>> = self
            .by_hash
            .drain()
            .map(|(hash, (level, c))| (level, c, hash))
            .collect();
        out.extend(
            self.collided
                .drain()
                .map(|(level, (hash, c))| (level, c, hash)),
        );
        out
    }
}

/// Finds kept levels by stable hash (with a string check), falling back to a string-keyed
/// table for kept levels whose hash is shared.
struct LevelIndex<'n> {
    by_hash: HashMap<u64, usize, BuildHasherDefault<IdentityHasher>>,
    collided: HashMap<&'n str, usize, FastBuildHasher>,
}

impl<'n> LevelIndex<'n> {
    fn new(names: &[&'n str]) -> Self {
        let mut index = Self {
            by_hash: HashMap::with_capacity_and_hasher(names.len(), BuildHasherDefault::default()),
            collided: HashMap::with_hasher(FastBuildHasher),
        };
        for (i, &name) in names.iter().enumerate() {
            if let Entry::Vacant(e) = index.by_hash.entry(stable_hash_str(name)) {
                e.insert(i);
            } else {
                index.collided.insert(name, i);
            }
        }
        index
    }

    #[inline]
    fn find(&self, names: &[&str], level: &str, hash: u64) -> Option<usize> {
        match self.by_hash.get(&hash) {
            Some(&i) if names.get(i) == Some(&level) => Some(i),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(level).copied(),
        }
    }
}

/// The sketch of a categorical (string) column's non-missing values.
///
/// While at most `max_levels` distinct levels have been seen, `levels` holds the exact count of
/// every level and merging is exact. Once more appear the sketch is *truncated*: it keeps the
/// `max_levels` most frequent levels (ties broken in favour of the level that sorts first), adds
/// the counts of the dropped ones to `other_count`, and counts distinct levels with a
/// `HyperLogLog` from then on. After truncation counts and merges are approximate: a level dropped
/// earlier restarts from zero if it reappears (its earlier count stays in `other_count`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CategoricalRepr")]
pub struct CategoricalSketch {
    max_levels: u32,
    levels: BTreeMap<String, u64>,
    other_count: u64,
    /// Present exactly when the sketch is truncated.
    distinct: Option<Hll>,
}

impl CategoricalSketch {
    /// An empty sketch keeping at most `max_levels` levels (at least 1).
    pub(crate) fn new(max_levels: u32) -> Self {
        Self {
            max_levels: max_levels.max(1),
            levels: BTreeMap::new(),
            other_count: 0,
            distinct: None,
        }
    }

    /// The most levels this sketch keeps exact counts for.
    pub fn max_levels(&self) -> usize {
        self.max_levels as usize
    }

    /// The count of every kept level (all levels unless [`Self::truncated`]).
    pub fn levels(&self) -> &BTreeMap<String, u64> {
        &self.levels
    }

    /// Values whose level is not kept in [`Self::levels`] (zero unless truncated).
    pub fn other_count(&self) -> u64 {
        self.other_count
    }

    /// Whether more than `max_levels` distinct levels were seen.
    pub fn truncated(&self) -> bool {
        self.distinct.is_some()
    }

    /// The number of non-missing values.
    pub fn non_missing(&self) -> u64 {
        self.levels
            .values()
            .fold(self.other_count, |a, &c| a.saturating_add(c))
    }

    /// The count of one level (`None` if unseen, or dropped by truncation).
    pub fn count_of(&self, level: &str) -> Option<u64> {
        self.levels.get(level).copied()
    }

    /// `(estimate, exact)` distinct levels.
    pub(crate) fn distinct(&self) -> (u64, bool) {
        match &self.distinct {
            None => (self.levels.len() as u64, true),
            Some(h) => {
                let e = h.estimate().round() as u64;
                (
                    e.max(u64::from(self.max_levels) + 1)
                        .min(self.non_missing()),
                    false,
                )
            }
        }
    }

    /// Adds a batch of *distinct* levels with their counts and stable hashes, then enforces the
    /// cap once: the result is as if every level were inserted and then all but the
    /// `max_levels` best (count descending, level ascending) were moved into `other_count`.
    /// Only kept levels are allocated, and the level map is edited in place.
    fn add_counts(&mut self, batch: &[Counted<'_>]) {
        let cap = self.max_levels as usize;
        if self.levels.len() + batch.len() <= cap {
            // No truncation possible: plain exact counting.
            for &(level, count, hash) in batch {
                self.insert_level(level, count, hash);
            }
            return;
        }
        let names: Vec<&str> = self.levels.keys().map(String::as_str).collect();
        let mut counts: Vec<u64> = self.levels.values().copied().collect();
        let index = LevelIndex::new(&names);
        // Batch levels not kept yet, as `(count, level)`.
        let mut fresh: Vec<(u64, &str)> = Vec::new();
        for &(level, count, hash) in batch {
            if let Some(i) = index.find(&names, level, hash) {
                counts[i] = counts[i].saturating_add(count);
            } else {
                fresh.push((count, level));
            }
        }
        if names.len() + fresh.len() <= cap {
            // The batch repeats enough kept levels: still exact.
            let fresh: Vec<(String, u64)> = fresh
                .into_iter()
                .map(|(c, level)| (level.to_owned(), c))
                .collect();
            self.set_counts(&counts, None);
            for (level, count) in fresh {
                if let Some(h) = &mut self.distinct {
                    h.insert_hash(stable_hash_str(&level));
                }
                self.levels.insert(level, count);
            }
            return;
        }
        // Truncation: every level of the batch enters the distinct-count registers.
        if let Some(h) = &mut self.distinct {
            for &(_, _, hash) in batch {
                h.insert_hash(hash);
            }
        } else {
            // First truncation: the kept levels are every level seen so far.
            let mut h = Hll::new();
            for name in &names {
                h.insert_hash(stable_hash_str(name));
            }
            for &(_, _, hash) in batch {
                h.insert_hash(hash);
            }
            self.distinct = Some(h);
        }
        let mut other = 0u64;
        if names.len() >= cap {
            // At least `cap` kept levels rank at or above their worst, so a fresh level ranking
            // below it cannot make the cut.
            let worst = names
                .iter()
                .zip(&counts)
                .map(|(&name, &c)| (c, name))
                .max_by(best_first);
            if let Some(worst) = worst {
                fresh.retain(|candidate| {
                    let keep = best_first(candidate, &worst).is_lt();
                    if !keep {
                        other = other.saturating_add(candidate.0);
                    }
                    keep
                });
            }
        }
        // `(count, level, Some(kept index) | None for fresh)`, best first up to the cap.
        let mut ranked: Vec<(u64, &str, Option<usize>)> = names
            .iter()
            .zip(&counts)
            .enumerate()
            .map(|(i, (&name, &c))| (c, name, Some(i)))
            .chain(fresh.iter().map(|&(c, level)| (c, level, None)))
            .collect();
        let order = |a: &(u64, &str, Option<usize>), b: &(u64, &str, Option<usize>)| {
            best_first(&(a.0, a.1), &(b.0, b.1))
        };
        if ranked.len() > cap {
            ranked.select_nth_unstable_by(cap, order);
        }
        let (kept, dropped) = ranked.split_at(cap.min(ranked.len()));
        other = dropped
            .iter()
            .fold(other, |a, &(c, _, _)| a.saturating_add(c));
        let mut keep = vec![false; names.len()];
        let mut added: Vec<(String, u64)> = Vec::new();
        for &(c, level, slot) in kept {
            match slot {
                Some(i) => keep[i] = true,
                None => added.push((level.to_owned(), c)),
            }
        }
        self.set_counts(&counts, Some(&keep));
        for (level, count) in added {
            let c = self.levels.entry(level).or_insert(0);
            *c = c.saturating_add(count);
        }
        self.other_count = self.other_count.saturating_add(other);
    }

    /// Overwrites the kept levels' counts (in map order) and drops those not marked `keep`.
    fn set_counts(&mut self, counts: &[u64], keep: Option<&[bool]>) {
        let mut i = 0;
        self.levels.retain(|_, c| {
            if let Some(&n) = counts.get(i) {
                *c = n;
            }
            let kept = keep.and_then(|k| k.get(i).copied()).unwrap_or(true);
            i += 1;
            kept
        });
    }

    /// Adds `count` values of `level` (hash `hash`) without enforcing the cap.
    fn insert_level(&mut self, level: &str, count: u64, hash: u64) {
        if let Some(h) = &mut self.distinct {
            h.insert_hash(hash);
        }
        if let Some(c) = self.levels.get_mut(level) {
            *c = c.saturating_add(count);
        } else {
            self.levels.insert(level.to_owned(), count);
        }
    }

    /// How many distinct levels a batch-local counter holds before it is flushed into the
    /// sketch: beyond this the sketch must truncate anyway.
    fn local_limit(&self) -> usize {
        (4 * self.max_levels as usize).max(LOCAL_LEVELS)
    }

    /// Counts a batch of optional strings; returns how many were missing.
    ///
    /// Each value is hashed once with the stable string hash, which serves both the
    /// batch-local counting table and the distinct-count registers. The table is bounded: when
    /// it holds more than `max(4·max_levels, 8192)` levels — so the sketch must truncate
    /// anyway — it is flushed into the sketch, keeping memory and cache use flat on
    /// high-cardinality columns.
    pub(crate) fn update_strs<'a, I>(&mut self, values: I) -> u64
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let limit = self.local_limit();
        let mut missing = 0u64;
        let mut counter = LevelCounter::default();
        for value in values {
            let Some(level) = value else {
                missing += 1;
                continue;
            };
            counter.add(level, stable_hash_str(level), 1);
            if counter.len() > limit {
                self.add_counts(&counter.drain());
            }
        }
        self.add_counts(&counter.drain());
        missing
    }

    /// Counts dictionary-encoded values; returns how many were missing. Codes of missing
    /// values are not looked at. Nothing is added when a code is out of range. Repeated
    /// dictionary strings are added up.
    pub(crate) fn update_dict<S: AsRef<str>>(
        &mut self,
        dict: &[S],
        codes: &[u32],
        valid: Option<&[bool]>,
    ) -> Result<u64, SketchError> {
        let n = dict.len();
        // Slot `n` collects the missing values so the loop has no data-dependent branch.
        let mut counts = vec![0u64; n + 1];
        let mut bad: Option<usize> = None;
        match valid {
            None => {
                for (position, &code) in codes.iter().enumerate() {
                    let code = code as usize;
                    match counts.get_mut(code) {
                        Some(c) if code < n => *c += 1,
                        _ => {
                            bad = Some(position);
                            break;
                        }
                    }
                }
            }
            Some(valid) => {
                for (position, (&code, &ok)) in codes.iter().zip(valid).enumerate() {
                    let code = if ok { code as usize } else { n };
                    if let Some(c) = counts.get_mut(code) {
                        *c += 1;
                    } else {
                        bad = Some(position);
                        break;
                    }
                }
            }
        }
        if let Some(position) = bad {
            return Err(SketchError::CodeOutOfRange {
                position,
                code: codes.get(position).copied().unwrap_or(u32::MAX),
                len: n,
            });
        }
        let missing = counts.pop().unwrap_or(0);
        // Repeated dictionary strings are merged by the same bounded counter as strings.
        let limit = self.local_limit();
        let mut counter = LevelCounter::default();
        for (&c, s) in counts.iter().zip(dict) {
            if c > 0 {
                let level = s.as_ref();
                counter.add(level, stable_hash_str(level), c);
                if counter.len() > limit {
                    self.add_counts(&counter.drain());
                }
            }
        }
        self.add_counts(&counter.drain());
        Ok(missing)
    }

    /// Adds one value, deciding exactly as [`Self::add_counts`] would but without building
    /// anything in the common cases.
    pub(crate) fn push(&mut self, level: &str) {
        let cap = self.max_levels as usize;
        let hash = stable_hash_str(level);
        let known = self.levels.contains_key(level);
        if known || self.levels.len() < cap {
            self.insert_level(level, 1, hash);
            return;
        }
        let Some(h) = &mut self.distinct else {
            // The first truncation.
            self.add_counts(&[(level, 1, hash)]);
            return;
        };
        h.insert_hash(hash);
        // Truncated and full: the new level competes with the worst kept one.
        let worst = self
            .levels
            .iter()
            .map(|(k, &c)| (c, k.as_str()))
            .max_by(best_first)
            .map(|(c, k)| (c, k.to_owned()));
        match worst {
            Some((count, name)) if best_first(&(1, level), &(count, name.as_str())).is_lt() => {
                self.levels.remove(&name);
                self.other_count = self.other_count.saturating_add(count);
                self.levels.insert(level.to_owned(), 1);
            }
            _ => self.other_count = self.other_count.saturating_add(1),
        }
    }

    /// Adds everything `other` has seen; the smaller cap of the two applies.
    pub(crate) fn merge(&mut self, other: &CategoricalSketch) {
        self.max_levels = self.max_levels.min(other.max_levels);
        self.other_count = self.other_count.saturating_add(other.other_count);
        if let Some(g) = &other.distinct {
            let h = self.distinct.get_or_insert_with(|| {
                let mut h = Hll::new();
                for level in self.levels.keys() {
                    h.insert_hash(stable_hash_str(level));
                }
                h
            });
            h.merge(g);
        }
        let batch: Vec<Counted<'_>> = other
            .levels
            .iter()
            .map(|(k, &c)| (k.as_str(), c, stable_hash_str(k)))
            .collect();
        // Also truncates what is kept when `other` brought a smaller cap.
        self.add_counts(&batch);
    }

    fn validate(&self) -> Result<(), String> {
        if self.max_levels == 0 {
            return Err("categorical sketch has max_levels = 0: expected at least 1".to_owned());
        }
        if self.levels.len() > self.max_levels as usize {
            return Err(format!(
                "categorical sketch keeps {} levels: expected at most max_levels = {}",
                self.levels.len(),
                self.max_levels
            ));
        }
        let mut total = self.other_count;
        for (level, &c) in &self.levels {
            if c == 0 {
                return Err(format!("level {level:?} has a zero count"));
            }
            total = total.checked_add(c).ok_or("categorical counts overflow")?;
        }
        if total > super::MAX_ROWS {
            return Err(format!(
                "categorical sketch declares {total} values: too many"
            ));
        }
        if self.distinct.is_none() && self.other_count > 0 {
            return Err("categorical sketch has an other count but is not truncated".to_owned());
        }
        Ok(())
    }
}

/// The serialised form of [`CategoricalSketch`], validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoricalRepr {
    max_levels: u32,
    levels: BTreeMap<String, u64>,
    other_count: u64,
    distinct: Option<Hll>,
}

impl TryFrom<CategoricalRepr> for CategoricalSketch {
    type Error = String;

    fn try_from(r: CategoricalRepr) -> Result<Self, String> {
        let sketch = Self {
            max_levels: r.max_levels,
            levels: r.levels,
            other_count: r.other_count,
            distinct: r.distinct,
        };
        sketch.validate()?;
        Ok(sketch)
    }
}

/// The sketch of a boolean column's non-missing values: two exact counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BooleanSketch {
    true_count: u64,
    false_count: u64,
}

impl BooleanSketch {
    /// The number of `true` values.
    pub fn true_count(&self) -> u64 {
        self.true_count
    }

    /// The number of `false` values.
    pub fn false_count(&self) -> u64 {
        self.false_count
    }

    /// The number of non-missing values.
    pub fn non_missing(&self) -> u64 {
        self.true_count.saturating_add(self.false_count)
    }

    /// The levels `"false"` and `"true"` with their counts, as a categorical column would show.
    pub fn levels(&self) -> BTreeMap<String, u64> {
        [("false", self.false_count), ("true", self.true_count)]
            .into_iter()
            .filter(|&(_, c)| c > 0)
            .map(|(k, c)| (k.to_owned(), c))
            .collect()
    }

    /// Counts a batch; returns how many were missing.
    pub(crate) fn update(&mut self, values: &[bool], valid: Option<&[bool]>) -> u64 {
        let (trues, present) = match valid {
            None => (
                values.iter().map(|&b| u64::from(b)).sum::<u64>(),
                values.len() as u64,
            ),
            Some(valid) => {
                let trues = values
                    .iter()
                    .zip(valid)
                    .map(|(&b, &ok)| u64::from(b & ok))
                    .sum::<u64>();
                (trues, valid.iter().map(|&ok| u64::from(ok)).sum::<u64>())
            }
        };
        self.true_count += trues;
        self.false_count += present - trues;
        values.len() as u64 - present
    }

    /// Adds one value.
    pub(crate) fn push(&mut self, value: bool) {
        if value {
            self.true_count += 1;
        } else {
            self.false_count += 1;
        }
    }

    /// Adds everything `other` has seen.
    pub(crate) fn merge(&mut self, other: &BooleanSketch) {
        self.true_count = self.true_count.saturating_add(other.true_count);
        self.false_count = self.false_count.saturating_add(other.false_count);
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        match self.true_count.checked_add(self.false_count) {
            Some(n) if n <= super::MAX_ROWS => Ok(()),
            _ => Err("boolean sketch declares too many values".to_owned()),
        }
    }
}
