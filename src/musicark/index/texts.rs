//! Many short strings in one buffer ([`Texts`]), and the [`Interner`] that numbers each
//! distinct one: how the catalogue keeps 100,000 titles without 100,000 allocations.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// Strings numbered in the order they were pushed, end to end in one buffer.
#[derive(Debug, Default)]
pub struct Texts {
    bytes: String,
    /// Where each string ends; string `i` starts where `i - 1` ends.
    ends: Vec<usize>,
}

impl Texts {
    pub fn with_capacity(strings: usize, bytes: usize) -> Texts {
        Texts {
            bytes: String::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
        }
    }

    /// Appends `text`, answering its number.
    pub fn push(&mut self, text: &str) -> u32 {
        self.bytes.push_str(text);
        self.ends.push(self.bytes.len());
        (self.ends.len() - 1) as u32
    }

    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The strings' bytes, end to end.
    pub fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    /// Gives back what the buffers reserved beyond their contents.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * size_of::<usize>()
    }
}

/// Numbers distinct strings: the same text always gets the same number, the first new one 0.
/// The table holds numbers only and hashes the text where [`Texts`] keeps it, so each distinct
/// string is stored once.
#[derive(Default)]
pub struct Interner {
    texts: Texts,
    table: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> u32 {
        let Interner { texts, table, hasher } = self;
        let hash = hasher.hash_one(text);
        match table.entry(
            hash,
            |id| texts.get(*id) == text,
            |id| hasher.hash_one(texts.get(*id)),
        ) {
            Entry::Occupied(found) => *found.get(),
            Entry::Vacant(slot) => {
                let id = texts.push(text);
                slot.insert(id);
                id
            }
        }
    }

    /// The strings, numbered; the table is dropped.
    pub fn into_texts(self) -> Texts {
        let mut texts = self.texts;
        texts.shrink_to_fit();
        texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_keep_every_string_including_empty_ones() {
        let mut texts = Texts::default();
        assert_eq!(texts.push("Café"), 0);
        assert_eq!(texts.push(""), 1);
        assert_eq!(texts.push("夜の歌"), 2);
        assert_eq!((texts.get(0), texts.get(1), texts.get(2)), ("Café", "", "夜の歌"));
        assert_eq!(texts.len(), 3);
    }

    #[test]
    fn the_same_text_gets_the_same_number() {
        let mut names = Interner::default();
        let ids: Vec<u32> = ["a", "b", "a", "", "b", ""]
            .into_iter()
            .map(|t| names.intern(t))
            .collect();
        assert_eq!(ids, vec![0, 1, 0, 2, 1, 2]);
        let texts = names.into_texts();
        assert_eq!((texts.get(0), texts.get(1), texts.get(2)), ("a", "b", ""));
    }

    #[test]
    fn many_strings_survive_the_table_growing() {
        let mut names = Interner::default();
        for i in 0..10_000 {
            assert_eq!(names.intern(&format!("song {i}")), i);
        }
        for i in (0..10_000).rev() {
            assert_eq!(names.intern(&format!("song {i}")), i);
        }
        assert_eq!(names.into_texts().get(1234), "song 1234");
    }
}
