//! soundcheck: a local emulator of the Musique Partner API and the MusicArk API.
//!
//! Imports point one way: entry → control plane → each API → shared (ARCHITECTURE.md;
//! `tests/layering.rs` checks it).
//!
//! Entry:
//! - [`app`]        the assembly: every state over one core, the router, background tasks
//! - [`cli`]        the `keys`, `tenants` and `fixtures` subcommands
//! - [`fixtures`]   the default sandbox and how a tenant is seeded
//! - [`openapi`]    the three OpenAPI documents and the `/docs` page
//! - [`conformance`] `soundcheck conformance`: the vendors' documented behaviour checked over HTTP
//!
//! The control plane and the APIs:
//! - [`control`]    the emulator's own control plane under `/_soundcheck/`
//! - [`musique`]    the Musique Partner API
//! - [`musicark`]   the MusicArk API
//!
//! Shared:
//! - [`state`]      the shared core: config, pools, clocks, hasher, admission, tenants' runtimes
//! - [`config`]     the server's flags and their env twins
//! - [`clock`]      the one clock, per tenant, that tests can move
//! - [`db`]         SQLite pools, pragmas and embedded migrations
//! - [`writer`]     the group-commit writer: the writes waiting, committed in one transaction
//! - [`middleware`] the tower stack shared by every route
//! - [`error`]      shared error kinds, and how each API's router renders them
//! - [`journal`]    the request journal, and the notes each API request carries to it
//! - [`faults`]     faults on purpose, and the layer that applies them
//! - [`gate`]       the layer of a check before the handler (key, limit, quota), unboxed
//! - [`tenancy`]    each tenant's journal and faults, and which tenant a company prefix is
//! - [`extract`]    extractors whose rejections are our errors; the authenticated caller
//! - [`auth`]       token shapes, the verification cache each API keeps of its callers
//! - [`keys`]       creating, listing and revoking keys (CLI, fixtures, control plane, legacy auth)
//! - [`hasher`]     argon2id on a fixed set of workers with reused memory, queued in order
//! - [`admission`]  in-flight limits of the keyless endpoints that hash (legacy auth, tenants)
//! - [`rate_limit`] Musique's minute/hour/day limits on governor
//! - [`serve`]      the accept loop and connections: timeouts, limits, small read buffers
//! - [`hosts`]      `Host` headers, origins and `--allowed-hosts`, parsed and normalized
//! - [`ids`]        random identifiers and secrets
//! - [`basis`]      `x-basis`: what each operation rests on, read back from the documents
//! - [`sync`]       locks that stay usable after a panic elsewhere
//! - [`warnings`]   `Soundcheck-Warning`s: what the real service might treat differently

pub mod admission;
pub mod app;
pub mod auth;
pub mod basis;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conformance;
pub mod control;
pub mod db;
pub mod error;
pub mod extract;
pub mod faults;
pub mod fixtures;
pub mod gate;
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
pub mod warnings;
pub mod writer;

pub use app::{App, AppState, stack};
