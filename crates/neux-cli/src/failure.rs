//! How a command fails: a stable kind for scripts, a line for people (and, for a refused
//! signature, the string that was signed on a line of its own).

/// A failure: a stable kind for scripts, a one-line message for people, and lines of detail.
#[derive(Debug)]
pub(crate) struct Failure {
    pub kind: &'static str,
    pub message: String,
    /// Lines printed after the message, indented.
    pub details: Vec<String>,
}

impl Failure {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        // One line, whatever the cause's formatting.
        let message = message.into().replace(['\n', '\r'], " ");
        Self {
            kind,
            message,
            details: Vec::new(),
        }
    }
}

/// Where a failure's message wraps: a terminal's usual width leaves room at 100 columns.
const WIDTH: usize = 100;

impl Failure {
    /// The lines to print: `error (kind): message`, wrapped at word breaks to [`WIDTH`]
    /// columns with the rest indented, then each detail on its own indented line, whole (a
    /// signed string is pasted elsewhere as it is).
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = wrapped(&format!("error ({}):", self.kind), &self.message);
        lines.extend(self.details.iter().map(|d| format!("  {d}")));
        lines
    }
}

/// `head` then `message`, wrapped at word breaks to [`WIDTH`] columns with the rest indented.
pub(crate) fn wrapped(head: &str, message: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = head.to_owned();
    for word in words(message) {
        if line.chars().count() + 1 + word.chars().count() > WIDTH && !line.trim().is_empty() {
            lines.push(std::mem::replace(&mut line, " ".repeat(4)));
            line.push_str(word);
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    lines.push(line);
    lines
}

/// A message's words, a `quoted command` kept whole (it is pasted as it is).
fn words(message: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut start, mut quoted) = (None::<usize>, false);
    for (i, c) in message.char_indices() {
        if c == '`' {
            quoted = !quoted;
        }
        match (c == ' ' && !quoted, start) {
            (true, Some(s)) => {
                words.push(&message[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(&message[s..]);
    }
    words
}

impl From<neux_oauth::Error> for Failure {
    fn from(e: neux_oauth::Error) -> Self {
        let mut failure = Self::new(e.kind(), e.to_string());
        if let Some(signed) = e.signed_string() {
            failure.details.push(format!("signed: {signed}"));
        }
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_wraps_at_word_breaks_within_the_width() {
        let mut f = Failure::new("signature_rejected", "word ".repeat(60));
        f.details.push(format!("signed: {}", "x".repeat(150)));
        let lines = f.lines();
        assert!(lines.len() >= 4, "{lines:#?}");
        let (signed, message) = lines.split_last().unwrap();
        for l in message {
            assert!(l.chars().count() <= WIDTH, "{l:?}");
        }
        assert!(message[0].starts_with("error (signature_rejected): word"));
        assert!(
            message[1..].iter().all(|l| l.starts_with("    word")),
            "{lines:#?}"
        );
        assert_eq!(signed.len(), 2 + 8 + 150, "a detail stays whole");
        // A quoted command is never cut.
        let f = Failure::new(
            "usage",
            format!(
                "{} `cargo install neux-cli --features surf` now",
                "a".repeat(80)
            ),
        );
        assert!(
            f.lines()
                .iter()
                .any(|l| l.contains("`cargo install neux-cli --features surf`"))
        );
        // Every word survives the wrap.
        let count: usize = message.iter().map(|l| l.matches("word").count()).sum();
        assert_eq!(count, 60);
    }
}
