//! The pipeline's row path: one record of 20 raw columns (14 numeric, 2 integer, 2 text with
//! missing values, 2 booleans) through imputation, scaling and one-hot encoding, as the server
//! transforms each request. Run with `cargo bench -p mlship-preprocess --bench row_path`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlship_core::rng::Rng;
use mlship_core::{RawBatch, RawColumn};
use mlship_preprocess::pipeline::Pipeline;
use mlship_preprocess::spec::PipelineSpec;

const LEVELS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];

fn batch(n: usize, seed: u64) -> RawBatch {
    let mut rng = Rng::new(seed);
    let mut columns = Vec::new();
    for j in 0..16 {
        let values: Vec<Option<f64>> = (0..n)
            .map(|_| (!rng.bernoulli(0.02)).then(|| rng.normal_with(j as f64, 1.0 + j as f64)))
            .collect();
        columns.push(RawColumn::numeric(format!("f{j:02}"), values));
    }
    for j in 0..2 {
        let values: Vec<Option<&str>> = (0..n)
            .map(|_| (!rng.bernoulli(0.02)).then(|| LEVELS[rng.index(LEVELS.len())]))
            .collect();
        columns.push(RawColumn::categorical(format!("s{j}"), values));
    }
    for j in 0..2 {
        let values: Vec<Option<bool>> = (0..n).map(|_| Some(rng.bernoulli(0.3))).collect();
        columns.push(RawColumn::boolean(format!("b{j}"), values));
    }
    RawBatch::new(columns).expect("valid columns")
}

fn row_path(c: &mut Criterion) {
    let spec = PipelineSpec::default();
    let fitted = Pipeline::fit(batch(10_000, 1), &spec, None).expect("fits");
    let one = batch(1, 2);
    c.bench_function("row path: 1 record × 20 columns", |b| {
        b.iter(|| {
            fitted
                .pipeline
                .transform_rows(black_box(one.clone()))
                .expect("transforms")
        });
    });
    let many = batch(1_000, 3);
    c.bench_function("frame path: 1000 records × 20 columns", |b| {
        b.iter(|| {
            fitted
                .pipeline
                .transform_rows(black_box(many.clone()))
                .expect("transforms")
        });
    });
}

criterion_group!(benches, row_path);
criterion_main!(benches);
