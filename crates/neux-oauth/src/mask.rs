//! Keeping what a call must not show out of its errors: a code, a token, a caller's sensitive
//! values, in every form a server may echo them.

use neux_proto::{ParamValue, Params, SECRET_MASK};

/// The values a call must keep out of its errors, made into a [`Mask`] only when an error needs
/// one (the success path pays nothing).
#[derive(Clone, Copy)]
pub(crate) enum Sensitive<'a> {
    /// Texts: the code of an exchange, the token of a profile read.
    Texts(&'a [&'a str]),
    /// Every value of a signed call's parameters that [`Params::is_sensitive`] names.
    Params(&'a Params),
}

impl Sensitive<'_> {
    pub(crate) fn mask(&self) -> Mask {
        let mut mask = Mask::default();
        match self {
            Self::Texts(texts) => texts.iter().for_each(|t| mask.text(t)),
            Self::Params(params) => params
                .iter()
                .filter(|(k, _)| params.is_sensitive(k))
                .for_each(|(_, v)| mask.value(v)),
        }
        mask.finish()
    }
}

/// Every form of every sensitive value that a server's text may hold, longest first.
#[derive(Debug, Default)]
pub(crate) struct Mask {
    needles: Vec<String>,
}

impl Mask {
    /// A text and the forms a server may echo it in: as it is, JSON-escaped (once, twice, and
    /// with non-ASCII as `\uXXXX`), and form-encoded (`+` or `%20` for a space).
    pub(crate) fn text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let json = json_escaped(t, false);
        let forms = [
            t.to_owned(),
            json_escaped(&json, false),
            json_escaped(t, true),
            lower_hex_escapes(&json_escaped(t, true)),
            form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>(),
            percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            json,
        ];
        self.needles.extend(forms);
    }

    /// A parameter's value in each of its text forms: a number's digits, a list joined as it is
    /// signed and as JSON, and each of its items.
    pub(crate) fn value(&mut self, v: &ParamValue) {
        match v {
            // `true`, `false` and nothing carry no secret a server could echo recognisably.
            ParamValue::Bool(_) | ParamValue::Null => {}
            ParamValue::List(items) => {
                self.text(&v.to_string());
                if let Ok(json) = serde_json::to_string(v) {
                    self.text(&json);
                }
                items.iter().for_each(|i| self.text(&i.to_string()));
            }
            other => self.text(&other.to_string()),
        }
    }

    fn finish(mut self) -> Self {
        self.needles.retain(|n| !n.is_empty());
        // Longest first, so a value is masked whole before a shorter one inside it.
        self.needles
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.needles.dedup();
        self
    }

    /// `text` with every form of every value replaced by [`SECRET_MASK`].
    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), SECRET_MASK);
            }
        }
        out
    }

    /// Raw bytes (a body), masked the same way; invalid UTF-8 is kept as U+FFFD.
    pub(crate) fn apply_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.apply(&String::from_utf8_lossy(bytes)).into_bytes()
    }
}

/// `t` as it stands between the quotes of a JSON string; `ascii` writes every non-ASCII
/// character as `\uXXXX` (UTF-16 units, upper-case hex), as some servers do.
fn json_escaped(t: &str, ascii: bool) -> String {
    let quoted = serde_json::to_string(t).unwrap_or_default();
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted);
    if !ascii {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }
    out
}

/// `s` with the four hex digits after every `\u` in lower case.
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        let (head, tail) = rest.split_at(i + 2);
        out.push_str(head);
        let digits = tail.get(..4).unwrap_or(tail);
        out.push_str(&digits.to_ascii_lowercase());
        rest = &tail[digits.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use neux_proto::ListItem;

    fn masked(value: &ParamValue, text: &str) -> String {
        let mut m = Mask::default();
        m.value(value);
        m.finish().apply(text)
    }

    #[test]
    fn every_echoed_form_of_a_text_is_masked() {
        let pw = ParamValue::Str("p\"w d+é/1".into());
        for echo in [
            "p\"w d+é/1",             // raw
            "p\\\"w d+é/1",           // JSON-escaped
            "p\\\\\\\"w d+é/1",       // JSON-escaped twice (a body echoed in a message)
            "p\\\"w d+\\u00E9/1",     // JSON with non-ASCII escaped
            "p\\\"w d+\\u00e9/1",     // the same, lower-case hex
            "p%22w+d%2B%C3%A9%2F1",   // form-encoded
            "p%22w%20d%2B%C3%A9%2F1", // percent-encoded
        ] {
            let out = masked(&pw, &format!("bad password <{echo}> given"));
            assert_eq!(out, "bad password <[REDACTED]> given", "{echo}");
        }
    }

    #[test]
    fn numbers_and_lists_are_masked_as_their_text() {
        let card = ParamValue::UInt(4_111_111_111_111_111);
        assert_eq!(
            masked(&card, "cardNo=4111111111111111secret=[REDACTED]"),
            "cardNo=[REDACTED]secret=[REDACTED]"
        );
        let pins = ParamValue::List(vec![ListItem::Int(1234), ListItem::Int(5678)]);
        assert_eq!(masked(&pins, "pins=1234,5678"), "pins=[REDACTED]");
        assert_eq!(
            masked(&pins, r#"{"pins":[1234,5678]}"#),
            r#"{"pins":[REDACTED]}"#
        );
        assert_eq!(masked(&pins, "second 5678"), "second [REDACTED]");
        assert_eq!(masked(&ParamValue::Bool(true), "true"), "true");
    }
}
