//! The HTTP routes: Open Inference Protocol (V2), MLflow scoring, health and metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mlship_core::RawBatch;
use mlship_core::time::now_ms;
use mlship_core::traits::Predictions;
use serde_json::{Value, json};

use crate::decode;
use crate::error::{Result, ServeError};
use crate::predlog::LogEntry;
use crate::state::{AppState, LoadState, Loaded};
use crate::v2;

/// The request-id header, taken from the client when valid and always returned.
pub const REQUEST_ID: &str = "x-request-id";

/// Every route the server answers, as `(method, path pattern)`; the OpenAPI document is checked
/// against this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v2"),
    ("GET", "/v2/health/live"),
    ("GET", "/v2/health/ready"),
    ("GET", "/v2/models/{name}"),
    ("GET", "/v2/models/{name}/versions/{version}"),
    ("GET", "/v2/models/{name}/ready"),
    ("GET", "/v2/models/{name}/versions/{version}/ready"),
    ("POST", "/v2/models/{name}/infer"),
    ("POST", "/v2/models/{name}/versions/{version}/infer"),
    ("POST", "/v2/models/{name}/explain"),
    ("POST", "/v2/models/{name}/versions/{version}/explain"),
    ("POST", "/invocations"),
    ("GET", "/ping"),
    ("GET", "/health"),
    ("GET", "/version"),
    ("GET", "/metrics"),
];

/// Routes answered without a token and never shed.
fn is_health(path: &str) -> bool {
    matches!(
        path,
        "/v2/health/live" | "/v2/health/ready" | "/ping" | "/health"
    )
}

/// The server's router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(model_metadata_v),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(model_ready_v),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route("/v2/models/{name}/versions/{version}/infer", post(infer_v))
        .route("/v2/models/{name}/explain", post(explain))
        .route(
            "/v2/models/{name}/versions/{version}/explain",
            post(explain_v),
        )
        .route("/invocations", post(invocations))
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .with_state(state)
}

/// Whether a path speaks V2 (errors as `{"error"}`) rather than MLflow.
fn is_v2(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/")
}

/// An error as the protocol of `path` shapes it.
fn error_response(path: &str, e: &ServeError) -> Response {
    let body = if is_v2(path) {
        json!({"error": e.to_string()})
    } else {
        json!({"error_code": e.mlflow_code(), "message": e.to_string()})
    };
    let mut r = (e.status(), axum::Json(body)).into_response();
    if matches!(e, ServeError::Overloaded(_) | ServeError::NotReady(_)) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if matches!(e, ServeError::Unauthorized) {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

fn token_matches(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Metrics, authentication, load shedding and the request timeout, around every route.
async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = req.uri().path().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = guarded(&st, &path, req, next).await;
    st.metrics
        .observe(&route, response.status().as_u16(), start.elapsed());
    response
}

async fn guarded(st: &AppState, path: &str, req: Request, next: Next) -> Response {
    let health = is_health(path);
    if !health && let Some(token) = &st.config.auth_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|g| token_matches(g.as_bytes(), token.as_bytes())) {
            return error_response(path, &ServeError::Unauthorized);
        }
    }
    let _permit = if health || path == "/metrics" {
        None
    } else if let Ok(p) = Arc::clone(&st.limiter).try_acquire_owned() {
        Some(p)
    } else {
        st.metrics
            .shed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return error_response(path, &ServeError::Overloaded(st.config.max_concurrent));
    };
    st.metrics
        .in_flight
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let result = tokio::time::timeout(st.config.request_timeout, next.run(req)).await;
    st.metrics
        .in_flight
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    match result {
        Ok(r) => r,
        Err(_) => error_response(
            path,
            &ServeError::Timeout(st.config.request_timeout.as_millis()),
        ),
    }
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    error_response(
        path,
        &ServeError::NoRoute {
            method: method.to_string(),
            path: path.to_owned(),
        },
    )
}

/// Reads a body up to the configured limit (chunked bodies included).
async fn read_body(st: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes> {
    let limit = st.config.max_body_bytes;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(ServeError::PayloadTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ServeError::PayloadTooLarge { limit })
        }
        Err(e) => Err(ServeError::BadRequest(format!(
            "reading the request body failed: {e}"
        ))),
    }
}

/// The request id: the client's `X-Request-Id` when it is 1 to 128 visible characters, else
/// `fallback`, else a new one.
fn request_id(st: &AppState, headers: &HeaderMap, fallback: Option<&Value>) -> String {
    let ok = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| ok(s))
        .map(str::to_owned)
        .or_else(|| {
            fallback
                .and_then(Value::as_str)
                .filter(|s| ok(s))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| st.next_request_id())
}

fn with_request_id(mut r: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert(REQUEST_ID, v);
    }
    r
}

/// The model serving `name`, checking the version when one is given.
fn loaded(st: &AppState, name: &str, version: Option<&str>) -> Result<Arc<Loaded>> {
    let slot = st.slot(name)?;
    let Some(l) = slot.current() else {
        return Err(ServeError::NotReady(name.to_owned()));
    };
    if let Some(v) = version
        && v != l.model.version
    {
        return Err(ServeError::VersionNotFound {
            name: name.to_owned(),
            version: v.to_owned(),
            serving: l.model.version.clone(),
        });
    }
    Ok(l)
}

/// Predicts inline for small batches, on the blocking pool for large ones; a panic inside the
/// predictor becomes a 500, not a dead connection.
async fn predict(
    st: &AppState,
    l: &Arc<Loaded>,
    batch: RawBatch,
) -> Result<(RawBatch, Predictions)> {
    let run = |l: &Loaded, batch: &RawBatch| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            l.model.predictor.predict(batch)
        }))
        .map_err(|_| ServeError::Internal("the model failed while predicting".into()))?
        .map_err(ServeError::from_predict)
    };
    if batch.n_rows() <= st.config.inline_rows {
        let p = run(l, &batch)?;
        return Ok((batch, p));
    }
    let l = Arc::clone(l);
    tokio::task::spawn_blocking(move || {
        let p = run(&l, &batch);
        p.map(|p| (batch, p))
    })
    .await
    .map_err(|_| ServeError::Internal("the prediction task failed".into()))?
}

fn check_rows_predicted(batch: &RawBatch, p: &Predictions) -> Result<()> {
    if p.values.len() == batch.n_rows() {
        Ok(())
    } else {
        Err(ServeError::Internal(format!(
            "the model returned {} predictions for {} rows",
            p.values.len(),
            batch.n_rows()
        )))
    }
}

fn log_predictions(
    st: &AppState,
    l: &Loaded,
    name: &str,
    request_id: String,
    batch: RawBatch,
    p: Predictions,
    start: Instant,
) {
    st.metrics.add_rows(name, batch.n_rows());
    if let Some(log) = &st.log {
        log.submit(LogEntry {
            request_id,
            timestamp_ms: now_ms(),
            model: name.to_owned(),
            version: l.model.version.clone(),
            batch,
            predictions: p,
            latency_us: start.elapsed().as_micros() as u64,
        });
    }
}

// ---- V2 ----

async fn server_metadata(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "name": "mlship",
        "version": st.config.server_version,
        "extensions": ["binary_tensor_data"],
    }))
    .into_response()
}

async fn live() -> Response {
    axum::Json(json!({"live": true})).into_response()
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    let ok = st.all_ready();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(json!({"ready": ok}))).into_response()
}

fn metadata_of(st: &AppState, name: &str, version: Option<&str>) -> Response {
    match loaded(st, name, version) {
        Ok(l) => axum::Json(l.metadata.clone()).into_response(),
        Err(e) => error_response("/v2/", &e),
    }
}

async fn model_metadata(State(st): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    metadata_of(&st, &name, None)
}

async fn model_metadata_v(
    State(st): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
) -> Response {
    metadata_of(&st, &name, Some(&v))
}

fn ready_of(st: &AppState, name: &str, version: Option<&str>) -> Response {
    let slot = match st.slot(name) {
        Ok(s) => s,
        Err(e) => return error_response("/v2/", &e),
    };
    if let Err(e @ ServeError::VersionNotFound { .. }) = loaded(st, name, version) {
        return error_response("/v2/", &e);
    }
    let ok = slot.state() == LoadState::Ready;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({"name": name, "ready": ok});
    if let Some(e) = slot.last_error() {
        body["last_error"] = Value::from(e);
    }
    (status, axum::Json(body)).into_response()
}

async fn model_ready(State(st): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    ready_of(&st, &name, None)
}

async fn model_ready_v(
    State(st): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
) -> Response {
    ready_of(&st, &name, Some(&v))
}

fn check_v2_content_type(headers: &HeaderMap) -> Result<()> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let ct = ct.to_str().unwrap_or_default();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if matches!(
        essence.as_str(),
        "application/json" | "application/octet-stream" | ""
    ) {
        Ok(())
    } else {
        Err(ServeError::UnsupportedMediaType {
            found: ct.to_owned(),
            expected: "application/json (with the binary extension: application/octet-stream)"
                .into(),
        })
    }
}

async fn infer_inner(
    st: &AppState,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Response, String)> {
    let start = Instant::now();
    check_v2_content_type(headers)?;
    let l = loaded(st, name, version)?;
    let bytes = read_body(st, headers, body).await?;
    let header_length = headers
        .get(v2::HEADER_LENGTH)
        .map(|v| v.to_str().unwrap_or("?"));
    let (request, binary) = v2::parse_request(&bytes, header_length, st.config.max_json_depth)?;
    let id = request_id(st, headers, request.id.as_ref());
    let batch = v2::request_batch(
        l.model.predictor.schema(),
        &request,
        binary,
        st.config.max_rows,
    )?;
    let (batch, p) = predict(st, &l, batch).await?;
    check_rows_predicted(&batch, &p)?;
    let outputs = v2::outputs(l.model.predictor.task(), &p, &request)?;
    let echo = request.id.clone().or_else(|| Some(Value::from(id.clone())));
    let (body, json_len) = v2::response_body(name, &l.model.version, echo.as_ref(), &outputs);
    log_predictions(st, &l, name, id.clone(), batch, p, start);
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    if let Some(n) = json_len {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        h.insert(v2::HEADER_LENGTH, HeaderValue::from(n));
    } else {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok((r, id))
}

async fn infer_any(
    st: Arc<AppState>,
    name: String,
    version: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match infer_inner(&st, &name, version.as_deref(), &headers, body).await {
        Ok((r, id)) => with_request_id(r, &id),
        Err(e) => {
            let id = request_id(&st, &headers, None);
            with_request_id(error_response("/v2/", &e), &id)
        }
    }
}

async fn infer(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    infer_any(st, name, None, headers, body).await
}

async fn infer_v(
    State(st): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    infer_any(st, name, Some(v), headers, body).await
}

async fn explain_inner(
    st: &AppState,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    check_v2_content_type(headers)?;
    let l = loaded(st, name, version)?;
    let Some(explainer) = l.model.explainer.clone() else {
        return Err(ServeError::BadRequest(format!(
            "model {name:?} offers no explanations\nhint: use POST /v2/models/{name}/infer for predictions"
        )));
    };
    let bytes = read_body(st, headers, body).await?;
    let header_length = headers
        .get(v2::HEADER_LENGTH)
        .map(|v| v.to_str().unwrap_or("?"));
    let (request, binary) = v2::parse_request(&bytes, header_length, st.config.max_json_depth)?;
    let batch = v2::request_batch(
        l.model.predictor.schema(),
        &request,
        binary,
        st.config.max_rows,
    )?;
    let explanation = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| explainer.explain(&batch)))
            .map_err(|_| ServeError::Internal("the explainer failed".into()))?
            .map_err(ServeError::from_predict)
    })
    .await
    .map_err(|_| ServeError::Internal("the explanation task failed".into()))??;
    Ok(axum::Json(json!({
        "model_name": name,
        "model_version": l.model.version,
        "explanation": explanation,
    }))
    .into_response())
}

async fn explain(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    explain_inner(&st, &name, None, &headers, body)
        .await
        .unwrap_or_else(|e| error_response("/v2/", &e))
}

async fn explain_v(
    State(st): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    explain_inner(&st, &name, Some(&v), &headers, body)
        .await
        .unwrap_or_else(|e| error_response("/v2/", &e))
}

// ---- MLflow ----

async fn invocations_inner(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    id: &str,
) -> Result<Response> {
    let start = Instant::now();
    let slot = st
        .slots
        .first()
        .ok_or_else(|| ServeError::Internal("no model is served".into()))?;
    let name = slot.name().to_owned();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?").to_owned())
        .unwrap_or_default();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_json = match essence.as_str() {
        "application/json" => true,
        "text/csv" => false,
        _ => {
            return Err(ServeError::UnsupportedMediaType {
                found: if ct.is_empty() { "(none)".into() } else { ct },
                expected: "Content-Type: application/json or text/csv".into(),
            });
        }
    };
    let l = loaded(st, &name, None)?;
    let bytes = read_body(st, headers, body).await?;
    let schema = l.model.predictor.schema();
    let batch = if is_json {
        let value = decode::parse_json(&bytes, st.config.max_json_depth)?;
        decode::mlflow_json(schema, &value, st.config.max_rows)?
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ServeError::BadRequest("the CSV body is not UTF-8 text".into()))?;
        decode::csv(schema, text, st.config.max_rows)?
    };
    let (batch, p) = predict(st, &l, batch).await?;
    check_rows_predicted(&batch, &p)?;
    let predictions = v2::predicted(l.model.predictor.task(), &p).json();
    let body = serde_json::to_vec(&json!({"predictions": predictions}))
        .map_err(|e| ServeError::Internal(e.to_string()))?;
    log_predictions(st, &l, &name, id.to_owned(), batch, p, start);
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

async fn invocations(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let id = request_id(&st, &headers, None);
    let r = invocations_inner(&st, &headers, body, &id)
        .await
        .unwrap_or_else(|e| error_response("/invocations", &e));
    with_request_id(r, &id)
}

async fn ping(State(st): State<Arc<AppState>>) -> Response {
    if st.all_ready() {
        (StatusCode::OK, "\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn version(State(st): State<Arc<AppState>>) -> Response {
    format!("{}\n", st.config.server_version).into_response()
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let mut r = st.render_metrics().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
