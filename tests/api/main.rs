//! One integration binary: each test starts the real server on 127.0.0.1:0 over a fresh
//! SQLite file and talks HTTP to it.

mod cli;
mod conformance;
mod connections;
mod control;
mod docs;
mod envelopes;
mod helpers;
mod musicark;
mod musique;
mod strict;
