//! The in-memory read side of every Musique library: list and get answer from here, so the
//! hot path makes no database round-trip. SQLite stays the record: every change is committed
//! there first and applied here after, and the whole read side is rebuilt from it at start.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use crate::auth::Environment;
use crate::db::Db;

/// Which library: a company's prod or dev side.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct LibraryKey {
    pub company_id: i64,
    pub environment: Environment,
}

/// An audio object as stored, without its bytes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AudioMeta {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub duration: f64,
    pub size: i64,
    pub created_at_ms: i64,
    pub seq: i64,
}

/// What stats need of a send: when it plays, how often, where.
#[derive(Clone, Debug)]
pub struct SendPlay {
    pub due_at_ms: i64,
    pub repeat: i64,
    pub location_ids: Arc<[i64]>,
}

/// An audio object with its stats as of some instant, borrowed from the read side.
#[derive(Clone, Debug)]
pub struct AudioView<'a> {
    pub meta: &'a AudioMeta,
    pub times_played: i64,
    pub total_recipients: i64,
    pub last_played_ms: Option<i64>,
}

#[derive(Debug)]
struct Entry {
    meta: AudioMeta,
    sends: Vec<SendPlay>,
}

impl Entry {
    /// A destination has played, `repeat` times, once its send is due on the tenant's clock.
    fn view(&self, now_ms: i64) -> AudioView<'_> {
        let mut times_played = 0;
        let mut last_played_ms = None;
        let mut recipients = HashSet::new();
        for send in self.sends.iter().filter(|s| s.due_at_ms <= now_ms) {
            times_played += send.repeat * send.location_ids.len() as i64;
            last_played_ms = last_played_ms.max(Some(send.due_at_ms));
            recipients.extend(send.location_ids.iter().copied());
        }
        AudioView {
            meta: &self.meta,
            times_played,
            total_recipients: recipients.len() as i64,
            last_played_ms,
        }
    }
}

type Order = (Reverse<i64>, Reverse<i64>);

#[derive(Debug, Default)]
struct Library {
    /// Newest first: by creation time, then insertion order.
    order: BTreeMap<Order, String>,
    entries: HashMap<String, Entry>,
}

fn order_of(meta: &AudioMeta) -> Order {
    (Reverse(meta.created_at_ms), Reverse(meta.seq))
}

#[derive(Debug, Default)]
pub struct Libraries {
    inner: RwLock<HashMap<LibraryKey, Library>>,
}

#[derive(sqlx::FromRow)]
struct StoredAudio {
    company_id: i64,
    environment: String,
    #[sqlx(flatten)]
    meta: AudioMeta,
}

#[derive(sqlx::FromRow)]
struct StoredSend {
    id: String,
    audio_id: String,
    due_at_ms: i64,
    repeat: i64,
}

impl Libraries {
    /// Rebuilds every library from the database.
    pub async fn load(db: &Db) -> sqlx::Result<Libraries> {
        let audio: Vec<StoredAudio> = sqlx::query_as(
            "SELECT company_id, environment, id, name, description, category, duration, size,
                    created_at_ms, seq FROM audio",
        )
        .fetch_all(&db.read)
        .await?;
        let sends: Vec<StoredSend> = sqlx::query_as("SELECT id, audio_id, due_at_ms, repeat FROM sends")
            .fetch_all(&db.read)
            .await?;
        let destinations: Vec<(String, i64)> =
            sqlx::query_as("SELECT send_id, location_id FROM send_destinations ORDER BY send_id")
                .fetch_all(&db.read)
                .await?;
        let mut by_send: HashMap<String, Vec<i64>> = HashMap::new();
        for (send_id, location_id) in destinations {
            by_send.entry(send_id).or_default().push(location_id);
        }

        let libraries = Libraries::default();
        let mut audio_keys = HashMap::new();
        for stored in audio {
            let environment = match stored.environment.as_str() {
                "dev" => Environment::Dev,
                _ => Environment::Prod,
            };
            let key = LibraryKey {
                company_id: stored.company_id,
                environment,
            };
            audio_keys.insert(stored.meta.id.clone(), key);
            libraries.insert_audio(key, stored.meta);
        }
        for send in sends {
            if let Some(key) = audio_keys.get(&send.audio_id) {
                let location_ids = by_send.remove(&send.id).unwrap_or_default();
                libraries.add_send(
                    *key,
                    &send.audio_id,
                    SendPlay {
                        due_at_ms: send.due_at_ms,
                        repeat: send.repeat,
                        location_ids: location_ids.into(),
                    },
                );
            }
        }
        Ok(libraries)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<LibraryKey, Library>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<LibraryKey, Library>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Renders one page, newest first, with the library's size, under the read lock: the
    /// page is serialized straight from the read side, with no copy of its rows.
    pub fn page<R>(
        &self,
        key: LibraryKey,
        now_ms: i64,
        page: i64,
        limit: i64,
        render: impl FnOnce(Vec<AudioView<'_>>, i64) -> R,
    ) -> R {
        let libraries = self.read();
        let Some(library) = libraries.get(&key) else {
            return render(Vec::new(), 0);
        };
        let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(0);
        let items = library
            .order
            .values()
            .skip(skip)
            .take(take)
            .filter_map(|id| library.entries.get(id))
            .map(|entry| entry.view(now_ms))
            .collect();
        render(items, library.entries.len() as i64)
    }

    /// Renders one audio object, if the library holds it.
    pub fn get<R>(
        &self,
        key: LibraryKey,
        id: &str,
        now_ms: i64,
        render: impl FnOnce(AudioView<'_>) -> R,
    ) -> Option<R> {
        let libraries = self.read();
        let entry = libraries.get(&key)?.entries.get(id)?;
        Some(render(entry.view(now_ms)))
    }

    pub fn insert_audio(&self, key: LibraryKey, meta: AudioMeta) {
        let mut libraries = self.write();
        let library = libraries.entry(key).or_default();
        library.order.insert(order_of(&meta), meta.id.clone());
        library.entries.insert(
            meta.id.clone(),
            Entry {
                meta,
                sends: Vec::new(),
            },
        );
    }

    pub fn remove_audio(&self, key: LibraryKey, id: &str) {
        let mut libraries = self.write();
        if let Some(library) = libraries.get_mut(&key)
            && let Some(entry) = library.entries.remove(id)
        {
            library.order.remove(&order_of(&entry.meta));
        }
    }

    pub fn add_send(&self, key: LibraryKey, audio_id: &str, send: SendPlay) {
        let mut libraries = self.write();
        if let Some(entry) = libraries.get_mut(&key).and_then(|l| l.entries.get_mut(audio_id)) {
            entry.sends.push(send);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, created_at_ms: i64, seq: i64) -> AudioMeta {
        AudioMeta {
            id: id.to_owned(),
            name: id.to_owned(),
            description: None,
            category: None,
            duration: 1.0,
            size: 10,
            created_at_ms,
            seq,
        }
    }

    const KEY: LibraryKey = LibraryKey {
        company_id: 1,
        environment: Environment::Prod,
    };

    #[test]
    fn pages_are_newest_first_with_ties_broken_by_insertion_order() {
        let libraries = Libraries::default();
        libraries.insert_audio(KEY, meta("a", 1_000, 1));
        libraries.insert_audio(KEY, meta("b", 1_000, 2));
        libraries.insert_audio(KEY, meta("c", 500, 3));
        let ids = |page, limit| {
            libraries.page(KEY, 0, page, limit, |items, total| {
                (items.iter().map(|v| v.meta.id.clone()).collect::<Vec<_>>(), total)
            })
        };
        assert_eq!(ids(1, 2), (vec!["b".to_owned(), "a".to_owned()], 3));
        assert_eq!(ids(2, 2), (vec!["c".to_owned()], 3));
        let other = LibraryKey {
            company_id: 1,
            environment: Environment::Dev,
        };
        assert_eq!(libraries.page(other, 0, 1, 20, |_, total| total), 0);
    }

    #[test]
    fn stats_count_only_sends_that_are_due() {
        let libraries = Libraries::default();
        libraries.insert_audio(KEY, meta("a", 0, 1));
        let play = |due_at_ms, repeat, ids: &[i64]| SendPlay {
            due_at_ms,
            repeat,
            location_ids: ids.into(),
        };
        libraries.add_send(KEY, "a", play(100, 2, &[1, 2]));
        libraries.add_send(KEY, "a", play(200, 1, &[2, 3]));
        let at = |now| {
            libraries
                .get(KEY, "a", now, |v| {
                    (v.times_played, v.total_recipients, v.last_played_ms)
                })
                .expect("present")
        };
        assert_eq!(at(99), (0, 0, None));
        assert_eq!(at(100), (4, 2, Some(100)));
        assert_eq!(at(200), (6, 3, Some(200)));
        libraries.remove_audio(KEY, "a");
        assert!(libraries.get(KEY, "a", 200, |_| ()).is_none());
        assert_eq!(libraries.page(KEY, 0, 1, 20, |_, total| total), 0);
    }
}
