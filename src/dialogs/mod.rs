//! The app's dialogs. Each owns what is typed or chosen in it until the user confirms, and
//! pushes commands; the app acts on them.

pub mod connect;
pub mod file;
pub mod mapping;
pub mod path_prompt;
pub mod plugin;

pub use connect::ConnectDialog;
pub use file::{FileDialog, NativeDialog, ask_off_the_ui_thread};
pub use mapping::MappingDialog;
pub use path_prompt::{PathPrompt, PromptFor};
pub use plugin::PluginDialog;
