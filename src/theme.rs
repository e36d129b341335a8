//! Colours and sizes, in one place.

use egui::Color32;

/// A field or row the current event changed.
pub const CHANGED: Color32 = Color32::from_rgb(0xE0, 0x9A, 0x1F);
/// A field the current event removed.
pub const REMOVED: Color32 = Color32::from_rgb(0xC0, 0x50, 0x50);
/// A broken invariant.
pub const VIOLATION: Color32 = Color32::from_rgb(0xE0, 0x3C, 0x3C);
/// Any other replay issue.
pub const ISSUE: Color32 = Color32::from_rgb(0xE8, 0x8A, 0x2A);
/// A note: worth a look, not a failure.
pub const NOTE: Color32 = Color32::from_rgb(0x8A, 0x94, 0xA6);
/// The playhead.
pub const PLAYHEAD: Color32 = Color32::from_rgb(0x3D, 0x8B, 0xFD);
/// A pinned position.
pub const PINNED: Color32 = Color32::from_rgb(0x9B, 0x6B, 0xE0);
/// The density graph.
pub const DENSITY: Color32 = Color32::from_rgb(0x5A, 0x9E, 0x8F);

/// A signal colour (changed, removed, violation, issue) for text: as it is on the dark
/// theme's panels, darker on the light theme's, where the orange read at about 2:1 against
/// the panel (4.5:1 is the least for text, WCAG's AA).
pub fn text(ui: &egui::Ui, colour: Color32) -> Color32 {
    text_on(ui.visuals().dark_mode, colour)
}

fn text_on(dark: bool, colour: Color32) -> Color32 {
    if dark {
        colour
    } else {
        let [r, g, b, a] = colour.to_array();
        let dim = |c: u8| (f32::from(c) * LIGHT_TEXT_SHADE) as u8;
        Color32::from_rgba_unmultiplied(dim(r), dim(g), dim(b), a)
    }
}

/// How much of each channel a signal colour keeps as text on the light theme.
const LIGHT_TEXT_SHADE: f32 = 0.62;

/// How the app writes a recorded time (UTC, to the millisecond).
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// What stands for a time the store did not record.
pub const UNKNOWN_TIME: &str = "—";

/// An event type as people know it: a Python topic (`bankdomain:BankAccount.Deposited`) by its
/// event's own name (`Deposited`); any other name as it is. The inspector shows the whole.
pub fn short_event_type(name: &str) -> &str {
    match name.split_once(':') {
        Some((module, qualname)) if !module.is_empty() && !module.contains(char::is_whitespace) => {
            match qualname.rsplit_once('.') {
                Some((class, event)) if !class.is_empty() && !event.is_empty() => event,
                _ => name,
            }
        }
        _ => name,
    }
}

/// A stream's type, or what stands for one the store does not say.
pub fn stream_type_or_unknown(stream_type: &str) -> &str {
    if stream_type.is_empty() {
        "(type unknown)"
    } else {
        stream_type
    }
}

/// A recorded time as the app writes it, or [`UNKNOWN_TIME`].
pub fn time_or_unknown(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map_or_else(|| UNKNOWN_TIME.to_owned(), |t| t.format(TIME_FORMAT).to_string())
}

pub const TIMELINE_TRACK_HEIGHT: f32 = 64.0;
pub const ROW_HEIGHT: f32 = 20.0;

/// Background of a highlighted (changed or current) table row.
pub fn highlight(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgba_unmultiplied(0xE0, 0x9A, 0x1F, 40)
    } else {
        Color32::from_rgba_unmultiplied(0xE0, 0x9A, 0x1F, 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG's contrast ratio between two opaque colours.
    fn contrast(a: Color32, b: Color32) -> f32 {
        let luminance = |c: Color32| {
            let linear = |v: u8| {
                let v = f32::from(v) / 255.0;
                if v <= 0.040_45 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * linear(c.r()) + 0.7152 * linear(c.g()) + 0.0722 * linear(c.b())
        };
        let (l1, l2) = (luminance(a), luminance(b));
        (l1.max(l2) + 0.05) / (l1.min(l2) + 0.05)
    }

    #[test]
    fn signal_colours_are_readable_text_on_either_theme() {
        for colour in [CHANGED, REMOVED, VIOLATION, ISSUE] {
            assert_eq!(text_on(true, colour), colour, "the dark theme keeps the colour");
            let panel = egui::Visuals::light().panel_fill;
            let ratio = contrast(text_on(false, colour), panel);
            assert!(ratio >= 4.5, "{colour:?} on the light theme: {ratio:.2}:1");
            assert!(
                contrast(colour, panel) < 4.5,
                "{colour:?} needed darkening on the light theme"
            );
        }
    }
}
