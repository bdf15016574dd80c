//! What the accept loop does when accepting fails or the connection limit is reached: it
//! backs off instead of spinning, and says so once per episode instead of once per attempt.

use std::io;
use std::time::{Duration, Instant};

/// The first pause after a failed accept; each failure in a row doubles it up to [`MAX_PAUSE`].
pub const MIN_PAUSE: Duration = Duration::from_millis(5);
pub const MAX_PAUSE: Duration = Duration::from_millis(500);

/// What to do after a failed accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// That connection failed on its own (reset before it was accepted): accept the next.
    Retry,
    /// The process is short of something (file descriptors, memory): wait before trying
    /// again. `first` says the episode began with this failure, which is when it is logged.
    Pause { pause: Duration, first: bool },
}

/// A run of failed accepts.
#[derive(Debug, Default)]
pub struct AcceptFailures {
    failures: u64,
    since: Option<Instant>,
    pause: Duration,
}

impl AcceptFailures {
    pub fn failed(&mut self, err: &io::Error) -> Next {
        if matches!(
            err.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::Interrupted
                | io::ErrorKind::WouldBlock
        ) {
            return Next::Retry;
        }
        self.failures += 1;
        let first = self.since.is_none();
        if first {
            self.since = Some(Instant::now());
            self.pause = MIN_PAUSE;
        } else {
            self.pause = (self.pause * 2).min(MAX_PAUSE);
        }
        Next::Pause {
            pause: self.pause,
            first,
        }
    }

    /// An accept succeeded: the episode that was running, if any, as (failed attempts, length).
    pub fn accepted(&mut self) -> Option<(u64, Duration)> {
        let since = self.since.take()?;
        let failures = std::mem::take(&mut self.failures);
        Some((failures, since.elapsed()))
    }
}

/// Whether an accept error means the process (EMFILE) or the system (ENFILE) ran out of file
/// descriptors; the numbers are the same on Linux and the BSDs.
pub fn out_of_files(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(23 | 24))
}

/// A run of connections refused because the limit was reached.
#[derive(Debug, Default)]
pub struct Refusals {
    refused: u64,
}

impl Refusals {
    /// A connection was refused; true for the first of a run, which is when it is logged.
    pub fn refused(&mut self) -> bool {
        self.refused += 1;
        self.refused == 1
    }

    /// A connection was admitted: how many were refused since the last one admitted.
    pub fn admitted(&mut self) -> Option<u64> {
        match std::mem::take(&mut self.refused) {
            0 => None,
            n => Some(n),
        }
    }
}

/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Descriptors left for everything but connections: the database's files (three per SQLite
/// connection, nine connections), the runtime, logs, and connections being refused.
const RESERVED_FILES: u64 = 64;

/// The connection limit when none is configured: the default, lowered so that connections
/// alone cannot exhaust the open-file limit.
pub fn default_max_connections(open_files: Option<u64>) -> usize {
    match open_files {
        Some(limit) => DEFAULT_MAX_CONNECTIONS.min(room_for_connections(limit)),
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// How many connections an open-file limit leaves room for, after the reserve (at most half).
pub fn room_for_connections(open_files: u64) -> usize {
    let room = open_files
        .saturating_sub(RESERVED_FILES.min(open_files / 2))
        .max(1);
    usize::try_from(room).unwrap_or(usize::MAX)
}

/// The process's soft open-file limit, where the system tells it without `unsafe`.
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

fn parse_open_file_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(24)
    }

    #[test]
    fn a_run_of_failures_is_reported_once_and_backs_off_to_a_cap() {
        let mut failures = AcceptFailures::default();
        let mut firsts = 0;
        let mut pauses = Vec::new();
        for _ in 0..20 {
            match failures.failed(&emfile()) {
                Next::Pause { pause, first } => {
                    firsts += usize::from(first);
                    pauses.push(pause);
                }
                Next::Retry => panic!("EMFILE must pause"),
            }
        }
        assert_eq!(firsts, 1);
        assert_eq!(pauses[0], MIN_PAUSE);
        assert_eq!(pauses[1], MIN_PAUSE * 2);
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*pauses.last().expect("pauses"), MAX_PAUSE);
        assert!(out_of_files(&emfile()));

        let (count, _) = failures.accepted().expect("an episode ended");
        assert_eq!(count, 20);
        assert_eq!(failures.accepted(), None);
        // The next episode is reported again, from the shortest pause.
        assert_eq!(
            failures.failed(&emfile()),
            Next::Pause {
                pause: MIN_PAUSE,
                first: true
            }
        );
    }

    #[test]
    fn a_connection_reset_before_accept_is_retried_at_once() {
        let mut failures = AcceptFailures::default();
        let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(failures.failed(&reset), Next::Retry);
        assert_eq!(failures.accepted(), None);
        assert!(!out_of_files(&reset));
    }

    #[test]
    fn refusals_are_reported_once_per_run() {
        let mut refusals = Refusals::default();
        assert_eq!(refusals.admitted(), None);
        assert!(refusals.refused());
        assert!(!refusals.refused());
        assert_eq!(refusals.admitted(), Some(2));
        assert!(refusals.refused());
    }

    #[test]
    fn the_default_limit_leaves_room_under_the_open_file_limit() {
        assert_eq!(default_max_connections(None), 1024);
        assert_eq!(default_max_connections(Some(1_048_576)), 1024);
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(256)), 192);
        assert_eq!(default_max_connections(Some(64)), 32);
        assert_eq!(default_max_connections(Some(1)), 1);
        assert_eq!(room_for_connections(20_000), 19_936);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            256                  4096                 files\n";
        assert_eq!(parse_open_file_limit(limits), Some(256));
        assert_eq!(parse_open_file_limit("Max open files unlimited"), None);
    }
}
