//! Preferences kept between runs: the theme, recent stores, and what the user chose for each
//! store. Never domain or engine types, and never a password ([`StoreLocation`] leaves it out).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use rewind_store::{Mapping, StoreLocation};

/// Stores remembered in the recent list, at most.
const RECENT: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct Prefs {
    /// Recently opened stores, the latest first.
    pub recent_files: Vec<StoreLocation>,
    /// `None`: follow the system.
    pub dark_mode: Option<bool>,
    pub last_store: Option<StoreLocation>,
    /// What the user chose for each store.
    pub stores: BTreeMap<StoreLocation, StoreSettings>,
}

/// What the user chose for one store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreSettings {
    /// The mapping confirmed for a store whose shape Rewind does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Mapping>,
    /// Only these domains replay the store (`generic` alone for the generic fold); all when
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// A domain plug-in's command, run when the store opens. Only ever the user's own: typed in
    /// the app, never taken from a store or a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

impl StoreSettings {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

impl Prefs {
    /// What was chosen for `location`, if anything.
    pub fn store(&self, location: &StoreLocation) -> Option<&StoreSettings> {
        self.stores.get(location)
    }

    /// Changes what is remembered for `location`; a record left empty is dropped.
    pub fn update_store(&mut self, location: &StoreLocation, change: impl FnOnce(&mut StoreSettings)) {
        let settings = self.stores.entry(location.clone()).or_default();
        change(settings);
        if settings.is_empty() {
            self.stores.remove(location);
        }
    }

    /// Puts `location` first in the recent list, and remembers it as the last store.
    pub fn opened(&mut self, location: &StoreLocation) {
        self.recent_files.retain(|l| l != location);
        self.recent_files.insert(0, location.clone());
        self.recent_files.truncate(RECENT);
        self.last_store = Some(location.clone());
    }
}

/// The preferences as any version wrote them: this one's fields, and the mappings by store
/// that versions before the per-store records kept.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Stored {
    recent_files: Vec<StoreLocation>,
    dark_mode: Option<bool>,
    last_store: Option<StoreLocation>,
    stores: BTreeMap<StoreLocation, StoreSettings>,
    mappings: BTreeMap<StoreLocation, Mapping>,
}

impl From<Stored> for Prefs {
    fn from(stored: Stored) -> Self {
        let mut prefs = Self {
            recent_files: stored.recent_files,
            dark_mode: stored.dark_mode,
            last_store: stored.last_store,
            stores: stored.stores,
        };
        for (location, mapping) in stored.mappings {
            prefs.stores.entry(location).or_default().mapping.get_or_insert(mapping);
        }
        prefs
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    /// The file the version before per-store records wrote (kept in `fixtures/prefs/`) loads:
    /// recent stores, the theme, the last store, and each mapping under its store.
    #[test]
    fn preferences_saved_before_per_store_records_still_load() {
        let text = include_str!("../fixtures/prefs/before-store-records.ron");
        let mut storage = Memory::default();
        eframe::Storage::set_string(&mut storage, eframe::APP_KEY, text.to_owned());
        let prefs: Prefs = eframe::get_value(&storage, eframe::APP_KEY).expect("the old preferences load");
        let orders = StoreLocation::parse("/data/orders.db");
        let bank = StoreLocation::parse("postgres://ada@db.example:5432/bank");
        assert_eq!(
            prefs.recent_files,
            vec![orders.clone(), bank.clone(), StoreLocation::parse("/data/bank.sqlite")]
        );
        assert_eq!(prefs.dark_mode, Some(false));
        assert_eq!(prefs.last_store, Some(orders.clone()));
        let mapping = |location: &StoreLocation| prefs.store(location).and_then(|s| s.mapping.clone());
        assert_eq!(mapping(&orders).map(|m| m.stream), Some("aggregate".into()));
        assert_eq!(mapping(&bank).and_then(|m| m.schema), Some("es".into()));
    }

    /// What this version saves reads back the same, without the old field.
    #[test]
    fn preferences_read_back_as_they_were_saved() {
        let mut prefs = Prefs::default();
        let db = StoreLocation::parse("postgres://ada:s3cret@localhost/bank");
        prefs.opened(&StoreLocation::parse("/data/bank.sqlite"));
        prefs.opened(&db);
        prefs.update_store(&db, |s| {
            s.mapping = Some(Mapping {
                stream: "stream_name".into(),
                ..Mapping::default()
            });
        });
        let mut storage = Memory::default();
        eframe::set_value(&mut storage, eframe::APP_KEY, &prefs);
        let saved = storage.0[eframe::APP_KEY].clone();
        assert!(!saved.contains("s3cret"), "{saved}");
        assert!(!saved.contains("mappings"), "{saved}");
        let back: Prefs = eframe::get_value(&storage, eframe::APP_KEY).expect("loads");
        assert_eq!(back, prefs);
        prefs.update_store(&db, |s| s.mapping = None);
        assert!(prefs.stores.is_empty(), "an empty record is not kept");
    }
}
