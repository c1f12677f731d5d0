//! `mlship serve`: the prediction server over bundle files and registered models.
//!
//! The server (mlship-serve) is handed one [`BundleSource`] per `--model`: a bundle file, which
//! is reloaded when its checksum changes, or a registry URI (`NAME@ALIAS`, `NAME/VERSION`,
//! `NAME@latest`), which is reloaded when the alias moves.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::Args;
use mlship_core::bundle::Envelope;
use mlship_core::manifest::Manifest;
use mlship_core::record::check_path_component;
use mlship_registry::{HOME_ENV, ModelUri};
use mlship_serve::server::check_bind;
use mlship_serve::{LogConfig, ModelSource, ServeConfig, ServedModel, VersionId};

use crate::error::{Error, Result};
use crate::model::BundlePredictor;
use crate::registry::RegistryOpts;

/// `mlship serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A model to serve, as [NAME=]URI: a bundle file, or NAME@ALIAS, NAME/VERSION, NAME@latest
    /// in the registry (repeat to serve several). The name defaults to the registered name, else
    /// the bundle's manifest name, else the file's stem.
    #[arg(long = "model", value_name = "[NAME=]URI", required = true)]
    pub models: Vec<String>,
    /// The address to listen on. Anything but a loopback address needs --auth-token-file or
    /// --insecure.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The port to listen on (0 picks a free one; the log says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    #[command(flatten)]
    pub registry: RegistryOpts,
    /// A file holding the bearer token every route but health requires
    /// (`Authorization: Bearer <token>`).
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// Allow listening on a non-loopback address without a token.
    #[arg(long)]
    pub insecure: bool,
    /// Seconds between checks for a new version (alias moved, file changed).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub reload_interval: f64,
    /// Largest request body in bytes (default 8 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Most rows in one request (default 100000).
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
    /// Deepest JSON nesting accepted (default 64).
    #[arg(long, value_name = "N")]
    pub max_json_depth: Option<usize>,
    /// Most requests handled at once; more are answered 503 with Retry-After (default 256).
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Seconds a request may take, from headers to response (default 30).
    #[arg(long, value_name = "SECONDS")]
    pub request_timeout: Option<f64>,
    /// Seconds a client may take to send its headers (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub header_timeout: Option<f64>,
    /// Do not write the prediction log.
    #[arg(long)]
    pub no_log: bool,
    /// The most bytes the prediction log keeps; the oldest files go first (default 1 GiB).
    #[arg(long, value_name = "BYTES")]
    pub log_max_bytes: Option<u64>,
    /// Days the prediction log keeps a file (default 30).
    #[arg(long, value_name = "DAYS")]
    pub log_max_age_days: Option<u64>,
    /// This server's id in prediction log file names (default: host name and port).
    #[arg(long, value_name = "ID")]
    pub server_id: Option<String>,
}

/// Yields the model a URI names, for the server's first load and its reloads.
#[derive(Debug)]
pub struct BundleSource {
    uri: ModelUri,
    registry: RegistryOpts,
    /// The last checksum of a bundle file, with the modification time and length it was
    /// computed for, so an unchanged file is not hashed on every poll.
    file_state: Mutex<Option<(SystemTime, u64, String)>>,
}

fn to_core(e: Error) -> mlship_core::Error {
    match e {
        Error::Core(e) => e,
        other => mlship_core::Error::Other(other.to_string()),
    }
}

impl BundleSource {
    /// A source for `uri`, opening the registry `registry` names when the URI needs it.
    pub fn new(uri: ModelUri, registry: RegistryOpts) -> Self {
        Self {
            uri,
            registry,
            file_state: Mutex::new(None),
        }
    }

    fn served(bytes: &[u8], origin: &str, version: String) -> mlship_core::Result<ServedModel> {
        let envelope = Envelope::from_bytes(bytes)?;
        let predictor = BundlePredictor::from_envelope(&envelope, origin).map_err(to_core)?;
        let manifest = predictor.manifest().clone();
        Ok(ServedModel {
            predictor: Arc::new(predictor),
            explainer: None,
            version,
            manifest,
        })
    }
}

impl ModelSource for BundleSource {
    fn describe(&self) -> String {
        self.uri.to_string()
    }

    fn resolve(&self) -> mlship_core::Result<VersionId> {
        match &self.uri {
            ModelUri::File(path) => {
                let meta = std::fs::metadata(path)
                    .map_err(|e| mlship_core::Error::io("reading", path, e))?;
                let stamp = (
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    meta.len(),
                );
                if let Ok(cache) = self.file_state.lock()
                    && let Some((t, n, hash)) = cache.as_ref()
                    && (*t, *n) == stamp
                {
                    return Ok(VersionId(hash.clone()));
                }
                let bytes =
                    std::fs::read(path).map_err(|e| mlship_core::Error::io("reading", path, e))?;
                let hash = mlship_registry::sha256_hex(&bytes);
                if let Ok(mut cache) = self.file_state.lock() {
                    *cache = Some((stamp.0, stamp.1, hash.clone()));
                }
                Ok(VersionId(hash))
            }
            uri => {
                let mut registry = self.registry.open().map_err(to_core)?;
                let id = registry.resolve(uri).map_err(|e| to_core(e.into()))?;
                Ok(VersionId(id.version.to_string()))
            }
        }
    }

    fn load(&self, version: &VersionId) -> mlship_core::Result<ServedModel> {
        match &self.uri {
            ModelUri::File(path) => {
                let bytes =
                    std::fs::read(path).map_err(|e| mlship_core::Error::io("reading", path, e))?;
                let hash = mlship_registry::sha256_hex(&bytes);
                if hash != version.0 {
                    return Err(mlship_core::Error::Other(format!(
                        "{} changed while it was being loaded; the next check loads it again",
                        path.display()
                    )));
                }
                Self::served(
                    &bytes,
                    &path.display().to_string(),
                    hash.chars().take(12).collect(),
                )
            }
            uri => {
                let model = uri.model().unwrap_or_default().to_owned();
                let number: u64 = version.0.parse().map_err(|_| {
                    mlship_core::Error::invalid_data(format!(
                        "registry version {version} is not a number"
                    ))
                })?;
                let id = mlship_registry::VersionId {
                    model,
                    version: number,
                };
                let mut registry = self.registry.open().map_err(to_core)?;
                let bytes = registry.load(&id).map_err(|e| to_core(e.into()))?;
                Self::served(&bytes, &id.to_string(), version.0.clone())
            }
        }
    }
}

/// Splits `[NAME=]URI`: the text before the first `=` is a name only if it looks like one.
pub fn split_model_arg(text: &str) -> (Option<&str>, &str) {
    if let Some((name, uri)) = text.split_once('=')
        && check_path_component("model name", name).is_ok()
    {
        return (Some(name), uri);
    }
    (None, text)
}

/// The name a model is served under when `--model` gives none.
fn default_name(uri: &ModelUri) -> Result<String> {
    if let Some(model) = uri.model() {
        return Ok(model.to_owned());
    }
    let ModelUri::File(path) = uri else {
        return Err(Error::Usage(format!("cannot name the model {uri}")));
    };
    let envelope = Envelope::read(path)?;
    let manifest = Manifest::from_json(&envelope.manifest)?;
    Ok(manifest.name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }))
}

/// The models to serve, named and wrapped as sources.
pub fn sources(args: &ServeArgs) -> Result<Vec<(String, Arc<dyn ModelSource>)>> {
    let mut out: Vec<(String, Arc<dyn ModelSource>)> = Vec::new();
    for text in &args.models {
        let (name, uri_text) = split_model_arg(text);
        let uri = ModelUri::parse(uri_text)?;
        let name = match name {
            Some(n) => n.to_owned(),
            None => default_name(&uri)?,
        };
        check_path_component("model name", &name).map_err(|e| {
            Error::Usage(format!(
                "{e}\nhint: name the model with --model NAME={uri_text}"
            ))
        })?;
        out.push((
            name,
            Arc::new(BundleSource::new(uri, args.registry.clone())),
        ));
    }
    Ok(out)
}

fn seconds(flag: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Error::Usage(format!(
                "invalid --{flag} {value}: expected a positive number of seconds"
            ))
        })
}

fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    if clean.is_empty() {
        "server".into()
    } else {
        clean
    }
}

/// The server's settings from the command line.
pub fn config(args: &ServeArgs) -> Result<ServeConfig> {
    let mut c = ServeConfig::default();
    if let Some(file) = &args.auth_token_file {
        let token = std::fs::read_to_string(file).map_err(|e| {
            Error::Usage(format!(
                "cannot read the token file {}: {e}",
                file.display()
            ))
        })?;
        let token = token.trim();
        if token.is_empty() || token.chars().any(char::is_whitespace) {
            return Err(Error::Usage(format!(
                "the token file {} is empty or holds white space inside the token\nhint: write one token on one line",
                file.display()
            )));
        }
        c.auth_token = Some(token.to_owned());
    }
    c.reload_interval = seconds("reload-interval", args.reload_interval)?;
    if let Some(v) = args.max_body_bytes {
        c.max_body_bytes = v;
    }
    if let Some(v) = args.max_rows {
        c.max_rows = v;
    }
    if let Some(v) = args.max_json_depth {
        c.max_json_depth = v;
    }
    if let Some(v) = args.max_concurrent {
        c.max_concurrent = v.max(1);
    }
    if let Some(v) = args.request_timeout {
        c.request_timeout = seconds("request-timeout", v)?;
    }
    if let Some(v) = args.header_timeout {
        c.header_timeout = seconds("header-timeout", v)?;
    }
    if !args.no_log {
        let home =
            std::env::var_os(HOME_ENV).map_or_else(|| PathBuf::from(".mlship"), PathBuf::from);
        let id = args
            .server_id
            .clone()
            .unwrap_or_else(|| format!("{}-{}", host_name(), args.port));
        let mut log = LogConfig::new(home, id);
        if let Some(v) = args.log_max_bytes {
            log.max_bytes = v;
        }
        if let Some(days) = args.log_max_age_days {
            log.max_age = Duration::from_hours(days.saturating_mul(24));
        }
        c.log = Some(log);
    }
    Ok(c)
}

/// Runs `mlship serve` until SIGTERM or Ctrl-C.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let addr = SocketAddr::new(args.host, args.port);
    let config = config(args)?;
    check_bind(&addr, config.auth_token.is_some(), args.insecure)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let models = sources(args)?;
    let names: Vec<String> = models.iter().map(|(n, _)| n.clone()).collect();
    let log_dir = config.log.as_ref().map(|l| l.root.join("predictions"));
    mlship_serve::server::run(config, models, addr, args.insecure, |bound| {
        mlship_serve::state::log_line(&format!(
            "listening on http://{bound} (models: {}; prediction log: {})",
            names.join(", "),
            log_dir
                .as_deref()
                .map_or_else(|| "off".to_owned(), |p: &Path| p.display().to_string())
        ));
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_arguments_split_on_a_leading_name() {
        assert_eq!(
            split_model_arg("churn=churn@production"),
            (Some("churn"), "churn@production")
        );
        assert_eq!(split_model_arg("m.mlship"), (None, "m.mlship"));
        assert_eq!(split_model_arg("./a=b.mlship"), (None, "./a=b.mlship"));
        assert_eq!(split_model_arg("x=./m.mlship"), (Some("x"), "./m.mlship"));
    }
}
