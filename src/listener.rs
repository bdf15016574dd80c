//! The listener the server accepts on: TCP, with each read from a socket capped at
//! [`MAX_READ`] bytes.
//!
//! hyper sizes a connection's read buffer by how much the last read returned, doubling it up
//! to ~400 KB, and the size carries over to the connection's next request. A client streaming
//! a 1 MB upload fills every read, so each of its connections grows to ~400 KB, and while an
//! upload waits its turn (bodies are read one at a time) hyper reads that much of it ahead to
//! watch for EOF: 64 uploading connections held ~27 MB of read buffers (heaptrack). Reads capped at 16 KB keep each
//! connection's buffer at 32 KB at most; the rest of a waiting body stays in the kernel's
//! socket buffer. Small requests fit one read and pass straight through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one read from a connection returns.
pub const MAX_READ: usize = 16 * 1024;

/// A listener whose connections read at most [`MAX_READ`] bytes at a time.
#[derive(Debug)]
pub struct SmallReads<T>(pub T);

impl<L: axum::serve::Listener> axum::serve::Listener for SmallReads<L> {
    type Io = SmallReads<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.0.accept().await;
        (SmallReads(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

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
}
