//! A tower layer for a check that decides on a request before its handler and may finish the
//! response after it: an API's key, its rate limit, its monthly quota.
//!
//! The common case (a cached key, a counter in memory) is decided in `call` and the handler's
//! future is polled in place: no allocation, no boxed `Next`, unlike an axum `from_fn`
//! middleware. Only a check that must wait (a key's first argon2 verification, a counter read
//! from SQLite on first use) boxes its future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

type Waiting<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a [`Gate`] decides.
pub enum Admit<P> {
    /// Through to the handler, with what [`Gate::finish`] gets for its response.
    Pass(Request, P),
    /// Answered here.
    Refuse(Response),
    /// Decided once this future is: the request it gives back goes through.
    Later(Waiting<Result<(Request, P), Response>>),
}

pub trait Gate: Clone + Send + Sync + 'static {
    /// What a passed request hands on to [`Gate::finish`] (the reading its headers show).
    type Pass: Send + 'static;

    fn admit(&self, req: Request) -> Admit<Self::Pass>;

    /// The response of a request let through, on its way out.
    fn finish(_pass: Self::Pass, _response: &mut Response) {}
}

/// The layer of one [`Gate`].
#[derive(Clone)]
pub struct GateLayer<G>(pub G);

impl<G: Clone, S> Layer<S> for GateLayer<G> {
    type Service = GateService<G, S>;

    fn layer(&self, inner: S) -> Self::Service {
        GateService {
            gate: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct GateService<G, S> {
    gate: G,
    inner: S,
}

impl<G, S> Service<Request> for GateService<G, S>
where
    G: Gate,
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = GateFuture<S::Future, G::Pass, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match self.gate.admit(req) {
            Admit::Pass(req, pass) => GateFuture::Inner {
                inner: self.inner.call(req),
                pass: Some(pass),
                finish: G::finish,
            },
            Admit::Refuse(response) => GateFuture::Ready {
                response: Some(response),
            },
            Admit::Later(decision) => {
                // The service that was made ready goes with the request; its clone stays behind.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                GateFuture::Later {
                    waiting: Box::pin(async move {
                        match decision.await {
                            Ok((req, pass)) => {
                                let mut response = inner.call(req).await?;
                                G::finish(pass, &mut response);
                                Ok(response)
                            }
                            Err(response) => Ok(response),
                        }
                    }),
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    #[project = GateProjection]
    pub enum GateFuture<F, P, E> {
        Inner { #[pin] inner: F, pass: Option<P>, finish: fn(P, &mut Response) },
        Ready { response: Option<Response> },
        Later { waiting: Waiting<Result<Response, E>> },
    }
}

impl<F, P, E> Future for GateFuture<F, P, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GateProjection::Inner { inner, pass, finish } => {
                let mut response = std::task::ready!(inner.poll(cx))?;
                if let Some(pass) = pass.take() {
                    finish(pass, &mut response);
                }
                Poll::Ready(Ok(response))
            }
            GateProjection::Ready { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => panic!("GateFuture polled after it finished"),
            },
            GateProjection::Later { waiting } => waiting.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    /// Lets through requests to `/pass` at once and `/later` after a yield, refuses the rest;
    /// counts the handler's calls.
    #[derive(Clone)]
    struct Test;

    impl Gate for Test {
        type Pass = &'static str;

        fn admit(&self, req: Request) -> Admit<&'static str> {
            match req.uri().path() {
                "/pass" => Admit::Pass(req, "now"),
                "/later" => Admit::Later(Box::pin(async move {
                    tokio::task::yield_now().await;
                    Ok((req, "later"))
                })),
                _ => Admit::Refuse(
                    Response::builder()
                        .status(StatusCode::TOO_MANY_REQUESTS)
                        .body(Body::empty())
                        .expect("a plain response"),
                ),
            }
        }

        fn finish(pass: &'static str, response: &mut Response) {
            response
                .headers_mut()
                .insert("x-pass", pass.parse().expect("a header value"));
        }
    }

    async fn call(path: &str, calls: &Arc<AtomicUsize>) -> Response {
        let calls = calls.clone();
        let handler = tower::service_fn(move |_req: Request| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Body::empty())) }
        });
        let req = Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("a request");
        GateLayer(Test)
            .layer(handler)
            .oneshot(req)
            .await
            .expect("infallible")
    }

    #[tokio::test]
    async fn a_passed_request_reaches_the_handler_and_is_finished_on_its_way_out() {
        let calls = Arc::new(AtomicUsize::new(0));
        let now = call("/pass", &calls).await;
        assert_eq!(now.status(), StatusCode::OK);
        assert_eq!(now.headers()["x-pass"], "now");
        let later = call("/later", &calls).await;
        assert_eq!(later.headers()["x-pass"], "later");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_request_never_reaches_the_handler_and_is_not_finished() {
        let calls = Arc::new(AtomicUsize::new(0));
        let refused = call("/other", &calls).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(!refused.headers().contains_key("x-pass"));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
