//! The prediction log: every prediction as core's [`PredictionRecord`], appended by a writer
//! thread to `predictions/<model>/<version>/<YYYYMMDDHH>-<server>.jsonl` under the configured
//! root. Requests hand their batch and predictions over a bounded queue and never wait: when
//! the queue is full, the disk is full or a file cannot be written, the records are dropped and
//! counted. Retention removes files older than the age limit, then the oldest files while the
//! log is larger than the size limit.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use mlship_core::RawBatch;
use mlship_core::record::{PredictionRecord, log_path, value_to_json};
use mlship_core::traits::Predictions;

use crate::config::LogConfig;
use crate::error::{Result, ServeError};
use crate::metrics::LogFigures;

/// How often retention runs at the least.
const RETENTION_EVERY: Duration = Duration::from_mins(1);

/// One request's predictions, waiting to be written.
#[derive(Debug)]
pub struct LogEntry {
    /// The request's id.
    pub request_id: String,
    /// When it was served, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The served model's name.
    pub model: String,
    /// Its version.
    pub version: String,
    /// The decoded input.
    pub batch: RawBatch,
    /// The predictions.
    pub predictions: Predictions,
    /// Time spent serving the request, in microseconds.
    pub latency_us: u64,
}

impl LogEntry {
    fn rows(&self) -> usize {
        self.predictions.values.len()
    }

    /// The records of this entry, one per row.
    pub fn records(&self) -> impl Iterator<Item = PredictionRecord> + '_ {
        (0..self.rows()).map(move |row| PredictionRecord {
            request_id: self.request_id.clone(),
            row: row as u32,
            timestamp_ms: self.timestamp_ms,
            model: self.model.clone(),
            version: self.version.clone(),
            inputs: self
                .batch
                .columns()
                .iter()
                .map(|c| (c.name.clone(), value_to_json(c.value(row))))
                .collect(),
            prediction: self.predictions.values[row],
            label: self
                .predictions
                .labels
                .as_ref()
                .and_then(|l| l.get(row).cloned()),
            probabilities: self
                .predictions
                .probabilities
                .as_ref()
                .filter(|p| row < p.nrows())
                .map(|p| p.row(row).to_vec()),
            latency_us: self.latency_us,
        })
    }
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
    removed_files: AtomicU64,
}

/// The handle requests use to log predictions.
#[derive(Debug)]
pub struct PredictionLog {
    tx: Mutex<Option<SyncSender<LogEntry>>>,
    counters: Arc<Counters>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl PredictionLog {
    /// Starts the writer thread for a log under `config.root`.
    pub fn start(config: LogConfig) -> Result<Self> {
        mlship_core::record::check_path_component("server id", &config.server_id)
            .map_err(|e| ServeError::Startup(e.to_string()))?;
        let dir = config.root.join("predictions");
        std::fs::create_dir_all(&dir).map_err(|e| {
            ServeError::Startup(format!(
                "cannot create the prediction log folder {}: {e}\nhint: set MLSHIP_HOME to a writable folder, or pass --no-log",
                dir.display()
            ))
        })?;
        let (tx, rx) = sync_channel(config.queue.max(1));
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        let handle = std::thread::Builder::new()
            .name("mlship-prediction-log".into())
            .spawn(move || Writer::new(config, c).run(&rx))
            .map_err(|e| {
                ServeError::Startup(format!("cannot start the prediction log writer: {e}"))
            })?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            counters,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Queues an entry without waiting; when the queue is full its rows are dropped and counted.
    pub fn submit(&self, entry: LogEntry) {
        let rows = entry.rows() as u64;
        let sent = match self.tx.lock() {
            Ok(guard) => match guard.as_ref() {
                Some(tx) => match tx.try_send(entry) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
                },
                None => false,
            },
            Err(_) => false,
        };
        if !sent {
            self.counters.dropped.fetch_add(rows, Ordering::Relaxed);
        }
    }

    /// Records written, dropped, and files removed so far.
    pub fn figures(&self) -> LogFigures {
        LogFigures {
            written: self.counters.written.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            removed_files: self.counters.removed_files.load(Ordering::Relaxed),
        }
    }

    /// Writes what is queued, flushes and stops the writer.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for PredictionLog {
    fn drop(&mut self) {
        self.close();
    }
}

struct Writer {
    config: LogConfig,
    counters: Arc<Counters>,
    files: HashMap<PathBuf, BufWriter<File>>,
    bytes_since_retention: u64,
    last_retention: Option<Instant>,
}

impl Writer {
    fn new(config: LogConfig, counters: Arc<Counters>) -> Self {
        Self {
            config,
            counters,
            files: HashMap::new(),
            bytes_since_retention: 0,
            last_retention: None,
        }
    }

    fn run(mut self, rx: &Receiver<LogEntry>) {
        self.retention();
        loop {
            let first = match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(e) => Some(e),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Some(e) = first {
                self.write(&e);
                while let Ok(e) = rx.try_recv() {
                    self.write(&e);
                }
            }
            self.flush();
            let due = self
                .last_retention
                .is_none_or(|t| t.elapsed() >= RETENTION_EVERY)
                || self.bytes_since_retention >= self.config.max_bytes / 10;
            if due {
                self.retention();
            }
        }
        while let Ok(e) = rx.try_recv() {
            self.write(&e);
        }
        self.retention();
    }

    fn write(&mut self, entry: &LogEntry) {
        let mut written = 0u64;
        let total = entry.rows() as u64;
        let Ok(path) = log_path(
            &self.config.root,
            &entry.model,
            &entry.version,
            &self.config.server_id,
            entry.timestamp_ms,
        ) else {
            self.counters.dropped.fetch_add(total, Ordering::Relaxed);
            return;
        };
        let Some(file) = self.file(&path) else {
            self.counters.dropped.fetch_add(total, Ordering::Relaxed);
            return;
        };
        let mut line = Vec::with_capacity(256);
        let mut bytes = 0u64;
        for record in entry.records() {
            line.clear();
            if serde_json::to_writer(&mut line, &record).is_err() {
                continue;
            }
            line.push(b'\n');
            if file.write_all(&line).is_err() {
                break;
            }
            written += 1;
            bytes += line.len() as u64;
        }
        self.bytes_since_retention += bytes;
        self.counters.written.fetch_add(written, Ordering::Relaxed);
        self.counters
            .dropped
            .fetch_add(total - written, Ordering::Relaxed);
        if written < total {
            // A failed write leaves the buffer in an unknown state: reopen next time.
            self.files.remove(&path);
        }
    }

    fn file(&mut self, path: &Path) -> Option<&mut BufWriter<File>> {
        if !self.files.contains_key(path) {
            // Files of past hours are finished: keep only the current ones open.
            if self.files.len() > 64 {
                self.flush();
                self.files.clear();
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).ok()?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()?;
            self.files
                .insert(path.to_owned(), BufWriter::with_capacity(64 * 1024, f));
        }
        self.files.get_mut(path)
    }

    fn flush(&mut self) {
        let mut failed = Vec::new();
        for (p, f) in &mut self.files {
            if f.flush().is_err() {
                failed.push(p.clone());
            }
        }
        for p in failed {
            self.files.remove(&p);
        }
    }

    /// Removes files past the age limit, then the oldest while over the size limit.
    fn retention(&mut self) {
        self.last_retention = Some(Instant::now());
        self.bytes_since_retention = 0;
        self.flush();
        let mut files = log_files(&self.config.root.join("predictions"));
        let now = SystemTime::now();
        let mut removed = 0u64;
        files.retain(|(path, modified, _)| {
            let old = now
                .duration_since(*modified)
                .is_ok_and(|age| age > self.config.max_age);
            if old && std::fs::remove_file(path).is_ok() {
                self.files.remove(path);
                removed += 1;
                return false;
            }
            true
        });
        files.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut total: u64 = files.iter().map(|f| f.2).sum();
        for (path, _, len) in &files {
            if total <= self.config.max_bytes {
                break;
            }
            if std::fs::remove_file(path).is_ok() {
                self.files.remove(path);
                removed += 1;
                total -= len;
            }
        }
        self.counters
            .removed_files
            .fetch_add(removed, Ordering::Relaxed);
    }
}

/// Every `*.jsonl` file two levels below `dir` (`<model>/<version>/`), with its modification
/// time and size.
fn log_files(dir: &Path) -> Vec<(PathBuf, SystemTime, u64)> {
    let mut out = Vec::new();
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|it| {
                it.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    for model in subdirs(dir) {
        for version in subdirs(&model) {
            let Ok(entries) = std::fs::read_dir(&version) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "jsonl")
                    && let Ok(m) = e.metadata()
                {
                    out.push((p, m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlship_core::RawColumn;
    use mlship_core::record::read_jsonl;

    fn entry(id: &str, rows: usize) -> LogEntry {
        let xs: Vec<Option<f64>> = (0..rows).map(|i| Some(i as f64)).collect();
        LogEntry {
            request_id: id.into(),
            timestamp_ms: 1_700_000_000_000,
            model: "m".into(),
            version: "1".into(),
            batch: RawBatch::new(vec![RawColumn::numeric("x", xs)]).unwrap(),
            predictions: Predictions {
                values: (0..rows).map(|i| i as f64 * 2.0).collect(),
                labels: None,
                probabilities: None,
            },
            latency_us: 7,
        }
    }

    #[test]
    fn records_reach_the_file_monitoring_reads() {
        let dir = tempfile::tempdir().unwrap();
        let log = PredictionLog::start(LogConfig::new(dir.path(), "s1")).unwrap();
        log.submit(entry("r1", 3));
        log.submit(entry("r2", 1));
        log.close();
        let path = dir.path().join("predictions/m/1/2023111422-s1.jsonl");
        let read = read_jsonl(std::io::BufReader::new(File::open(&path).unwrap()), &path).unwrap();
        assert_eq!(read.records.len(), 4);
        assert_eq!(read.records[2].request_id, "r1");
        assert_eq!(read.records[2].prediction, 4.0);
        assert_eq!(read.records[2].inputs["x"], serde_json::json!(2.0));
        assert_eq!(
            log.figures(),
            LogFigures {
                written: 4,
                dropped: 0,
                removed_files: 0
            }
        );
        log.submit(entry("late", 2));
        assert_eq!(log.figures().dropped, 2);
    }

    #[test]
    fn retention_removes_old_then_oldest_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("predictions/m/1");
        std::fs::create_dir_all(&sub).unwrap();
        let old = sub.join("2020010100-s.jsonl");
        std::fs::write(&old, b"{}\n").unwrap();
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_hours(40 * 24))
            .unwrap();
        let mut cfg = LogConfig::new(dir.path(), "s");
        cfg.max_bytes = 600;
        let log = PredictionLog::start(cfg).unwrap();
        for i in 0..20 {
            let mut e = entry(&format!("r{i}"), 1);
            e.timestamp_ms += i64::from(i) * 3_600_000;
            log.submit(e);
        }
        log.close();
        assert!(!old.exists());
        let total: u64 = log_files(&dir.path().join("predictions"))
            .iter()
            .map(|f| f.2)
            .sum();
        assert!(total <= 600 + 200, "{total}");
        assert!(log.figures().removed_files >= 2, "{:?}", log.figures());
    }
}
