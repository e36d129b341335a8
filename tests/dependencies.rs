//! The dependency direction is a rule, not a convention: the domain and engine crates never
//! pull in a GUI toolkit or a database driver.

#[test]
fn core_bank_and_engine_depend_on_no_gui_and_no_database() {
    for krate in ["rewind_core", "rewind_bank", "rewind_engine"] {
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
        let tree = String::from_utf8_lossy(&output.stdout);
        for forbidden in ["egui", "eframe", "winit", "rusqlite", "wgpu"] {
            assert!(
                !tree.lines().any(|line| line.starts_with(&format!("{forbidden} "))),
                "{krate} depends on {forbidden}:\n{tree}"
            );
        }
    }
}
