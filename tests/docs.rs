//! The docs point only inside the repository, and ARCHITECTURE.md names tests that exist.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of the Markdown links `[text](target)` in `text`, anchors and titles dropped.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or_default();
        let target = target.split('#').next().unwrap_or_default();
        if !target.is_empty() {
            targets.push(target.to_owned());
        }
        rest = &after[end..];
    }
    targets
}

/// The tests ARCHITECTURE.md names, as `` `path/to/file.rs::test_name` ``.
fn named_tests(text: &str) -> Vec<(String, String)> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (file, name) = code.split_once(".rs::")?;
            Some((format!("{file}.rs"), name.to_owned()))
        })
        .collect()
}

#[test]
fn links_resolve_and_named_tests_exist() {
    let mut documents: Vec<PathBuf> = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    let docs = std::fs::read_dir(root().join("docs")).expect("docs/ exists");
    documents.extend(
        docs.filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    for document in &documents {
        let text = std::fs::read_to_string(document).expect("readable");
        let dir = document.parent().unwrap_or(Path::new("."));
        for target in link_targets(&text) {
            if target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = dir.join(&target);
            assert!(
                resolved.exists(),
                "{}: the link to {target} leads nowhere",
                document.display()
            );
            let resolved = resolved.canonicalize().expect("resolves");
            assert!(
                resolved.starts_with(root().canonicalize().expect("the root resolves")),
                "{}: the link to {target} leaves the repository",
                document.display()
            );
        }
    }
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("readable");
    let named = named_tests(&architecture);
    assert!(
        named.len() >= 10,
        "ARCHITECTURE.md names its invariants' tests: {named:?}"
    );
    for (file, name) in named {
        let source = std::fs::read_to_string(root().join(&file))
            .unwrap_or_else(|e| panic!("ARCHITECTURE.md names {file}, which cannot be read: {e}"));
        assert!(
            source.contains(&format!("fn {name}(")),
            "ARCHITECTURE.md names the test {name} in {file}, which has no such function"
        );
    }
}

/// The check itself: a link to nowhere and a test that does not exist are both found.
#[test]
fn the_check_finds_broken_links_and_missing_tests() {
    assert_eq!(
        link_targets("see [a](docs/a.md#x) and [b](https://x.org)"),
        ["docs/a.md", "https://x.org"]
    );
    assert_eq!(
        named_tests("held by `tests/x.rs::a_test` and `plain`"),
        [("tests/x.rs".to_owned(), "a_test".to_owned())]
    );
}

/// The desktop entry runs the binary the crate builds, on the file it is given, with the icon
/// the README installs, and matches the window by the app id the window sets.
#[test]
fn the_desktop_entry_runs_rewind_with_its_icon() {
    let entry = std::fs::read_to_string(root().join("assets/rewind.desktop")).expect("the entry");
    let key = |name: &str| {
        entry
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in the desktop entry"))
            .to_owned()
    };
    assert!(entry.starts_with("[Desktop Entry]\n"));
    assert_eq!(key("Type"), "Application");
    assert_eq!(key("Exec"), format!("{} %f", env!("CARGO_PKG_NAME")));
    assert_eq!(key("Icon"), "rewind");
    assert!(root().join("assets/icon.png").exists());
    let app = std::fs::read_to_string(root().join("src/app.rs")).expect("the app");
    assert!(app.contains(&format!(".with_app_id(\"{}\")", key("StartupWMClass"))));
    let readme = std::fs::read_to_string(root().join("README.md")).expect("the README");
    assert!(readme.contains("cargo install --locked --path ."));
    assert!(readme.contains("assets/rewind.desktop ~/.local/share/applications/rewind.desktop"));
}
