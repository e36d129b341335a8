//! What the window shows, as text: every label and value the app draws on the sample at a few
//! positions, with each details tab open, snapshot with `insta`. It holds the app's behaviour
//! still while its code moves (a change of what a user sees shows up here as a diff to review).

use std::fmt::Write as _;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use rewind::app::App;

use crate::app::{loaded_sample, step_until, type_go_to};

/// Every label and value in the window, one a line, in the order the tree holds them; times
/// measured in this run (a seek's, the indexing's) are written as `…`.
fn shown(harness: &Harness<'static, App>) -> String {
    let mut text = String::new();
    for node in harness.root().children_recursive() {
        let node = node.accesskit_node();
        let label = node.label().unwrap_or_default();
        let value = node.value().unwrap_or_default();
        if label.is_empty() && value.is_empty() {
            continue;
        }
        let line = match (label.is_empty(), value.is_empty()) {
            (false, false) => format!("{label} = {value}"),
            (false, true) => label,
            _ => value,
        };
        let _ = writeln!(text, "{:?}: {}", node.role(), redact_timings(&line));
    }
    text
}

fn redact_timings(line: &str) -> String {
    let mut out = line.to_owned();
    for (prefix, unit) in [("seek ", " ms"), ("indexed in ", " s")] {
        if let Some(start) = out.find(prefix) {
            let from = start + prefix.len();
            if let Some(len) = out[from..].find(unit) {
                out.replace_range(from..from + len, "…");
            }
        }
    }
    out
}

#[test]
fn each_tab_shows_the_same_at_a_few_positions() {
    let mut harness = loaded_sample();
    let mut snapshot = String::new();
    for position in ["1", "1202", "1759", "2831"] {
        type_go_to(&mut harness, position);
        for (tab, label) in [
            ("State", "State"),
            ("Projections", "Projections"),
            ("Issues", "Issues ("),
        ] {
            harness
                .query_all_by_label_contains(label)
                .next()
                .expect("the tab")
                .click();
            harness.step();
            step_until(&mut harness, "the seek", App::seek_settled);
            harness.step();
            let _ = writeln!(snapshot, "===== position {position}, tab {tab} =====");
            snapshot.push_str(&shown(&harness));
        }
    }
    insta::assert_snapshot!(snapshot);
}
