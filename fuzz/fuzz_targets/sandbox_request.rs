//! The sandbox's token-request decoding (both dialects): must refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (json, form) = ("application/json", "application/x-www-form-urlencoded");
    let _ = neux_sandbox::fuzzing::token_request(json, data);
    let _ = neux_sandbox::fuzzing::token_request(form, data);
});
