//! An event's payload: the JSON text a store holds, turned into a tree only when asked.
//!
//! Replay reads each payload into the domain's own types, and most payloads are never shown.
//! Building a `serde_json::Value` for every one of them (a map, its keys and strings, each
//! allocated, then freed) was the largest single cost of reading a store. A [`Payload`] keeps the
//! text instead: [`Payload::decode`] reads a typed struct straight from it, and
//! [`Payload::value`] builds the tree the first time something (the inspector, a search, the
//! generic fold, an upcaster) needs it.

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// An event's payload as JSON: text checked to be JSON, a tree, or both.
#[derive(Clone)]
pub struct Payload {
    /// The JSON text as stored and validated by [`Payload::from_json`], or as written by
    /// [`Payload::serialized`]; `None` when the payload was built as a tree.
    text: Option<Box<str>>,
    /// The tree, built on first use from `text` (or given).
    value: OnceLock<Value>,
}

impl Payload {
    /// A payload from JSON text. The text is checked now, by the same parser that would build
    /// its tree, so a payload that is not JSON is found when it is read, not when it is shown.
    /// Text that is not JSON is handed back with the reason.
    pub fn from_json(text: String) -> Result<Self, NotJson> {
        if let Err(error) = serde_json::from_str::<Valid>(&text) {
            return Err(NotJson { error, text });
        }
        Ok(Self {
            text: Some(text.into_boxed_str()),
            value: OnceLock::new(),
        })
    }

    /// A payload written from `value` as JSON text (an upcaster's typed output): no tree is
    /// built until one is asked for.
    pub fn serialized<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            text: Some(serde_json::to_string(value)?.into_boxed_str()),
            value: OnceLock::new(),
        })
    }

    /// The JSON text, when the payload was read or written as text.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The payload as a JSON tree (built once, on first use).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.text {
            // `from_json` ran this parser over the text already, so it succeeds here; should it
            // not, the text is shown as it is rather than lost.
            Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
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
            (None, Some(text)) => serde_json::from_str(text),
            _ => T::deserialize(self.value()),
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
