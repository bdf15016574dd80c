//! Tenants at run time: what each keeps in memory only (its request journal and its
//! faults), and which tenant a company prefix belongs to (so a request with a bad key still
//! lands in the right journal).

// foldhash, not SipHash: every API request looks its tenant up here (faults, journal).
use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, RwLock};

use axum::http::Method;

use crate::db::Db;
use crate::faults::{Action, Faults, FaultsOf};
use crate::journal::Journal;
use crate::sync::RwLockExt;

/// The tenant that holds the default fixtures, and every request no other tenant claims.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug)]
pub struct TenantRuntime {
    pub journal: Journal,
    pub faults: Faults,
    /// Bumped when something a viewer of the tenant shows may have changed (a request in its
    /// journal, a control-plane change); the live page's event stream waits on it.
    pub changes: Changes,
}

/// A tenant's change counter: a count, and one `watch` value that wakes the waiting streams,
/// so a burst of changes wakes each of them once. Every API request bumps it: with no stream
/// open (nearly always) a bump is one atomic add, not the watch's write lock and the eight
/// wait lists it would otherwise lock to wake nobody.
#[derive(Debug)]
pub struct Changes {
    count: AtomicU64,
    watch: tokio::sync::watch::Sender<u64>,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes {
            count: AtomicU64::new(0),
            watch: tokio::sync::watch::channel(0).0,
        }
    }
}

impl Changes {
    pub fn bump(&self) {
        let count = self.count.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        // Pairs with the fence in `subscribe`: either this bump sees the new receiver and
        // wakes it, or the receiver's first value already counts this bump.
        fence(Ordering::SeqCst);
        if self.watch.receiver_count() > 0 {
            self.watch.send_if_modified(|seen| advance(seen, count));
        }
    }

    /// A receiver whose value is the count (bumps made while nobody watched included) and
    /// that wakes on every bump from now on.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        let mut receiver = self.watch.subscribe();
        fence(Ordering::SeqCst);
        let count = self.count.load(Ordering::SeqCst);
        // Only news to other receivers if a bump is racing this: that bump wakes them anyway.
        self.watch.send_if_modified(|seen| advance(seen, count));
        receiver.mark_unchanged();
        receiver
    }
}

/// Moves a watched count forward to `count`, never back (bumps may land out of order).
fn advance(seen: &mut u64, count: u64) -> bool {
    if count > *seen {
        *seen = count;
        true
    } else {
        false
    }
}

#[derive(Debug)]
pub struct Runtimes {
    journal_cap: usize,
    tenants: RwLock<HashMap<String, Arc<TenantRuntime>>>,
    /// Company prefix → tenant id.
    prefixes: RwLock<HashMap<String, String>>,
}

impl Runtimes {
    pub fn new(journal_cap: usize) -> Runtimes {
        Runtimes {
            journal_cap,
            tenants: RwLock::default(),
            prefixes: RwLock::default(),
        }
    }

    /// Learns every company prefix in the database.
    pub async fn load(&self, db: &Db) -> sqlx::Result<()> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT prefix, tenant_id FROM companies")
            .fetch_all(&db.read)
            .await?;
        let mut prefixes = self.prefixes.write_locked();
        prefixes.extend(rows);
        Ok(())
    }

    /// The tenant's runtime, made on first use.
    pub fn get(&self, tenant: &str) -> Arc<TenantRuntime> {
        if let Some(runtime) = self.tenants.read_locked().get(tenant) {
            return runtime.clone();
        }
        let mut tenants = self.tenants.write_locked();
        tenants
            .entry(tenant.to_owned())
            .or_insert_with(|| {
                Arc::new(TenantRuntime {
                    journal: Journal::new(self.journal_cap),
                    faults: Faults::default(),
                    changes: Changes::default(),
                })
            })
            .clone()
    }

    /// The runtime of a tenant, if it was ever used (faults are only ever there).
    pub fn existing(&self, tenant: &str) -> Option<Arc<TenantRuntime>> {
        self.tenants.read_locked().get(tenant).cloned()
    }

    pub fn remove(&self, tenant: &str) {
        self.tenants.write_locked().remove(tenant);
        self.prefixes.write_locked().retain(|_, t| t != tenant);
    }

    pub fn add_prefix(&self, prefix: &str, tenant: &str) {
        self.prefixes
            .write_locked()
            .insert(prefix.to_owned(), tenant.to_owned());
    }

    /// The tenant a company prefix belongs to, if it is known.
    pub fn tenant_of_prefix(&self, prefix: &str) -> Option<String> {
        self.prefixes.read_locked().get(prefix).cloned()
    }
}

impl FaultsOf for Runtimes {
    fn take(&self, tenant: &str, method: &Method, path: &str) -> Option<Action> {
        // Only a tenant that was ever used can have faults.
        let tenants = self.tenants.read_locked();
        tenants.get(tenant)?.faults.take(method, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_starts_from_every_change_and_wakes_on_the_next() {
        let changes = Changes::default();
        // Nobody watches: counted all the same.
        for _ in 0..3 {
            changes.bump();
        }
        let mut first = changes.subscribe();
        assert_eq!(*first.borrow_and_update(), 3);
        assert!(!first.has_changed().expect("open"), "subscribing is no change");
        changes.bump();
        first.changed().await.expect("woken");
        assert_eq!(*first.borrow_and_update(), 4);
        // A second stream opening is no news to the first.
        let mut second = changes.subscribe();
        assert_eq!(*second.borrow_and_update(), 4);
        assert!(!first.has_changed().expect("open"));
        drop((first, second));
        changes.bump();
        changes.bump();
        assert_eq!(*changes.subscribe().borrow(), 6);
    }
}
