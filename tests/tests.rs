//! Integration tests of the app and the CLI. This file only indexes them.

mod app;
mod app_plugins;
mod cli;
mod dependencies;
mod docs;
mod foreign;
mod plugins;
mod postgres;
mod scripts;
mod search;
mod tabs;
mod util;
