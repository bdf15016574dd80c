//! The MusicArk API's state: the shared core, its key cache, quotas and the catalogue index.

use std::sync::Arc;

use super::auth::ArkCaller;
use super::index::Catalogue;
use super::quota::Quotas;
use super::store::CatalogueSource;
use crate::auth::KeyCache;
use crate::state::Core;

/// Cloned by every extractor and middleware of the API: one reference count to bump.
#[derive(Clone, Debug)]
pub struct ArkState(Arc<Inner>);

impl std::ops::Deref for ArkState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug)]
pub struct Inner {
    pub core: Core,
    /// Verified bearer and `api_key` keys.
    pub keys: KeyCache<ArkCaller>,
    /// The monthly counts, written behind to SQLite.
    pub quotas: Quotas,
    /// The catalogue index, built once from SQLite.
    pub catalogue: tokio::sync::OnceCell<Arc<Catalogue>>,
    /// What an empty database's catalogue is seeded from.
    pub catalogue_source: CatalogueSource,
}

impl ArkState {
    pub fn new(core: Core, catalogue_source: CatalogueSource) -> ArkState {
        ArkState(Arc::new(Inner {
            core,
            keys: KeyCache::default(),
            quotas: Quotas::default(),
            catalogue: tokio::sync::OnceCell::new(),
            catalogue_source,
        }))
    }
}
