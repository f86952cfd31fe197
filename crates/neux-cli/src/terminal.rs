//! Writing to stdout/stderr without panicking (a closed pipe is not a crash), and the shapes
//! of what the commands print.

use std::io::Write;

use neux_oauth::UserInfo;

/// Writes a line to stdout and flushes it (scripts may wait on it).
pub(crate) fn println(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Writes a line to stderr.
pub(crate) fn eprintln(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
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
        println(&format!("  {k:<9} {v}"));
    }
}
