//! In-process tests of every route, error, limit and the hot reload, against a small predictor.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mlship_core::manifest::Manifest;
use mlship_core::traits::{Predictions, RawPredictor};
use mlship_core::{ColumnData, ColumnKind, ColumnSpec, RawBatch, Schema, Task};
use mlship_serve::app::router;
use mlship_serve::server::{reload_once, serve, start_state};
use mlship_serve::state::{AppState, LoadState};
use mlship_serve::{LogConfig, ModelSource, ServeConfig, ServedModel, VersionId};
use ndarray::Array2;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Predicts "yes" when x + offset > 0; `c` must be "a" or "b". Sleeps `delay` per request.
#[derive(Debug)]
struct Toy {
    schema: Schema,
    task: Task,
    offset: f64,
    delay: Duration,
}

impl RawPredictor for Toy {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn task(&self) -> &Task {
        &self.task
    }
    fn predict(&self, batch: &RawBatch) -> mlship_core::Result<Predictions> {
        std::thread::sleep(self.delay);
        let batch = self.schema.arrange(batch.clone());
        self.schema.validate(&batch)?;
        let ColumnData::Numeric(x) = &batch.columns()[0].data else {
            return Err(mlship_core::Error::invalid_data("x"));
        };
        let values: Vec<f64> = x
            .iter()
            .map(|v| f64::from(u8::from(v + self.offset > 0.0)))
            .collect();
        let labels = values
            .iter()
            .map(|&v| {
                if v > 0.0 {
                    "yes".to_owned()
                } else {
                    "no".to_owned()
                }
            })
            .collect();
        let probabilities = Array2::from_shape_fn((values.len(), 2), |(r, k)| {
            if (values[r] > 0.0) == (k == 1) {
                0.75
            } else {
                0.25
            }
        });
        Ok(Predictions {
            values,
            labels: Some(labels),
            probabilities: Some(probabilities),
        })
    }
}

fn schema() -> Schema {
    Schema::new(vec![
        ColumnSpec::new("x", ColumnKind::Numeric, false),
        ColumnSpec::new(
            "c",
            ColumnKind::Categorical {
                levels: vec!["a".into(), "b".into()],
                open: false,
            },
            true,
        ),
    ])
}

/// A source whose version is whatever `version` holds; loads fail while `fail` is set.
#[derive(Debug)]
struct TestSource {
    version: Mutex<String>,
    fail: AtomicBool,
    loads: AtomicU64,
    delay: Duration,
}

impl TestSource {
    fn new(version: &str) -> Arc<Self> {
        Self::slow(version, Duration::ZERO)
    }
    fn slow(version: &str, delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            version: Mutex::new(version.into()),
            fail: AtomicBool::new(false),
            loads: AtomicU64::new(0),
            delay,
        })
    }
    fn set(&self, v: &str) {
        *self.version.lock().unwrap() = v.into();
    }
}

impl ModelSource for TestSource {
    fn describe(&self) -> String {
        "test".into()
    }
    fn resolve(&self) -> mlship_core::Result<VersionId> {
        Ok(VersionId(self.version.lock().unwrap().clone()))
    }
    fn load(&self, version: &VersionId) -> mlship_core::Result<ServedModel> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        if self.fail.load(Ordering::Relaxed) {
            return Err(mlship_core::Error::Other("the bundle is corrupt".into()));
        }
        let offset = version.0.parse::<f64>().unwrap_or(0.0);
        Ok(ServedModel {
            predictor: Arc::new(Toy {
                schema: schema(),
                task: Task::Binary {
                    classes: vec!["no".into(), "yes".into()],
                },
                offset,
                delay: self.delay,
            }),
            explainer: None,
            version: version.0.clone(),
            manifest: Manifest::new("model"),
        })
    }
}

fn single() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn multi(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

fn state_with(config: ServeConfig, source: Arc<TestSource>) -> Arc<AppState> {
    start_state(config, vec![("toy".into(), source as Arc<dyn ModelSource>)]).unwrap()
}

fn state() -> Arc<AppState> {
    state_with(ServeConfig::default(), TestSource::new("1"))
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(st: &Arc<AppState>, req: Request<Body>) -> Reply {
    let r = router(Arc::clone(st)).oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(st: &Arc<AppState>, path: &str) -> Reply {
    call(st, Request::get(path).body(Body::empty()).unwrap()).await
}

async fn post(st: &Arc<AppState>, path: &str, ct: &str, body: impl Into<Body>) -> Reply {
    call(
        st,
        Request::post(path)
            .header("content-type", ct)
            .body(body.into())
            .unwrap(),
    )
    .await
}

async fn post_json(st: &Arc<AppState>, path: &str, body: &Value) -> Reply {
    post(st, path, "application/json", body.to_string()).await
}

fn v2_body() -> Value {
    json!({"id": "req-1", "inputs": [
        {"name": "x", "shape": [3], "datatype": "FP64", "data": [1.0, -2.0, 0.5]},
        {"name": "c", "shape": [3, 1], "datatype": "BYTES", "data": ["a", "b", "a"]}
    ]})
}

#[test]
fn metadata_health_and_version_routes() {
    single().block_on(async {
        let st = state();
        let r = get(&st, "/v2").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["extensions"], json!(["binary_tensor_data"]));
        assert_eq!(
            get(&st, "/v2/health/live").await.json(),
            json!({"live": true})
        );
        assert_eq!(
            get(&st, "/v2/health/ready").await.json(),
            json!({"ready": true})
        );
        let m = get(&st, "/v2/models/toy").await.json();
        assert_eq!(m["name"], "toy");
        assert_eq!(m["versions"], json!(["1"]));
        assert_eq!(
            m["inputs"],
            json!([{"name": "x", "datatype": "FP64", "shape": [-1]}, {"name": "c", "datatype": "BYTES", "shape": [-1]}])
        );
        assert_eq!(
            m["outputs"][0],
            json!({"name": "predict", "datatype": "BYTES", "shape": [-1]})
        );
        assert_eq!(
            m["outputs"][1],
            json!({"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]})
        );
        assert_eq!(get(&st, "/v2/models/toy/versions/1").await.json(), m);
        let r = get(&st, "/v2/models/toy/versions/7").await;
        assert_eq!(r.status, 404);
        let e = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            e.contains("version \"7\" is not served") && e.contains("serves version \"1\""),
            "{e}"
        );
        let r = get(&st, "/v2/models/nope").await;
        assert_eq!(r.status, 404);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("\"nope\" is not served here\nhint: this server serves toy")
        );
        assert_eq!(
            get(&st, "/v2/models/toy/ready").await.json(),
            json!({"name": "toy", "ready": true})
        );
        assert_eq!(
            get(&st, "/v2/models/toy/versions/1/ready").await.status,
            200
        );
        assert_eq!(
            get(&st, "/v2/models/toy/versions/2/ready").await.status,
            404
        );
        assert_eq!(get(&st, "/v2/models/nope/ready").await.status, 404);
        assert_eq!(get(&st, "/ping").await.status, 200);
        assert_eq!(get(&st, "/health").await.status, 200);
        assert_eq!(
            get(&st, "/version").await.text().trim(),
            env!("CARGO_PKG_VERSION")
        );
        let r = get(&st, "/nowhere").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json()["error_code"], "RESOURCE_DOES_NOT_EXIST");
        let r = get(&st, "/v2/nowhere").await;
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("no route for GET /v2/nowhere")
        );
        let r = post_json(&st, "/v2/models/toy/explain", &v2_body()).await;
        assert_eq!(r.status, 400);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("offers no explanations")
        );
    });
}

#[test]
fn v2_infer_json_tensor_and_binary() {
    single().block_on(async {
        let st = state();
        for path in ["/v2/models/toy/infer", "/v2/models/toy/versions/1/infer"] {
            let r = post_json(&st, path, &v2_body()).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let b = r.json();
            assert_eq!(b["model_name"], "toy");
            assert_eq!(b["model_version"], "1");
            assert_eq!(b["id"], "req-1");
            assert_eq!(
                b["outputs"][0],
                json!({"name": "predict", "datatype": "BYTES", "shape": [3], "data": ["yes", "no", "yes"]})
            );
            assert_eq!(b["outputs"][1]["shape"], json!([3, 2]));
            assert_eq!(
                b["outputs"][1]["data"],
                json!([0.25, 0.75, 0.75, 0.25, 0.25, 0.75])
            );
            assert_eq!(r.headers["x-request-id"], "req-1");
        }
        let r = post_json(&st, "/v2/models/toy/versions/9/infer", &v2_body()).await;
        assert_eq!(r.status, 404);

        // Only the output asked for, in binary.
        let mut body = v2_body();
        body["outputs"] = json!([{"name": "predict_proba", "parameters": {"binary_data": true}}]);
        let r = post_json(&st, "/v2/models/toy/infer", &body).await;
        assert_eq!(r.status, 200);
        let n: usize = r.headers["inference-header-content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let head: Value = serde_json::from_slice(&r.body[..n]).unwrap();
        assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], 48);
        let probs: Vec<f64> = r.body[n..]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(probs, [0.25, 0.75, 0.75, 0.25, 0.25, 0.75]);

        // Binary inputs, binary outputs by default (what tritonclient sends).
        let mut json_part = json!({"inputs": [
            {"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
            {"name": "c", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 10}}
        ], "parameters": {"binary_data_output": true}})
        .to_string()
        .into_bytes();
        let n = json_part.len();
        json_part.extend_from_slice(&1f32.to_le_bytes());
        json_part.extend_from_slice(&(-1f32).to_le_bytes());
        for s in ["a", "b"] {
            json_part.extend_from_slice(&1u32.to_le_bytes());
            json_part.extend_from_slice(s.as_bytes());
        }
        let req = Request::post("/v2/models/toy/infer")
            .header("inference-header-content-length", n.to_string())
            .header("content-type", "application/octet-stream")
            .body(Body::from(json_part))
            .unwrap();
        let r = call(&st, req).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let n: usize = r.headers["inference-header-content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let head: Value = serde_json::from_slice(&r.body[..n]).unwrap();
        assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], 13);
        assert_eq!(&r.body[n..n + 13], b"\x03\0\0\0yes\x02\0\0\0no");

        // One 2-D tensor in schema order (categories given as integers would not fit; all numeric here).
        let r = post_json(
            &st,
            "/v2/models/toy/infer",
            &json!({"inputs": [{"name": "t", "shape": [1, 2], "datatype": "FP64", "data": [[1, 2]]}]}),
        )
        .await;
        assert_eq!(r.status, 400);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("column \"c\" row 0: unknown level \"2\""),
            "{}",
            r.text()
        );
    });
}

#[test]
fn v2_errors_are_400_naming_column_and_row() {
    single().block_on(async {
        let st = state();
        for (body, needle) in [
            (
                json!({"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "c", "shape": [2], "datatype": "BYTES", "data": ["a", "zzz"]}]}),
                "column \"c\" row 1: unknown level \"zzz\"",
            ),
            (
                json!({"inputs": [{"name": "c", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}),
                "column \"x\" is missing",
            ),
            (
                json!({"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, null]}, {"name": "c", "shape": [2], "datatype": "BYTES", "data": ["a", "a"]}]}),
                "column \"x\" row 1: null is not allowed",
            ),
            (
                json!({"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [true]}]}),
                "datatype BOOL but the column is numeric",
            ),
            (
                json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "c", "shape": [1], "datatype": "BYTES", "data": ["a"]}], "outputs": [{"name": "shap"}]}),
                "output \"shap\" is not offered",
            ),
            (json!({"nothing": 1}), "not a V2 inference request"),
        ] {
            let r = post_json(&st, "/v2/models/toy/infer", &body).await;
            assert_eq!(r.status, 400, "{body}");
            let e = r.json()["error"].as_str().unwrap().to_owned();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        let r = post(&st, "/v2/models/toy/infer", "text/csv", "x\n1").await;
        assert_eq!(r.status, 415);
    });
}

#[test]
fn mlflow_shapes_csv_and_errors() {
    single().block_on(async {
        let st = state();
        let expected = json!({"predictions": ["yes", "no"]});
        for body in [
            json!({"dataframe_split": {"columns": ["x", "c"], "data": [[1, "a"], [-1, "b"]]}}),
            json!({"dataframe_records": [{"x": 1, "c": "a"}, {"x": -1, "c": "b"}]}),
            json!({"instances": [{"x": 1, "c": "a"}, {"x": -1, "c": "b"}]}),
            json!({"inputs": {"x": [1, -1], "c": ["a", "b"]}}),
        ] {
            let r = post_json(&st, "/invocations", &body).await;
            assert_eq!(r.status, 200, "{body}: {}", r.text());
            assert_eq!(r.json(), expected);
            assert!(r.headers.contains_key("x-request-id"));
        }
        let r = post(
            &st,
            "/invocations",
            "text/csv; charset=utf-8",
            "c,x\na,1\nb,-1\n",
        )
        .await;
        assert_eq!(r.json(), expected);
        let r = post(
            &st,
            "/invocations",
            "application/json; charset=utf-8",
            r#"{"instances": [[2, null]]}"#,
        )
        .await;
        assert_eq!(r.json(), json!({"predictions": ["yes"]}));

        let r = post_json(
            &st,
            "/invocations",
            &json!({"dataframe_records": [{"x": 1, "c": "a"}, {"x": "one", "c": "a"}]}),
        )
        .await;
        assert_eq!(r.status, 400);
        let b = r.json();
        assert_eq!(b["error_code"], "BAD_REQUEST");
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains("column \"x\" row 1: \"one\" is not a number"),
            "{b}"
        );
        let r = post_json(
            &st,
            "/invocations",
            &json!({"instances": [{"x": 1, "c": "q"}]}),
        )
        .await;
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("column \"c\" row 0: unknown level \"q\"")
        );
        let r = post(&st, "/invocations", "text/plain", "x").await;
        assert_eq!(r.status, 415);
        assert_eq!(r.json()["error_code"], "BAD_REQUEST");
        let r = call(
            &st,
            Request::post("/invocations")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 415);
        let r = post(&st, "/invocations", "application/json", "{not json").await;
        assert_eq!(r.status, 400);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON")
        );
    });
}

#[test]
fn limits_on_rows_depth_and_body() {
    single().block_on(async {
        let config = ServeConfig {
            max_rows: 2,
            max_json_depth: 8,
            max_body_bytes: 1000,
            ..ServeConfig::default()
        };
        let st = state_with(config, TestSource::new("1"));
        let r = post_json(
            &st,
            "/invocations",
            &json!({"instances": [[1, "a"], [1, "a"], [1, "a"]]}),
        )
        .await;
        assert_eq!(r.status, 413);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("3 rows, more than the limit of 2")
        );
        let deep = format!("{{\"instances\": {}1{}}}", "[".repeat(20), "]".repeat(20));
        let r = post(&st, "/invocations", "application/json", deep).await;
        assert_eq!(r.status, 400);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("nested 21 levels deep")
        );
        let big = format!("{{\"instances\": [[1, \"{}\"]]}}", "a".repeat(2000));
        let r = post(&st, "/invocations", "application/json", big.clone()).await;
        assert_eq!(r.status, 413);
        // A streamed body with no length is cut at the limit too.
        let chunks = chunked(big.as_bytes());
        let r = call(
            &st,
            Request::post("/v2/models/toy/infer").body(chunks).unwrap(),
        )
        .await;
        assert_eq!(r.status, 413);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("limit of 1000 bytes")
        );
    });
}

/// A body without a length, in 100-byte chunks.
fn chunked(bytes: &[u8]) -> Body {
    Body::new(ChunkBody(
        bytes
            .chunks(100)
            .map(axum::body::Bytes::copy_from_slice)
            .collect(),
    ))
}

struct ChunkBody(std::collections::VecDeque<axum::body::Bytes>);

impl hyper::body::Body for ChunkBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|c| Ok(hyper::body::Frame::data(c))))
    }
}

#[test]
fn bearer_token_on_all_routes_but_health() {
    single().block_on(async {
        let config = ServeConfig {
            auth_token: Some("s3cret".into()),
            ..ServeConfig::default()
        };
        let st = state_with(config, TestSource::new("1"));
        for path in ["/v2/health/live", "/v2/health/ready", "/ping", "/health"] {
            assert_eq!(get(&st, path).await.status, 200, "{path}");
        }
        for path in ["/v2", "/v2/models/toy", "/metrics", "/version"] {
            let r = get(&st, path).await;
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(r.headers["www-authenticate"], "Bearer");
        }
        let r = post_json(&st, "/invocations", &json!({"instances": [[1, "a"]]})).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error_code"], "UNAUTHENTICATED");
        let with = |token: &str| {
            Request::get("/v2/models/toy")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(call(&st, with("s3cret")).await.status, 200);
        assert_eq!(call(&st, with("s3cre")).await.status, 401);
        assert_eq!(call(&st, with("s3cret!")).await.status, 401);
    });
}

#[test]
fn non_loopback_bind_needs_a_token_or_insecure() {
    let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
    let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let e = mlship_serve::server::check_bind(&public, false, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refusing to listen on 0.0.0.0:8080") && e.contains("--insecure"),
        "{e}"
    );
    assert!(mlship_serve::server::check_bind(&public, true, false).is_ok());
    assert!(mlship_serve::server::check_bind(&public, false, true).is_ok());
    assert!(mlship_serve::server::check_bind(&local, false, false).is_ok());
}

#[test]
fn metrics_count_requests_rows_and_versions() {
    single().block_on(async {
        let st = state();
        post_json(
            &st,
            "/invocations",
            &json!({"instances": [[1, "a"], [2, "b"]]}),
        )
        .await;
        post_json(&st, "/invocations", &json!({"instances": [["x", "a"]]})).await;
        post_json(&st, "/v2/models/toy/infer", &v2_body()).await;
        let r = get(&st, "/metrics").await;
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let t = r.text();
        for needle in [
            "mlship_requests_total{route=\"/invocations\",status=\"200\"} 1",
            "mlship_requests_total{route=\"/invocations\",status=\"400\"} 1",
            "mlship_requests_total{route=\"/v2/models/{name}/infer\",status=\"200\"} 1",
            "mlship_request_duration_seconds_count{route=\"/invocations\"} 2",
            "mlship_rows_predicted_total{model=\"toy\"} 5",
            "mlship_model_info{model=\"toy\",version=\"1\"} 1",
            "mlship_model_reloads_total{model=\"toy\",outcome=\"success\"} 0",
        ] {
            assert!(t.contains(needle), "{needle}\n{t}");
        }
    });
}

#[test]
fn predictions_are_logged_with_request_ids() {
    single().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = ServeConfig {
            log: Some(LogConfig::new(dir.path(), "test")),
            ..ServeConfig::default()
        };
        let st = state_with(config, TestSource::new("1"));
        let req = Request::post("/invocations")
            .header("content-type", "application/json")
            .header("x-request-id", "client-42")
            .body(Body::from(
                json!({"instances": [[1, "a"], [-3, "b"]]}).to_string(),
            ))
            .unwrap();
        let r = call(&st, req).await;
        assert_eq!(r.headers["x-request-id"], "client-42");
        let r = post_json(&st, "/v2/models/toy/infer", &json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [5]}, {"name": "c", "shape": [1], "datatype": "BYTES", "data": [null]}]})).await;
        let generated = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(r.json()["id"], generated.as_str());
        st.log.as_ref().unwrap().close();
        let mut records = Vec::new();
        for e in walk(&dir.path().join("predictions/toy/1")) {
            let read = mlship_core::record::read_jsonl(
                std::io::BufReader::new(std::fs::File::open(&e).unwrap()),
                &e,
            )
            .unwrap();
            records.extend(read.records);
        }
        records.sort_by_key(|a| (a.request_id.clone(), a.row));
        assert_eq!(records.len(), 3);
        let client: Vec<_> = records
            .iter()
            .filter(|r| r.request_id == "client-42")
            .collect();
        assert_eq!(client.len(), 2);
        assert_eq!(client[1].row, 1);
        assert_eq!(client[1].inputs["x"], json!(-3.0));
        assert_eq!(client[1].inputs["c"], json!("b"));
        assert_eq!(client[1].label.as_deref(), Some("no"));
        assert_eq!(client[1].probabilities, Some(vec![0.75, 0.25]));
        assert!(
            records
                .iter()
                .any(|r| r.request_id == generated && r.inputs["c"].is_null())
        );
        let t = st.render_metrics();
        assert!(t.contains("mlship_prediction_log_records_total 3"), "{t}");
        assert!(t.contains("mlship_prediction_log_dropped_total 0"), "{t}");
    });
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn reload_swaps_keeps_old_on_failure_and_reports_state() {
    single().block_on(async {
        let source = TestSource::new("1");
        let st = state_with(ServeConfig::default(), Arc::clone(&source));
        let infer = json!({"instances": [[-1.5, "a"]]});
        assert_eq!(
            post_json(&st, "/invocations", &infer).await.json(),
            json!({"predictions": ["no"]})
        );
        source.set("2");
        reload_once(&st);
        assert_eq!(
            post_json(&st, "/invocations", &infer).await.json(),
            json!({"predictions": ["yes"]})
        );
        assert_eq!(
            get(&st, "/v2/models/toy").await.json()["versions"],
            json!(["2"])
        );
        assert_eq!(get(&st, "/v2/models/toy/versions/1").await.status, 404);
        let loads = source.loads.load(Ordering::Relaxed);
        reload_once(&st);
        assert_eq!(
            source.loads.load(Ordering::Relaxed),
            loads,
            "an unchanged version is not reloaded"
        );

        source.fail.store(true, Ordering::Relaxed);
        source.set("3");
        reload_once(&st);
        assert_eq!(
            get(&st, "/v2/models/toy").await.json()["versions"],
            json!(["2"])
        );
        assert_eq!(st.slots[0].state(), LoadState::Ready);
        let r = get(&st, "/v2/models/toy/ready").await;
        assert_eq!(r.status, 200);
        assert!(
            r.json()["last_error"]
                .as_str()
                .unwrap()
                .contains("the bundle is corrupt")
        );
        let t = st.render_metrics();
        assert!(
            t.contains("outcome=\"success\"} 1") && t.contains("outcome=\"failure\"} 1"),
            "{t}"
        );
        source.fail.store(false, Ordering::Relaxed);
        reload_once(&st);
        assert_eq!(
            get(&st, "/v2/models/toy").await.json()["versions"],
            json!(["3"])
        );

        // A first load that fails is a startup error.
        let bad = TestSource::new("1");
        bad.fail.store(true, Ordering::Relaxed);
        let e = start_state(
            ServeConfig::default(),
            vec![("bad".into(), bad as Arc<dyn ModelSource>)],
        )
        .unwrap_err();
        assert!(e.to_string().contains("the bundle is corrupt"), "{e}");
    });
}

// ---- over real sockets ----

async fn spawn_server(
    st: Arc<AppState>,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = tokio::spawn(async move {
        serve(listener, st, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx, h)
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the raw response.
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn http_post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn sockets_chunked_limit_header_timeout_and_shedding() {
    multi(2).block_on(async {
        let config = ServeConfig {
            max_body_bytes: 1000,
            header_timeout: Duration::from_millis(300),
            max_concurrent: 1,
            ..ServeConfig::default()
        };
        let st = state_with(config, TestSource::slow("1", Duration::from_millis(600)));
        let (addr, stop, handle) = spawn_server(st).await;
        tokio::task::spawn_blocking(move || {
            let (status, _) = raw(addr, b"GET /v2/health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            assert_eq!(status, 200);
            // Chunked body past the limit.
            let mut req = b"POST /invocations HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..20 {
                req.extend_from_slice(format!("64\r\n{}\r\n", " ".repeat(100)).as_bytes());
            }
            req.extend_from_slice(b"0\r\n\r\n");
            let (status, text) = raw(addr, &req);
            assert_eq!(status, 413, "{text}");
            // Headers that never finish are cut off.
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /v2 HTTP/1.1\r\nhost: x\r\n").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = Vec::new();
            let closed = s.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf);
            assert!(closed.is_ok(), "the server closes a connection whose headers never finish");
            assert!(buf.is_empty() || text.contains("408"), "{text}");
            // While one slow request runs, a second is shed with 503 and Retry-After.
            // 100 rows predict on the blocking pool, holding their permit.
            let rows: Vec<Value> = (0..100).map(|_| json!([1, "a"])).collect();
            let body = json!({"instances": rows}).to_string();
            let slow = std::thread::spawn(move || raw(addr, &http_post("/invocations", &body)));
            std::thread::sleep(Duration::from_millis(200));
            let (status, text) = raw(addr, &http_post("/invocations", r#"{"instances": [[1, "a"]]}"#));
            assert_eq!(status, 503, "{text}");
            assert!(text.to_ascii_lowercase().contains("retry-after: 1"), "{text}");
            assert!(text.contains("TEMPORARILY_UNAVAILABLE"), "{text}");
            let (status, _) = raw(addr, b"GET /v2/health/ready HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            assert_eq!(status, 200, "health is never shed");
            assert_eq!(slow.join().unwrap().0, 200);
        })
        .await
        .unwrap();
        stop.send(()).unwrap();
        handle.await.unwrap();
    });
}

#[test]
fn request_timeout_and_graceful_shutdown() {
    multi(2).block_on(async {
        let config = ServeConfig {
            request_timeout: Duration::from_millis(200),
            ..ServeConfig::default()
        };
        // 100 rows go to the blocking pool, so the timeout fires while the model works.
        let st = state_with(config, TestSource::slow("1", Duration::from_millis(800)));
        let (addr, stop, handle) = spawn_server(st).await;
        let rows: Vec<Value> = (0..100).map(|_| json!([1, "a"])).collect();
        let body = json!({"instances": rows}).to_string();
        let (status, text) =
            tokio::task::spawn_blocking(move || raw(addr, &http_post("/invocations", &body)))
                .await
                .unwrap();
        assert_eq!(status, 408, "{text}");
        stop.send(()).unwrap();
        handle.await.unwrap();

        // A request in flight when shutdown starts still gets its answer.
        let st = state_with(
            ServeConfig::default(),
            TestSource::slow("1", Duration::from_millis(500)),
        );
        let (addr, stop, handle) = spawn_server(st).await;
        let inflight = tokio::task::spawn_blocking(move || {
            raw(
                addr,
                &http_post("/invocations", r#"{"instances": [[1, "a"]]}"#),
            )
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop.send(()).unwrap();
        handle.await.unwrap();
        let (status, text) = inflight.await.unwrap();
        assert_eq!(status, 200, "{text}");
        assert!(
            TcpStream::connect(addr).is_err(),
            "the listener is closed after shutdown"
        );
    });
}

#[test]
fn no_request_fails_while_the_version_moves_under_load() {
    multi(4).block_on(async {
        let source = TestSource::new("1");
        let config = ServeConfig {
            reload_interval: Duration::from_millis(20),
            ..ServeConfig::default()
        };
        let st = state_with(config, Arc::clone(&source));
        let mut reloader = mlship_serve::server::Reloader::start(&st).unwrap();
        let (addr, stop, handle) = spawn_server(Arc::clone(&st)).await;
        let done = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..4 {
            let done = Arc::clone(&done);
            clients.push(std::thread::spawn(move || {
                let mut versions = std::collections::BTreeSet::new();
                let mut n = 0;
                while !done.load(Ordering::Relaxed) || n < 20 {
                    let (status, text) = raw(
                        addr,
                        &http_post("/v2/models/toy/infer", &v2_body().to_string()),
                    );
                    assert_eq!(status, 200, "{text}");
                    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
                    let v: Value = serde_json::from_str(body).unwrap();
                    versions.insert(v["model_version"].as_str().unwrap().to_owned());
                    n += 1;
                }
                versions
            }));
        }
        for v in ["2", "3"] {
            tokio::time::sleep(Duration::from_millis(300)).await;
            source.set(v);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        done.store(true, Ordering::Relaxed);
        let mut seen = std::collections::BTreeSet::new();
        for c in clients {
            seen.extend(c.join().unwrap());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["1", "2", "3"]);
        reloader.stop();
        stop.send(()).unwrap();
        handle.await.unwrap();
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_json_never_causes_a_500(body in arb_json(), path in prop::sample::select(vec![
        "/invocations", "/v2/models/toy/infer", "/v2/models/toy/versions/1/infer",
    ]), wrap in prop::sample::select(vec![None, Some("instances"), Some("dataframe_split"), Some("dataframe_records"), Some("inputs")])) {
        let st = STATE.with(Arc::clone);
        let body = match wrap {
            Some(k) if path == "/invocations" => json!({k: body}),
            Some(_) => json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": body}]}),
            None => body,
        };
        let rt = single();
        let r = rt.block_on(post_json(&st, path, &body));
        prop_assert!(r.status.is_client_error() || r.status == 200, "{} {}: {}", r.status, body, r.text());
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        prop_assert!(v.get("error").is_some() || v.get("message").is_some() || r.status == 200);
    }

    #[test]
    fn arbitrary_bytes_never_cause_a_500(bytes in prop::collection::vec(any::<u8>(), 0..200), header in prop::option::of(0usize..220)) {
        let st = STATE.with(Arc::clone);
        let rt = single();
        let mut req = Request::post("/v2/models/toy/infer");
        if let Some(h) = header {
            req = req.header("inference-header-content-length", h.to_string());
        }
        let r = rt.block_on(call(&st, req.body(Body::from(bytes.clone())).unwrap()));
        prop_assert!(r.status.is_client_error() || r.status == 200, "{}", r.status);
        let r = rt.block_on(post(&st, "/invocations", "text/csv", bytes));
        prop_assert!(r.status.is_client_error() || r.status == 200, "{}", r.status);
    }
}

thread_local! {
    static STATE: Arc<AppState> = state();
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            "x", "c", "a", "b", "FP64", "BYTES", "name", "shape", "datatype", "data", "1.5", ""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "x",
                    "c",
                    "name",
                    "shape",
                    "datatype",
                    "data",
                    "inputs",
                    "outputs",
                    "columns",
                    "parameters",
                    "binary_data_size",
                    "id"
                ])
                .prop_map(str::to_owned),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_openapi_document_lists_exactly_the_routes() {
    single().block_on(async {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for (p, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert((method.to_ascii_uppercase(), p.clone()));
            }
        }
        let routed: std::collections::BTreeSet<(String, String)> = mlship_serve::app::ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(documented, routed);
        // Every listed route is one the router answers.
        let st = state();
        for (method, p) in mlship_serve::app::ROUTES {
            let uri = p.replace("{name}", "toy").replace("{version}", "1");
            let req = Request::builder()
                .method(*method)
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = call(&st, req).await;
            assert!(
                !r.text().contains("no route for"),
                "{method} {uri}: {}",
                r.text()
            );
        }
    });
}
