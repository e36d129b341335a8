//! The `rewind` binary: the app and the CLI with this build's domains.

fn main() -> std::process::ExitCode {
    rewind::run(rewind::domains())
}
