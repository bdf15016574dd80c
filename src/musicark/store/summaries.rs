//! Summaries: what lists and searches need of every song, packed a block of songs to a blob
//! when seeding and handed, borrowed, to a fold at start.

use sqlx::FromRow;

use super::progress;
use crate::db::Db;

/// Songs per summary block (about 1 MB): [`fold_summaries`] reads a catalogue's summaries as
/// a few hundred blobs instead of a row of 27 values per song.
pub const BLOCK_SONGS: usize = 4_096;

/// What lists and searches need of a song, straight from its columns.
#[derive(Clone, Debug, PartialEq, FromRow)]
pub struct SummaryRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub release_year: i64,
    pub color_hex: String,
    pub bpm: i64,
    pub key: String,
    pub mode: String,
    pub duration_seconds: i64,
    pub dominant_emotion: String,
    pub published_at: String,
    pub published_at_ms: i64,
    pub tempo_feel: String,
    pub energy_shape: String,
    pub oklch_l: f64,
    pub oklch_c: f64,
    pub oklch_h: Option<f64>,
    pub valence: i64,
    pub arousal: i64,
    pub nostalgia: i64,
    pub melancholy: i64,
    pub sensuality: i64,
    pub triumph: i64,
    pub mystery: i64,
    pub inspirational: i64,
}

/// [`SummaryRow`] borrowed from the block being read: what [`fold_summaries`] hands over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SummaryRef<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
    pub release_year: i64,
    pub color_hex: &'a str,
    pub bpm: i64,
    pub key: &'a str,
    pub mode: &'a str,
    pub duration_seconds: i64,
    pub dominant_emotion: &'a str,
    pub published_at: &'a str,
    pub published_at_ms: i64,
    pub tempo_feel: &'a str,
    pub energy_shape: &'a str,
    pub oklch_l: f64,
    pub oklch_c: f64,
    pub oklch_h: Option<f64>,
    pub valence: i64,
    pub arousal: i64,
    pub nostalgia: i64,
    pub melancholy: i64,
    pub sensuality: i64,
    pub triumph: i64,
    pub mystery: i64,
    pub inspirational: i64,
}

impl SummaryRef<'_> {
    #[cfg(test)]
    pub fn to_row(&self) -> SummaryRow {
        SummaryRow {
            id: self.id.to_owned(),
            slug: self.slug.to_owned(),
            title: self.title.to_owned(),
            artist: self.artist.to_owned(),
            album: self.album.to_owned(),
            release_year: self.release_year,
            color_hex: self.color_hex.to_owned(),
            bpm: self.bpm,
            key: self.key.to_owned(),
            mode: self.mode.to_owned(),
            duration_seconds: self.duration_seconds,
            dominant_emotion: self.dominant_emotion.to_owned(),
            published_at: self.published_at.to_owned(),
            published_at_ms: self.published_at_ms,
            tempo_feel: self.tempo_feel.to_owned(),
            energy_shape: self.energy_shape.to_owned(),
            oklch_l: self.oklch_l,
            oklch_c: self.oklch_c,
            oklch_h: self.oklch_h,
            valence: self.valence,
            arousal: self.arousal,
            nostalgia: self.nostalgia,
            melancholy: self.melancholy,
            sensuality: self.sensuality,
            triumph: self.triumph,
            mystery: self.mystery,
            inspirational: self.inspirational,
        }
    }
}

impl SummaryRow {
    pub fn as_ref(&self) -> SummaryRef<'_> {
        SummaryRef {
            id: &self.id,
            slug: &self.slug,
            title: &self.title,
            artist: &self.artist,
            album: &self.album,
            release_year: self.release_year,
            color_hex: &self.color_hex,
            bpm: self.bpm,
            key: &self.key,
            mode: &self.mode,
            duration_seconds: self.duration_seconds,
            dominant_emotion: &self.dominant_emotion,
            published_at: &self.published_at,
            published_at_ms: self.published_at_ms,
            tempo_feel: &self.tempo_feel,
            energy_shape: &self.energy_shape,
            oklch_l: self.oklch_l,
            oklch_c: self.oklch_c,
            oklch_h: self.oklch_h,
            valence: self.valence,
            arousal: self.arousal,
            nostalgia: self.nostalgia,
            melancholy: self.melancholy,
            sensuality: self.sensuality,
            triumph: self.triumph,
            mystery: self.mystery,
            inspirational: self.inspirational,
        }
    }
}

/// Every song's summary, owned: [`fold_summaries`] into a vector. Only tests hold them all;
/// the index takes each as it is decoded ([`crate::musicark::index::Catalogue::load`]).
#[cfg(test)]
pub async fn summaries(db: &Db) -> anyhow::Result<Vec<SummaryRow>> {
    fold_summaries(db, Vec::with_capacity, |rows, row| rows.push(row.to_row())).await
}

/// Folds every song's summary, in the catalogue file's order, into what `init` makes of the
/// number of songs: `row` runs on a blocking thread for each, borrowing it from the block
/// being read, while the next blocks are read from SQLite (at most [`SUMMARY_QUEUE`] ahead).
///
/// A catalogue seeded before summary blocks existed is read from its columns, and its blocks
/// written, so that the next start reads them.
pub async fn fold_summaries<S, I, F>(db: &Db, init: I, mut row: F) -> anyhow::Result<S>
where
    S: Send + 'static,
    I: FnOnce(usize) -> S + Send + 'static,
    F: FnMut(&mut S, SummaryRef<'_>) + Send + 'static,
{
    let complete = progress(db).await?.filter(|p| p.complete);
    let count = match &complete {
        Some(p) => p.songs,
        None => {
            sqlx::query_scalar("SELECT count(*) FROM songs")
                .fetch_one(&db.read)
                .await?
        }
    };
    let (blocks, mut queue) = tokio::sync::mpsc::channel::<Vec<u8>>(SUMMARY_QUEUE);
    let folder = tokio::task::spawn_blocking(move || {
        let mut state = init(usize::try_from(count).unwrap_or(0));
        while let Some(block) = queue.blocking_recv() {
            decode_block(&block, |summary| row(&mut state, summary))?;
        }
        Ok::<_, anyhow::Error>(state)
    });
    let read = match complete {
        Some(_) => read_blocks(db, &blocks).await,
        None => backfill_blocks(db, &blocks).await,
    };
    drop(blocks);
    let folded = folder.await?;
    // A decoding error stops the folder, which makes the reader's next send fail: report it.
    let state = folded?;
    read?;
    Ok(state)
}

/// Blocks read ahead of the folder.
pub const SUMMARY_QUEUE: usize = 2;

async fn read_blocks(db: &Db, blocks: &tokio::sync::mpsc::Sender<Vec<u8>>) -> anyhow::Result<()> {
    use futures_util::TryStreamExt;
    let mut rows =
        sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM song_summaries ORDER BY block").fetch(&db.read);
    while let Some(block) = rows.try_next().await? {
        if blocks.send(block).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Reads a catalogue seeded before summary blocks existed from its columns, a block's worth
/// at a time, and writes its blocks once all are read.
async fn backfill_blocks(db: &Db, blocks: &tokio::sync::mpsc::Sender<Vec<u8>>) -> anyhow::Result<()> {
    #[derive(FromRow)]
    struct Numbered {
        rowid: i64,
        #[sqlx(flatten)]
        row: SummaryRow,
    }
    let mut written = Vec::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<Numbered> = sqlx::query_as(
            "SELECT rowid, id, slug, title, artist, album, release_year, color_hex, bpm, key, mode,
                    duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
                    energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
                    sensuality, triumph, mystery, inspirational
             FROM songs WHERE rowid > ? ORDER BY rowid LIMIT ?",
        )
        .bind(after)
        .bind(BLOCK_SONGS as i64)
        .fetch_all(&db.read)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.rowid;
        let mut block = BlockWriter::default();
        for numbered in &rows {
            block.push(&numbered.row.as_ref());
        }
        let block = block.take();
        written.push((rows.len(), block.clone()));
        if blocks.send(block).await.is_err() {
            return Ok(());
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM song_summaries")
        .execute(&mut *tx)
        .await?;
    let mut songs = 0;
    for (number, (len, block)) in written.into_iter().enumerate() {
        songs += len as u64;
        sqlx::query("INSERT INTO song_summaries (block, data) VALUES (?, ?)")
            .bind(number as i64)
            .bind(block)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO catalogue_seed (id, complete, songs, lines, last_id) VALUES (1, 1, ?, NULL, NULL)",
    )
    .bind(songs as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// A block is the UTF-8 of its songs' text fields, one after another, led by its length, then
// for each song in turn every field in `SummaryRef`'s order: a text field's length, integers
// zigzag, both LEB128, reals as their 8 bytes little-endian, the hue a 0 or a 1 and its 8 bytes.
// The text is checked once per block rather than once per field.

/// A block being filled.
#[derive(Debug, Default)]
pub(super) struct BlockWriter {
    text: String,
    rest: Vec<u8>,
    songs: usize,
}

impl BlockWriter {
    pub(super) fn push(&mut self, s: &SummaryRef<'_>) {
        let (text, out) = (&mut self.text, &mut self.rest);
        fn uint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let int = |out: &mut Vec<u8>, v: i64| uint(out, ((v << 1) ^ (v >> 63)) as u64);
        let mut str = |out: &mut Vec<u8>, v: &str| {
            uint(out, v.len() as u64);
            text.push_str(v);
        };
        str(out, s.id);
        str(out, s.slug);
        str(out, s.title);
        str(out, s.artist);
        str(out, s.album);
        int(out, s.release_year);
        str(out, s.color_hex);
        int(out, s.bpm);
        str(out, s.key);
        str(out, s.mode);
        int(out, s.duration_seconds);
        str(out, s.dominant_emotion);
        str(out, s.published_at);
        int(out, s.published_at_ms);
        str(out, s.tempo_feel);
        str(out, s.energy_shape);
        out.extend_from_slice(&s.oklch_l.to_le_bytes());
        out.extend_from_slice(&s.oklch_c.to_le_bytes());
        match s.oklch_h {
            Some(h) => {
                out.push(1);
                out.extend_from_slice(&h.to_le_bytes());
            }
            None => out.push(0),
        }
        for v in [
            s.valence,
            s.arousal,
            s.nostalgia,
            s.melancholy,
            s.sensuality,
            s.triumph,
            s.mystery,
            s.inspirational,
        ] {
            int(out, v);
        }
        self.songs += 1;
    }

    /// Songs pushed since the last [`BlockWriter::take`].
    pub(super) fn songs(&self) -> usize {
        self.songs
    }

    /// The block's bytes; the writer starts an empty one.
    pub(super) fn take(&mut self) -> Vec<u8> {
        let BlockWriter { text, rest, .. } = std::mem::take(self);
        let mut block = Vec::with_capacity(text.len() + rest.len() + 10);
        let mut len = text.len() as u64;
        while len >= 0x80 {
            block.push((len as u8) | 0x80);
            len >>= 7;
        }
        block.push(len as u8);
        block.extend_from_slice(text.as_bytes());
        block.extend_from_slice(&rest);
        block
    }
}

/// Calls `each` with every summary of `block`.
pub(super) fn decode_block(block: &[u8], mut each: impl FnMut(SummaryRef<'_>)) -> anyhow::Result<()> {
    let malformed = || anyhow::anyhow!("a summary block is malformed");
    let mut r = Decoder {
        rest: block,
        text: "",
    };
    let len = r
        .uint()
        .and_then(|len| usize::try_from(len).ok())
        .ok_or_else(malformed)?;
    let text = r.bytes(len).ok_or_else(malformed)?;
    r.text = std::str::from_utf8(text).map_err(|_| malformed())?;
    while !r.rest.is_empty() {
        each(r.summary().ok_or_else(malformed)?);
    }
    if !r.text.is_empty() {
        return Err(malformed());
    }
    Ok(())
}

struct Decoder<'a> {
    rest: &'a [u8],
    /// The text fields not yet read.
    text: &'a str,
}

impl<'a> Decoder<'a> {
    fn uint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.rest.split_first()?;
            self.rest = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn int(&mut self) -> Option<i64> {
        let v = self.uint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn text(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.uint()?).ok()?;
        // Not at a character boundary is malformed too.
        let (field, rest) = (self.text.get(..len)?, self.text.get(len..)?);
        self.text = rest;
        Some(field)
    }

    fn real(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    fn summary(&mut self) -> Option<SummaryRef<'a>> {
        Some(SummaryRef {
            id: self.text()?,
            slug: self.text()?,
            title: self.text()?,
            artist: self.text()?,
            album: self.text()?,
            release_year: self.int()?,
            color_hex: self.text()?,
            bpm: self.int()?,
            key: self.text()?,
            mode: self.text()?,
            duration_seconds: self.int()?,
            dominant_emotion: self.text()?,
            published_at: self.text()?,
            published_at_ms: self.int()?,
            tempo_feel: self.text()?,
            energy_shape: self.text()?,
            oklch_l: self.real()?,
            oklch_c: self.real()?,
            oklch_h: match self.bytes(1)? {
                [0] => None,
                [1] => Some(self.real()?),
                _ => return None,
            },
            valence: self.int()?,
            arousal: self.int()?,
            nostalgia: self.int()?,
            melancholy: self.int()?,
            sensuality: self.int()?,
            triumph: self.int()?,
            mystery: self.int()?,
            inspirational: self.int()?,
        })
    }
}
