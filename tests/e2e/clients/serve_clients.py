"""Drive a running `mlship serve` with clients that mlship did not write.

Run by the end-to-end test `serve::real_clients_talk_to_the_server` (tests/e2e/serve.rs) with the
Python of a virtualenv that `.ci/run` creates (see MLSHIP_SERVE_PYTHON there):

    python tests/e2e/clients/serve_clients.py --url http://127.0.0.1:PORT --model penguins \
        --data examples/data/penguins.csv

Checked with tritonclient[http] 2.x, requests 2.x and numpy 2.x (the versions pip installs are
printed first). It exits non-zero, with the reason, when a call fails or an answer is wrong.
"""

import argparse
import csv
import importlib.metadata
import json
import sys

import numpy as np
import requests
import tritonclient.http as triton


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def rows_of(path, columns, n):
    """The first n rows of the CSV with a value in every model column."""
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if all(row[c] not in ("", "NA") for c in columns):
                out.append({c: row[c] for c in columns})
            if len(out) == n:
                break
    return out


def typed(value, datatype):
    return float(value) if datatype == "FP64" else value


def triton_checks(url, model, data):
    host = url.split("://", 1)[-1]
    client = triton.InferenceServerClient(url=host)
    check(client.is_server_live(), "server not live")
    check(client.is_server_ready(), "server not ready")
    check(client.is_model_ready(model), "model not ready")
    meta = client.get_model_metadata(model)
    check(meta["name"] == model, f"metadata names {meta['name']}")
    columns = [(i["name"], i["datatype"]) for i in meta["inputs"]]
    outputs = {o["name"] for o in meta["outputs"]}
    check({"predict", "predict_proba"} <= outputs, f"outputs {outputs}")
    rows = rows_of(data, [c for c, _ in columns], 5)

    def inputs(binary):
        out = []
        for name, datatype in columns:
            if datatype == "FP64":
                arr = np.array([[float(r[name])] for r in rows], dtype=np.float64)
            else:
                arr = np.array([[r[name].encode()] for r in rows], dtype=np.object_)
            t = triton.InferInput(name, list(arr.shape), datatype)
            t.set_data_from_numpy(arr, binary_data=binary)
            out.append(t)
        return out

    # Defaults: binary inputs, binary outputs.
    result = client.infer(model, inputs(True))
    labels = result.as_numpy("predict")
    proba = result.as_numpy("predict_proba")
    check(labels is not None and len(labels) == len(rows), f"predict: {labels}")
    check(proba.shape == (len(rows), 3), f"predict_proba shape {proba.shape}")
    check(np.allclose(proba.sum(axis=1), 1.0), "probabilities do not sum to 1")
    first = [x.decode() if isinstance(x, bytes) else str(x) for x in labels.reshape(-1)]
    check(set(first) <= {"Adelie", "Chinstrap", "Gentoo"}, f"labels {first}")

    # JSON inputs and outputs, one output asked for, at the served version.
    version = meta["versions"][0]
    wanted = [triton.InferRequestedOutput("predict", binary_data=False)]
    result = client.infer(model, inputs(False), model_version=version, outputs=wanted)
    again = [x.decode() if isinstance(x, bytes) else str(x) for x in result.as_numpy("predict").reshape(-1)]
    check(again == first, f"JSON and binary answers differ: {again} vs {first}")
    check(result.as_numpy("predict_proba") is None, "an output that was not asked for came back")

    # A bad value is the client's fault, and the server says which column.
    bad = [t for t in inputs(True) if t.name() != "bill_length_mm"]
    text = triton.InferInput("bill_length_mm", [len(rows), 1], "BYTES")
    text.set_data_from_numpy(np.array([[b"long"]] * len(rows), dtype=np.object_))
    try:
        client.infer(model, bad + [text])
        fail("text in a numeric column was accepted")
    except triton.InferenceServerException as e:
        check("bill_length_mm" in str(e), f"the error does not name the column: {e}")
    return rows, first


def mlflow_checks(url, rows, expected):
    columns = list(rows[0].keys())
    numeric = {c for c in columns if all(_is_number(r[c]) for r in rows) and c != "year"}

    def value(r, c):
        return float(r[c]) if c in numeric else r[c]

    records = [{c: value(r, c) for c in columns} for r in rows]
    bodies = {
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": [[value(r, c) for c in columns] for r in rows]}},
        "dataframe_records": {"dataframe_records": records},
        "instances": {"instances": records},
        "inputs": {"inputs": {c: [value(r, c) for r in rows] for c in columns}},
    }
    for shape, body in bodies.items():
        r = requests.post(f"{url}/invocations", json=body, timeout=10)
        check(r.status_code == 200, f"{shape}: {r.status_code} {r.text}")
        got = r.json()["predictions"]
        check(got == expected, f"{shape}: {got} vs {expected}")
    text = ",".join(columns) + "\n" + "".join(",".join(r[c] for c in columns) + "\n" for r in rows)
    r = requests.post(f"{url}/invocations", data=text, headers={"Content-Type": "text/csv"}, timeout=10)
    check(r.status_code == 200 and r.json()["predictions"] == expected, f"csv: {r.status_code} {r.text}")

    bad = {"dataframe_records": [dict(records[0], bill_length_mm="long")]}
    r = requests.post(f"{url}/invocations", json=bad, timeout=10)
    check(r.status_code == 400, f"bad value: {r.status_code}")
    err = r.json()
    check(err.get("error_code") == "BAD_REQUEST", f"error shape {err}")
    check("bill_length_mm" in err.get("message", "") and "row 0" in err["message"], f"message {err}")
    r = requests.post(f"{url}/invocations", data="x", headers={"Content-Type": "text/plain"}, timeout=10)
    check(r.status_code == 415, f"text/plain: {r.status_code}")
    check(requests.get(f"{url}/ping", timeout=10).status_code == 200, "ping")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    args = p.parse_args()
    versions = {k: importlib.metadata.version(k) for k in ("tritonclient", "requests", "numpy")}
    print(json.dumps({"python": sys.version.split()[0], "versions": versions}))
    rows, labels = triton_checks(args.url, args.model, args.data)
    mlflow_checks(args.url, rows, labels)
    print("ok: tritonclient V2 calls and MLflow's four JSON shapes and CSV")


if __name__ == "__main__":
    main()
