//! The control plane under `/_soundcheck/`, path by path.

mod access;
mod clock;
mod clock_range;
mod faults;
mod journal;
mod players;
mod tenants;
mod webhooks;
