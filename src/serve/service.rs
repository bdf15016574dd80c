//! The hyper service of one connection: each request goes to the router with its body timed
//! and its peer address, and stays "in progress" for the connection's IO until its response
//! body is done.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::routing::future::RouteFuture;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tower::Service;

use super::body::{BodyLimits, TimedBody};
use super::io::{Activity, InProgress};

/// The service hyper calls for each request of one connection.
#[derive(Clone, Debug)]
pub struct ConnService {
    pub router: Router,
    pub activity: Arc<Activity>,
    pub peer: SocketAddr,
    pub body: BodyLimits,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: Request<Incoming>) -> ResponseFuture {
        let in_progress = self.activity.begin();
        // Axum boxes every request body anyway (`Body::new`); the timer rides in that box.
        let mut req = req.map(|body| Body::new(TimedBody::new(body, self.body)));
        // What `into_make_service_with_connect_info` would give handlers: `ConnectInfo<SocketAddr>`.
        req.extensions_mut().insert(ConnectInfo(self.peer));
        ResponseFuture {
            inner: self.router.clone().call(req),
            in_progress: Some(in_progress),
        }
    }
}

pin_project_lite::pin_project! {
    /// The router's future, its response body tied to the request's [`InProgress`].
    pub struct ResponseFuture {
        #[pin]
        inner: RouteFuture<Infallible>,
        in_progress: Option<InProgress>,
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match ready!(this.inner.poll(cx)) {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let in_progress = this.in_progress.take();
        Poll::Ready(Ok(response.map(|body| Tracked {
            body,
            _in_progress: in_progress,
        })))
    }
}

/// A response body that keeps its request in progress until hyper drops it, finished or not.
#[derive(Debug)]
pub struct Tracked {
    body: Body,
    _in_progress: Option<InProgress>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
