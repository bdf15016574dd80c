//! The Musique Partner API, folder by folder as its URL paths.

mod audio;
mod auth;
mod concurrency;
mod crash;
mod example;
mod group_commit;
mod isolation;
mod legacy;
mod persistence;
mod rate_limits;
mod sends;
mod system;
mod uploads;
mod windows;
