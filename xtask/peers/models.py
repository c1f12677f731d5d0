"""Peer timings for the preprocess, linear, gbdt, forest and predict tasks of `cargo xtask bench`.

Usage: python models.py TASK --data DIR [--repeats N] [--warmup N] [--threads N]
(prints one JSON object on stdout; TASK is one of the functions in TASKS below).

Each task reads the files of `cargo xtask datagen` in DIR (untimed, except `preprocess`, whose
CSV read is part of the work timed), uses the fixed split of the datasets (the first 80 % of the
rows train, the last 20 % test) and times only the operation named in its label with
`time.perf_counter()`: `--warmup` untimed runs first (default 1), then `--repeats` timed runs
(default 5); the median is reported with every raw time and quality measured on the test rows.
`--threads` caps every thread pool (threadpoolctl) and is passed as `n_jobs` where a model takes
one; the caller also sets OMP_NUM_THREADS and friends before Python starts.

Feature matrices are built as in the peer baselines of the shared benchmark kit: linear models
see the 30 numeric columns of binary_200k mean-imputed and standardised (fitted on train,
untimed); tree models see the 30 numeric columns with NaN left in plus the 3 categoricals as
ordinal codes (levels sorted, fitted on train, missing = NaN).

Output:
  {"python": "3.11.7", "versions": {...},
   "tasks": [{"tool": "lightgbm", "peer": "lightgbm LGBMClassifier(100) fit", "seconds": 2.5,
              "raw": [...], "quality": {"roc_auc": 0.978, ...}, "threads": 2}, ...],
   "errors": [{"tool": "...", "error": "..."}]}
"""
import argparse
import gc
import importlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path

SEED = 20240601
BIN_NUM = [f"f{i:02d}" for i in range(30)]
BIN_CAT = ["cat_color", "cat_region", "cat_segment"]
REG_NUM = [f"x{i:02d}" for i in range(20)]
THROUGHPUT_NUM = [f"f{i:02d}" for i in range(14)] + ["i00", "i01"]
THROUGHPUT_CAT = ["s00"]


def timed(fn, repeats, warmup):
    """Runs `fn` `warmup` times untimed, then `repeats` times timed; returns (median, raw, last)."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def split(df):
    n_train = int(len(df) * 0.8)
    return df.iloc[:n_train], df.iloc[n_train:]


def classifier_quality(p1, y):
    from sklearn.metrics import log_loss, roc_auc_score

    return {
        "roc_auc": float(roc_auc_score(y, p1)),
        "log_loss": float(log_loss(y, p1, labels=[0, 1])),
    }


def binary_frames(data):
    import pandas as pd

    df = pd.read_csv(data / "binary_200k.csv")
    train, test = split(df)
    return train, test


def linear_matrices(train, test):
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    imputer = SimpleImputer(strategy="mean").fit(train[BIN_NUM])
    scaler = StandardScaler().fit(imputer.transform(train[BIN_NUM]))
    return (
        scaler.transform(imputer.transform(train[BIN_NUM])),
        scaler.transform(imputer.transform(test[BIN_NUM])),
    )


def tree_matrix(part, train):
    import numpy as np
    import pandas as pd

    columns = [part[BIN_NUM].to_numpy(dtype=np.float64)]
    for c in BIN_CAT:
        levels = sorted(train[c].dropna().unique())
        codes = pd.Categorical(part[c], categories=levels).codes.astype(np.float64)
        codes[codes < 0] = np.nan
        columns.append(codes[:, None])
    return np.hstack(columns)


def t_preprocess(args, add):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    path = args.data / "throughput_1m.csv"

    def run():
        df = pd.read_csv(path)
        ct = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()),
             THROUGHPUT_NUM),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             THROUGHPUT_CAT),
        ])
        return ct.fit_transform(df)

    med, raw, out = timed(run, args.repeats, args.warmup)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    add("sklearn", "pandas read_csv + sklearn ColumnTransformer(SimpleImputer+StandardScaler | "
        "SimpleImputer+OneHotEncoder).fit_transform", med, raw,
        {"rows": out.shape[0], "features": out.shape[1], "peak_rss_mib": round(rss, 1)})


def t_logistic(args, add):
    from sklearn.linear_model import LogisticRegression

    train, test = binary_frames(args.data)
    x_train, x_test = linear_matrices(train, test)
    y_train, y_test = train["target"].to_numpy(), test["target"].to_numpy()
    med, raw, model = timed(
        lambda: LogisticRegression(solver="lbfgs", C=1.0, max_iter=1000).fit(x_train, y_train),
        args.repeats, args.warmup)
    q = classifier_quality(model.predict_proba(x_test)[:, 1], y_test)
    q["n_iter"] = int(model.n_iter_[0])
    add("sklearn", "sklearn LogisticRegression(lbfgs, C=1) fit", med, raw, q)


def regression_matrices(data):
    import pandas as pd

    train, test = split(pd.read_csv(data / "regression_200k.csv"))
    return (train[REG_NUM].to_numpy(), train["target"].to_numpy(),
            test[REG_NUM].to_numpy(), test["target"].to_numpy())


def t_ridge(args, add):
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    x_train, y_train, x_test, y_test = regression_matrices(args.data)
    med, raw, model = timed(lambda: Ridge(alpha=1.0).fit(x_train, y_train),
                            args.repeats, args.warmup)
    add("sklearn", "sklearn Ridge(alpha=1) fit", med, raw,
        {"r2": float(r2_score(y_test, model.predict(x_test)))})


def t_lasso(args, add):
    from sklearn.linear_model import Lasso
    from sklearn.metrics import r2_score

    x_train, y_train, x_test, y_test = regression_matrices(args.data)
    med, raw, model = timed(lambda: Lasso(alpha=0.1, tol=1e-4).fit(x_train, y_train),
                            args.repeats, args.warmup)
    add("sklearn", "sklearn Lasso(alpha=0.1, tol=1e-4) fit", med, raw,
        {"r2": float(r2_score(y_test, model.predict(x_test))), "n_iter": int(model.n_iter_)})


def lgbm(threads):
    import lightgbm as lgb

    return lgb.LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255,
                              n_jobs=threads, random_state=SEED, verbose=-1)


def t_gbdt(args, add):
    from sklearn.ensemble import HistGradientBoostingClassifier

    train, test = binary_frames(args.data)
    x_train, x_test = tree_matrix(train, train), tree_matrix(test, train)
    y_train, y_test = train["target"].to_numpy(), test["target"].to_numpy()
    if version("lightgbm"):
        med, raw, model = timed(lambda: lgbm(args.threads).fit(x_train, y_train),
                                args.repeats, args.warmup)
        add("lightgbm", "lightgbm LGBMClassifier(100 rounds, 31 leaves) fit", med, raw,
            classifier_quality(model.predict_proba(x_test)[:, 1], y_test))
    med, raw, model = timed(
        lambda: HistGradientBoostingClassifier(
            max_iter=100, max_leaf_nodes=31, learning_rate=0.1, max_bins=255,
            early_stopping=False, random_state=SEED).fit(x_train, y_train),
        args.repeats, args.warmup)
    add("sklearn", "sklearn HistGradientBoostingClassifier(100, 31 leaves) fit", med, raw,
        classifier_quality(model.predict_proba(x_test)[:, 1], y_test))


def t_forest(args, add):
    from sklearn.ensemble import RandomForestClassifier

    train, test = binary_frames(args.data)
    x_train = tree_matrix(train, train)[:50_000]
    y_train = train["target"].to_numpy()[:50_000]
    x_test, y_test = tree_matrix(test, train), test["target"].to_numpy()
    med, raw, model = timed(
        lambda: RandomForestClassifier(n_estimators=100, n_jobs=args.threads,
                                       random_state=SEED).fit(x_train, y_train),
        args.repeats, args.warmup)
    add("sklearn", f"sklearn RandomForestClassifier(100, n_jobs={args.threads}) fit", med, raw,
        classifier_quality(model.predict_proba(x_test)[:, 1], y_test))


def t_predict(args, add):
    import numpy as np

    train, test = binary_frames(args.data)
    x_train = tree_matrix(train, train)
    y_train = train["target"].to_numpy()
    model = lgbm(args.threads).fit(x_train, y_train)
    # The 200,000 rows five times over: the file `cargo xtask bench` gives mlship.
    x_all = np.vstack([x_train, tree_matrix(test, train)])
    x = np.tile(x_all, (5, 1))
    med, raw, p = timed(lambda: model.predict_proba(x), args.repeats, args.warmup)
    add("lightgbm", f"lightgbm predict_proba({x.shape[0]:,} rows)", med, raw,
        {"rows": int(p.shape[0]), "rows_per_s": round(x.shape[0] / med)})


TASKS = {
    "preprocess": t_preprocess,
    "logistic": t_logistic,
    "ridge": t_ridge,
    "lasso": t_lasso,
    "gbdt": t_gbdt,
    "forest": t_forest,
    "predict": t_predict,
}


def version(module):
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=sorted(TASKS))
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("--repeats and --threads must be at least 1 and --warmup at least 0")
    modules = ("numpy", "pandas", "sklearn", "lightgbm", "threadpoolctl")
    versions = {m.replace("sklearn", "scikit-learn"): v for m in modules if (v := version(m))}
    out = {"python": sys.version.split()[0], "versions": versions, "tasks": [], "errors": []}

    def add(tool, label, seconds, raw, quality):
        out["tasks"].append({"tool": tool, "peer": label, "seconds": seconds, "raw": raw,
                             "quality": quality, "threads": args.threads})

    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads):
            TASKS[args.task](args, add)
    except Exception as e:  # report it; the harness shows the message
        out["errors"].append({"tool": args.task, "error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
