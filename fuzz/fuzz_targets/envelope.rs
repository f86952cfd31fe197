//! Decoding the platform's answers, and the other text parsers of neux-proto.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neux_proto::{AccessToken, Envelope, Scope, Signature, TokenResponse, UserInfo};

fuzz_target!(|data: &[u8]| {
    for r in [
        Envelope::<TokenResponse>::decode(data).map(|_| ()),
        Envelope::<UserInfo>::decode(data).map(|_| ()),
    ] {
        if let Err(e) = r {
            // Errors render, and never echo a long token-like run.
            let _ = e.to_string();
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<Scope>();
        let _ = text.parse::<Signature>();
        if let Ok(token) = AccessToken::new(text) {
            let _ = token.claims_unverified();
        }
    }
});
