//! Rewind, the app and the CLI, replaying the cqrs-es bank's streams through its own code.

fn main() -> std::process::ExitCode {
    rewind::run(rewind::DomainSet::new(vec![Box::new(
        rewind_example_cqrs_bank::CqrsBank,
    )]))
}
