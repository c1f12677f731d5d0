//! TreeSHAP benchmark, mlship side: reads the model and rows written by
//! `benches/tree_shap_peer.py` and times path-dependent TreeSHAP with 1 and 2 threads.
//!
//! `cargo run --release -p mlship-explain --example tree_shap_bench -- DIR [REPEATS]`

use std::time::Instant;

use mlship_core::tree::TreeEnsemble;
use mlship_explain::TreeExplainer;
use ndarray::Array2;

/// CPU seconds used by this process so far (all threads), from `/proc/self/stat` on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: tree_shap_bench DIR [REPEATS]")?);
    let repeats: usize = args.next().map_or(Ok(5), |s| s.parse())?;
    let ensemble: TreeEnsemble =
        serde_json::from_str(&std::fs::read_to_string(dir.join("model.json"))?)?;
    let text = std::fs::read_to_string(dir.join("x.csv"))?;
    let mut data = Vec::new();
    let mut n_rows = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        for field in line.split(',') {
            data.push(if field.is_empty() {
                f64::NAN
            } else {
                field.parse()?
            });
        }
        n_rows += 1;
    }
    let x = Array2::from_shape_vec((n_rows, ensemble.n_features()), data)?;
    let peer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("peer.json"))?)?;
    let margin: Vec<f64> = peer["margin"]
        .as_array()
        .ok_or("peer.json has no margin")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut values = None;
        for i in 0..=repeats {
            let start = Instant::now();
            let c0 = cpu_seconds().unwrap_or(f64::NAN);
            let v = pool.install(|| TreeExplainer::new(&ensemble).shap_values(x.view()))?;
            if i > 0 {
                times.push(start.elapsed().as_secs_f64());
                cpu.push(cpu_seconds().unwrap_or(f64::NAN) - c0);
            }
            values = Some(v);
        }
        times.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        let v = values.ok_or("no run")?;
        let err = (0..n_rows)
            .map(|r| (v.output(r, 0) - margin[r]).abs())
            .fold(0.0, f64::max);
        println!(
            "mlship TreeExplainer threads={threads}: median {:.3} s wall, {:.3} s CPU over {repeats} runs {times:?}; max |sum + expected - lightgbm margin| = {err:.2e}",
            times[times.len() / 2],
            cpu[cpu.len() / 2]
        );
    }
    Ok(())
}
