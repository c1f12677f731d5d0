//! Starting, running and stopping the server: the first load, the reload thread, the accept
//! loop with header timeouts, and graceful shutdown on SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::app::router;
use crate::config::ServeConfig;
use crate::error::{Result, ServeError};
use crate::predlog::PredictionLog;
use crate::source::ModelSource;
use crate::state::{AppState, ModelSlot, log_line};

/// Refuses to listen beyond this machine without a token unless `insecure` is set.
pub fn check_bind(addr: &SocketAddr, has_token: bool, insecure: bool) -> Result<()> {
    if addr.ip().is_loopback() || has_token || insecure {
        Ok(())
    } else {
        Err(ServeError::Startup(format!(
            "refusing to listen on {addr} without a bearer token: anyone who can reach it could use the model\n\
             hint: pass --auth-token-file FILE, or --insecure if the network is trusted"
        )))
    }
}

/// Builds the state for `models` (name, source) and loads each model once; a model that fails
/// its first load is an error.
pub fn start_state(
    config: ServeConfig,
    models: Vec<(String, Arc<dyn ModelSource>)>,
) -> Result<Arc<AppState>> {
    let slots: Vec<Arc<ModelSlot>> = models
        .into_iter()
        .map(|(name, source)| Arc::new(ModelSlot::new(name, source)))
        .collect();
    let log = match &config.log {
        Some(c) => Some(PredictionLog::start(c.clone())?),
        None => None,
    };
    let state = AppState::new(config, slots, log)?;
    for slot in &state.slots {
        match slot.refresh() {
            Ok(v) => log_line(&format!(
                "serving model {:?} version {}",
                slot.name(),
                v.unwrap_or_default()
            )),
            Err(e) => return Err(ServeError::Startup(e)),
        }
    }
    Ok(Arc::new(state))
}

/// The thread that asks each model's source for a new version every `reload_interval`.
#[derive(Debug)]
pub struct Reloader {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Reloader {
    /// Starts polling.
    pub fn start(state: &Arc<AppState>) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&stop), Arc::clone(state));
        let interval = state.config.reload_interval.max(Duration::from_millis(10));
        let handle = std::thread::Builder::new()
            .name("mlship-reload".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let mut waited = Duration::ZERO;
                    while waited < interval && !s.load(Ordering::Relaxed) {
                        let step = interval
                            .saturating_sub(waited)
                            .min(Duration::from_millis(50));
                        std::thread::sleep(step);
                        waited += step;
                    }
                    if s.load(Ordering::Relaxed) {
                        break;
                    }
                    reload_once(&st);
                }
            })
            .map_err(|e| ServeError::Startup(format!("cannot start the reload thread: {e}")))?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops polling and waits for the thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One round of reload checks; each swap and each failure is logged.
pub fn reload_once(state: &AppState) {
    for slot in &state.slots {
        match slot.refresh() {
            Ok(Some(v)) => log_line(&format!("model {:?} now serves version {v}", slot.name())),
            Ok(None) => {}
            Err(e) => log_line(&format!(
                "reload failed, the previous version keeps serving: {e}"
            )),
        }
    }
}

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting and waits up
/// to the configured grace period for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let app = router(Arc::clone(&state));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout)
        .keep_alive(true);
    let mut shutdown = pin!(shutdown);
    loop {
        let mut accept = pin!(listener.accept());
        let accepted = match race(&mut accept, &mut shutdown).await {
            Race::Left(accepted) => accepted,
            Race::Right(()) => break,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                log_line(&format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    let mut drained = pin!(graceful.shutdown());
    let mut grace = pin!(tokio::time::sleep(state.config.shutdown_grace));
    if let Race::Right(()) = race(&mut drained, &mut grace).await {
        log_line("shutdown grace period over; closing the remaining connections");
    }
    Ok(())
}

/// Which of two futures finished first.
enum Race<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures and returns the first result (the left one wins a tie).
async fn race<A, B>(a: &mut Pin<&mut A>, b: &mut Pin<&mut B>) -> Race<A::Output, B::Output>
where
    A: Future,
    B: Future,
{
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Race::Left(x));
        }
        if let Poll::Ready(x) = b.as_mut().poll(cx) {
            return Poll::Ready(Race::Right(x));
        }
        Poll::Pending
    })
    .await
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&flag)) {
            log_line(&format!("cannot watch signal {signal}: {e}"));
        }
    }
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the server until SIGTERM or Ctrl-C: loads the models, binds `addr`, calls `on_ready`
/// with the bound address, serves, then drains requests, stops reloading and flushes the log.
pub fn run(
    config: ServeConfig,
    models: Vec<(String, Arc<dyn ModelSource>)>,
    addr: SocketAddr,
    insecure: bool,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    check_bind(&addr, config.auth_token.is_some(), insecure)?;
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .max_blocking_threads(threads)
        .enable_all()
        .thread_name("mlship-serve")
        .build()
        .map_err(|e| ServeError::Startup(format!("cannot start the async runtime: {e}")))?;
    let state = start_state(config, models)?;
    let mut reloader = Reloader::start(&state)?;
    let result = runtime.block_on(async {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            ServeError::Startup(format!(
                "cannot listen on {addr}: {e}\nhint: choose another --port, or stop the process using it"
            ))
        })?;
        let bound = listener
            .local_addr()
            .map_err(|e| ServeError::Startup(format!("cannot read the bound address: {e}")))?;
        on_ready(bound);
        serve(listener, Arc::clone(&state), shutdown_signal()).await?;
        log_line("shutting down");
        Ok(())
    });
    reloader.stop();
    if let Some(log) = &state.log {
        log.close();
    }
    result
}
