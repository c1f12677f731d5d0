"""TreeSHAP benchmark, peer side: shap's TreeExplainer and LightGBM's own TreeSHAP.

Regenerate / rerun (about a minute on 2 cores):

    python crates/mlship-explain/benches/tree_shap_peer.py \
        --data $MLSHIP_BENCH_DATA/binary_200k.csv --out /tmp/tree-shap-bench
    cargo run --release -p mlship-explain --example tree_shap_bench -- /tmp/tree-shap-bench

Versions used for docs/benchmarks.md: Python 3.11, numpy 2.4.6, pandas 3.1.1, lightgbm 4.7.0,
shap 0.51.0 (0.54 needs Python 3.12), threadpoolctl 3.8.0.

It trains the benchmark model of `bench/peers.py` (LightGBM, 100 trees of at most 31 leaves on
the first 160,000 rows of `binary_200k.csv`: 30 numeric columns plus 3 categorical columns as
ordinal codes), times `shap.TreeExplainer(model).shap_values(X)` and `predict(X,
pred_contrib=True)` on the first 10,000 test rows with 1 and 2 threads, and writes into
`--out`:

- `model.json`: the same model in mlship's tree view (`TreeEnsemble` serialised with serde),
- `x.csv`: the rows explained (empty field = missing),
- `peer.json`: the peer timings (median wall and CPU seconds of `--repeats` runs after a
  warm-up) and LightGBM's raw margins.

CPU seconds are reported beside wall time because a shared machine's load inflates wall time;
with one thread, CPU time is the work done.
"""

import argparse
import json
import pathlib
import statistics
import time

import numpy as np
import pandas as pd

NUM = [f"f{i:02d}" for i in range(30)]
CAT = ["cat_color", "cat_region", "cat_segment"]


def tree_matrix(part, train):
    cols = [part[NUM].to_numpy(dtype=np.float64)]
    for c in CAT:
        levels = sorted(train[c].dropna().unique())
        codes = pd.Categorical(part[c], categories=levels).codes.astype(np.float64)
        codes[codes < 0] = np.nan
        cols.append(codes[:, None])
    return np.hstack(cols)


def export(booster, n_features):
    """LightGBM's dump as mlship's tree view: nodes in preorder, children after parents."""
    trees = []
    for info in booster.dump_model()["tree_info"]:
        nodes, leaves = [], []

        def visit(t):
            at = len(nodes)
            nodes.append(None)
            if "leaf_value" in t:
                nodes[at] = {"cover": float(t.get("leaf_count", 0)),
                             "kind": {"leaf": {"index": len(leaves)}}}
                leaves.append(float(t["leaf_value"]))
                return at
            assert t["decision_type"] == "<=", t["decision_type"]
            thr = float(t["threshold"])
            if t["missing_type"] == "NaN":
                default_left = bool(t["default_left"])
            elif t["missing_type"] == "None":
                # LightGBM compares a missing value as 0.0.
                default_left = 0.0 <= thr
            else:
                raise SystemExit("missing_type Zero is not expressible in the tree view")
            left = visit(t["left_child"])
            right = visit(t["right_child"])
            nodes[at] = {"cover": float(t["internal_count"]),
                         "kind": {"split": {"feature": int(t["split_feature"]),
                                            "rule": {"threshold": thr},
                                            "default_left": default_left,
                                            "left": left, "right": right}}}
            return at

        visit(info["tree_structure"])
        trees.append({"nodes": nodes, "leaf_values": leaves, "output": None})
    return {"trees": trees, "n_features": n_features, "n_outputs": 1, "base_score": [0.0],
            "aggregation": "sum", "link": "logit"}


def timed(fn, repeats):
    """Median wall and CPU seconds (CPU: all threads of the process) after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"median": statistics.median(wall), "cpu_median": statistics.median(cpu),
            "all": wall, "cpu_all": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import lightgbm as lgb
    import shap
    from threadpoolctl import threadpool_limits

    df = pd.read_csv(args.data)
    n_tr = int(len(df) * 0.8)
    tr, te = df.iloc[:n_tr], df.iloc[n_tr:]
    x_tr, x = tree_matrix(tr, tr), tree_matrix(te, tr)[:10_000]
    model = lgb.LGBMClassifier(n_estimators=100, random_state=0, verbose=-1)
    model.fit(x_tr, tr["target"].to_numpy())
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps(export(model.booster_, x.shape[1])))
    pd.DataFrame(x).to_csv(out / "x.csv", index=False, header=False, na_rep="",
                           float_format="%.17g")
    margin = model.predict(x, raw_score=True)
    results = {"rows": x.shape[0], "trees": 100, "max_leaves": 31,
               "versions": {"lightgbm": lgb.__version__, "shap": shap.__version__,
                            "numpy": np.__version__, "pandas": pd.__version__},
               "margin": margin.tolist(), "timings": {}}
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            model.set_params(n_jobs=threads)

            def run_shap():
                ex = shap.TreeExplainer(model)
                return ex.shap_values(x)

            results["timings"][f"shap.TreeExplainer threads={threads}"] = timed(run_shap, args.repeats)
            results["timings"][f"lightgbm pred_contrib threads={threads}"] = timed(
                lambda: model.predict(x, pred_contrib=True), args.repeats)
    (out / "peer.json").write_text(json.dumps(results))
    for k, v in results["timings"].items():
        print(f"{k}: median {v['median']:.3f} s wall, {v['cpu_median']:.3f} s CPU")


if __name__ == "__main__":
    main()
