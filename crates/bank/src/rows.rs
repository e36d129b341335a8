//! A read model's rows by key, in key order, with each row's index in that order.
//!
//! A debugger keeps many versions of a read model (checkpoints, the state at the cursor) and
//! shows a window of its rows: rows `120_000..120_030`, or the rows around the one an event
//! changed. So the rows live in a persistent map (copies share every node they do not change),
//! and their order in a list of sorted chunks that copies share the same way, which answers
//! "the row at index i" and "the index of this row" without walking the rows before it.

use std::sync::{Arc, PoisonError, RwLock};

use imbl::OrdMap;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use smol_str::SmolStr;

use crate::projections::to_json;

/// Keys per chunk of the order before it is split in two (tiny in tests, so they split).
#[cfg(not(test))]
const CHUNK: usize = 512;
#[cfg(test)]
const CHUNK: usize = 4;

#[derive(Clone, Debug)]
pub(crate) struct KeyedRows<V> {
    /// The number each key got when it was first inserted, shared by every copy of these rows
    /// (a copy that never saw a key finds its number but no row under it). Numbers follow
    /// insertion order, so the rows events touch together (new and recent ones) sit together.
    /// Keys up to 23 bytes are held in the table itself, so a lookup compares them without
    /// following a pointer.
    ids: Arc<RwLock<FxHashMap<SmolStr, u64>>>,
    /// Rows by their key's number. A lookup compares integers held in the map's nodes rather
    /// than following each key's pointer to compare strings (that was a quarter of a full
    /// replay's fold), and a node entry is 16 bytes, not 24, so checkpoints copy less.
    rows: OrdMap<u64, Arc<V>>,
    /// Every key in ascending order, in chunks of at most [`CHUNK`] (none empty). A copy of the
    /// read model copies only the chunk pointers; a chunk is copied when a key is added to it.
    order: Vec<Arc<Vec<Arc<str>>>>,
}

impl<V> Default for KeyedRows<V> {
    fn default() -> Self {
        Self {
            ids: Arc::default(),
            rows: OrdMap::new(),
            order: Vec::new(),
        }
    }
}

impl<V: Clone + Serialize> KeyedRows<V> {
    /// Adds or replaces the row with `key`.
    pub(crate) fn insert(&mut self, key: &str, row: V) {
        let id = self.id_or_new(key);
        if self.rows.insert(id, Arc::new(row)).is_some() {
            return;
        }
        let key: Arc<str> = Arc::from(key);
        // The chunk whose keys surround it: the last one starting at or before it.
        let at = self.order.partition_point(|chunk| chunk[0] <= key).saturating_sub(1);
        let Some(chunk) = self.order.get_mut(at) else {
            self.order.push(Arc::new(vec![key]));
            return;
        };
        let chunk = Arc::make_mut(chunk);
        let within = chunk.partition_point(|k| *k < key);
        chunk.insert(within, key);
        if chunk.len() > CHUNK {
            let upper = chunk.split_off(CHUNK / 2);
            self.order.insert(at + 1, Arc::new(upper));
        }
    }

    /// The key's number, given it now if no copy had.
    fn id_or_new(&self, key: &str) -> u64 {
        let mut ids = self.ids.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = ids.get(key) {
            return id;
        }
        let id = ids.len() as u64;
        ids.insert(SmolStr::new(key), id);
        id
    }

    fn id(&self, key: &str) -> Option<u64> {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.rows.get(&self.id(key)?).map(AsRef::as_ref)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let id = self.id(key)?;
        self.rows.get_mut(&id).map(Arc::make_mut)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Rows in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.order
            .iter()
            .flat_map(|chunk| chunk.iter())
            .filter_map(|key| Some((key.as_ref(), self.get(key)?)))
    }

    /// Rows `start..start + count` as JSON.
    pub(crate) fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        let mut skip = start;
        let mut chunks = self.order.iter();
        let mut keys = Vec::with_capacity(count.min(self.len()));
        for chunk in chunks.by_ref() {
            if skip < chunk.len() {
                keys.extend(chunk[skip..].iter().take(count));
                break;
            }
            skip -= chunk.len();
        }
        for chunk in chunks {
            if keys.len() >= count {
                break;
            }
            keys.extend(chunk.iter().take(count - keys.len()));
        }
        keys.into_iter()
            .filter_map(|key| Some((key.to_string(), to_json(self.get(key)?))))
            .collect()
    }

    /// The row with `key` and its index in key order.
    pub(crate) fn row(&self, key: &str) -> Option<(usize, Value)> {
        let row = self.get(key)?;
        let at = self.order.partition_point(|chunk| &*chunk[0] <= key).checked_sub(1)?;
        let before: usize = self.order[..at].iter().map(|chunk| chunk.len()).sum();
        let within = self.order[at].binary_search_by(|k| (**k).cmp(key)).ok()?;
        Some((before + within, to_json(row)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use serde_json::json;

    use super::KeyedRows;

    #[test]
    fn copies_that_part_ways_keep_their_own_rows() {
        let mut first = KeyedRows::default();
        first.insert("b", 1);
        let mut second = first.clone();
        first.insert("c", 2);
        second.insert("a", 3);
        second.insert("b", 4);
        assert_eq!(
            first.rows(0, 10),
            vec![("b".to_owned(), json!(1)), ("c".to_owned(), json!(2))]
        );
        assert_eq!(
            second.rows(0, 10),
            vec![("a".to_owned(), json!(3)), ("b".to_owned(), json!(4))]
        );
        assert_eq!((first.get("a"), second.get("c")), (None, None));
        assert_eq!((first.len(), second.len()), (2, 2));
    }

    proptest! {
        #[test]
        fn rows_and_ranks_follow_key_order_in_any_insertion_order(
            keys in prop::collection::vec(0u32..300, 0..200),
            start in 0usize..220,
            count in 0usize..50,
        ) {
            // What the rows must hold: a plain sorted map, the last insert of a key winning.
            let mut model = std::collections::BTreeMap::new();
            let mut rows = KeyedRows::default();
            let mut copies = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                let key = format!("k{key}");
                rows.insert(&key, i);
                model.insert(key, i);
                // Copies taken along the way keep their own rows (they share chunks).
                if i % 7 == 0 {
                    copies.push((rows.clone(), model.clone()));
                }
            }
            let sorted: Vec<(String, usize)> = model.into_iter().collect();
            prop_assert_eq!(rows.len(), sorted.len());
            prop_assert_eq!(rows.iter().map(|(k, v)| (k.to_owned(), *v)).collect::<Vec<_>>(), sorted.clone());
            let window: Vec<_> = sorted.iter().skip(start).take(count)
                .map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
            prop_assert_eq!(rows.rows(start, count), window);
            for (index, (key, value)) in sorted.iter().enumerate() {
                prop_assert_eq!(rows.row(key), Some((index, serde_json::json!(value))));
            }
            prop_assert_eq!(rows.row("absent"), None);
            for (copy, expected) in copies {
                let all: Vec<_> = expected.into_iter().map(|(k, v)| (k, serde_json::json!(v))).collect();
                prop_assert_eq!(copy.rows(0, usize::MAX), all);
            }
        }
    }
}
