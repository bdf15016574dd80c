//! Faults on purpose, the shared machinery: for a tenant's requests matching a method and a
//! path pattern, answer with a chosen status in the API's own error body, add latency, or
//! drop the connection; for the next N matches, or with a probability drawn from a seeded
//! generator. The control plane configures them (`control::faults`); [`FaultLayer`] applies
//! them.
//!
//! Each API stacks [`FaultLayer`] between its key layer and its limit layer: a request's
//! tenant is its key's, known only once the key is checked, and a faulted request consumes
//! no quota.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower::Service;

use crate::error::Error;
use crate::journal::{Notes, path_matches};
use crate::sync::MutexExt;

/// What a fault does and to which requests, once its definition was checked.
#[derive(Debug)]
pub struct Definition {
    pub method: Option<String>,
    pub path: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: u64,
    pub close: bool,
    pub times: Option<u32>,
    pub probability: Option<f64>,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: String,
    pub method: Option<String>,
    pub path: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: u64,
    pub close: bool,
    pub times: Option<u32>,
    pub probability: Option<f64>,
    pub seed: u64,
    /// Requests that matched method and path.
    pub matched: u64,
    /// Requests the fault fired on.
    pub fired: u64,
    /// How many more times it fires; `null` for no limit.
    pub remaining: Option<u32>,
    #[serde(skip)]
    rng: SplitMix64,
    /// Its place in the tenant's list, for paging: deletions leave the others' places.
    #[serde(skip)]
    pub(crate) seq: u64,
}

impl Fault {
    /// A fault that has matched nothing yet; its generator starts from the seed.
    pub fn new(id: String, d: Definition) -> Fault {
        Fault {
            id,
            method: d.method,
            path: d.path,
            status: d.status,
            code: d.code,
            message: d.message,
            latency_ms: d.latency_ms,
            close: d.close,
            times: d.times,
            probability: d.probability,
            seed: d.seed,
            matched: 0,
            fired: 0,
            remaining: d.times,
            rng: SplitMix64(d.seed),
            seq: 0,
        }
    }

    /// A fault as it stood after `matched` matches, `fired` of them fired (a scenario
    /// loaded): its generator is drawn once per match, as [`Faults::take`] draws it.
    pub fn resumed(id: String, d: Definition, matched: u64, fired: u64, remaining: Option<u32>) -> Fault {
        let mut fault = Fault::new(id, d);
        if fault.probability.is_some() {
            for _ in 0..matched {
                fault.rng.next_f64();
            }
        }
        (fault.matched, fault.fired, fault.remaining) = (matched, fired, remaining);
        fault
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method.as_str()) && path_matches(&self.path, path)
    }
}

/// What a fired fault does to the request.
#[derive(Debug)]
pub struct Action {
    pub fault_id: String,
    pub latency: Duration,
    pub status: Option<(StatusCode, Option<String>, Option<String>)>,
    pub close: bool,
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    /// The next fault's `seq`.
    next_seq: std::sync::atomic::AtomicU64,
    /// Whether any fault is listed: every request of the tenant asks, most when none is.
    any: std::sync::atomic::AtomicBool,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules.locked()
    }

    /// Changes the list, keeping `any` in step.
    fn edit<R>(&self, f: impl FnOnce(&mut Vec<Fault>) -> R) -> R {
        let mut rules = self.lock();
        let result = f(&mut rules);
        self.any
            .store(!rules.is_empty(), std::sync::atomic::Ordering::Release);
        result
    }

    /// The first fault that matches and fires, counted.
    pub fn take(&self, method: &Method, path: &str) -> Option<Action> {
        if !self.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let mut rules = self.lock();
        for fault in rules.iter_mut() {
            if fault.remaining == Some(0) || !fault.matches(method, path) {
                continue;
            }
            fault.matched += 1;
            if let Some(p) = fault.probability
                && fault.rng.next_f64() >= p
            {
                continue;
            }
            fault.fired += 1;
            if let Some(left) = &mut fault.remaining {
                *left -= 1;
            }
            return Some(Action {
                fault_id: fault.id.clone(),
                latency: Duration::from_millis(fault.latency_ms),
                status: fault.status.map(|s| {
                    (
                        StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                        fault.code.clone(),
                        fault.message.clone(),
                    )
                }),
                close: fault.close,
            });
        }
        None
    }

    /// Adds a fault after the others, unless `max` are listed already; the fault as listed.
    pub fn add(&self, mut fault: Fault, max: usize) -> Option<Fault> {
        self.edit(|rules| {
            if rules.len() >= max {
                return None;
            }
            fault.seq = self.next_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            rules.push(fault.clone());
            Some(fault)
        })
    }

    /// Removes the fault `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        self.edit(|rules| {
            let before = rules.len();
            rules.retain(|f| f.id != id);
            rules.len() != before
        })
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// Up to `limit` faults after the one whose `seq` is `after`, in the order they were
    /// made; the total; and whether more follow.
    pub fn page(&self, after: Option<u64>, limit: usize) -> (Vec<Fault>, usize, bool) {
        let rules = self.lock();
        let mut page: Vec<Fault> = (rules.iter())
            .filter(|f| after.is_none_or(|a| f.seq > a))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        (page, rules.len(), more)
    }

    pub fn clear(&self) {
        self.edit(Vec::clear);
    }
}

/// Where the fault layer finds the faults of a request's tenant (the tenancy map).
pub trait FaultsOf: Send + Sync + 'static {
    /// The first fault of `tenant`'s that matches and fires, counted.
    fn take(&self, tenant: &str, method: &Method, path: &str) -> Option<Action>;
}

/// The fault the request's tenant (as its key layer attributed it) has for it, noted.
fn fire(faults: &dyn FaultsOf, notes: &Notes, method: &Method, path: &str) -> Option<Action> {
    let action = notes.with_tenant(|tenant| faults.take(tenant, method, path))?;
    notes.note(format!("fault {} injected", action.fault_id));
    Some(action)
}

impl Action {
    /// Waits out the latency; `Some` is the whole answer, `None` lets the request go on.
    async fn apply(self) -> Option<Response> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if self.close {
            // A body that fails before its first byte makes hyper drop the connection without
            // writing the response head.
            let failing = futures_util::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("connection closed by a fault"))
            });
            return Some(Body::from_stream(failing).into_response());
        }
        let (status, code, message) = self.status?;
        Some(
            Error::Injected {
                status,
                code,
                message: message.unwrap_or_else(|| {
                    format!(
                        "Injected by soundcheck fault {}: {}.",
                        self.fault_id,
                        status.canonical_reason().unwrap_or("error")
                    )
                }),
            }
            .into_response(),
        )
    }
}

/// Applies the faults of the tenant `notes` was attributed to, for an endpoint that learns
/// its tenant from the body (the legacy token endpoint); `Some` is the whole answer.
pub async fn intercept(
    faults: &dyn FaultsOf,
    notes: &Notes,
    method: &Method,
    path: &str,
) -> Option<Response> {
    fire(faults, notes, method, path)?.apply().await
}

/// The layer that applies the faults of the tenant the key layer above it attributed the
/// request to. A request without a fault costs a look-up, no allocation.
pub struct FaultLayer<T>(Arc<T>);

impl<T> FaultLayer<T> {
    pub fn new(faults: Arc<T>) -> FaultLayer<T> {
        FaultLayer(faults)
    }
}

impl<T> Clone for FaultLayer<T> {
    fn clone(&self) -> Self {
        FaultLayer(self.0.clone())
    }
}

impl<T, S> tower::Layer<S> for FaultLayer<T> {
    type Service = FaultService<T, S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultService {
            faults: self.0.clone(),
            inner,
        }
    }
}

pub struct FaultService<T, S> {
    faults: Arc<T>,
    inner: S,
}

impl<T, S: Clone> Clone for FaultService<T, S> {
    fn clone(&self) -> Self {
        FaultService {
            faults: self.faults.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<T, S> Service<Request> for FaultService<T, S>
where
    T: FaultsOf,
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = FaultFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let action = match req.extensions().get::<Notes>() {
            Some(notes) => fire(&*self.faults, notes, req.method(), req.uri().path()),
            None => None,
        };
        let Some(action) = action else {
            return FaultFuture::Pass {
                inner: self.inner.call(req),
            };
        };
        // The service that was made ready goes with the request; its clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        FaultFuture::Fired {
            fired: Box::pin(async move {
                match action.apply().await {
                    Some(response) => Ok(response),
                    None => inner.call(req).await,
                }
            }),
        }
    }
}

type Fired<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project_lite::pin_project! {
    #[project = FaultProjection]
    pub enum FaultFuture<F, E> {
        Pass { #[pin] inner: F },
        Fired { fired: Fired<E> },
    }
}

impl<F, E> Future for FaultFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FaultProjection::Pass { inner } => inner.poll(cx),
            FaultProjection::Fired { fired } => fired.as_mut().poll(cx),
        }
    }
}

/// A tiny seeded generator (SplitMix64): the same seed fires on the same matches every run.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(times: Option<u32>, probability: Option<f64>) -> Fault {
        Fault::new(
            "flt_test".into(),
            Definition {
                method: Some("GET".into()),
                path: "/a/*".into(),
                status: Some(503),
                code: None,
                message: None,
                latency_ms: 0,
                close: false,
                times,
                probability,
                seed: 42,
            },
        )
    }

    #[test]
    fn a_fault_fires_exactly_n_times_on_matching_requests() {
        let faults = Faults::default();
        faults.add(fault(Some(2), None), 100);
        assert!(faults.take(&Method::POST, "/a/b").is_none(), "method differs");
        assert!(faults.take(&Method::GET, "/a/b").is_some());
        assert!(faults.take(&Method::GET, "/x").is_none(), "path differs");
        assert!(faults.take(&Method::GET, "/a/c").is_some());
        assert!(faults.take(&Method::GET, "/a/d").is_none(), "spent");
        let listed = &faults.list()[0];
        assert_eq!((listed.matched, listed.fired, listed.remaining), (2, 2, Some(0)));
    }

    #[test]
    fn a_seeded_probability_fires_the_same_way_every_run() {
        let run = || {
            let faults = Faults::default();
            faults.add(fault(None, Some(0.3)), 100);
            (0..200)
                .map(|_| faults.take(&Method::GET, "/a/b").is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let fired = first.iter().filter(|f| **f).count();
        assert!((40..=80).contains(&fired), "about 30% of 200, got {fired}");
    }
}
