//! Limits on the two endpoints that put the hasher to work without an API key to rate-limit:
//! `POST /api/integration/auth` (per company) and `POST /_soundcheck/tenants` (per client
//! address). Each lets a number of requests per key be in flight at once and refuses the next
//! one at once, so one client's burst waits for nobody and makes nobody else wait long.
//!
//! In flight rather than per second: the point is how much hashing one company or client can
//! have queued, and a client that waits for each answer is never refused however fast it is.

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::config::Config;
use crate::sync::MutexExt;

/// How long a refused client is told to wait: the slots it lacks free up within that.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Both endpoints' limits.
#[derive(Debug)]
pub struct Admission {
    /// Company-token requests in flight, by company id.
    pub legacy_auth: Arc<InFlight<i64>>,
    /// Tenant creations in flight, by client address (`None` when the server does not know it).
    pub tenant_creations: Arc<InFlight<Option<IpAddr>>>,
}

impl Admission {
    pub fn new(config: &Config) -> Admission {
        Admission {
            legacy_auth: InFlight::new(config.legacy_auth_in_flight),
            tenant_creations: InFlight::new(config.tenant_creations_in_flight),
        }
    }
}

/// At most `limit` holders per key at once. Keys with no holder take no room.
#[derive(Debug)]
pub struct InFlight<K> {
    limit: usize,
    holders: Mutex<HashMap<K, usize>>,
}

impl<K: Eq + Hash + Clone> InFlight<K> {
    pub fn new(limit: usize) -> Arc<InFlight<K>> {
        Arc::new(InFlight {
            limit,
            holders: Mutex::new(HashMap::new()),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A slot for `key`, held until dropped; `None` when `key` has all its slots taken.
    pub fn try_acquire(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
        let mut holders = self.holders.locked();
        let count = holders.entry(key.clone()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            owner: self.clone(),
            key: Some(key),
        })
    }

    /// How many slots `key` holds now.
    pub fn held(&self, key: &K) -> usize {
        let holders = self.holders.locked();
        holders.get(key).copied().unwrap_or(0)
    }
}

/// One request's place; dropping it (the request finished or its client left) frees it.
#[derive(Debug)]
pub struct Slot<K: Eq + Hash> {
    owner: Arc<InFlight<K>>,
    key: Option<K>,
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut holders = self.owner.holders.locked();
        if let Some(count) = holders.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                holders.remove(&key);
            }
        }
    }
}

/// The client's address, which the accept loop (`serve`) gives every request; a router driven
/// without it (a `oneshot` in a test) counts every client as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_and_no_more_and_slots_come_back() {
        let limits = InFlight::new(2);
        let a1 = limits.try_acquire("a").expect("first");
        let _a2 = limits.try_acquire("a").expect("second");
        assert!(limits.try_acquire("a").is_none(), "a third is refused");
        let _b = limits.try_acquire("b").expect("another key is not affected");
        drop(a1);
        assert_eq!(limits.held(&"a"), 1);
        let _a3 = limits.try_acquire("a").expect("a freed slot is taken again");
        assert!(limits.try_acquire("a").is_none());
    }

    #[test]
    fn keys_without_holders_are_forgotten() {
        let limits = InFlight::new(1);
        for company in 0..1_000 {
            drop(limits.try_acquire(company).expect("free"));
        }
        assert!(limits.holders.lock().expect("lock").is_empty());
    }
}
