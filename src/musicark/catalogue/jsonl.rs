//! The catalogue as JSON Lines: one song per line, in order.

use std::io::{BufRead, Write};

use super::Song;

/// One song per line, in order.
pub fn write_jsonl(songs: &[Song], w: impl Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    for song in songs {
        serde_json::to_writer(&mut w, song)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Reads [`write_jsonl`]'s output; blank lines are skipped, errors name the line.
pub fn read_jsonl(r: impl BufRead) -> Result<Vec<Song>, String> {
    let mut songs = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        if !line.trim().is_empty() {
            songs.push(serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?);
        }
    }
    Ok(songs)
}
