use std::process::ExitCode;

use clap::Parser;

use rewind::cli::{Cli, Outcome, run};

// Replay and generation allocate many small JSON values, often freed on another thread than
// the one that made them; mimalloc handles both far better than glibc's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    rewind::allocator::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => run(command, &cli.open),
        None => rewind::app::run_native(cli.file, cli.position).map(|()| Outcome::Success),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::IssuesFound) => ExitCode::from(1),
        Err(error) => {
            eprintln!("rewind: error: {error:#}");
            ExitCode::from(2)
        }
    }
}
