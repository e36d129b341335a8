//! An event's payload: the JSON text a store holds, turned into a tree only when asked.
//!
//! Replay reads each payload into the domain's own types, and most payloads are never shown.
//! Building a `serde_json::Value` for every one of them (a map, its keys and strings, each
//! allocated, then freed) was the largest single cost of reading a store. A [`Payload`] keeps the
//! text instead: [`Payload::decode`] reads a typed struct straight from it, and
//! [`Payload::value`] builds the tree the first time something (the inspector, a search, the
//! generic fold, an upcaster) needs it.

use std::any::Any;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// An event's payload as JSON: text (checked to be JSON, or to be checked when first read), a
/// tree, or both; and, once a domain has read it, the domain's own typed event.
pub struct Payload {
    /// The JSON text as stored ([`Payload::from_json`], [`Payload::from_stored_json`]), or as
    /// written by [`Payload::serialized`]; `None` when the payload was built as a tree.
    text: Option<Box<str>>,
    /// The tree, built on first use from `text` (or given).
    value: OnceLock<Value>,
    /// Whether `text` is JSON: [`UNCHECKED`], [`JSON`] or [`NOT_JSON`].
    checked: AtomicU8,
    /// The first typed reading of the payload ([`Payload::typed`]), or the event it was written
    /// from ([`Payload::with_typed`]), shared by every fold that asks for the same type.
    typed: OnceLock<Box<dyn Any + Send + Sync>>,
}

/// The empty object needs no parser to be JSON: it is the metadata of many an event, and the
/// payload of many an event whose fields are all in its type (which a domain reads without
/// parsing, so nothing else would check it).
fn is_empty_object(text: &str) -> bool {
    text == "{}"
}

const UNCHECKED: u8 = 0;
const JSON: u8 = 1;
const NOT_JSON: u8 = 2;

impl Payload {
    fn with_text(text: String, checked: u8) -> Self {
        Self {
            text: Some(text.into_boxed_str()),
            value: OnceLock::new(),
            checked: AtomicU8::new(checked),
            typed: OnceLock::new(),
        }
    }

    /// A payload from JSON text. The text is checked now, by the same parser that would build
    /// its tree, so a payload that is not JSON is found when it is read, not when it is shown.
    /// Text that is not JSON is handed back with the reason.
    pub fn from_json(text: String) -> Result<Self, NotJson> {
        if !is_empty_object(&text)
            && let Err(error) = serde_json::from_str::<Valid>(&text)
        {
            return Err(NotJson { error, text });
        }
        Ok(Self::with_text(text, JSON))
    }

    /// A payload from text a store declares to be JSON (a column of JSON payloads), not checked
    /// yet: the first parse of it checks it, and that is usually the domain reading its typed
    /// event, so the text is parsed once, not twice. [`Payload::check`] says whether it is JSON;
    /// a replay asks, and reports a payload that is not.
    pub fn from_stored_json(text: String) -> Self {
        let checked = if is_empty_object(&text) { JSON } else { UNCHECKED };
        Self::with_text(text, checked)
    }

    /// A payload written from `value` as JSON text (an upcaster's typed output): no tree is
    /// built until one is asked for.
    pub fn serialized<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::with_text(serde_json::to_string(value)?, JSON))
    }

    /// The payload with `typed` kept as its typed reading, as [`Payload::typed`] would keep the
    /// first one: for a payload written from the domain's own event (an upcaster's output), so
    /// the fold does not parse again what was just written. `typed` must be what reading the
    /// payload as `T` gives.
    #[must_use]
    pub fn with_typed<T: Any + Send + Sync>(mut self, typed: T) -> Self {
        self.typed = OnceLock::from(Box::new(typed) as Box<dyn Any + Send + Sync>);
        self
    }

    /// The JSON text, when the payload was read or written as text.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Whether the payload is JSON: parses the text only if nothing has yet.
    pub fn check(&self) -> Result<(), serde_json::Error> {
        match (&self.text, self.checked.load(Ordering::Relaxed)) {
            (Some(text), UNCHECKED | NOT_JSON) => {
                let checked = serde_json::from_str::<Valid>(text).map(|_| ());
                self.mark(checked.is_ok());
                checked
            }
            _ => Ok(()),
        }
    }

    fn mark(&self, json: bool) {
        self.checked
            .store(if json { JSON } else { NOT_JSON }, Ordering::Relaxed);
    }

    /// The payload as a JSON tree (built once, on first use). Text that is not JSON is shown as
    /// a JSON string of it (and [`Payload::check`] says why).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.text {
            Some(text) => {
                let tree = serde_json::from_str(text);
                self.mark(tree.is_ok());
                tree.unwrap_or_else(|_| Value::String(text.to_string()))
            }
            None => Value::Null,
        })
    }

    /// The tree, taken out of the payload.
    pub fn into_value(mut self) -> Value {
        self.value();
        self.value.take().unwrap_or(Value::Null)
    }

    /// Reads the payload into `T`: straight from the text when there is one (no tree is built),
    /// else from the tree.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match (self.value.get(), &self.text) {
            (None, Some(text)) => {
                let decoded = serde_json::from_str(text);
                // Reading a whole text into `T` parses all of it: a success proves it is JSON.
                if decoded.is_ok() {
                    self.mark(true);
                }
                decoded
            }
            _ => T::deserialize(self.value()),
        }
    }

    /// The payload read as the domain's `T` by `read`, once: the first reading is kept, and
    /// every later call for the same `T` (another fold of the same event, or the fold after the
    /// reading thread read it ahead) gets it without parsing again.
    pub fn typed<T: Any + Send + Sync, E>(&self, read: impl Fn(&Self) -> Result<T, E>) -> Result<Typed<'_, T>, E> {
        if let Some(kept) = self.cached::<T>() {
            return Ok(Typed::Kept(kept));
        }
        let value = read(self)?;
        if self.typed.get().is_some() {
            // A reading of another type was kept first.
            return Ok(Typed::Owned(value));
        }
        if self.typed.set(Box::new(value)).is_ok()
            && let Some(kept) = self.cached::<T>()
        {
            return Ok(Typed::Kept(kept));
        }
        // Another thread kept a reading of another type in between: read again, for this
        // caller only.
        read(self).map(Typed::Owned)
    }

    /// The typed reading kept by [`Payload::typed`], if it was of type `T`.
    pub fn cached<T: Any>(&self) -> Option<&T> {
        self.typed.get().and_then(|kept| kept.downcast_ref::<T>())
    }
}

/// A typed reading of a payload: kept in it, or made for this caller only.
pub enum Typed<'a, T> {
    Kept(&'a T),
    Owned(T),
}

impl<T> Deref for Typed<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Typed::Kept(kept) => kept,
            Typed::Owned(owned) => owned,
        }
    }
}

impl Clone for Payload {
    /// The text, tree and check are copied; the typed reading is not (it is made again when
    /// needed).
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            value: self.value.clone(),
            checked: AtomicU8::new(self.checked.load(Ordering::Relaxed)),
            typed: OnceLock::new(),
        }
    }
}

/// Text given to [`Payload::from_json`] that is not JSON.
#[derive(Debug)]
pub struct NotJson {
    pub error: serde_json::Error,
    pub text: String,
}

impl fmt::Display for NotJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        Self {
            text: None,
            value: OnceLock::from(value),
            checked: AtomicU8::new(JSON),
            typed: OnceLock::new(),
        }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

/// Compact JSON, as `Value` writes it (so the same payload prints the same whatever its source).
impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.value(), f)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from)
    }
}

/// Any JSON, read and checked (strings unescaped, numbers in range) but not kept.
struct Valid;

impl<'de> Deserialize<'de> for Valid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Valid)
    }
}

impl<'de> Visitor<'de> for Valid {
    type Value = Valid;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Valid, E> {
        Ok(Valid)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Valid, A::Error> {
        while items.next_element::<Valid>()?.is_some() {}
        Ok(Valid)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Valid, A::Error> {
        while entries.next_entry::<Valid, Valid>()?.is_some() {}
        Ok(Valid)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Payload;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct B {
        b: i64,
    }

    #[test]
    fn text_is_checked_like_a_tree_and_read_either_way() {
        let payload = Payload::from_json(r#"{"b": 1, "a": ["x", 2.5, null, true]}"#.to_owned()).expect("JSON");
        assert_eq!(payload.decode::<B>().expect("typed"), B { b: 1 });
        assert_eq!(payload.value(), &json!({"b": 1, "a": ["x", 2.5, null, true]}));
        // Keys keep the stored order.
        assert_eq!(
            serde_json::to_string(&payload).expect("text"),
            r#"{"b":1,"a":["x",2.5,null,true]}"#
        );
        assert_eq!(payload.decode::<B>().expect("typed from the tree"), B { b: 1 });
        assert_eq!(Payload::from(json!({"b": 1, "a": ["x", 2.5, null, true]})), payload);
        // The empty object, taken without a parse, reads as one; anything near it is parsed.
        let empty = Payload::from_json("{}".to_owned()).expect("JSON");
        assert_eq!((empty.value(), empty.check().is_ok()), (&json!({}), true));
        assert!(Payload::from_json("{} ".to_owned()).is_ok());
        assert!(Payload::from_json("{}}".to_owned()).is_err());
    }

    #[test]
    fn stored_text_is_checked_by_its_first_parse() {
        let stored = Payload::from_stored_json(r#"{"b": 2, "c": [1]}"#.to_owned());
        assert_eq!(stored.decode::<B>().expect("typed"), B { b: 2 });
        assert!(stored.check().is_ok());
        let broken = Payload::from_stored_json(r#"{"b": 2, "c": [1}"#.to_owned());
        assert!(broken.decode::<B>().is_err());
        assert!(broken.check().is_err());
        // Shown as the text it is, and still not JSON.
        assert_eq!(broken.value(), &json!(r#"{"b": 2, "c": [1}"#));
        assert!(broken.check().is_err());
        // A typed read of part of a text that goes wrong later does not vouch for it.
        assert!(Payload::from_stored_json(r#"{"b": 2} x"#.to_owned()).check().is_err());
        // The stored empty object is JSON without a parse; text beside it is not.
        assert!(Payload::from_stored_json("{}".to_owned()).check().is_ok());
        assert!(Payload::from_stored_json("{}}".to_owned()).check().is_err());
        assert!(Payload::from_stored_json("{".to_owned()).check().is_err());
    }

    #[test]
    fn a_typed_reading_is_made_once_and_shared() {
        let payload = Payload::from_stored_json(r#"{"b": 3}"#.to_owned());
        let reads = std::cell::Cell::new(0);
        let read = |p: &Payload| {
            reads.set(reads.get() + 1);
            p.decode::<B>()
        };
        assert!(payload.cached::<B>().is_none());
        assert!(matches!(
            payload.typed(read).expect("typed"),
            super::Typed::Kept(B { b: 3 })
        ));
        assert!(matches!(
            payload.typed(read).expect("typed"),
            super::Typed::Kept(B { b: 3 })
        ));
        assert_eq!(reads.get(), 1);
        assert_eq!(payload.cached::<B>(), Some(&B { b: 3 }));
        // Another type is read for its caller only; the first stays.
        let other = payload.typed(Payload::decode::<serde_json::Value>).expect("tree");
        assert!(matches!(other, super::Typed::Owned(_)));
        assert_eq!(payload.cached::<B>(), Some(&B { b: 3 }));
        // A failed reading keeps nothing; a copy starts without the reading.
        let broken = Payload::from_stored_json("{".to_owned());
        assert!(broken.typed(Payload::decode::<B>).is_err());
        assert!(broken.cached::<B>().is_none());
        assert!(payload.clone().cached::<B>().is_none());
    }

    #[test]
    fn what_the_tree_parser_refuses_is_refused_up_front() {
        for text in [
            "",
            "{",
            r#"{"a": 1} x"#,
            r#"{"a": "\ud800"}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": "\q"}"#,
            "<xml/>",
        ] {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err(), "{text}");
            let refused = Payload::from_json(text.to_owned()).expect_err(text);
            assert_eq!(refused.text, text);
        }
        assert_eq!(Payload::from_json(" 12 ".to_owned()).expect("JSON").value(), &json!(12));
    }
}
