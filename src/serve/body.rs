//! Request bodies with a deadline: one that stalls, or arrives slower than the minimum rate,
//! fails with [`BodyTimeout`], which the API answers 408 before the connection closes.
//!
//! Only the time the server spends waiting for the client counts: an upload queued behind
//! another one (bodies are read one at a time) is not being read, so it is not timed.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::config::Timeout;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How long a request body may keep the server waiting.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// The longest wait for the next bytes of a body being read.
    pub timeout: Duration,
    /// Bytes per second a body must average over the time spent waiting for it, beyond a
    /// first `timeout` of waiting; 0 turns the check off.
    pub min_rate: u64,
}

/// Why a request body was cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyTimeout {
    #[error(
        "The request body stalled: nothing arrived for {}; the connection is closed.",
        Timeout(*after)
    )]
    Stalled { after: Duration },
    #[error("The request body arrived slower than {min_rate} bytes per second; the connection is closed.")]
    TooSlow { min_rate: u64 },
}

/// The body timeout behind a body-reading error, if that is what it was: the error comes
/// back through axum's and multer's wrappers, which keep it as a source.
pub fn body_timeout(err: &(dyn StdError + 'static)) -> Option<BodyTimeout> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(timeout) = err.downcast_ref::<BodyTimeout>() {
            return Some(*timeout);
        }
        next = err.source();
    }
    None
}

/// hyper's request body, failing when the client keeps the server waiting too long.
#[derive(Debug)]
pub struct TimedBody {
    inner: Incoming,
    limits: BodyLimits,
    received: u64,
    /// Time spent waiting in waits that ended.
    waited: Duration,
    /// When the current wait began, and what ends it if it lasts.
    wait: Option<(Instant, BodyTimeout)>,
    /// Made on the first wait only: most bodies arrive with their head or not at all.
    timer: Option<Pin<Box<Sleep>>>,
    cut: Option<BodyTimeout>,
}

impl TimedBody {
    pub fn new(inner: Incoming, limits: BodyLimits) -> Self {
        TimedBody {
            inner,
            limits,
            received: 0,
            waited: Duration::ZERO,
            wait: None,
            timer: None,
            cut: None,
        }
    }

    /// How long this wait may last, and why it would end: the timeout, or less when the
    /// waiting so far has used up what the bytes received allow at the minimum rate.
    fn allowance(&self) -> (Duration, BodyTimeout) {
        let stalled = BodyTimeout::Stalled {
            after: self.limits.timeout,
        };
        if self.limits.min_rate == 0 {
            return (self.limits.timeout, stalled);
        }
        let earned = self.limits.timeout
            + Duration::from_micros(self.received.saturating_mul(1_000_000) / self.limits.min_rate);
        let left = earned.saturating_sub(self.waited);
        if left < self.limits.timeout {
            (
                left,
                BodyTimeout::TooSlow {
                    min_rate: self.limits.min_rate,
                },
            )
        } else {
            (self.limits.timeout, stalled)
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(cut) = this.cut {
            return Poll::Ready(Some(Err(Box::new(cut))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some((began, _)) = this.wait.take() {
                    this.waited += began.elapsed();
                }
                if let Some(Ok(frame)) = &frame
                    && let Some(data) = frame.data_ref()
                {
                    this.received += data.len() as u64;
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let cut = match this.wait {
                    Some((_, cut)) => cut,
                    None => {
                        let now = Instant::now();
                        let (allowed, cut) = this.allowance();
                        this.wait = Some((now, cut));
                        match &mut this.timer {
                            Some(timer) => timer.as_mut().reset(now + allowed),
                            None => this.timer = Some(Box::pin(tokio::time::sleep_until(now + allowed))),
                        }
                        cut
                    }
                };
                if let Some(timer) = &mut this.timer
                    && timer.as_mut().poll(cx).is_ready()
                {
                    this.cut = Some(cut);
                    return Poll::Ready(Some(Err(Box::new(cut))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_found_behind_the_wrappers_that_carry_it() {
        let inner: BoxError = Box::new(BodyTimeout::TooSlow { min_rate: 10 });
        let wrapped = axum::Error::new(axum::Error::new(inner));
        assert_eq!(
            body_timeout(&wrapped),
            Some(BodyTimeout::TooSlow { min_rate: 10 })
        );
        let other = axum::Error::new(std::io::Error::other("reset"));
        assert_eq!(body_timeout(&other), None);
    }
}
