"""LightGBM and scikit-learn counterparts of gbdt_bench.rs: the same fit on the same data, 2 threads.

    /work/venv-peers/bin/python crates/mlship-train/examples/gbdt_bench.py bench-data

Reads binary_200k.csv of `cargo xtask datagen` (30 numeric columns with NaN left in, the three
categoricals as ordinal codes: cat_color in the generator's level order, region_NN / seg_NN by
their number; the first 80 % of the rows train, the rest test) and prints one JSON object per
peer, with the fields of gbdt_bench.rs: task, peer, rows, features, threads, fit_seconds (best
of MLSHIP_BENCH_REPEATS fits, default 3), fit_cpu_seconds, roc_auc, predict_rows,
predict_seconds (best of three predictions of 1,000,000 rows: the test rows repeated).

Uses LightGBM 4.7.0 and scikit-learn 1.9.1.
"""

import json
import os
import sys
import time

THREADS = int(os.environ.get("MLSHIP_BENCH_THREADS", "2"))
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

COLORS = ["red", "green", "blue", "yellow", "purple"]


def load(folder):
    """Features (categoricals as ordinal codes, NaN where missing) and the 0/1 target."""
    d = pd.read_csv(os.path.join(folder, "binary_200k.csv"), keep_default_na=False, na_values=[""])
    d["cat_color"] = d["cat_color"].map({c: k for k, c in enumerate(COLORS)})
    for col in ("cat_region", "cat_segment"):
        d[col] = d[col].str.rsplit("_", n=1).str[1].astype(float)
    y = d.pop("target").to_numpy().astype(int)
    return np.ascontiguousarray(d.to_numpy(float)), y


def timed(f, repeats):
    """Best wall time, the CPU time of that run, and the last result."""
    best, out = (float("inf"), 0.0), None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = f()
        w = time.perf_counter() - t
        if w < best[0]:
            best = (w, time.process_time() - c)
    return best[0], best[1], out


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MLSHIP_BENCH_DATA", "bench-data")
    repeats = int(os.environ.get("MLSHIP_BENCH_REPEATS", "3"))
    x, y = load(folder)
    n_train = round(len(y) * 0.8)
    xtr, ytr, xte, yte = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    big = np.ascontiguousarray(np.tile(xte, (1_000_000 // len(xte) + 1, 1))[:1_000_000])
    peers = {
        "lightgbm": lambda: lgb.LGBMClassifier(
            n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255,
            n_jobs=THREADS, verbose=-1,
        ),
        "sklearn": lambda: HistGradientBoostingClassifier(
            max_iter=100, max_leaf_nodes=31, learning_rate=0.1, max_bins=255,
            early_stopping=False,
        ),
    }
    for name, make in peers.items():
        fit, cpu, m = timed(lambda: make().fit(xtr, ytr), repeats)
        auc = roc_auc_score(yte, m.predict_proba(xte)[:, 1])
        predict, _, _ = timed(lambda: m.predict_proba(big), 3)
        print(json.dumps({
            "task": "gbdt", "peer": name, "rows": n_train, "features": x.shape[1],
            "threads": THREADS, "fit_seconds": fit, "fit_cpu_seconds": cpu, "roc_auc": auc,
            "predict_rows": len(big), "predict_seconds": predict,
        }))


if __name__ == "__main__":
    main()
