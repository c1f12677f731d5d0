//! The Open Inference Protocol (KServe V2) inference request and response, with the binary
//! tensor data extension.
//!
//! A tabular request sends one input per column (shape `[n]` or `[n, 1]`; any datatype that
//! fits the column's kind, BYTES for categories and datetime text) or one 2-D tensor `[n, k]`
//! holding the `k` schema columns in schema order. With the binary extension, the header
//! `Inference-Header-Content-Length` gives the length of the JSON part and each binary input
//! says its byte size in `parameters.binary_data_size`; its data follow the JSON in input order.

use std::borrow::Cow;

use mlship_core::traits::Predictions;
use mlship_core::{ColumnKind, RawBatch, Schema, Task};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::decode::{Cell, ColumnBuilder, finish, json_cell, parse_json};
use crate::error::{Result, ServeError};

/// The binary extension's header: the length of the JSON part of a body.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

/// An inference request's JSON part.
#[derive(Debug, Deserialize)]
pub(crate) struct InferRequest {
    /// The client's request id, echoed in the response.
    #[serde(default)]
    pub id: Option<Value>,
    /// Request parameters (`binary_data_output`).
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// The input tensors.
    pub inputs: Vec<InputTensor>,
    /// The outputs asked for; all when absent.
    #[serde(default)]
    pub outputs: Option<Vec<RequestedOutput>>,
}

/// One input tensor.
#[derive(Debug, Deserialize)]
pub(crate) struct InputTensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// One output asked for.
#[derive(Debug, Deserialize)]
pub(crate) struct RequestedOutput {
    /// Its name.
    pub name: String,
    /// Its parameters (`binary_data`).
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// The V2 datatype a schema column is described with.
pub(crate) fn datatype_of(kind: &ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "FP64",
        ColumnKind::Boolean => "BOOL",
        ColumnKind::Categorical { .. } | ColumnKind::Datetime { .. } => "BYTES",
    }
}

/// The size in bytes of one element of a fixed-size datatype.
fn element_size(datatype: &str) -> Option<usize> {
    Some(match datatype {
        "BOOL" | "UINT8" | "INT8" => 1,
        "UINT16" | "INT16" | "FP16" => 2,
        "UINT32" | "INT32" | "FP32" => 4,
        "UINT64" | "INT64" | "FP64" => 8,
        _ => return None,
    })
}

fn is_integer(datatype: &str) -> bool {
    datatype.starts_with("INT") || datatype.starts_with("UINT")
}

/// Whether values of `datatype` can fill a column of `kind`.
fn fits(datatype: &str, kind: &ColumnKind) -> bool {
    match kind {
        ColumnKind::Numeric => is_integer(datatype) || datatype.starts_with("FP"),
        ColumnKind::Boolean => datatype == "BOOL" || is_integer(datatype),
        ColumnKind::Categorical { .. } => datatype == "BYTES" || is_integer(datatype),
        ColumnKind::Datetime { .. } => datatype == "BYTES" || datatype == "INT64",
    }
}

fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Decodes the elements of a binary tensor.
fn binary_cells<'a>(
    name: &str,
    datatype: &str,
    bytes: &'a [u8],
    count: usize,
) -> Result<Vec<Cell<'a>>> {
    let wrong = |detail: String| {
        ServeError::BadRequest(format!(
            "input {name:?}: {detail}\nhint: check the tensor's shape, datatype and binary_data_size"
        ))
    };
    if datatype == "BYTES" {
        let mut out = Vec::with_capacity(count.min(bytes.len() / 4 + 1));
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                return Err(wrong("a BYTES element is cut short".into()));
            };
            let len = u32::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(wrong(format!(
                    "a BYTES element declares {len} bytes but {} remain",
                    tail.len()
                )));
            }
            let (s, tail) = tail.split_at(len);
            let s = std::str::from_utf8(s)
                .map_err(|_| wrong("a BYTES element is not UTF-8 text".into()))?;
            out.push(Cell::Str(Cow::Borrowed(s)));
            rest = tail;
        }
        if out.len() != count {
            return Err(wrong(format!(
                "it holds {} BYTES elements, its shape says {count}",
                out.len()
            )));
        }
        return Ok(out);
    }
    let size =
        element_size(datatype).ok_or_else(|| wrong(format!("unknown datatype {datatype:?}")))?;
    if bytes.len() != size * count {
        return Err(wrong(format!(
            "{} bytes of binary data for {count} {datatype} elements ({} bytes expected)",
            bytes.len(),
            size * count
        )));
    }
    let cells = bytes
        .chunks_exact(size)
        .map(|b| {
            let mut w = [0u8; 8];
            w[..size].copy_from_slice(b);
            let u = u64::from_le_bytes(w);
            match datatype {
                "BOOL" => Cell::Bool(b[0] != 0),
                "UINT8" | "UINT16" | "UINT32" | "INT64" => Cell::Int(u as i64),
                "UINT64" => i64::try_from(u).map_or(Cell::Num(u as f64), Cell::Int),
                "INT8" => Cell::Int(i64::from(b[0] as i8)),
                "INT16" => Cell::Int(i64::from(u as u16 as i16)),
                "INT32" => Cell::Int(i64::from(u as u32 as i32)),
                "FP16" => Cell::Num(half_to_f64(u as u16)),
                "FP32" => Cell::Num(f64::from(f32::from_bits(u as u32))),
                _ => Cell::Num(f64::from_bits(u)),
            }
        })
        .collect();
    Ok(cells)
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
        other => out.push(other),
    }
}

/// Splits a body into the request and the binary data following its JSON part.
pub(crate) fn parse_request<'a>(
    body: &'a [u8],
    header_length: Option<&str>,
    max_depth: usize,
) -> Result<(InferRequest, &'a [u8])> {
    let (json_part, binary) = match header_length {
        None => (body, &[][..]),
        Some(text) => {
            let n: usize = text.trim().parse().map_err(|_| {
                ServeError::BadRequest(format!(
                    "the {HEADER_LENGTH} header {text:?} is not a byte count"
                ))
            })?;
            if n > body.len() {
                return Err(ServeError::BadRequest(format!(
                    "the {HEADER_LENGTH} header says {n} bytes but the body has {}",
                    body.len()
                )));
            }
            body.split_at(n)
        }
    };
    let value = parse_json(json_part, max_depth)?;
    let request: InferRequest = serde_json::from_value(value).map_err(|e| {
        ServeError::BadRequest(format!(
            "the body is not a V2 inference request: {e}\nhint: send {{\"inputs\": [{{\"name\", \"shape\", \"datatype\", \"data\"}}]}}"
        ))
    })?;
    Ok((request, binary))
}

/// One input's elements, from JSON or from its slice of the binary data.
fn cells<'a>(t: &'a InputTensor, binary: &mut &'a [u8]) -> Result<(Vec<Cell<'a>>, usize)> {
    let mut count: usize = 1;
    for &d in &t.shape {
        let d = usize::try_from(d).map_err(|_| {
            ServeError::BadRequest(format!(
                "input {:?} has a negative dimension in shape {:?}",
                t.name, t.shape
            ))
        })?;
        count = count.checked_mul(d).ok_or_else(|| {
            ServeError::BadRequest(format!(
                "input {:?} has an absurd shape {:?}",
                t.name, t.shape
            ))
        })?;
    }
    if let Some(size) = t.parameters.get("binary_data_size") {
        let size = size
            .as_u64()
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| {
                ServeError::BadRequest(format!(
                    "input {:?}: binary_data_size {size} is not a byte count",
                    t.name
                ))
            })?;
        if size > binary.len() {
            return Err(ServeError::BadRequest(format!(
                "input {:?} declares {size} bytes of binary data but {} remain in the body",
                t.name,
                binary.len()
            )));
        }
        let (mine, rest) = binary.split_at(size);
        *binary = rest;
        return Ok((binary_cells(&t.name, &t.datatype, mine, count)?, count));
    }
    let Some(data) = &t.data else {
        return Err(ServeError::BadRequest(format!(
            "input {:?} has neither data nor parameters.binary_data_size",
            t.name
        )));
    };
    let mut flat = Vec::new();
    flatten(data, &mut flat);
    if flat.len() != count {
        return Err(ServeError::BadRequest(format!(
            "input {:?} holds {} values but its shape {:?} says {count}",
            t.name,
            flat.len(),
            t.shape
        )));
    }
    let cells = flat
        .into_iter()
        .enumerate()
        .map(|(i, v)| json_cell(v, &t.name, i))
        .collect::<Result<Vec<_>>>()?;
    Ok((cells, count))
}

/// The raw batch of a V2 request.
pub(crate) fn request_batch(
    schema: &Schema,
    request: &InferRequest,
    binary: &[u8],
    max_rows: usize,
) -> Result<RawBatch> {
    let mut binary = binary;
    if let Some(t) = request
        .inputs
        .iter()
        .find(|t| t.shape.iter().any(|&d| d < 0))
    {
        return Err(ServeError::BadRequest(format!(
            "input {:?} has a negative dimension in shape {:?}",
            t.name, t.shape
        )));
    }
    let names = schema.names();
    let k = schema.columns.len();
    if let [t] = request.inputs.as_slice()
        && t.shape.len() == 2
        && t.shape[1] == k as i64
        && (k > 1 || schema.column(&t.name).is_none())
    {
        let n = usize::try_from(t.shape[0]).unwrap_or(0);
        check_rows(n, max_rows)?;
        if t.datatype == "BYTES" {
            return Err(ServeError::BadRequest(format!(
                "input {:?}: a whole-table tensor must be numeric (FP64)\nhint: send categories as one BYTES input per column",
                t.name
            )));
        }
        let (cells, _) = cells(t, &mut binary)?;
        let mut bs: Vec<ColumnBuilder<'_>> = schema
            .columns
            .iter()
            .map(|c| ColumnBuilder::new(c, n))
            .collect();
        for (i, cell) in cells.iter().enumerate() {
            bs[i % k].push(cell, i / k)?;
        }
        return finish(bs, n);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut columns: Vec<(usize, Vec<Cell<'_>>)> = Vec::with_capacity(request.inputs.len());
    let mut n_rows: Option<(usize, &str)> = None;
    for t in &request.inputs {
        let Some((position, spec)) = schema.column(&t.name) else {
            return Err(ServeError::BadRequest(format!(
                "input {:?} is not a column of the model\nhint: send one input per column ({}), or one 2-D FP64 tensor of shape [n, {k}] in that order",
                t.name,
                names.join(", ")
            )));
        };
        if !seen.insert(position) {
            return Err(ServeError::BadRequest(format!(
                "input {:?} appears twice",
                t.name
            )));
        }
        let n = match t.shape.as_slice() {
            [n] | [n, 1] => usize::try_from(*n).unwrap_or(usize::MAX),
            _ => {
                return Err(ServeError::BadRequest(format!(
                    "input {:?} has shape {:?}\nhint: a column input has shape [n] or [n, 1]; a whole table is one 2-D tensor [n, {k}] in the order {}",
                    t.name,
                    t.shape,
                    names.join(", ")
                )));
            }
        };
        check_rows(n, max_rows)?;
        if !fits(&t.datatype, &spec.kind) {
            return Err(ServeError::BadRequest(format!(
                "input {:?} has datatype {} but the column is {}\nhint: send it as {}",
                t.name,
                t.datatype,
                spec.kind.name(),
                datatype_of(&spec.kind)
            )));
        }
        match n_rows {
            None => n_rows = Some((n, &t.name)),
            Some((m, first)) if m != n => {
                return Err(ServeError::BadRequest(format!(
                    "input {:?} has {n} rows but input {first:?} has {m}",
                    t.name
                )));
            }
            Some(_) => {}
        }
        let (cells, _) = cells(t, &mut binary)?;
        columns.push((position, cells));
    }
    columns.sort_by_key(|(p, _)| *p);
    let n = n_rows.map_or(0, |(n, _)| n);
    let mut bs = Vec::with_capacity(columns.len());
    for (position, cells) in &columns {
        let mut b = ColumnBuilder::new(&schema.columns[*position], n);
        for (row, cell) in cells.iter().enumerate() {
            b.push(cell, row)?;
        }
        bs.push(b);
    }
    finish(bs, n)
}

fn check_rows(n: usize, max_rows: usize) -> Result<()> {
    if n > max_rows {
        Err(ServeError::TooManyRows {
            rows: n,
            limit: max_rows,
        })
    } else {
        Ok(())
    }
}

/// The values of an output tensor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutData {
    /// FP64 values.
    F64(Vec<f64>),
    /// INT64 values.
    I64(Vec<i64>),
    /// BYTES values.
    Bytes(Vec<String>),
}

impl OutData {
    fn datatype(&self) -> &'static str {
        match self {
            Self::F64(_) => "FP64",
            Self::I64(_) => "INT64",
            Self::Bytes(_) => "BYTES",
        }
    }

    /// The values as JSON (non-finite numbers as null).
    pub(crate) fn json(&self) -> Vec<Value> {
        match self {
            Self::F64(v) => v
                .iter()
                .map(|&x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
                .collect(),
            Self::I64(v) => v.iter().map(|&x| Value::from(x)).collect(),
            Self::Bytes(v) => v.iter().map(|s| Value::from(s.as_str())).collect(),
        }
    }

    fn binary(&self) -> Vec<u8> {
        match self {
            Self::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::Bytes(v) => {
                let mut out = Vec::new();
                for s in v {
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                out
            }
        }
    }
}

/// The `predict` output: class labels (INT64 when every label is an integer, else BYTES) for
/// classifiers, values for regression.
pub(crate) fn predicted(task: &Task, p: &Predictions) -> OutData {
    let Some(labels) = &p.labels else {
        return OutData::F64(p.values.clone());
    };
    let ints: Option<Vec<i64>> = task
        .classes()
        .iter()
        .map(|c| c.trim().parse::<i64>().ok())
        .collect();
    match ints {
        Some(ints) => OutData::I64(
            p.values
                .iter()
                .map(|&v| ints.get(v as usize).copied().unwrap_or_default())
                .collect(),
        ),
        None => OutData::Bytes(labels.clone()),
    }
}

/// The datatype of the `predict` output of a model with this task.
pub(crate) fn predicted_datatype(task: &Task) -> &'static str {
    if !task.is_classification() {
        "FP64"
    } else if task
        .classes()
        .iter()
        .all(|c| c.trim().parse::<i64>().is_ok())
    {
        "INT64"
    } else {
        "BYTES"
    }
}

/// One output tensor of a response.
#[derive(Debug)]
pub(crate) struct Output {
    name: &'static str,
    shape: Vec<usize>,
    data: OutData,
    binary: bool,
}

/// The outputs a request asked for (all by default), each in JSON or binary form.
pub(crate) fn outputs(task: &Task, p: &Predictions, request: &InferRequest) -> Result<Vec<Output>> {
    let n = p.values.len();
    let default_binary = request
        .parameters
        .get("binary_data_output")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut available: Vec<(&'static str, Vec<usize>, OutData)> =
        vec![("predict", vec![n], predicted(task, p))];
    if let Some(proba) = &p.probabilities {
        available.push((
            "predict_proba",
            vec![proba.nrows(), proba.ncols()],
            OutData::F64(proba.iter().copied().collect()),
        ));
    }
    let Some(wanted) = &request.outputs else {
        return Ok(available
            .into_iter()
            .map(|(name, shape, data)| Output {
                name,
                shape,
                data,
                binary: default_binary,
            })
            .collect());
    };
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let Some(i) = available.iter().position(|(name, ..)| *name == w.name) else {
            return Err(ServeError::BadRequest(format!(
                "output {:?} is not offered by this model\nhint: ask for {}",
                w.name,
                available
                    .iter()
                    .map(|(n, ..)| *n)
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        };
        let (name, shape, data) = available[i].clone();
        let binary = w
            .parameters
            .get("binary_data")
            .and_then(Value::as_bool)
            .unwrap_or(default_binary);
        out.push(Output {
            name,
            shape,
            data,
            binary,
        });
    }
    Ok(out)
}

/// The response body: JSON alone, or JSON followed by binary outputs (then the second value
/// is the JSON part's length, for the `Inference-Header-Content-Length` header).
pub(crate) fn response_body(
    model: &str,
    version: &str,
    id: Option<&Value>,
    outputs: &[Output],
) -> (Vec<u8>, Option<usize>) {
    let mut binary = Vec::new();
    let json_outputs: Vec<Value> = outputs
        .iter()
        .map(|o| {
            let mut t = json!({"name": o.name, "datatype": o.data.datatype(), "shape": o.shape});
            if o.binary {
                let bytes = o.data.binary();
                t["parameters"] = json!({"binary_data_size": bytes.len()});
                binary.extend_from_slice(&bytes);
            } else {
                t["data"] = Value::Array(o.data.json());
            }
            t
        })
        .collect();
    let mut body = json!({"model_name": model, "model_version": version, "outputs": json_outputs});
    if let Some(id) = id {
        body["id"] = id.clone();
    }
    let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
    if outputs.iter().any(|o| o.binary) {
        let n = bytes.len();
        bytes.extend_from_slice(&binary);
        (bytes, Some(n))
    } else {
        (bytes, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlship_core::ColumnSpec;
    use mlship_core::batch::RawValue;

    fn schema() -> Schema {
        Schema::new(vec![
            ColumnSpec::new("x", ColumnKind::Numeric, true),
            ColumnSpec::new(
                "c",
                ColumnKind::Categorical {
                    levels: vec!["a".into()],
                    open: true,
                },
                true,
            ),
        ])
    }

    fn batch(body: &[u8], header: Option<&str>) -> Result<RawBatch> {
        let (r, bin) = parse_request(body, header, 64)?;
        request_batch(&schema(), &r, bin, 100)
    }

    #[test]
    fn column_inputs_tensor_and_binary_agree() {
        let by_column = batch(
            br#"{"inputs": [{"name": "c", "shape": [2, 1], "datatype": "BYTES", "data": ["a", "b"]},
                            {"name": "x", "shape": [2], "datatype": "FP32", "data": [1.5, 2]}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(by_column.names().collect::<Vec<_>>(), ["x", "c"]);
        assert_eq!(by_column.columns()[0].value(1), RawValue::Number(2.0));
        assert_eq!(by_column.columns()[1].value(1), RawValue::Str("b"));

        let mut body = br#"{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
                                      {"name": "c", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 10}}]}"#
            .to_vec();
        let n = body.len().to_string();
        body.extend_from_slice(&1.5f32.to_le_bytes());
        body.extend_from_slice(&2f32.to_le_bytes());
        for s in ["a", "b"] {
            body.extend_from_slice(&1u32.to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        assert_eq!(batch(&body, Some(&n)).unwrap(), by_column);

        let s2 = Schema::new(vec![
            ColumnSpec::new("x", ColumnKind::Numeric, true),
            ColumnSpec::new("y", ColumnKind::Numeric, true),
        ]);
        let (r, bin) = parse_request(br#"{"inputs": [{"name": "t", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [3, 4]]}]}"#, None, 64).unwrap();
        let b = request_batch(&s2, &r, bin, 100).unwrap();
        assert_eq!(b.columns()[1].value(0), RawValue::Number(2.0));
        assert_eq!(b.columns()[0].value(1), RawValue::Number(3.0));
    }

    #[test]
    fn bad_tensors_are_named() {
        for (body, header, needle) in [
            (&br#"{"inputs": [{"name": "z", "shape": [1], "datatype": "FP64", "data": [1]}]}"#[..], None, "input \"z\" is not a column"),
            (br#"{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1]}]}"#, None, "holds 1 values but its shape [2] says 2"),
            (br#"{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["1"]}]}"#, None, "datatype BYTES but the column is numeric"),
            (br#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "parameters": {"binary_data_size": 8}}]}"#, Some("5"), "not valid JSON"),
            (br#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "parameters": {"binary_data_size": 8}}]}xx"#, Some("100"), "declares 8 bytes of binary data but 2 remain"),
            (br#"{"inputs": 3}"#, None, "is not a V2 inference request"),
            (br#"{"inputs": [{"name": "x", "shape": [-1], "datatype": "FP64", "data": []}]}"#, None, "negative dimension"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 2, 3], "datatype": "FP64", "data": [1,2,3,4,5,6]}]}"#, None, "has shape [1, 2, 3]"),
            (br#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "c", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}"#, None, "has 2 rows but input \"x\" has 1"),
            (br#"{"inputs": []"#, None, "not valid JSON"),
            (br"{}", Some("x"), "is not a byte count"),
            (br"{}", Some("99"), "says 99 bytes but the body has 2"),
        ] {
            let e = batch(body, header).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn half_floats_and_integers_decode() {
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
        assert_eq!(half_to_f64(0x0001), 2f64.powi(-24));
        assert!(half_to_f64(0x7e00).is_nan());
        let b = (-3i16).to_le_bytes();
        let cells = binary_cells("x", "INT16", &b, 1).unwrap();
        assert_eq!(cells, [Cell::Int(-3)]);
        let b = u64::MAX.to_le_bytes();
        let cells = binary_cells("x", "UINT64", &b, 1).unwrap();
        assert_eq!(cells, [Cell::Num(u64::MAX as f64)]);
    }
}
