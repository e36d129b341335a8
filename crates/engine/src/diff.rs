//! Field-level differences between two JSON states.
//!
//! Written here rather than taken from `json-patch`: a patch says how to get from one value
//! to the other, but a debugger must also show the old value of every changed field.

use serde::Serialize;
use serde_json::Value;

/// One field that differs, addressed by a JSON pointer (`/items/0/quantity`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FieldChange {
    Added { path: String, new: Value },
    Removed { path: String, old: Value },
    Changed { path: String, old: Value, new: Value },
}

impl FieldChange {
    pub fn path(&self) -> &str {
        match self {
            Self::Added { path, .. } | Self::Removed { path, .. } | Self::Changed { path, .. } => path,
        }
    }
}

/// The fields that differ from `old` to `new`, in document order (objects by key order of
/// `old`, then keys only `new` has; arrays by index).
pub fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    diff_at(String::new(), old, new, &mut changes);
    changes
}

fn diff_at(path: String, old: &Value, new: &Value, changes: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, old_value) in a {
                let child = format!("{path}/{}", escape(key));
                match b.get(key) {
                    Some(new_value) => diff_at(child, old_value, new_value, changes),
                    None => changes.push(FieldChange::Removed {
                        path: child,
                        old: old_value.clone(),
                    }),
                }
            }
            for (key, new_value) in b {
                if !a.contains_key(key) {
                    changes.push(FieldChange::Added {
                        path: format!("{path}/{}", escape(key)),
                        new: new_value.clone(),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, old_value) in a.iter().enumerate() {
                let child = format!("{path}/{i}");
                match b.get(i) {
                    Some(new_value) => diff_at(child, old_value, new_value, changes),
                    None => changes.push(FieldChange::Removed {
                        path: child,
                        old: old_value.clone(),
                    }),
                }
            }
            for (i, new_value) in b.iter().enumerate().skip(a.len()) {
                changes.push(FieldChange::Added {
                    path: format!("{path}/{i}"),
                    new: new_value.clone(),
                });
            }
        }
        _ if old == new => {}
        _ => changes.push(FieldChange::Changed {
            path,
            old: old.clone(),
            new: new.clone(),
        }),
    }
}

/// JSON pointer escaping (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_added_and_removed_fields_are_reported_with_old_and_new_values() {
        let old = json!({"balance_cents": 100, "status": "open", "frozen_reason": "x", "items": [1, 2]});
        let new = json!({"balance_cents": 40, "status": "open", "holder": "Ada", "items": [1, 3, 4]});
        assert_eq!(
            diff(&old, &new),
            vec![
                FieldChange::Changed {
                    path: "/balance_cents".into(),
                    old: json!(100),
                    new: json!(40)
                },
                FieldChange::Removed {
                    path: "/frozen_reason".into(),
                    old: json!("x")
                },
                FieldChange::Changed {
                    path: "/items/1".into(),
                    old: json!(2),
                    new: json!(3)
                },
                FieldChange::Added {
                    path: "/items/2".into(),
                    new: json!(4)
                },
                FieldChange::Added {
                    path: "/holder".into(),
                    new: json!("Ada")
                },
            ]
        );
    }

    #[test]
    fn identical_states_have_no_changes_and_keys_are_pointer_escaped() {
        assert!(diff(&json!({"a": [1, {"b": 2}]}), &json!({"a": [1, {"b": 2}]})).is_empty());
        let changes = diff(&json!({"a/b": 1}), &json!({"a/b": 2}));
        assert_eq!(changes[0].path(), "/a~1b");
    }

    #[test]
    fn a_type_change_is_a_change_of_the_whole_field() {
        assert_eq!(
            diff(&json!({"x": {"y": 1}}), &json!({"x": 5})),
            vec![FieldChange::Changed {
                path: "/x".into(),
                old: json!({"y": 1}),
                new: json!(5)
            }]
        );
    }
}
