//! What the server holds: one atomically swappable model per served name, the limits, the
//! metrics and the prediction log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use mlship_core::time::{now_ms, rfc3339_ms};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::config::ServeConfig;
use crate::error::{Result, ServeError};
use crate::metrics::{Metrics, ModelFigures};
use crate::predlog::PredictionLog;
use crate::source::{ModelSource, ServedModel, VersionId};
use crate::v2::{datatype_of, predicted_datatype};

/// Writes one line to the server's log (standard error), stamped with the UTC time.
pub fn log_line(message: &str) {
    eprintln!("{} mlship serve: {message}", rfc3339_ms(now_ms()));
}

/// Whether a model has been loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadState {
    /// The first load has not finished.
    Loading,
    /// A model is being served (a later failed load keeps it serving).
    Ready,
    /// The first load failed; nothing is served under this name.
    Failed,
}

/// A loaded model with what the server precomputes for it.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub model: ServedModel,
    /// What the source resolved when it was loaded.
    pub revision: VersionId,
    /// The V2 metadata document.
    pub metadata: Value,
}

#[derive(Debug)]
struct SlotStatus {
    state: LoadState,
    last_error: Option<String>,
    reloads: u64,
    failures: u64,
}

/// One served name: its source and the model it currently serves.
#[derive(Debug)]
pub struct ModelSlot {
    name: String,
    source: Arc<dyn ModelSource>,
    current: ArcSwapOption<Loaded>,
    status: Mutex<SlotStatus>,
}

impl ModelSlot {
    /// A slot with nothing loaded yet.
    pub fn new(name: impl Into<String>, source: Arc<dyn ModelSource>) -> Self {
        Self {
            name: name.into(),
            source,
            current: ArcSwapOption::empty(),
            status: Mutex::new(SlotStatus {
                state: LoadState::Loading,
                last_error: None,
                reloads: 0,
                failures: 0,
            }),
        }
    }

    /// The served name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model being served; requests keep the `Arc` they took even if a reload swaps it.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.current.load_full()
    }

    /// The load state.
    pub fn state(&self) -> LoadState {
        self.status.lock().map_or(LoadState::Failed, |s| s.state)
    }

    /// The last load error, if the last load failed.
    pub fn last_error(&self) -> Option<String> {
        self.status.lock().ok().and_then(|s| s.last_error.clone())
    }

    /// Figures for `/metrics`.
    pub fn figures(&self) -> ModelFigures {
        let (ready, reloads, failures) = self.status.lock().map_or((false, 0, 0), |s| {
            (s.state == LoadState::Ready, s.reloads, s.failures)
        });
        ModelFigures {
            name: self.name.clone(),
            version: self.current().map(|l| l.model.version.clone()),
            ready,
            reloads,
            reload_failures: failures,
        }
    }

    /// Asks the source which version to serve and, if it changed, loads, verifies and swaps it
    /// in. Returns the new version when a swap happened. A failure keeps the old model serving.
    pub fn refresh(&self) -> Result<Option<String>, String> {
        let result = self.try_refresh();
        if let Ok(mut s) = self.status.lock() {
            match &result {
                Ok(swapped) => {
                    if s.state == LoadState::Ready && swapped.is_some() {
                        s.reloads += 1;
                    }
                    s.state = LoadState::Ready;
                    s.last_error = None;
                }
                Err(e) => {
                    s.failures += 1;
                    s.last_error = Some(e.clone());
                    if s.state == LoadState::Loading {
                        s.state = LoadState::Failed;
                    }
                }
            }
        }
        result
    }

    fn try_refresh(&self) -> Result<Option<String>, String> {
        let revision = self
            .source
            .resolve()
            .map_err(|e| format!("model {:?} ({}): {e}", self.name, self.source.describe()))?;
        if self.current().is_some_and(|l| l.revision == revision) {
            return Ok(None);
        }
        let model = self.source.load(&revision).map_err(|e| {
            format!(
                "model {:?}: loading {} version {revision} failed: {e}",
                self.name,
                self.source.describe()
            )
        })?;
        verify(&self.name, &model)?;
        let version = model.version.clone();
        let metadata = metadata(&self.name, &model);
        self.current.store(Some(Arc::new(Loaded {
            model,
            revision,
            metadata,
        })));
        Ok(Some(version))
    }
}

/// Checks a freshly loaded model before it is swapped in.
fn verify(name: &str, model: &ServedModel) -> Result<(), String> {
    mlship_core::record::check_path_component("model version", &model.version)
        .map_err(|e| format!("model {name:?}: {e}"))?;
    let task = model.predictor.task();
    if task.is_classification() && task.n_classes() < 2 {
        return Err(format!(
            "model {name:?}: a classifier with fewer than two classes"
        ));
    }
    Ok(())
}

/// The V2 model metadata document of a model.
fn metadata(name: &str, model: &ServedModel) -> Value {
    let schema = model.predictor.schema();
    let task = model.predictor.task();
    let inputs: Vec<Value> = schema
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "datatype": datatype_of(&c.kind), "shape": [-1]}))
        .collect();
    let mut outputs =
        vec![json!({"name": "predict", "datatype": predicted_datatype(task), "shape": [-1]})];
    if task.is_classification() {
        outputs.push(
            json!({"name": "predict_proba", "datatype": "FP64", "shape": [-1, task.n_classes()]}),
        );
    }
    let columns: Vec<Value> = schema
        .columns
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    json!({
        "name": name,
        "versions": [model.version],
        "platform": "mlship",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "task": task.name(),
            "classes": task.classes(),
            "columns": columns,
            "explain": model.explainer.is_some(),
        },
    })
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The settings.
    pub config: ServeConfig,
    /// The served models, in the order given (the first answers `/invocations`).
    pub slots: Vec<Arc<ModelSlot>>,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// The prediction log, when enabled.
    pub log: Option<PredictionLog>,
    /// Permits for requests in flight.
    pub(crate) limiter: Arc<Semaphore>,
    ids: AtomicU64,
    id_prefix: String,
}

impl AppState {
    /// State over `slots`; the models are not loaded here (see [`ModelSlot::refresh`]).
    pub fn new(
        config: ServeConfig,
        slots: Vec<Arc<ModelSlot>>,
        log: Option<PredictionLog>,
    ) -> Result<Self> {
        if slots.is_empty() {
            return Err(ServeError::Startup(
                "no model to serve\nhint: pass --model URI".into(),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &slots {
            if !names.insert(s.name()) {
                return Err(ServeError::Startup(format!(
                    "two models are served under the name {:?}\nhint: name them with --model NAME=URI",
                    s.name()
                )));
            }
        }
        let limiter = Arc::new(Semaphore::new(config.max_concurrent.max(1)));
        Ok(Self {
            config,
            slots,
            metrics: Metrics::default(),
            log,
            limiter,
            ids: AtomicU64::new(0),
            id_prefix: format!("{:x}{:x}", now_ms(), std::process::id()),
        })
    }

    /// The slot serving `name`.
    pub fn slot(&self, name: &str) -> Result<&Arc<ModelSlot>> {
        self.slots
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| ServeError::ModelNotFound {
                name: name.to_owned(),
                served: self.slots.iter().map(|s| s.name().to_owned()).collect(),
            })
    }

    /// Whether every model is ready.
    pub fn all_ready(&self) -> bool {
        self.slots.iter().all(|s| s.state() == LoadState::Ready)
    }

    /// A new request id, unique within this process.
    pub fn next_request_id(&self) -> String {
        format!(
            "{}-{}",
            self.id_prefix,
            self.ids.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The `/metrics` text.
    pub fn render_metrics(&self) -> String {
        let models: Vec<ModelFigures> = self.slots.iter().map(|s| s.figures()).collect();
        self.metrics
            .render(&models, self.log.as_ref().map(PredictionLog::figures))
    }
}
