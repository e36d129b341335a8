//! A read model's rows by key, in key order, with each row's index in that order.
//!
//! A debugger keeps many versions of a read model (checkpoints, the state at the cursor) and
//! shows a window of its rows: rows `120_000..120_030`, or the rows around the one an event
//! changed. So the rows live in a persistent map (copies share every node they do not change),
//! and their order in a list of sorted chunks that copies share the same way, which answers
//! "the row at index i" and "the index of this row" without walking the rows before it.

use std::sync::Arc;

use imbl::OrdMap;
use serde::Serialize;
use serde_json::Value;

use crate::projections::to_json;

/// Keys per chunk of the order before it is split in two (tiny in tests, so they split).
#[cfg(not(test))]
const CHUNK: usize = 512;
#[cfg(test)]
const CHUNK: usize = 4;

#[derive(Clone, Debug)]
pub(crate) struct KeyedRows<V> {
    rows: OrdMap<Arc<str>, Arc<V>>,
    /// Every key in ascending order, in chunks of at most [`CHUNK`] (none empty). A copy of the
    /// read model copies only the chunk pointers; a chunk is copied when a key is added to it.
    order: Vec<Arc<Vec<Arc<str>>>>,
}

impl<V> Default for KeyedRows<V> {
    fn default() -> Self {
        Self {
            rows: OrdMap::new(),
            order: Vec::new(),
        }
    }
}

impl<V: Clone + Serialize> KeyedRows<V> {
    /// Adds or replaces the row with `key`.
    pub(crate) fn insert(&mut self, key: &str, row: V) {
        if let Some(existing) = self.rows.get_mut(key) {
            *existing = Arc::new(row);
            return;
        }
        let key: Arc<str> = Arc::from(key);
        self.rows.insert(Arc::clone(&key), Arc::new(row));
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

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.rows.get(key).map(AsRef::as_ref)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.rows.get_mut(key).map(Arc::make_mut)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Rows in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.rows.iter().map(|(key, row)| (key.as_ref(), row.as_ref()))
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

    use super::KeyedRows;

    proptest! {
        #[test]
        fn rows_and_ranks_follow_key_order_in_any_insertion_order(
            keys in prop::collection::vec(0u32..300, 0..200),
            start in 0usize..220,
            count in 0usize..50,
        ) {
            let mut rows = KeyedRows::default();
            let mut copies = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                rows.insert(&format!("k{key}"), i);
                // Copies taken along the way keep their own rows (they share chunks).
                if i % 7 == 0 {
                    copies.push((rows.clone(), rows.iter().map(|(k, v)| (k.to_owned(), *v)).collect::<Vec<_>>()));
                }
            }
            let sorted: Vec<(String, usize)> = rows.iter().map(|(k, v)| (k.to_owned(), *v)).collect();
            let window: Vec<_> = sorted.iter().skip(start).take(count)
                .map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
            prop_assert_eq!(rows.rows(start, count), window);
            for (index, (key, value)) in sorted.iter().enumerate() {
                prop_assert_eq!(rows.row(key), Some((index, serde_json::json!(value))));
            }
            prop_assert_eq!(rows.row("absent"), None);
            for (copy, expected) in copies {
                let all: Vec<_> = expected.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect();
                prop_assert_eq!(copy.rows(0, usize::MAX), all);
            }
        }
    }
}
