//! The control plane under `/_soundcheck/`, path by path.

mod access;
mod clock;
mod clock_range;
mod faults;
mod journal;
mod paging;
mod players;
mod scenario;
mod settled;
mod tenants;
mod ui;
mod webhooks;
