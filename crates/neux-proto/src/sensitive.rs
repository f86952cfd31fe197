//! Which parameter names hold credentials: the one table every part of neux masks by (a
//! `Params`'s `Debug`, the client's errors, the sandbox's log, inspector and control API).

/// Names that are credentials wherever the platform uses them, exactly: the code, the tokens,
/// a password.
pub const SENSITIVE_KEYS: [&str; 4] = ["code", "accessToken", "refreshToken", "password"];

/// Words that make a name sensitive wherever they appear in it, case and `_`/`-` aside:
/// `clientSecret`, `api_key`, `cardNo`, `X-Auth-Token`.
const CONTAINED: [&str; 12] = [
    "secret",
    "token",
    "password",
    "passwd",
    "apikey",
    "privatekey",
    "cardno",
    "cardnumber",
    "cvv",
    "cvc",
    "otp",
    "phone",
];

/// Short words that make a name sensitive as the whole name or at its start or end (`pin`,
/// `pinCode`, `userPin`), not in its middle (`shipping`).
const AFFIXED: [&str; 2] = ["pin", "pan"];

/// Whether a parameter named `key` holds a credential or personal data that no log, error or
/// page should show: one of [`SENSITIVE_KEYS`], or a name with a credential's word in it
/// (secret, token, password, API key, private key, card number, CVV/CVC, OTP, phone, PIN, PAN),
/// matched in any case, with `_` and `-` ignored.
///
/// ```
/// use neux_proto::is_sensitive_name;
/// for key in ["code", "cardNo", "card_number", "cvv", "apiKey", "api_key", "otp", "pinCode", "clientSecret", "phoneNumber"] {
///     assert!(is_sensitive_name(key), "{key}");
/// }
/// for key in ["clientId", "timestamp", "amount", "shipping", "openId", "nickName"] {
///     assert!(!is_sensitive_name(key), "{key}");
/// }
/// ```
pub fn is_sensitive_name(key: &str) -> bool {
    if SENSITIVE_KEYS.contains(&key) {
        return true;
    }
    // The name in lower case without separators; on the stack, as a request may carry
    // thousands of keys.
    let mut buf = [0u8; 64];
    let mut len = 0;
    let mut long = Vec::new();
    for b in key.bytes().filter(|b| !matches!(b, b'_' | b'-')) {
        let b = b.to_ascii_lowercase();
        if len < buf.len() {
            buf[len] = b;
            len += 1;
        } else {
            if long.is_empty() {
                long.extend_from_slice(&buf);
            }
            long.push(b);
        }
    }
    let name: &[u8] = if long.is_empty() { &buf[..len] } else { &long };
    let contains = |w: &[u8]| name.windows(w.len()).any(|part| part == w);
    CONTAINED.iter().any(|w| contains(w.as_bytes()))
        || AFFIXED
            .iter()
            .any(|w| name.starts_with(w.as_bytes()) || name.ends_with(w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_odd_names_are_read_whole() {
        let long = format!("{}Secret", "x".repeat(100));
        assert!(is_sensitive_name(&long));
        assert!(!is_sensitive_name(&"x".repeat(100)));
        assert!(is_sensitive_name("X-AUTH-TOKEN") && is_sensitive_name("card-no"));
        assert!(!is_sensitive_name("") && !is_sensitive_name("café"));
    }
}
