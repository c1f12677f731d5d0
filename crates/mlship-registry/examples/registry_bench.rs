//! Registry benchmark (not a test): register 1,000 versions, resolve `NAME@ALIAS` 100,000
//! times, then list and search a registry of 10,000 versions, printing medians.
//!
//! ```sh
//! cargo run --release -p mlship-registry --example registry_bench            # SQLite in a temp folder
//! cargo run --release -p mlship-registry --example registry_bench -- DIR     # SQLite under DIR
//! cargo run --release -p mlship-registry --example registry_bench -- postgres://…?schema=bench
//! ```
//!
//! Targets: register ≤ 20 ms median (fsyncs included), resolve ≤ 50 µs median, list and
//! search of 10,000 versions < 100 ms.

use std::time::{Duration, Instant};

use mlship_core::bundle::{Envelope, Section};
use mlship_core::manifest::Manifest;
use mlship_core::schema::{ColumnKind, ColumnSpec, Schema};
use mlship_core::task::Task;
use mlship_registry::{Expect, Location, ModelUri, RegisterOptions, Registry};
use serde_json::json;

fn bundle(i: u64) -> Vec<u8> {
    let mut m = Manifest::new("model");
    m.task = Some(Task::Binary {
        classes: vec!["no".into(), "yes".into()],
    });
    m.schema = Some(Schema::new(
        (0..20)
            .map(|c| ColumnSpec::new(format!("x{c}"), ColumnKind::Numeric, c % 3 == 0))
            .collect(),
    ));
    m.params = json!({"estimator": "gbm", "gbm": {"max_depth": 3 + i % 5, "learning_rate": 0.1}});
    m.metrics
        .insert("roc_auc".into(), 0.8 + (i % 200) as f64 / 1000.0);
    m.metrics.insert("log_loss".into(), 0.3);
    m.lineage.data_fingerprint = Some(format!("sha256:{i:016x}"));
    // About 16 KiB of model bytes, different for every version.
    let payload: Vec<u8> = (0..16_384u64)
        .map(|k| (k.wrapping_mul(2_654_435_761).wrapping_add(i) >> 7) as u8)
        .collect();
    Envelope {
        manifest: m.to_json(),
        sections: vec![Section::new("model", 1, payload)],
    }
    .to_bytes()
    .expect("a bundle encodes")
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn p90(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() * 9 / 10]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1);
    let temp = std::env::temp_dir().join(format!("mlship-registry-bench-{}", std::process::id()));
    let location = match &arg {
        Some(a) if a.starts_with("postgres") => Location::parse(a),
        Some(dir) => Location::home(std::path::Path::new(dir)),
        None => Location::home(&temp),
    };
    println!("registry: {location}");
    let mut r = Registry::open(&location)?.with_actor("bench");
    let opts = |name: &str| RegisterOptions {
        name: name.into(),
        ..RegisterOptions::default()
    };

    // 1. Register 1,000 versions of one model.
    let bundles: Vec<Vec<u8>> = (0..1000).map(bundle).collect();
    let mut times = Vec::with_capacity(bundles.len());
    for b in &bundles {
        let t = Instant::now();
        r.register_bytes(b, &opts("bench"))?;
        times.push(t.elapsed());
    }
    println!(
        "register: {} versions of {} KiB, median {:.2} ms, p90 {:.2} ms",
        bundles.len(),
        bundles[0].len() / 1024,
        median(times.clone()).as_secs_f64() * 1e3,
        p90(times).as_secs_f64() * 1e3
    );

    // 2. Resolve NAME@ALIAS 100,000 times.
    r.set_alias("bench", "production", 500, Expect::Any)?;
    let uri = ModelUri::parse("bench@production")?;
    let mut times = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let t = Instant::now();
        let id = r.resolve(&uri)?;
        times.push(t.elapsed());
        std::hint::black_box(id);
    }
    println!(
        "resolve bench@production: 100,000 times, median {:.1} µs, p90 {:.1} µs",
        median(times.clone()).as_secs_f64() * 1e6,
        p90(times).as_secs_f64() * 1e6
    );

    // 3. Grow to 10,000 versions (nine more models of 1,000), then list and search.
    let t = Instant::now();
    for m in 1..10 {
        let name = format!("bench-{m}");
        for i in 0..1000u64 {
            r.register_bytes(&bundle(m * 1000 + i), &opts(&name))?;
        }
    }
    println!(
        "grew to 10,000 versions in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let time = |f: &mut dyn FnMut() -> usize| {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..15 {
            let t = Instant::now();
            n = f();
            times.push(t.elapsed());
        }
        (median(times).as_secs_f64() * 1e3, n)
    };
    let (ms, n) = time(&mut || r.models().map_or(0, |m| m.len()));
    println!("list models: {n} models, median {ms:.2} ms");
    let (ms, n) = time(&mut || r.versions("bench").map_or(0, |v| v.len()));
    println!("list versions of one model: {n} versions, median {ms:.2} ms");
    let (ms, n) = time(&mut || r.search("metrics.roc_auc > 0.95").map_or(0, |v| v.len()));
    println!("search metrics.roc_auc > 0.95 over 10,000 versions: {n} matches, median {ms:.2} ms");
    let (ms, n) = time(&mut || r.search("bench-3 tag.x=y").map_or(0, |v| v.len()));
    println!("search by name and tag over 10,000 versions: {n} matches, median {ms:.2} ms");
    if arg.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    Ok(())
}
