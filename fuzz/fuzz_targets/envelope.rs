//! Decoding the platform's answers, and the other text parsers of neux-proto.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neux_proto::{
    AccessToken, Envelope, ResponseError, Scope, Signature, TokenResponse, UserInfo, redact,
};

fuzz_target!(|data: &[u8]| {
    for r in [
        Envelope::<TokenResponse>::decode(data).map(|_| ()),
        Envelope::<UserInfo>::decode(data).map(|_| ()),
    ] {
        // A garbled answer's error never echoes a long token-like run of it: its text is
        // already what redaction leaves. (An API error carries the server's message unchanged,
        // by design.)
        if let Err(e @ ResponseError::Decode(_)) = r {
            let text = e.to_string();
            assert_eq!(redact(&text), text, "a token-like run in a decode error");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        // What parses prints back to something that parses to the same value.
        if let Ok(scope) = text.parse::<Scope>() {
            assert_eq!(scope.to_string().parse::<Scope>().expect("reparses"), scope);
        }
        if let Ok(sig) = text.parse::<Signature>() {
            assert_eq!(sig.to_hex(), text.to_ascii_lowercase());
            assert_eq!(sig.to_hex().parse::<Signature>().expect("reparses"), sig);
        }
        if let Ok(token) = AccessToken::new(text) {
            let _ = token.claims_unverified();
        }
    }
});
