"""Peer timings for `mlship data profile`: polars and pandas reading a CSV file and describing it.

Usage: python profile.py FILE [--repeats N] [--warmup N]   (prints one JSON object on stdout)

Timed, per tool, from opening the file to having the description in memory (interpreter
start-up and imports are not timed; the file is read once beforehand so the page cache is warm):
  * polars: pl.read_csv(FILE).describe()
  * pandas: pd.read_csv(FILE).describe(include="all")
Each tool runs `--warmup` untimed times first (default 1, as `cargo xtask bench` does for
mlship), then `--repeats` timed times; the median is reported with every raw time, the shape
read (a check that every tool read the same table) and the library versions. Thread pools keep
their defaults (one thread per logical CPU). A tool that is not installed is left out; one that
fails is reported under "errors" instead of stopping the others.

Output:
  {"python": "3.11.7",
   "versions": {"numpy": "...", "pandas": "...", "polars": "...", "pyarrow": "..."},
   "tasks": [{"tool": "polars", "peer": "polars read_csv + describe()", "seconds": 0.71,
              "raw": [...], "rows": 1000000, "columns": 20}, ...],
   "errors": [{"tool": "pandas", "error": "..."}]}
"""
import argparse
import gc
import importlib
import json
import statistics
import sys
import time


def timed(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    shape = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        shape = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, shape


def polars_profile(path):
    import polars as pl

    df = pl.read_csv(path)
    df.describe()
    return df.height, df.width


def pandas_profile(path):
    import pandas as pd

    df = pd.read_csv(path)
    df.describe(include="all")
    return df.shape


PEERS = [
    ("polars", "polars read_csv + describe()", polars_profile),
    ("pandas", 'pandas read_csv + describe(include="all")', pandas_profile),
]


def version(module):
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    if args.repeats < 1 or args.warmup < 0:
        ap.error("--repeats must be at least 1 and --warmup at least 0")
    with open(args.file, "rb") as f:
        while f.read(1 << 24):
            pass
    versions = {m: v for m in ("numpy", "pandas", "polars", "pyarrow") if (v := version(m))}
    out = {"python": sys.version.split()[0], "versions": versions, "tasks": [], "errors": []}
    for tool, label, fn in PEERS:
        if tool not in versions:
            continue
        try:
            med, raw, (rows, columns) = timed(lambda: fn(args.file), args.repeats, args.warmup)
        except Exception as e:  # report and go on with the other peers
            out["errors"].append({"tool": tool, "error": f"{type(e).__name__}: {e}"})
            continue
        out["tasks"].append(
            {"tool": tool, "peer": label, "seconds": med, "raw": raw, "rows": rows, "columns": columns}
        )
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
