//! The control plane's state: the shared core, both APIs' states (it resets and inspects
//! what they hold) and the webhook registry.

use std::sync::Arc;

use super::webhooks::Registry;
use crate::musicark::ArkState;
use crate::musique::MusiqueState;
use crate::state::Core;

/// Cloned by every extractor and middleware of the control plane: one reference count to bump.
#[derive(Clone, Debug)]
pub struct ControlState(Arc<Inner>);

impl std::ops::Deref for ControlState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug)]
pub struct Inner {
    pub core: Core,
    pub musique: MusiqueState,
    pub musicark: ArkState,
    /// Which tenants have delivery webhooks, and the dispatcher's wake-up.
    pub webhooks: Arc<Registry>,
    /// The live page's event streams: how many are open, and the stop at shutdown.
    pub streams: super::events::Streams,
    /// Bodies over the JSON limit (scenarios) being read and loaded at once: at most
    /// [`LARGE_BODIES_AT_ONCE`](super::scenario::LARGE_BODIES_AT_ONCE).
    pub large_bodies: Arc<tokio::sync::Semaphore>,
}

impl ControlState {
    pub fn new(
        core: Core,
        musique: MusiqueState,
        musicark: ArkState,
        webhooks: Arc<Registry>,
    ) -> ControlState {
        ControlState(Arc::new(Inner {
            core,
            musique,
            musicark,
            webhooks,
            streams: super::events::Streams::default(),
            large_bodies: Arc::new(tokio::sync::Semaphore::new(super::scenario::LARGE_BODIES_AT_ONCE)),
        }))
    }
}
