"""scikit-learn counterpart of linear_bench.rs: the same fits on the same data (CSV files the
Rust example writes), single-threaded.

    cargo run --profile ci -p mlship-train --example linear_bench -- /tmp/linear-bench
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python crates/mlship-train/examples/linear_bench.py /tmp/linear-bench

Uses scikit-learn 1.9.1 (see tests/fixtures/requirements.txt).
"""

import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import Lasso, LogisticRegression, Ridge  # noqa: E402

folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/linear-bench"
b = pd.read_csv(os.path.join(folder, "binary.csv"))
r = pd.read_csv(os.path.join(folder, "regression.csv"))
xb, yb = np.ascontiguousarray(b.drop(columns="y").to_numpy(float)), b["y"].to_numpy().astype(int)
xr, yr = np.ascontiguousarray(r.drop(columns="y").to_numpy(float)), r["y"].to_numpy(float)

runs = [
    ("logistic lbfgs C=1", lambda: LogisticRegression(C=1.0), xb, yb),
    ("ridge alpha=1", lambda: Ridge(alpha=1.0), xr, yr),
    ("lasso alpha=0.1", lambda: Lasso(alpha=0.1, tol=1e-4), xr, yr),
]
def timed(f):
    """Best wall-clock and thread CPU times of five runs, and the last result."""
    wall = cpu = float("inf")
    for _ in range(5):
        t, c = time.perf_counter(), time.thread_time()
        out = f()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.thread_time() - c)
    return wall, cpu, out


for name, make, x, y in runs:
    wall, cpu, m = timed(lambda: make().fit(x, y))
    if isinstance(m, LogisticRegression):
        p = m.predict_proba(x)[np.arange(len(y)), y]
        loss = -np.log(np.maximum(p, 1e-300)).mean()
    else:
        loss = ((m.predict(x) - y) ** 2).mean()
    print(f"{name:<20} wall {wall * 1e3:7.1f} ms  cpu {cpu * 1e3:7.1f} ms  loss {loss:.8f}  iterations {np.max(getattr(m, 'n_iter_', 1) or 1)}")

xp = np.random.default_rng(44).normal(size=(1_000_000, 30))
m = LogisticRegression().fit(xb, yb)
wall, cpu, _ = timed(lambda: m.predict(xp))
print(f"predict 1e6 x 30     wall {wall * 1e3:7.1f} ms  cpu {cpu * 1e3:7.1f} ms  {3e7 / cpu:.2e} multiply-adds/s (cpu)")
