//! The control plane under `/_soundcheck/`, path by path.

mod access;
mod clock;
mod faults;
mod journal;
mod players;
mod tenants;
mod webhooks;
