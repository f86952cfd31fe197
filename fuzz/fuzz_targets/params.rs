//! Parameter parsing and canonicalisation: any bytes, as JSON parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neux_proto::{AppSecret, Params, SECRET_MASK, cmp_keys};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(params) = Params::from_json_str(text) else { return };
    let secret = AppSecret::new("fuzz-secret").expect("valid secret");
    let a = params.sign(&secret);
    // Signing is deterministic and independent of insertion order.
    let mut reversed = Params::new();
    let entries: Vec<_> = params.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect();
    for (k, v) in entries.into_iter().rev() {
        reversed.insert(k, v).expect("keys were accepted once");
    }
    assert_eq!(a, reversed.sign(&secret));
    // The secret is inserted exactly once, in its place (after every key that sorts before
    // `secret`, before every other), and never rendered: the canonical string equals the
    // pairs rendered one by one around one masked secret.
    let canonical = params.canonical_string_redacted();
    let masked = format!("secret={SECRET_MASK}");
    let (mut before, mut after) = (String::new(), String::new());
    for (k, v) in params.iter() {
        let single = Params::new().with(k, v.clone()).expect("accepted once").canonical_string_redacted();
        if cmp_keys(k, "secret").is_lt() {
            before.push_str(single.strip_suffix(&masked).expect("secret after a smaller key"));
        } else {
            after.push_str(single.strip_prefix(&masked).expect("secret before a larger key"));
        }
    }
    assert_eq!(canonical, format!("{before}{masked}{after}"));
    // A different secret gives a different signature over the same parameters.
    let other = AppSecret::new("another-secret").expect("valid secret");
    assert_ne!(a, params.sign(&other));
    // Round trip through the JSON the map serialises to.
    let json = serde_json::to_string(&params).expect("serialises");
    assert_eq!(Params::from_json_str(&json).expect("reparses").sign(&secret), a);
});
