use std::fmt::Write as _;
use std::path::PathBuf;

use super::tasks::{Case, MemoryTarget, PeerCall, PeerRef, QualityTarget, Target, Timed, Work};
use super::*;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn options_parse() {
    assert_eq!(Options::parse(&[]).ok(), Some(Options::default()));
    let parsed = Options::parse(&args(&[
        "--only",
        "gbdt,profile,gbdt",
        "--repeats=3",
        "--data",
        "d",
        "--peers",
        "/usr/bin/python3",
        "--install-peers",
        "--no-write",
        "--mlship",
        "target/ci/mlship",
    ]))
    .expect("valid");
    assert_eq!(
        parsed,
        Options {
            only: vec![Task::Profile, Task::Gbdt],
            repeats: 3,
            data: Some(PathBuf::from("d")),
            peers: Some(PathBuf::from("/usr/bin/python3")),
            install_peers: true,
            write: false,
            mlship: Some(PathBuf::from("target/ci/mlship")),
        }
    );
    let err = |a: &[&str]| Options::parse(&args(a)).expect_err("invalid").to_string();
    assert_eq!(
        err(&["--repeats", "0"]),
        "invalid --repeats 0: expected a whole number of at least 1"
    );
    assert_eq!(
        err(&["--only", "train"]),
        "unknown task `train` in --only: expected one of profile, preprocess, row_path, linear, \
         gbdt, forest, predict, registry"
    );
    assert_eq!(err(&["--peers"]), "`--peers` needs a Python interpreter");
    assert!(err(&["--fast"]).starts_with("unknown option `--fast` for `bench`"));
    assert!(err(&["--no-write=1"]).starts_with("unknown option `--no-write` for `bench`"));
}

#[test]
fn median_of_odd_even_and_empty() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[2.0]), Some(2.0));
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[0.9, 0.7, 5.0, 0.8, 0.75]), Some(0.8));
}

const DOC: &str = "# Benchmarks\n\nIntro.\n\n<!-- bench:profile:start -->\nold table\n\
                   <!-- bench:profile:end -->\n\n## Notes\n\nKept.\n";

#[test]
fn replacing_a_section_keeps_the_rest_of_the_file() {
    let section = "<!-- bench:profile:start -->\nnew\ntable\n<!-- bench:profile:end -->\n";
    let got = replace_section(DOC, "profile", section).expect("replaced");
    assert_eq!(
        got,
        "# Benchmarks\n\nIntro.\n\n<!-- bench:profile:start -->\nnew\ntable\n\
         <!-- bench:profile:end -->\n\n## Notes\n\nKept.\n"
    );
    // Idempotent, and other tasks' sections are left alone.
    assert_eq!(
        replace_section(&got, "profile", section).expect("again"),
        got
    );
    let other = "<!-- bench:train:start -->\nt\n<!-- bench:train:end -->";
    let both = replace_section(&got, "train", other).expect("appended");
    assert_eq!(both, format!("{got}\n{other}\n"));
    assert_eq!(
        replace_section(&both, "profile", section).expect("again"),
        both
    );
}

#[test]
fn a_missing_section_is_appended_and_broken_markers_refused() {
    let section = "<!-- bench:profile:start -->\nx\n<!-- bench:profile:end -->";
    assert_eq!(
        replace_section("# B\n\nIntro.\n\n", "profile", section).expect("appended"),
        format!("# B\n\nIntro.\n\n{section}\n")
    );
    assert_eq!(
        replace_section("", "profile", section).expect("appended"),
        format!("{section}\n")
    );
    let broken = [
        "<!-- bench:profile:start -->\nno end\n",
        "<!-- bench:profile:end -->\n<!-- bench:profile:start -->\n",
        "<!-- bench:profile:start -->\n<!-- bench:profile:end -->\n\
         <!-- bench:profile:start -->\n<!-- bench:profile:end -->\n",
    ];
    for doc in broken {
        assert!(replace_section(doc, "profile", section).is_err(), "{doc}");
    }
}

#[test]
fn peer_output_is_parsed() {
    let stdout = "some library chatter\n{\"python\": \"3.11.7\", \"versions\": {\"polars\": \
                  \"2.1.0\", \"numpy\": \"2.4.6\"}, \"tasks\": [{\"tool\": \"polars\", \
                  \"peer\": \"polars read_csv + describe()\", \"seconds\": 0.5, \"raw\": \
                  [0.6, 0.5, 0.4], \"rows\": 1000000, \"columns\": 20}, {\"peer\": \
                  \"pandas read_csv + describe(include=\\\"all\\\")\", \"seconds\": 2, \
                  \"quality\": {\"roc_auc\": 0.9, \"note\": \"x\"}, \"threads\": 2}], \
                  \"errors\": [{\"tool\": \"x\", \"error\": \"boom\"}]}\n";
    let report = parse_peer_output(stdout).expect("parsed");
    assert_eq!(report.python, "3.11.7");
    assert_eq!(
        report.versions,
        [
            ("numpy".to_string(), "2.4.6".to_string()),
            ("polars".to_string(), "2.1.0".to_string())
        ]
    );
    assert_eq!(
        report.timings,
        [
            PeerTiming {
                tool: "polars".into(),
                label: "polars read_csv + describe()".into(),
                seconds: 0.5,
                raw: vec![0.6, 0.5, 0.4],
                shape: Some((1_000_000, 20)),
                quality: vec![],
                threads: None,
            },
            PeerTiming {
                tool: "pandas".into(),
                label: "pandas read_csv + describe(include=\"all\")".into(),
                seconds: 2.0,
                raw: vec![],
                shape: None,
                quality: vec![("roc_auc".into(), 0.9)],
                threads: Some(2),
            }
        ]
    );
    assert_eq!(report.errors, [("x".to_string(), "boom".to_string())]);

    assert!(parse_peer_output("").is_err());
    assert!(parse_peer_output("{\"python\": \"3\"}").is_err());
    assert!(parse_peer_output("{\"tasks\": [{\"peer\": \"p\", \"seconds\": -1}]}").is_err());
    assert!(parse_peer_output("{\"tasks\": [{\"peer\": \"p\"}]}").is_err());
}

#[test]
fn machine_facts_and_dates() {
    let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\
                   processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
    assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
    assert_eq!(cpu_model("processor : 0\n"), None);
    let meminfo = "MemTotal:       24641536 kB\nMemFree:  1 kB\n";
    assert_eq!(mem_total_kib(meminfo), Some(24_641_536));
    assert_eq!(utc_timestamp(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc_timestamp(951_782_400 + 3_723), "2000-02-29 01:02 UTC");
    assert_eq!(utc_timestamp(1_767_225_599), "2025-12-31 23:59 UTC");
    assert_eq!(
        shell_line(&args(&["cargo", "xtask", "--data", "my dir", "it's"])),
        "cargo xtask --data 'my dir' 'it'\\''s'"
    );
}

#[test]
fn cpu_share_of_other_processes() {
    let self_stat =
        |ticks: u64| format!("42 (x t) S 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 {ticks} 0 20 0 1 0 5 0 0");
    let before = CpuTimes::parse(
        "cpu  100 10 20 500 5 1 2 3 0 0\ncpu0 1 2 3 4\n",
        &self_stat(10),
    )
    .expect("parsed");
    assert_eq!(
        before,
        CpuTimes {
            busy: 136,
            total: 641,
            ours: 20
        }
    );
    // 200 more ticks in all, 150 of them busy, 100 of those ours: others used 25%.
    let after = CpuTimes {
        busy: 286,
        total: 841,
        ours: 120,
    };
    assert_eq!(before.others_share(&after), Some(0.25));
    assert_eq!(before.others_share(&before), None);
    assert!(CpuTimes::parse("intr 1 2\n", &self_stat(1)).is_none());
    assert!(CpuTimes::parse("cpu  1 2 3 4\n", "garbage").is_none());
}

#[test]
fn metrics_match_hand_computed_values() {
    // Positives at scores 0.8 and 0.4, negatives at 0.4 and 0.1: of the 4 pairs, 3 are ordered
    // and 1 is tied (counts one half): AUC = 3.5 / 4.
    let y = [1.0, 0.0, 1.0, 0.0];
    let p = [0.8, 0.4, 0.4, 0.1];
    assert_eq!(roc_auc(&y, &p), Some(0.875));
    assert_eq!(roc_auc(&[1.0, 1.0], &[0.2, 0.3]), None);
    assert_eq!(roc_auc(&[1.0, 0.0], &[0.2]), None);
    assert_eq!(roc_auc(&[0.0, 1.0], &[0.2, 0.9]), Some(1.0));
    let expected = -(0.8f64.ln() + 0.6f64.ln() + 0.4f64.ln() + 0.9f64.ln()) / 4.0;
    let got = log_loss(&y, &p).expect("defined");
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
    assert!(log_loss(&[1.0], &[0.0]).expect("clipped").is_finite());
    assert_eq!(log_loss(&[], &[]), None);
    // y = 1, 2, 3, 4 (mean 2.5, total 5); residuals 0.5, 0, 0, 0.5: R² = 1 − 0.5 / 5.
    let got = r2(&[1.0, 2.0, 3.0, 4.0], &[1.5, 2.0, 3.0, 3.5]).expect("defined");
    assert!((got - 0.9).abs() < 1e-15);
    assert_eq!(r2(&[1.0, 1.0], &[1.0, 2.0]), None);
}

#[test]
fn csv_columns_and_cuts() {
    let text = "a,target,b\n1,0,x\n2,,y\n3,1.5,z\n";
    assert_eq!(csv_column(text, "a").expect("read"), vec![1.0, 2.0, 3.0]);
    let t = csv_column(text, "target").expect("read");
    assert!(t[0] == 0.0 && t[1].is_nan() && t[2] == 1.5);
    assert!(csv_column(text, "c").is_err());
    assert!(csv_column(text, "b").is_err());
    assert!(csv_column("", "a").is_err());

    let mut body = String::new();
    for i in 0..10 {
        let _ = writeln!(body, "{i},{}", i * 2);
    }
    let file = format!("x,y\n{body}");
    let cut = |rows| String::from_utf8(cut_text(file.as_bytes(), rows)).expect("utf-8");
    assert_eq!(
        cut(Rows::Train),
        format!("x,y\n{}", &body[..body.find("8,").expect("row")])
    );
    assert_eq!(cut(Rows::Test), "x,y\n8,16\n9,18\n");
    assert_eq!(cut(Rows::First(2)), "x,y\n0,0\n1,2\n");
    assert_eq!(cut(Rows::First(50)), file);
    assert_eq!(cut(Rows::Repeat(2)), format!("x,y\n{body}{body}"));
    // A last line without its newline, and a header alone.
    assert_eq!(
        String::from_utf8(cut_text(b"x\n1\n2", Rows::Repeat(2))).expect("utf-8"),
        "x\n1\n2\n1\n2\n"
    );
    assert_eq!(cut_text(b"x\n", Rows::Test), b"x\n");
    assert_eq!(csv_shape(file.as_bytes()), (10, 2));
    assert_eq!(csv_shape(b"x,y,z\n1,2,3"), (1, 3));
    // Train and test split the rows as datagen's rule says: floor(0.8 n) and the rest.
    assert_eq!(cut_range(Rows::Train, 200_000), (0..160_000, 1));
    assert_eq!(cut_range(Rows::Test, 200_000), (160_000..200_000, 1));
    assert_eq!(cut_range(Rows::Train, 7), (0..5, 1));
}

#[test]
fn placeholders_are_filled() {
    let places = vec![
        ("data", "/d".to_string()),
        ("work", "/w".to_string()),
        ("threads", "2".to_string()),
    ];
    assert_eq!(fill("{data}/a.csv", &places), "/d/a.csv");
    assert_eq!(fill("--x={work}/{threads}", &places), "--x=/w/2");
    assert_eq!(fill("{unknown}", &places), "{unknown}");
}

#[test]
fn criterion_and_example_output_is_read() {
    let out = "Benchmarking row path: 1 record × 20 columns: Warming up for 3.0000 s\n\
               row path: 1 record × 20 columns\n                        time:   [2.0101 µs 2.0312 µs 2.0555 µs]\n\
               frame path: 1000 records × 20 columns time:   [301.20 µs 305.50 µs 310.00 µs]\n\
               quick   time:   [812.1 ns 815.0 ns 820.3 ns]\n";
    let got = criterion_estimate(out, "row path: 1 record × 20 columns").expect("found");
    assert!((got - 2.0312e-6).abs() < 1e-15);
    let got = criterion_estimate(out, "frame path: 1000 records × 20 columns").expect("found");
    assert!((got - 305.5e-6).abs() < 1e-15);
    let got = criterion_estimate(out, "quick").expect("found");
    assert!((got - 815e-9).abs() < 1e-18);
    assert_eq!(criterion_estimate(out, "missing"), None);

    let out = "registry: sqlite:/tmp/x\n\
               register: 1000 versions of 16 KiB, median 3.21 ms, p90 4.50 ms\n\
               resolve bench@production: 100,000 times, median 12.5 µs, p90 20.0 µs\n\
               grew to 10,000 versions in 31.2 s\n\
               search metrics.roc_auc > 0.95 over 10,000 versions: 2450 matches, median 15.00 ms\n";
    let lines = median_lines(out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].0, "register");
    assert!((lines[0].2 - 3.21e-3).abs() < 1e-15);
    assert_eq!(lines[1].0, "resolve bench@production");
    assert!((lines[1].2 - 12.5e-6).abs() < 1e-15);
    assert_eq!(
        lines[2].0,
        "search metrics.roc_auc > 0.95 over 10,000 versions"
    );
    assert!((lines[2].2 - 0.015).abs() < 1e-15);

    assert_eq!(
        vm_hwm_kib("Name:\tmlship\nVmPeak:\t  900 kB\nVmHWM:\t  524288 kB\n"),
        Some(524_288)
    );
    assert_eq!(vm_hwm_kib("Name:\tzombie\n"), None);
}

#[test]
fn figures_and_durations() {
    assert_eq!(duration(2.3456), "2.346 s");
    assert_eq!(duration(0.0142), "14.20 ms");
    assert_eq!(duration(3.21e-6), "3.21 µs");
    assert_eq!(duration(8.12e-7), "812 ns");
    assert_eq!(figure(1_000_000.0), "1000000");
    assert_eq!(figure(0.978_456_7), "0.97846");
    assert_eq!(figure(1234.56), "1234.6");
    assert_eq!(
        quality_text(&[("r2".into(), 0.5), ("rows".into(), 3.0)]),
        "r2=0.50000; rows=3"
    );
    assert_eq!(thousands(1_000_000), "1,000,000");
    assert_eq!(thousands(999), "999");
}

#[test]
fn targets_and_verdicts() {
    let polars = Target {
        peer: PeerRef::Tool("polars"),
        limit: 1.2,
        inclusive: true,
        text: "",
    };
    let pandas = Target {
        peer: PeerRef::Tool("pandas"),
        limit: 1.0,
        inclusive: false,
        text: "",
    };
    assert!(polars.met(1.2) && polars.met(0.5) && !polars.met(1.2001));
    assert!(pandas.met(0.99) && !pandas.met(1.0));
    assert_eq!(
        (polars.short(), pandas.short()),
        ("≤ 1.2".into(), "< 1".into())
    );
    let auc = QualityTarget {
        metric: "roc_auc",
        peer: "lightgbm",
        tolerance: 0.002,
        higher_is_better: true,
    };
    assert!(auc.met(0.977, 0.978) && auc.met(0.99, 0.978) && !auc.met(0.9755, 0.978));
    let loss = QualityTarget {
        metric: "log_loss",
        peer: "sklearn",
        tolerance: 1e-4,
        higher_is_better: false,
    };
    assert!(loss.met(0.40745, 0.4074) && loss.met(0.3, 0.4074) && !loss.met(0.4077, 0.4074));
}

fn timing(tool: &str, seconds: f64, quality: &[(&str, f64)]) -> PeerTiming {
    PeerTiming {
        tool: tool.into(),
        label: format!("{tool} fit"),
        seconds,
        raw: vec![seconds],
        shape: None,
        quality: quality
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect(),
        threads: Some(2),
    }
}

static GBDT_LIKE: Case = Case {
    name: "gbdt",
    setup: &[],
    args: &["train", "--json", "--estimator", "gbdt"],
    timed: Timed::Fields(&["/fit_seconds"]),
    also: &["/fit_seconds"],
    threads: Some(2),
    quality: None,
    peer: Some(PeerCall { args: &[] }),
    targets: &[Target {
        peer: PeerRef::Fastest,
        limit: 1.0,
        inclusive: true,
        text: "at most the faster peer's time",
    }],
    quality_targets: &[QualityTarget {
        metric: "roc_auc",
        peer: "lightgbm",
        tolerance: 0.002,
        higher_is_better: true,
    }],
    memory: Some(MemoryTarget {
        factor: 3.0,
        rows: "/rows",
        features: "/features",
    }),
};

#[test]
fn case_rows_compare_with_the_right_peer() {
    let measured = Measured {
        timed: vec![3.0, 2.0, 2.5],
        wall: vec![3.5, 2.5, 3.0],
        also: vec![("/fit_seconds".into(), vec![3.0, 2.0, 2.5])],
        peak_kib: Some(4 * 1024),
        output_bytes: Some(2.0 * 1024.0 * 1024.0),
        quality: vec![("roc_auc".into(), 0.977)],
    };
    let report = PeerReport {
        python: "3.11.7".into(),
        versions: vec![],
        timings: vec![
            timing("lightgbm", 2.0, &[("roc_auc", 0.9785)]),
            timing("sklearn", 5.0, &[("roc_auc", 0.978)]),
        ],
        errors: vec![],
    };
    let (rows, notes) = case_rows(&GBDT_LIKE, &measured, &Ok(report));
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert_eq!(rows[0].tool, "mlship train --estimator gbdt (fit_seconds)");
    assert_eq!(rows[0].value, "2.500 s");
    assert_eq!(rows[0].quality, "roc_auc=0.97700");
    // The target is against the faster peer only: 2.5 / 2.0 = 1.25 misses.
    assert_eq!(rows[1].tool, "lightgbm fit (the faster peer)");
    assert_eq!(rows[1].ratio, Some(1.25));
    assert_eq!(rows[1].met, Some(false));
    assert_eq!(rows[2].ratio, Some(0.5));
    assert_eq!(rows[2].met, None);
    // 0.977 is 0.0015 below LightGBM's 0.9785: within 0.002.
    assert_eq!(rows[3].tool, "quality: roc_auc of mlship vs lightgbm");
    assert_eq!(rows[3].met, Some(true));
    // 4 MiB peak over a 2 MiB output: 2× ≤ 3×.
    assert_eq!(rows[4].ratio, Some(2.0));
    assert_eq!(rows[4].met, Some(true));
    assert!(notes[0].starts_with("gbdt: raw mlship times (s) 3.000, 2.000, 2.500"));
    assert!(notes[0].contains("; lightgbm 2.000; sklearn 5.000"));
    assert_eq!(
        notes[1],
        "gbdt: mlship's own figures from its JSON (medians): `fit_seconds` 2.50000."
    );

    let (rows, notes) = case_rows(&GBDT_LIKE, &measured, &Err("no venv".into()));
    assert_eq!(rows.len(), 2);
    assert!(notes.iter().any(|n| n == "gbdt: no peer timings: no venv."));
}

fn env() -> Environment {
    Environment {
        machine: "CPU X, 2 logical CPUs, 8.0 GiB RAM, linux".into(),
        mlship: "mlship 0.1.0".into(),
        rustc: "rustc 1.95.0".into(),
        date: "2026-01-02 03:04 UTC".into(),
        command: "cargo xtask bench --repeats 3".into(),
    }
}

fn result(full_size: bool) -> TaskResult {
    TaskResult {
        name: "linear",
        title: "linear: logistic vs scikit-learn",
        about: "What is timed.".into(),
        data: vec!["`binary_200k.csv` (200,000 rows × 34 columns, 61.1 MB)".into()],
        repeats: Some(3),
        rows: vec![
            Row {
                case: "logistic".into(),
                tool: "mlship train --estimator logistic (fit_seconds)".into(),
                value: "0.100 s".into(),
                ratio: None,
                quality: "log_loss=0.40740".into(),
                target: None,
                met: None,
            },
            Row {
                case: "logistic".into(),
                tool: "sklearn fit | 1 thread".into(),
                value: "0.250 s".into(),
                ratio: Some(0.4),
                quality: String::new(),
                target: Some(("≤ 0.5".into(), "at most half".into())),
                met: Some(true),
            },
        ],
        notes: vec!["logistic: raw mlship times (s) 0.100.".into()],
        python: Some((
            "3.11.7".into(),
            vec![("scikit-learn".into(), "1.9.1".into())],
        )),
        load: (Some(0.42), Some(1.5)),
        others_cpu: Some(0.25),
        full_size,
    }
}

#[test]
fn sections_show_targets_verdicts_and_the_machine() {
    let md = result(true).markdown(&env());
    assert!(md.starts_with(
        "<!-- bench:linear:start -->\n<!-- generated by `cargo xtask bench --only linear`"
    ));
    assert!(md.ends_with("<!-- bench:linear:end -->\n"));
    assert!(md.contains("## linear: logistic vs scikit-learn\n"));
    assert!(md.contains(
        "Data: `binary_200k.csv` (200,000 rows × 34 columns, 61.1 MB), from `cargo xtask \
         datagen`, in the page cache. What is timed. Median of 3 runs after one warm-up run.\n"
    ));
    assert!(md.contains(
        "| logistic | mlship train --estimator logistic (fit_seconds) | 0.100 s | — | \
         log_loss=0.40740 | — | — |"
    ));
    assert!(md.contains(
        "| logistic | sklearn fit \\| 1 thread | 0.250 s | 0.400 | — | ≤ 0.5 (at most half) | **PASS** |"
    ));
    assert!(md.contains("- logistic: raw mlship times (s) 0.100.\n"));
    assert!(md.contains("Python 3.11.7, scikit-learn 1.9.1."));
    assert!(md.contains(
        "0.42 before, 1.50 after the measurements; other processes used 25% of the CPUs' \
         time during them. The machine was not idle"
    ));
    assert!(md.contains("- Reproduce: `cargo xtask bench --repeats 3`"));
    let table = result(true).table();
    assert!(table.contains("PASS"));
    assert!(table.contains("warning: the machine was busy"));

    let small = result(false);
    let md = small.markdown(&env());
    assert!(md.contains("**n/a (smaller data than the target's)**"));
    assert!(!md.contains("PASS") && !md.contains("MISS"));
}

#[test]
fn every_task_is_described_and_consistent() {
    let help = task_help();
    assert!(
        crate::USAGE.contains(&help),
        "the help text lists the tasks as:\n{help}"
    );
    let root = crate::project_root();
    let peer_script = std::fs::read_to_string(root.join(PEERS_DIR).join("models.py"))
        .expect("models.py is readable");
    for task in Task::ALL {
        assert_eq!(Task::from_name(task.name()), Some(task));
        assert!(help.contains(task.name()), "{help}");
        assert!(crate::USAGE.contains(task.name()), "{}", crate::USAGE);
        let def = task.def();
        // A cut comes from an input listed before it.
        for (i, input) in def.inputs.iter().enumerate() {
            if let tasks::Source::Cut { from, .. } = input.source {
                assert!(
                    def.inputs[..i].iter().any(|x| x.name == from),
                    "{}: {} is cut from {from}",
                    def.name,
                    input.name
                );
            }
        }
        let Work::Compare(cases) = &def.work else {
            continue;
        };
        for case in *cases {
            // Every spec and peer script named exists, and the peer function is defined.
            for arg in case
                .args
                .iter()
                .chain(case.setup.iter().flat_map(|s| s.iter()))
            {
                if let Some(spec) = arg.strip_prefix("{specs}/") {
                    assert!(root.join(SPECS_DIR).join(spec).is_file(), "{spec}");
                }
            }
            if let Some(peer) = case.peer {
                let script = peer.args[0]
                    .strip_prefix("{peers}/")
                    .expect("a peer script");
                assert!(root.join(PEERS_DIR).join(script).is_file(), "{script}");
                if script == "models.py" {
                    let function = format!("\"{}\": t_{}", peer.args[1], peer.args[1]);
                    assert!(peer_script.contains(&function), "{function}");
                }
            }
            for target in case.quality_targets {
                assert!(
                    ["roc_auc", "log_loss", "r2"].contains(&target.metric),
                    "{}",
                    target.metric
                );
            }
            let text = &case.args.join(" ");
            assert!(
                text.contains("--json") || matches!(case.timed, Timed::Process),
                "{text}"
            );
        }
    }
}
