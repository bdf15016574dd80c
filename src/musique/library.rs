//! The in-memory read side of every Musique library: list and get answer from here, so the
//! hot path makes no database round-trip. SQLite stays the record: every change is committed
//! there first and applied here after, and the whole read side is rebuilt from it at start.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

// foldhash, not SipHash: a page looks up each of its objects by id (server-made, random), and
// SipHash was the largest part of that.
use hashbrown::HashMap;

use super::audio::ObjectJson;
use crate::auth::Environment;
use crate::db::Db;
use crate::sync::RwLockExt;

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

/// An audio object in its library, with its JSON prepared for get and list.
#[derive(Debug)]
pub struct Entry {
    pub meta: AudioMeta,
    pub json: ObjectJson,
}

type Order = (Reverse<i64>, Reverse<i64>);

#[derive(Debug, Default)]
struct Library {
    /// Newest first: by creation time, then insertion order. The entries themselves, shared
    /// with `entries`, so that a page is read in order with no look-up by id.
    order: BTreeMap<Order, Arc<Entry>>,
    entries: HashMap<String, Arc<Entry>>,
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

impl Libraries {
    /// Rebuilds every library from the database.
    pub async fn load(db: &Db) -> sqlx::Result<Libraries> {
        let audio: Vec<StoredAudio> = sqlx::query_as(
            "SELECT company_id, environment, id, name, description, category, duration, size,
                    created_at_ms, seq FROM audio",
        )
        .fetch_all(&db.read)
        .await?;
        let libraries = Libraries::default();
        for stored in audio {
            let environment = match stored.environment.as_str() {
                "dev" => Environment::Dev,
                _ => Environment::Prod,
            };
            let key = LibraryKey {
                company_id: stored.company_id,
                environment,
            };
            libraries.insert_audio(key, stored.meta);
        }
        Ok(libraries)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<LibraryKey, Library>> {
        self.inner.read_locked()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<LibraryKey, Library>> {
        self.inner.write_locked()
    }

    /// Renders one page, newest first, with the library's size, under the read lock: the
    /// page is serialized straight from the read side, with no copy of its rows.
    pub fn page<R>(
        &self,
        key: LibraryKey,
        page: i64,
        limit: i64,
        render: impl FnOnce(Vec<&Entry>, i64) -> R,
    ) -> R {
        let libraries = self.read();
        let Some(library) = libraries.get(&key) else {
            return render(Vec::new(), 0);
        };
        let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
        let take = usize::try_from(limit)
            .unwrap_or(0)
            .min(library.order.len().saturating_sub(skip));
        let mut items = Vec::with_capacity(take);
        items.extend(library.order.values().skip(skip).take(take).map(|entry| &**entry));
        render(items, library.entries.len() as i64)
    }

    /// Renders one audio object, if the library holds it.
    pub fn get<R>(&self, key: LibraryKey, id: &str, render: impl FnOnce(&Entry) -> R) -> Option<R> {
        let libraries = self.read();
        let entry = libraries.get(&key)?.entries.get(id)?;
        Some(render(entry))
    }

    pub fn insert_audio(&self, key: LibraryKey, meta: AudioMeta) {
        let mut libraries = self.write();
        let library = libraries.entry(key).or_default();
        let json = ObjectJson::of(&meta);
        let id = meta.id.clone();
        let entry = Arc::new(Entry { meta, json });
        if let Some(replaced) = library.entries.insert(id, entry.clone()) {
            library.order.remove(&order_of(&replaced.meta));
        }
        library.order.insert(order_of(&entry.meta), entry);
    }

    pub fn remove_audio(&self, key: LibraryKey, id: &str) {
        let mut libraries = self.write();
        if let Some(library) = libraries.get_mut(&key)
            && let Some(entry) = library.entries.remove(id)
        {
            library.order.remove(&order_of(&entry.meta));
        }
    }

    /// Forgets both libraries of a company (its tenant was reset or deleted).
    pub fn remove_company(&self, company_id: i64) {
        self.write().retain(|key, _| key.company_id != company_id);
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
            libraries.page(KEY, page, limit, |items, total| {
                (items.iter().map(|e| e.meta.id.clone()).collect::<Vec<_>>(), total)
            })
        };
        assert_eq!(ids(1, 2), (vec!["b".to_owned(), "a".to_owned()], 3));
        assert_eq!(ids(2, 2), (vec!["c".to_owned()], 3));
        let other = LibraryKey {
            company_id: 1,
            environment: Environment::Dev,
        };
        assert_eq!(libraries.page(other, 1, 20, |_, total| total), 0);
    }

    #[test]
    fn removing_a_company_empties_both_its_libraries() {
        let libraries = Libraries::default();
        let dev = LibraryKey {
            company_id: 1,
            environment: Environment::Dev,
        };
        libraries.insert_audio(KEY, meta("a", 0, 1));
        libraries.insert_audio(dev, meta("b", 0, 2));
        libraries.remove_company(1);
        assert!(libraries.get(KEY, "a", |_| ()).is_none());
        assert_eq!(libraries.page(dev, 1, 20, |_, total| total), 0);
    }
}
