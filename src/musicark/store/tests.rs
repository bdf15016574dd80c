//! Unit tests of the catalogue's SQL: seeding across every boundary, resuming, and the
//! summary blocks.

use super::seed::PARSE_CHUNK;
use super::summaries::{BlockWriter, decode_block};
use super::*;
use crate::musicark::catalogue::{self, Song};

/// The bundled catalogue, read independently of the seeder.
fn songs() -> Vec<Song> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalogue.jsonl");
    let file = std::fs::File::open(path).expect("the bundled catalogue");
    catalogue::read_jsonl(std::io::BufReader::new(file)).expect("a readable catalogue")
}

/// Lines of JSONL: a song's line, or any other text.
fn write_source(dir: &tempfile::TempDir, name: &str, lines: &[String]) -> CatalogueSource {
    let path = dir.path().join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("writing the source");
    CatalogueSource::File(path)
}

fn line(song: &Song) -> String {
    serde_json::to_string(song).expect("a song serializes")
}

async fn open(dir: &tempfile::TempDir) -> Db {
    Db::open(dir.path().join("ark.db").to_str().expect("utf-8"))
        .await
        .expect("a database")
}

/// Small sizes, so that 600 songs cross many batches, blocks and transactions.
const SMALL: SeedSizes = SeedSizes {
    batch: 3,
    block: 6,
    transaction_blocks: 4,
    log_transactions: 2,
};

/// The summaries as the columns hold them: what `fold_summaries` must give.
async fn columns(db: &Db) -> Vec<SummaryRow> {
    sqlx::query_as(
        "SELECT id, slug, title, artist, album, release_year, color_hex, bpm, key, mode,
                duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
                energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
                sensuality, triumph, mystery, inspirational
         FROM songs ORDER BY rowid",
    )
    .fetch_all(&db.read)
    .await
    .expect("the columns")
}

async fn ids_and_profiles(db: &Db) -> Vec<(String, String)> {
    sqlx::query_as("SELECT id, profile FROM songs ORDER BY rowid")
        .fetch_all(&db.read)
        .await
        .expect("the rows")
}

fn expected(songs: &[Song]) -> Vec<(String, String)> {
    songs.iter().map(|s| (s.song.id.clone(), line(s))).collect()
}

#[tokio::test]
async fn a_seed_in_many_transactions_writes_every_song_once_in_order() {
    let songs = songs();
    // 72 songs are exactly three transactions of SMALL; one more and one fewer end inside one.
    for n in [0, 1, 71, 72, 73, songs.len()] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let source = write_source(
            &dir,
            "catalogue.jsonl",
            &songs[..n].iter().map(line).collect::<Vec<_>>(),
        );
        assert_eq!(
            seed_catalogue_in(&db, &source, SMALL).await.expect("seeded"),
            n,
            "{n} songs"
        );
        assert_eq!(ids_and_profiles(&db).await, expected(&songs[..n]), "{n} songs");
        assert_eq!(
            summaries(&db).await.expect("summaries"),
            columns(&db).await,
            "{n} songs"
        );
        assert_eq!(
            seed_catalogue_in(&db, &source, SMALL).await.expect("done"),
            0,
            "{n} songs: seeded once"
        );
    }
}

#[tokio::test]
async fn a_seed_stopped_by_a_bad_line_resumes_after_its_last_transaction() {
    let songs = &songs()[..100];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    let mut lines: Vec<String> = songs.iter().map(line).collect();
    // Blank lines count as lines read, not as songs.
    lines.insert(10, String::new());
    lines.insert(11, "   ".into());
    let good = lines.clone();
    lines[60] = r#"{"song": 1}"#.into();
    let bad = write_source(&dir, "catalogue.jsonl", &lines);
    let err = seed_catalogue_in(&db, &bad, SMALL)
        .await
        .expect_err("line 61 is not a song");
    assert!(err.to_string().starts_with("catalogue.jsonl line 61:"), "{err}");
    // Two transactions of 24 songs were committed before the bad line; the third was not.
    let p = progress(&db).await.expect("progress").expect("a progress row");
    assert!(!p.complete);
    assert_eq!((p.songs, p.lines), (48, Some(50)));
    assert_eq!(ids_and_profiles(&db).await, expected(&songs[..48]));

    let fixed = write_source(&dir, "catalogue.jsonl", &good);
    assert_eq!(seed_catalogue_in(&db, &fixed, SMALL).await.expect("resumed"), 52);
    assert_eq!(ids_and_profiles(&db).await, expected(songs));
    assert_eq!(summaries(&db).await.expect("summaries"), columns(&db).await);
    let p = progress(&db).await.expect("progress").expect("a progress row");
    assert!(p.complete);
    assert_eq!((p.songs, p.lines), (100, Some(102)));
}

#[tokio::test]
async fn a_bad_line_past_the_first_parsing_chunk_is_named() {
    let songs = &songs()[..PARSE_CHUNK + 20];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    let mut lines: Vec<String> = songs.iter().map(line).collect();
    lines[PARSE_CHUNK + 3] = "[]".into();
    let source = write_source(&dir, "catalogue.jsonl", &lines);
    let err = seed_catalogue_in(&db, &source, SMALL)
        .await
        .expect_err("not a song");
    let expected = format!("catalogue.jsonl line {}:", PARSE_CHUNK + 4);
    assert!(err.to_string().starts_with(&expected), "{err}");
}

#[tokio::test]
async fn the_log_holds_at_most_a_few_transactions_of_a_seed() {
    let songs = songs();
    let lines: Vec<String> = songs.iter().map(line).collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    let source = write_source(&dir, "catalogue.jsonl", &lines);
    assert_eq!(
        seed_catalogue_in(&db, &source, SMALL).await.expect("seeded"),
        songs.len()
    );
    // The tests' runtime has one thread: the background checkpoint that truncates the log
    // after the seed has not run yet.
    let log = std::fs::metadata(dir.path().join("ark.db-wal"))
        .expect("the log")
        .len();
    // The whole database, the pages the log still holds included. A run whose log never
    // restarts is no yardstick: the checkpointer copies after every commit, and whether the
    // log restarts depends on it finishing before the next transaction begins.
    let database: i64 =
        sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            .fetch_one(&db.read)
            .await
            .expect("the database's size");
    let database = u64::try_from(database).expect("a size");
    assert_eq!(ids_and_profiles(&db).await, expected(&songs));
    // 25 transactions of 24 songs and one that builds the indexes: a log restarted every 2
    // holds about 2 of them, about a tenth of the database.
    assert!(
        log > 0 && log * 6 < database,
        "log {log} bytes, database {database} bytes"
    );
}

#[tokio::test]
async fn a_seed_resumed_from_another_source_starts_over() {
    let songs = songs();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    let mut first: Vec<String> = songs[..100].iter().map(line).collect();
    first[80] = "not json".into();
    let source = write_source(&dir, "catalogue.jsonl", &first);
    seed_catalogue_in(&db, &source, SMALL)
        .await
        .expect_err("line 81 is not a song");
    assert_eq!(ids_and_profiles(&db).await.len(), 72);

    let other = write_source(
        &dir,
        "other.jsonl",
        &songs[200..290].iter().map(line).collect::<Vec<_>>(),
    );
    assert_eq!(seed_catalogue_in(&db, &other, SMALL).await.expect("seeded"), 90);
    assert_eq!(ids_and_profiles(&db).await, expected(&songs[200..290]));
    assert_eq!(summaries(&db).await.expect("summaries"), columns(&db).await);
}

#[tokio::test]
async fn a_catalogue_seeded_before_summary_blocks_is_complete_and_gets_its_blocks() {
    let songs = &songs()[..50];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    let source = write_source(
        &dir,
        "catalogue.jsonl",
        &songs.iter().map(line).collect::<Vec<_>>(),
    );
    seed_catalogue_in(&db, &source, SMALL).await.expect("seeded");
    // As the single transaction of an older version left it: songs, and nothing else.
    sqlx::query("DELETE FROM song_summaries")
        .execute(&db.write)
        .await
        .expect("delete");
    sqlx::query("DELETE FROM catalogue_seed")
        .execute(&db.write)
        .await
        .expect("delete");

    assert_eq!(
        seed_catalogue_in(&db, &source, SMALL)
            .await
            .expect("nothing to do"),
        0
    );
    let from_columns = columns(&db).await;
    assert_eq!(summaries(&db).await.expect("summaries"), from_columns);
    let blocks: i64 = sqlx::query_scalar("SELECT count(*) FROM song_summaries")
        .fetch_one(&db.read)
        .await
        .expect("count");
    assert_eq!(blocks as usize, songs.len().div_ceil(BLOCK_SONGS));
    assert!(
        progress(&db)
            .await
            .expect("progress")
            .is_some_and(|p| p.complete && p.songs == 50)
    );
    assert_eq!(summaries(&db).await.expect("from the blocks"), from_columns);
}

#[test]
fn a_summary_survives_its_block_whatever_its_values() {
    let row = SummaryRow {
        id: "é".into(),
        slug: String::new(),
        title: "夜の歌\u{0}\n".into(),
        artist: "x".repeat(300),
        album: "a".into(),
        release_year: i64::MIN,
        color_hex: "#000000".into(),
        bpm: i64::MAX,
        key: "C".into(),
        mode: "major".into(),
        duration_seconds: -1,
        dominant_emotion: "calm".into(),
        published_at: "1960-01-01T00:00:00Z".into(),
        published_at_ms: -315_619_200_000,
        tempo_feel: "sway".into(),
        energy_shape: "peak".into(),
        oklch_l: 0.1 + 0.2,
        oklch_c: -0.0,
        oklch_h: None,
        valence: 0,
        arousal: 1000,
        nostalgia: 1,
        melancholy: 127,
        sensuality: 128,
        triumph: 16_384,
        mystery: -64,
        inspirational: -65,
    };
    let second = SummaryRow {
        oklch_h: Some(f64::MIN_POSITIVE),
        ..row.clone()
    };
    let mut writer = BlockWriter::default();
    writer.push(&row.as_ref());
    writer.push(&second.as_ref());
    assert_eq!(writer.songs(), 2);
    let block = writer.take();
    assert_eq!(writer.songs(), 0, "taking a block starts another");
    let mut back = Vec::new();
    decode_block(&block, |s| back.push(s.to_row())).expect("a well-formed block");
    assert_eq!(back, vec![row, second]);
    assert!(back[0].oklch_c.is_sign_negative(), "the bits, not just the value");

    // Cut anywhere, a block is an error, never a panic or fewer songs.
    for cut in 0..block.len() {
        assert!(decode_block(&block[..cut], |_| ()).is_err(), "cut at {cut}");
    }
    // The text is led by its length, over 127 bytes: two bytes; then the first id, "é".
    let mut bad = block.clone();
    bad[3] = 0xff;
    assert!(decode_block(&bad, |_| ()).is_err(), "text that is not UTF-8");
}

/// The unique indexes of the songs table, by name.
async fn unique_indexes(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM pragma_index_list('songs') WHERE \"unique\" ORDER BY name")
        .fetch_all(&db.read)
        .await
        .expect("the indexes")
}

#[tokio::test]
async fn a_duplicate_song_fails_the_seed_at_its_end_and_a_fixed_source_resumes_it() {
    let songs = &songs()[..30];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(&dir).await;
    assert_eq!(unique_indexes(&db).await, ["songs_id", "songs_slug"]);
    let mut lines: Vec<String> = songs.iter().map(line).collect();
    lines.push(line(&songs[5]));
    let duplicated = write_source(&dir, "catalogue.jsonl", &lines);
    let err = seed_catalogue_in(&db, &duplicated, SMALL)
        .await
        .expect_err("song 6 twice");
    assert!(err.to_string().contains("UNIQUE constraint failed"), "{err}");
    // The first transaction's 24 songs stay, without the indexes the last one builds.
    let p = progress(&db).await.expect("progress").expect("a progress row");
    assert!(!p.complete);
    assert_eq!((p.songs, p.lines), (24, Some(24)));
    assert_eq!(unique_indexes(&db).await, Vec::<String>::new());

    lines.pop();
    let fixed = write_source(&dir, "catalogue.jsonl", &lines);
    assert_eq!(seed_catalogue_in(&db, &fixed, SMALL).await.expect("resumed"), 6);
    assert_eq!(ids_and_profiles(&db).await, expected(songs));
    assert_eq!(unique_indexes(&db).await, ["songs_id", "songs_slug"]);
    let by_slug = profile(&db, &songs[5].song.slug).await.expect("a lookup");
    assert_eq!(by_slug.map(|(_, p)| p), Some(line(&songs[5])));
}

/// Everything a seed stores, as one SHA-256: every column of every song in rowid order (reals
/// by their bits), every summary block, the progress row and the unique indexes' names.
async fn digest_of_seed(db: &Db) -> String {
    use sha2::Digest;
    use sqlx::Row;
    let mut hash = sha2::Sha256::new();
    let rows = sqlx::query("SELECT rowid, * FROM songs ORDER BY rowid")
        .fetch_all(&db.read)
        .await
        .expect("the songs");
    for row in &rows {
        for i in 0..row.len() {
            use sqlx::{TypeInfo, ValueRef};
            let value = row.try_get_raw(i).expect("a column");
            let text = match value.type_info().name() {
                "NULL" => "null".to_owned(),
                "INTEGER" => row.get::<i64, _>(i).to_string(),
                "REAL" => format!("r{:x}", row.get::<f64, _>(i).to_bits()),
                _ => format!("{:?}", row.get::<String, _>(i)),
            };
            hash.update(text.as_bytes());
            hash.update(b"\x1f");
        }
        hash.update(b"\x1e");
    }
    let blocks: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT block, data FROM song_summaries ORDER BY block")
        .fetch_all(&db.read)
        .await
        .expect("the blocks");
    for (block, data) in blocks {
        hash.update(block.to_le_bytes());
        hash.update((data.len() as u64).to_le_bytes());
        hash.update(&data);
    }
    let p = progress(db).await.expect("progress").expect("a progress row");
    hash.update(format!("{} {} {:?} {:?}", p.complete, p.songs, p.lines, p.last_id).as_bytes());
    hash.update(unique_indexes(db).await.join(",").as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What the seed stores is pinned: a generated catalogue seeded in the default sizes and in
/// small ones gives the digest that the seed of fa19a96 gave (one song per line parsed,
/// checked and written out again), so a faster seed stores exactly the same.
#[tokio::test]
async fn a_generated_catalogue_is_stored_exactly_as_before() {
    let songs = catalogue::generate_at(5_000, 7, catalogue::FALLBACK_NOW);
    let lines: Vec<String> = songs.iter().map(line).collect();
    let mut digests = Vec::new();
    for sizes in [SEED_SIZES, SMALL] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let source = write_source(&dir, "catalogue.jsonl", &lines);
        assert_eq!(
            seed_catalogue_in(&db, &source, sizes).await.expect("seeded"),
            songs.len()
        );
        digests.push(digest_of_seed(&db).await);
        // The sorter's helper threads are the seed's only: the writer is back to none.
        let threads: i64 = sqlx::query_scalar("PRAGMA threads")
            .fetch_one(&db.write)
            .await
            .expect("pragma");
        assert_eq!(threads, 0);
        // So are the sorter's spills to a file: temporary tables are in memory again.
        let temp_store: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(&db.write)
            .await
            .expect("pragma");
        assert_eq!(temp_store, 2);
    }
    assert_eq!(
        digests,
        [
            "dc7a97abc14c15957ade856d9c30229aef6d3dfb329bd8e352c3c2907c4ac82d",
            "27e6cf463f1d0b325ecbc328e124e11697c27ce93e65a5667cd92a052cbda7bd",
        ]
    );
}
