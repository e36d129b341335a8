//! Integration tests of the app and the CLI. This file only indexes them.

mod cli;
mod dependencies;
mod util;
