//! The dependency direction is a rule, not a convention: the domain and engine crates never
//! pull in a GUI toolkit, a database driver, an async runtime or a file dialog.

/// Crates that `rewind_core`, `rewind_bank` and `rewind_engine` must not depend on, directly or
/// through another crate.
const FORBIDDEN: &[&str] = &[
    "egui",
    "eframe",
    "winit",
    "wgpu",
    "rusqlite",
    "libsqlite3-sys",
    "postgres",
    "tokio-postgres",
    "tokio",
    "rfd",
];

/// The crates `krate` depends on (normal dependencies, any depth), by name.
fn dependencies_of(krate: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", krate, "-e", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn core_bank_and_engine_depend_on_no_gui_no_database_and_no_runtime() {
    for krate in ["rewind_core", "rewind_bank", "rewind_engine"] {
        let names = dependencies_of(krate);
        assert!(
            names.iter().any(|n| n == krate),
            "{krate} is in its own tree: {names:?}"
        );
        for forbidden in FORBIDDEN {
            assert!(
                !names.iter().any(|name| name == forbidden),
                "{krate} depends on {forbidden}: {names:?}"
            );
        }
    }
}

/// The check sees a crate by its whole name: the store crate, which does use PostgreSQL, shows
/// both `postgres` and `tokio-postgres` (a check matching `postgres ` missed the second).
#[test]
fn the_check_finds_what_the_store_crate_uses() {
    let names = dependencies_of("rewind_store");
    for used in ["rusqlite", "postgres", "tokio-postgres", "tokio"] {
        assert!(names.iter().any(|n| n == used), "{used} not found in {names:?}");
    }
}
