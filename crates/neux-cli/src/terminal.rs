//! Writing to stdout/stderr without panicking (a closed pipe is not a crash), and the shapes
//! of what the commands print.

use std::io::Write;

use neux_oauth::UserInfo;

/// Writes text to stdout with a line ending and flushes it (scripts may wait on it). Control
/// characters other than line breaks are escaped: a server's text must not drive the terminal
/// (ESC sequences, BEL).
pub(crate) fn println(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", escaped(text, true));
    let _ = out.flush();
}

/// Writes JSON text to stdout: serde_json escapes C0 characters in strings but not DEL or the C1
/// range (U+0080..U+009F, where 8-bit terminals find CSI), so those become `\u00XX` escapes: the
/// same JSON value, nothing a terminal acts on.
pub(crate) fn println_json(json: &str) {
    println(&json_safe(json));
}

fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes text to stderr, control characters other than line breaks escaped.
pub(crate) fn eprintln(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", escaped(text, true));
}

/// `text` with every control character (C0, DEL, C1) written as `\u{XX}`, line breaks (`\n`)
/// kept when `keep_lines`.
pub(crate) fn escaped(text: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_control() && !(keep_lines && c == '\n');
    if !text.chars().any(escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Milliseconds with one decimal, for step timings.
pub(crate) fn ms(d: std::time::Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The profile, one field a line, with the platform's names.
pub(crate) fn print_profile(user: &UserInfo) {
    let show = |v: Option<&str>| v.unwrap_or("null").to_owned();
    let mut rows = vec![
        ("openId", user.open_id.to_string()),
        ("nickName", show(user.nick_name.as_deref())),
        ("avatar", show(user.avatar.as_deref())),
        ("email", show(user.email.as_deref())),
        ("unionId", show(user.union_id.as_ref().map(|u| u.as_str()))),
    ];
    if let Some(c) = &user.country {
        rows.push(("country", c.clone()));
    }
    if let Some(p) = &user.phone {
        rows.push(("phone", p.clone()));
    }
    for (k, v) in rows {
        // A server's value stays on its line: its own line breaks are escaped too.
        println(&format!("  {k:<9} {}", escaped(&v, false)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("Sandbox User مستخدم", false), "Sandbox User مستخدم");
        assert_eq!(
            escaped("\u{1b}[31mred\u{7}\u{9b}2J\r\n", false),
            "\\u{1b}[31mred\\u{7}\\u{9b}2J\\u{d}\\u{a}"
        );
        assert_eq!(escaped("{\n  \"a\": 1\n}", true), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn json_output_escapes_what_serde_json_leaves_as_json_escapes() {
        let value = serde_json::json!({"nickName": "\u{1b}x\u{9b}31m\u{7f}"});
        let text = serde_json::to_string(&value).unwrap_or_default();
        assert!(text.contains('\u{9b}'), "serde_json keeps C1 raw: {text:?}");
        let out = json_safe(&text);
        assert!(!out.chars().any(char::is_control));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, value);
    }
}
