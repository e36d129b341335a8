//! Text in every script. egui's own fonts draw Latin, Greek and Cyrillic; eframe asks the
//! system's fonts for anything else (CJK, Arabic, Hebrew, Indic, …). What no installed font
//! draws would be boxes with no word of why: [`MissingGlyphs`], asked last, notes those
//! characters so the app can say which fonts to install.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use egui::epaint::text::{FallbackRequest, FontInsert, FontProvider};

/// eframe's system font provider behind a guard: on a machine whose font configuration lists no
/// font at all, it panics while enumerating them, which took the whole app down. Guarded, such
/// a machine draws what egui's own fonts can, and [`MissingGlyphs`] says what to install.
pub struct SystemFonts {
    inner: egui_system_font_provider::SystemFontProvider,
    broken: AtomicBool,
}

impl SystemFonts {
    /// Installs the system's fonts (before the app, whose [`MissingGlyphs`] come after them).
    pub fn install(ctx: &egui::Context) {
        ctx.add_font_provider(Arc::new(Self {
            inner: egui_system_font_provider::SystemFontProvider::new(),
            broken: AtomicBool::new(false),
        }));
    }

    fn guarded<T>(&self, ask: impl FnOnce() -> T, none: T) -> T {
        if self.broken.load(Ordering::Relaxed) {
            return none;
        }
        catch_unwind(AssertUnwindSafe(ask)).unwrap_or_else(|_| {
            self.broken.store(true, Ordering::Relaxed);
            none
        })
    }
}

impl FontProvider for SystemFonts {
    fn fonts_for_family(&self, family: &egui::FontFamily) -> Vec<FontInsert> {
        self.guarded(|| self.inner.fonts_for_family(family), Vec::new())
    }

    fn font_for(&self, request: &FallbackRequest<'_>) -> Option<FontInsert> {
        self.guarded(|| self.inner.font_for(request), None)
    }
}

/// Characters no font could draw, the first met of each script.
#[derive(Default)]
pub struct MissingGlyphs(Mutex<Vec<char>>);

/// How many characters are remembered.
const REMEMBERED: usize = 8;

impl FontProvider for MissingGlyphs {
    fn font_for(&self, request: &FallbackRequest<'_>) -> Option<FontInsert> {
        if let Some(c) = request.cluster.chars().next()
            && !c.is_control()
            && let Ok(mut missing) = self.0.lock()
            && !missing.iter().any(|&m| script_of(m).0 == script_of(c).0)
            && missing.len() < REMEMBERED
        {
            missing.push(c);
        }
        None
    }
}

impl MissingGlyphs {
    /// Installs it behind every other font provider of `ctx`.
    pub fn install(ctx: &egui::Context) -> Arc<Self> {
        let missing = Arc::new(Self::default());
        ctx.add_font_provider(Arc::clone(&missing) as Arc<dyn FontProvider>);
        missing
    }

    pub fn chars(&self) -> Vec<char> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// What to tell the user, when something could not be drawn.
    pub fn advice(&self) -> Option<String> {
        let missing = self.chars();
        if missing.is_empty() {
            return None;
        }
        let mut packages: Vec<&str> = Vec::new();
        let mut scripts: Vec<&str> = Vec::new();
        for &c in &missing {
            let (script, package) = script_of(c);
            if !scripts.contains(&script) {
                scripts.push(script);
            }
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
        let shown = missing
            .iter()
            .map(|c| format!("{c} (U+{:04X})", u32::from(*c)))
            .collect::<Vec<_>>()
            .join(" ");
        Some(format!(
            "No installed font draws {} in {}: it shows as boxes. Install {} (Debian, Ubuntu) or any font that covers it, then restart Rewind.",
            shown,
            scripts.join(", "),
            packages.join(" and ")
        ))
    }
}

/// A character's script, for people, and the Debian package whose fonts draw it.
fn script_of(c: char) -> (&'static str, &'static str) {
    match u32::from(c) {
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => ("Korean", "fonts-noto-cjk"),
        0x3040..=0x30FF | 0x31F0..=0x31FF => ("Japanese", "fonts-noto-cjk"),
        0x2E80..=0x2FDF | 0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF => {
            ("Chinese, Japanese or Korean", "fonts-noto-cjk")
        }
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            ("Arabic", "fonts-noto-core")
        }
        0x0590..=0x05FF => ("Hebrew", "fonts-noto-core"),
        0x0900..=0x0DFF => ("an Indic script", "fonts-noto-core"),
        0x0E00..=0x0EFF => ("Thai or Lao", "fonts-noto-core"),
        0x1F300..=0x1FAFF => ("emoji", "fonts-noto-color-emoji"),
        _ => ("another script", "fonts-noto-core"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advice_names_the_characters_their_scripts_and_the_fonts_to_install() {
        let missing = MissingGlyphs::default();
        assert_eq!(missing.advice(), None);
        for cluster in ["山", "김", "山", "川", "ر"] {
            missing.font_for(&FallbackRequest {
                cluster,
                family: &egui::FontFamily::Proportional,
            });
        }
        let advice = missing.advice().unwrap();
        assert!(advice.contains("山 (U+5C71) 김 (U+AE40) ر (U+0631)"), "{advice}");
        assert!(
            advice.contains("Chinese, Japanese or Korean, Korean, Arabic"),
            "{advice}"
        );
        assert!(
            advice.contains("Install fonts-noto-cjk and fonts-noto-core"),
            "{advice}"
        );
    }
}
