//! A connection's IO: reads capped at [`MAX_READ`] bytes, and the idle and request-head
//! deadlines, which only the IO can enforce because only it sees bytes arrive.
//!
//! hyper sizes a connection's read buffer by how much the last read returned, doubling it up
//! to ~400 KB, and the size carries over to the connection's next request. A client streaming
//! a 1 MB upload fills every read, so each of its connections grows to ~400 KB, and while an
//! upload waits its turn (bodies are read one at a time) hyper reads that much of it ahead to
//! watch for EOF: 64 uploading connections held ~27 MB of read buffers (heaptrack). Reads capped at 16 KB keep each
//! connection's buffer at 32 KB at most; the rest of a waiting body stays in the kernel's
//! socket buffer. Small requests fit one read and pass straight through.
//!
//! The deadlines are not hyper's `header_read_timeout`: hyper starts that timer when the
//! connection goes idle, so it cannot tell a keep-alive connection waiting for its next request
//! from a client dribbling a head, and both would get one value.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The most one read from a connection returns.
pub const MAX_READ: usize = 16 * 1024;

/// A stream whose reads return at most [`MAX_READ`] bytes at a time.
#[derive(Debug)]
pub struct SmallReads<T>(pub T);

impl<T: AsyncRead + Unpin> AsyncRead for SmallReads<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() <= MAX_READ {
            return Pin::new(&mut self.0).poll_read(cx, buf);
        }
        // A window of the caller's buffer, initialized (zeroed) so that it can be lent safely.
        let window = buf.initialize_unfilled_to(MAX_READ);
        let mut limited = ReadBuf::new(window);
        ready!(Pin::new(&mut self.0).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SmallReads<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// What a connection's requests tell its IO, in one word so that the IO reads it at once:
/// how many are in progress (low 32 bits) and how many have begun (high 32 bits, wrapping).
#[derive(Debug, Default)]
pub struct Activity(AtomicU64);

const BEGUN: u64 = 1 << 32;
const IN_PROGRESS: u64 = BEGUN - 1;

impl Activity {
    /// A request began; it is in progress until the guard drops with its response body.
    pub fn begin(self: &Arc<Self>) -> InProgress {
        self.0.fetch_add(BEGUN + 1, Ordering::AcqRel);
        InProgress(self.clone())
    }
}

/// A request in progress on its connection.
#[derive(Debug)]
pub struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long a connection may wait between requests.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// With no request in progress and no byte of the next one.
    pub idle: Duration,
    /// From the first byte of a request to the end of its head.
    pub head: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    /// A request is in progress, or has just ended and the next wait has not begun.
    No,
    /// For the first byte of a request.
    ForRequest,
    /// For the rest of a head whose first bytes arrived.
    ForHead,
}

/// A connection's IO that fails its read, which closes the connection, when a wait between
/// requests passes its deadline.
#[derive(Debug)]
pub struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
    deadlines: Deadlines,
    /// The activity word last seen: a change means a request began or ended.
    seen: u64,
    waiting: Waiting,
    /// When the current wait ends.
    deadline: Instant,
    /// Fires at or before `deadline`. A keep-alive request moves it only later, which tokio
    /// does with a compare-and-swap; moving a timer earlier takes the runtime's timer lock.
    timer: Pin<Box<Sleep>>,
}

impl<T> Watched<T> {
    pub fn new(io: T, activity: Arc<Activity>, deadlines: Deadlines) -> Self {
        let now = Instant::now();
        Watched {
            io,
            activity,
            deadlines,
            seen: 0,
            waiting: Waiting::ForRequest,
            deadline: now + deadlines.idle,
            timer: Box::pin(tokio::time::sleep_until(now + deadlines.earliest())),
        }
    }

    /// Notes a request beginning or ending; true when none is in progress.
    fn between_requests(&mut self) -> bool {
        let word = self.activity.0.load(Ordering::Acquire);
        if word != self.seen {
            self.seen = word;
            self.waiting = Waiting::No;
        }
        word & IN_PROGRESS == 0
    }

    /// Begins the wait for the next request. The timer goes to the earliest this wait, or a
    /// head that follows it, can end, so that every deadline after it is a move later.
    fn wait_for_request(&mut self, cx: &mut Context<'_>) {
        let now = Instant::now();
        self.waiting = Waiting::ForRequest;
        self.deadline = now + self.deadlines.idle;
        self.timer.as_mut().reset(now + self.deadlines.earliest());
        // hyper may not read again until the client sends: the timer must wake the task.
        if self.timer.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
    }

    /// Pending until the current wait's deadline, then the error that closes the connection.
    fn expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= self.deadline {
                let what = match self.waiting {
                    Waiting::ForHead => "the request head took longer than --header-read-timeout",
                    _ => "the connection was idle longer than --keep-alive-timeout",
                };
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
            }
            // It fired early: the wait it was set for moved on.
            let deadline = self.deadline;
            self.timer.as_mut().reset(deadline);
        }
        Poll::Pending
    }

    /// After a write: the end of a response begins the wait; a response still going out
    /// after its body was handed over keeps the connection from being idle.
    fn wrote(&mut self, cx: &mut Context<'_>, progressed: bool) {
        if !self.between_requests() {
            return;
        }
        match self.waiting {
            Waiting::No => self.wait_for_request(cx),
            Waiting::ForRequest if progressed => self.deadline = Instant::now() + self.deadlines.idle,
            _ => {}
        }
    }
}

impl Deadlines {
    fn earliest(&self) -> Duration {
        self.idle.min(self.head)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.io).poll_read(cx, buf);
        if !this.between_requests() {
            return poll;
        }
        match poll {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && this.waiting != Waiting::ForHead {
                    // The first bytes of a request: its head has until then to be complete.
                    this.waiting = Waiting::ForHead;
                    this.deadline = Instant::now() + this.deadlines.head;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                if this.waiting == Waiting::No {
                    this.wait_for_request(cx);
                }
                this.expired(cx)
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, data);
        this.wrote(cx, matches!(poll, Poll::Ready(Ok(n)) if n > 0));
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(cx, matches!(poll, Poll::Ready(Ok(n)) if n > 0));
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_flush(cx);
        this.wrote(cx, false);
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_are_capped_and_lose_nothing() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (mut client, server) = tokio::io::duplex(256 * 1024);
        client.write_all(&data).await.expect("write");
        drop(client);
        let mut server = SmallReads(server);
        let mut big = vec![0u8; 64 * 1024];
        let n = server.read(&mut big).await.expect("read");
        assert_eq!(n, MAX_READ);
        let mut got = big[..n].to_vec();
        server.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, data);
    }

    fn watched(
        idle_ms: u64,
        head_ms: u64,
    ) -> (
        tokio::io::DuplexStream,
        Watched<tokio::io::DuplexStream>,
        Arc<Activity>,
    ) {
        let (client, server) = tokio::io::duplex(1024);
        let activity = Arc::new(Activity::default());
        let deadlines = Deadlines {
            idle: Duration::from_millis(idle_ms),
            head: Duration::from_millis(head_ms),
        };
        (
            client,
            Watched::new(server, activity.clone(), deadlines),
            activity,
        )
    }

    async fn read_error(io: &mut Watched<tokio::io::DuplexStream>) -> io::Error {
        let mut buf = [0u8; 64];
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match io.read(&mut buf).await {
                    Ok(0) => panic!("EOF instead of a timeout"),
                    Ok(_) => continue,
                    Err(err) => return err,
                }
            }
        })
        .await
        .expect("the wait ends")
    }

    #[tokio::test]
    async fn a_connection_with_nothing_to_read_times_out_as_idle() {
        let (_client, mut io, _) = watched(50, 60_000);
        let err = read_error(&mut io).await;
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("keep-alive"), "{err}");
    }

    #[tokio::test]
    async fn a_head_started_but_not_finished_times_out_from_its_first_byte() {
        let (mut client, mut io, _) = watched(60_000, 50);
        client.write_all(b"GET / HTTP/1.1\r\n").await.expect("write");
        let err = read_error(&mut io).await;
        assert!(err.to_string().contains("header"), "{err}");
    }

    #[tokio::test]
    async fn the_wait_begins_again_when_a_request_ends() {
        let (mut client, mut io, activity) = watched(50, 60_000);
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.expect("write");
        let mut buf = [0u8; 64];
        assert!(io.read(&mut buf).await.expect("read") > 0);
        let request = activity.begin();
        io.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.expect("write");
        drop(request);
        io.flush().await.expect("flush");
        let err = read_error(&mut io).await;
        assert!(err.to_string().contains("keep-alive"), "{err}");
    }
}
