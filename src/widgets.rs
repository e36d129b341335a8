//! Reusable widgets: a collapsible JSON tree that highlights changed fields.

use std::collections::HashMap;
use std::hash::BuildHasher;

use egui::{RichText, Ui};
use serde_json::Value;

use rewind_core::MoneyField;
use rewind_engine::FieldChange;

use crate::theme;

/// Changes by JSON pointer, for highlighting.
pub fn changes_by_path(changes: &[FieldChange]) -> HashMap<&str, &FieldChange> {
    changes.iter().map(|c| (c.path(), c)).collect()
}

/// Shows `value` as a tree; fields in `changes` are highlighted with their previous value.
pub fn json_tree<S: BuildHasher>(
    ui: &mut Ui,
    id: &str,
    value: &Value,
    changes: &HashMap<&str, &FieldChange, S>,
    money: &[MoneyField],
) {
    let tree = Tree { id, changes, money };
    node(ui, &tree, None, None, "", value, 0);
}

/// What every node of a [`json_tree`] draws with.
struct Tree<'a, S> {
    id: &'a str,
    changes: &'a HashMap<&'a str, &'a FieldChange, S>,
    money: &'a [MoneyField],
}

fn node<S: BuildHasher>(
    ui: &mut Ui,
    tree: &Tree<'_, S>,
    key: Option<&str>,
    siblings: Option<&serde_json::Map<String, Value>>,
    path: &str,
    value: &Value,
    depth: usize,
) {
    let (id, changes) = (tree.id, tree.changes);
    let changed_inside = changes.keys().any(|p| p.starts_with(path) && p.len() > path.len());
    match value {
        Value::Object(map) if !map.is_empty() => {
            let label = format!("{}{{{}}}", key.map(|k| format!("{k}: ")).unwrap_or_default(), map.len());
            let text = if changed_inside {
                RichText::new(label).color(theme::text(ui, theme::CHANGED))
            } else {
                RichText::new(label)
            };
            let header = egui::CollapsingHeader::new(text)
                .id_salt((id, path))
                .default_open(depth < 2 || changed_inside);
            header.show(ui, |ui| {
                for (k, v) in map {
                    let child = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                    node(ui, tree, Some(k), Some(map), &child, v, depth + 1);
                }
            });
        }
        Value::Array(items) if !items.is_empty() => {
            let label = format!("{}[{}]", key.map(|k| format!("{k}: ")).unwrap_or_default(), items.len());
            let text = if changed_inside {
                RichText::new(label).color(theme::text(ui, theme::CHANGED))
            } else {
                RichText::new(label)
            };
            egui::CollapsingHeader::new(text)
                .id_salt((id, path))
                .default_open(depth < 1 || changed_inside)
                .show(ui, |ui| {
                    for (i, v) in items.iter().enumerate() {
                        node(
                            ui,
                            tree,
                            Some(&i.to_string()),
                            None,
                            &format!("{path}/{i}"),
                            v,
                            depth + 1,
                        );
                    }
                });
        }
        leaf => {
            // Money as people write it (the raw value on hover), where the domain says so.
            let money = key.zip(siblings).and_then(|(k, siblings)| {
                tree.money
                    .iter()
                    .filter(|m| m.field == k)
                    .find_map(|m| m.format_in(siblings))
            });
            let shown = money.clone().unwrap_or_else(|| short(leaf));
            let text = format!("{}{}", key.map(|k| format!("{k}: ")).unwrap_or_default(), shown);
            let raw = money.map(|_| format!("{} (as stored: {})", key.unwrap_or_default(), short(leaf)));
            let response = match changes.get(path) {
                Some(FieldChange::Changed { old, .. }) => {
                    ui.horizontal(|ui| {
                        let response = ui.label(
                            RichText::new(text)
                                .monospace()
                                .color(theme::text(ui, theme::CHANGED))
                                .strong(),
                        );
                        let was = siblings
                            .zip(key)
                            .and_then(|(siblings, k)| {
                                tree.money.iter().find(|m| m.field == k)?.format_with(siblings, old)
                            })
                            .unwrap_or_else(|| short(old));
                        ui.label(RichText::new(format!("was {was}")).monospace().weak());
                        response
                    })
                    .inner
                }
                Some(FieldChange::Added { .. }) => ui.label(
                    RichText::new(format!("{text}  (new)"))
                        .monospace()
                        .color(theme::text(ui, theme::CHANGED))
                        .strong(),
                ),
                _ => ui.label(RichText::new(text).monospace()),
            };
            if let Some(raw) = raw {
                response.on_hover_text(raw);
            }
        }
    }
    // Fields removed by the change have no node of their own in the new value.
    if path.is_empty() || value.is_object() {
        for change in changes.values() {
            if let FieldChange::Removed { path: removed, old } = change
                && parent(removed) == path
            {
                ui.label(
                    RichText::new(format!("{}: {} (removed)", last_key(removed), short(old)))
                        .monospace()
                        .color(theme::text(ui, theme::REMOVED)),
                );
            }
        }
    }
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

fn last_key(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// A value on one line, shortened.
pub fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text
    }
}

/// A state on one line, the fields that differ from `before` first (`balance_cents: 0 ·
/// holder: "Ada" · …`): what the event changed is what a history is read for.
pub fn state_line(before: Option<&Value>, state: &Value) -> String {
    let Value::Object(fields) = state else {
        return short(state);
    };
    let changed = |key: &String, value: &Value| before.is_some_and(|b| b.get(key) != Some(value));
    let (first, rest): (Vec<_>, Vec<_>) = fields.iter().partition(|(k, v)| changed(k, v));
    let text = first
        .into_iter()
        .chain(rest)
        .map(|(key, value)| format!("{key}: {}", short(value)))
        .collect::<Vec<_>>()
        .join(" · ");
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(159).collect::<String>())
    } else {
        text
    }
}

/// `text` cut in the middle (`account-00…0042`) to fit `width` in the body font: stream ids
/// differ at their ends more often than at their starts. Whole when it fits.
pub fn elided_middle(ui: &Ui, text: &str, width: f32) -> String {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let fits = |candidate: &str| {
        ui.painter()
            .layout_no_wrap(candidate.to_owned(), font.clone(), egui::Color32::WHITE)
            .size()
            .x
            <= width
    };
    if fits(text) {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = |keep: usize| -> String {
        let head = keep.div_ceil(2);
        let tail = keep / 2;
        let mut out: String = chars[..head].iter().collect();
        out.push('…');
        out.extend(&chars[chars.len() - tail..]);
        out
    };
    // The most characters that fit, found by halving.
    let (mut low, mut high) = (0, chars.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(&cut(mid)) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    cut(low)
}

#[cfg(test)]
mod tests {
    /// A long id is cut in its middle to fit, keeping both ends; a short one is left whole.
    #[test]
    fn ids_are_cut_in_the_middle_to_fit() {
        let ctx = egui::Context::default();
        let mut cut = (String::new(), String::new(), 0.0, 0.0);
        // Fonts are laid out from the second pass on.
        for _ in 0..2 {
            let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
                let id = "2cb26e6aae4b5fc0b3e84f8a1bf4b1f1";
                cut.0 = super::elided_middle(ui, id, 120.0);
                cut.1 = super::elided_middle(ui, "account-7", 120.0);
                let font = egui::TextStyle::Body.resolve(ui.style());
                cut.2 = ui
                    .painter()
                    .layout_no_wrap(cut.0.clone(), font.clone(), egui::Color32::WHITE)
                    .size()
                    .x;
                cut.3 = ui
                    .painter()
                    .layout_no_wrap(id.to_owned(), font, egui::Color32::WHITE)
                    .size()
                    .x;
            });
            output.textures_delta.clear();
        }
        let (long, short, width, whole) = cut;
        assert!(whole > 120.0, "the id does not fit whole ({whole})");
        assert!(width <= 120.0, "{long} is {width} wide");
        assert!(
            long.starts_with("2cb2") && long.ends_with("1f1") && long.contains('…'),
            "{long}"
        );
        assert_eq!(short, "account-7");
    }
}
