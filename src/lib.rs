//! soundcheck: a local emulator of the Musique Partner API and the MusicArk API.
//!
//! - [`app`]        the assembly: every state over one core, the router, background tasks
//! - [`config`]     the server's flags and their env twins
//! - [`clock`]      the one clock, per tenant, that tests can move
//! - [`db`]         SQLite pools, pragmas and embedded migrations
//! - [`error`]      error kinds, rendered in each API's own envelope
//! - [`extract`]    extractors whose rejections are our errors; the authenticated caller
//! - [`auth`]       token shapes, the verification cache each API keeps of its callers
//! - [`hasher`]     argon2id on a fixed set of workers with reused memory, queued in order
//! - [`ids`]        random identifiers and secrets
//! - [`hosts`]      `Host` headers, origins and `--allowed-hosts`, parsed and normalized
//! - [`admission`]  in-flight limits of the keyless endpoints that hash (legacy auth, tenants)
//! - [`cli`]        the `keys` subcommands
//! - [`keys`]       creating, listing and revoking keys (CLI and fixtures)
//! - [`serve`]      the accept loop and connections: timeouts, limits, small read buffers
//! - [`rate_limit`] Musique's minute/hour/day limits on governor
//! - [`fixtures`]   the default sandbox and how a tenant is seeded
//! - [`middleware`] the tower stack shared by every route
//! - [`journal`]    the request journal, and the notes each API request carries to it
//! - [`faults`]     faults on purpose, and the layer that applies them
//! - [`tenancy`]    each tenant's journal and faults, and which tenant a company prefix is
//! - [`state`]      the shared core: config, pools, clocks, hasher, tenants' runtimes
//! - [`musique`]    the Musique Partner API
//! - [`musicark`]   the MusicArk API
//! - [`control`]    the emulator's own control plane under `/_soundcheck/`
//! - [`openapi`]    the three OpenAPI documents and the `/docs` page

pub mod admission;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod db;
pub mod error;
pub mod extract;
pub mod faults;
pub mod fixtures;
pub mod hasher;
pub mod hosts;
pub mod ids;
pub mod journal;
pub mod keys;
pub mod middleware;
pub mod musicark;
pub mod musique;
pub mod openapi;
pub mod rate_limit;
pub mod serve;
pub mod state;
pub mod sync;
pub mod tenancy;

pub use app::{App, AppState, stack};
