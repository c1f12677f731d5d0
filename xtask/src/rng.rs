//! The seeded pseudo-random numbers behind `datagen`: splitmix64 to expand a seed,
//! xoshiro256++ (Blackman & Vigna) for the stream, and the few distributions the datasets
//! need. Written here so that generated files depend on no crate's version.

/// One step of splitmix64: advances `state` and returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256++ with a cached second normal deviate.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator whose state is four splitmix64 outputs of `seed`.
    pub fn new(seed: u64) -> Self {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Self::from_state(s)
    }

    /// A generator with the given raw state (which must not be all zero).
    pub fn from_state(s: [u64; 4]) -> Self {
        debug_assert!(
            s.iter().any(|&w| w != 0),
            "xoshiro state must not be all zero"
        );
        Self {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    #[inline]
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// True with probability `p`.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Uniform integer in 0..n (Lemire's unbiased multiply-and-reject); `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// Uniform index in 0..n.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Standard normal (Marsaglia's polar method; the second deviate is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * m);
                return u * m;
            }
        }
    }

    /// Normal with the given mean and standard deviation.
    #[inline]
    pub fn normal_with(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.normal()
    }

    /// exp(N(mu, sigma)).
    #[inline]
    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        (mu + sigma * self.normal()).exp()
    }

    /// Gamma(shape, scale) by Marsaglia & Tsang (2000); shapes below 1 use the
    /// `Gamma(shape + 1) · U^(1/shape)` boost.
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        debug_assert!(shape > 0.0 && scale > 0.0);
        if shape < 1.0 {
            let u = self.uniform();
            return self.gamma(shape + 1.0, scale) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v * scale;
            }
        }
    }

    /// Poisson(lambda) by Knuth's multiplication method (fine for the small means used here).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        debug_assert!(lambda > 0.0 && lambda < 30.0);
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.uniform();
        while p > limit {
            k += 1;
            p *= self.uniform();
        }
        k
    }

    /// An index drawn with the probabilities whose running sums are `cumulative`
    /// (the last entry should be 1).
    #[inline]
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let u = self.uniform();
        cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(cumulative.len() - 1)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// A random permutation of 0..n.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

/// Running sums of `weights`, normalised so the last is 1.
pub fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut out: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w;
            acc / total
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn xoshiro256plusplus_matches_the_reference_outputs() {
        let mut rng = Rng::from_state([1, 2, 3, 4]);
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            got,
            [
                41_943_041,
                58_720_359,
                3_588_806_011_781_223,
                3_591_011_842_654_386
            ]
        );
    }

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        let mut state = 1_234_567;
        let got: Vec<u64> = (0..2).map(|_| splitmix64(&mut state)).collect();
        assert_eq!(got, [6_457_827_717_110_365_317, 3_203_168_211_198_807_973]);
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(8);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let n = 200_000;
        let mut rng = Rng::new(42);
        let normal: Vec<f64> = (0..n).map(|_| rng.normal_with(3.0, 2.0)).collect();
        let (m, v) = mean_var(&normal);
        assert!(
            (m - 3.0).abs() < 0.02 && (v - 4.0).abs() < 0.06,
            "normal {m} {v}"
        );

        for (shape, scale) in [(2.0, 3.0), (4.8, 3.0), (0.5, 1.0)] {
            let g: Vec<f64> = (0..n).map(|_| rng.gamma(shape, scale)).collect();
            let (m, v) = mean_var(&g);
            let (em, ev) = (shape * scale, shape * scale * scale);
            assert!(
                (m / em - 1.0).abs() < 0.01,
                "gamma({shape},{scale}) mean {m} vs {em}"
            );
            assert!(
                (v / ev - 1.0).abs() < 0.03,
                "gamma({shape},{scale}) var {v} vs {ev}"
            );
        }

        let p: Vec<f64> = (0..n).map(|_| rng.poisson(3.0) as f64).collect();
        let (m, v) = mean_var(&p);
        assert!(
            (m - 3.0).abs() < 0.02 && (v - 3.0).abs() < 0.05,
            "poisson {m} {v}"
        );

        let ln: Vec<f64> = (0..n).map(|_| rng.lognormal(0.5, 0.6)).collect();
        let (m, _) = mean_var(&ln);
        let expected = (0.5f64 + 0.18).exp();
        assert!(
            (m / expected - 1.0).abs() < 0.01,
            "lognormal mean {m} vs {expected}"
        );

        let mut hits = [0usize; 7];
        for _ in 0..n {
            hits[rng.index(7)] += 1;
        }
        for h in hits {
            assert!(
                (h as f64 / n as f64 - 1.0 / 7.0).abs() < 0.005,
                "below(7) {hits:?}"
            );
        }

        let cum = cumulative(&[0.45, 0.35, 0.15, 0.05]);
        let mut hits = [0usize; 4];
        for _ in 0..n {
            hits[rng.weighted(&cum)] += 1;
        }
        for (h, p) in hits.iter().zip([0.45, 0.35, 0.15, 0.05]) {
            assert!(
                (*h as f64 / n as f64 - p).abs() < 0.005,
                "weighted {hits:?}"
            );
        }
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut rng = Rng::new(1);
        let mut p = rng.permutation(1000);
        assert_ne!(p, (0..1000).collect::<Vec<_>>());
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<_>>());
    }
}
