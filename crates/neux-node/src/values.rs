//! The fast path for the common kinds of value: `index.js` sends a map's keys once, as a
//! [`KeyOrder`] the addon learns, and after that only the values, as one string.

use napi::Result;
use napi::bindgen_prelude::{Env, External};
use napi_derive::napi;
use neux_proto::{TextParams, TextValue, cmp_keys};

use crate::{Failure, Outcome, run, secret, shown, signs};

/// Exactly `count` pieces of `text`, each ended by a NUL: `None` for any other number (a NUL
/// inside a key or a value makes one more piece, and `index.js` then calls the general reader).
fn pieces(text: &str, count: usize) -> Option<Vec<&str>> {
    // Each piece ends in a NUL: a count beyond that is wrong, and must size nothing.
    if count > text.len() {
        return None;
    }
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    let mut whole = true;
    for_each_nul(text.as_bytes(), |at| {
        // A NUL byte is only ever the character U+0000, so each piece is whole UTF-8; `get`
        // checks it rather than trusting it.
        match text.get(start..at) {
            Some(piece) if pieces.len() < count => pieces.push(piece),
            _ => whole = false,
        }
        start = at + 1;
    });
    (whole && start == text.len() && pieces.len() == count).then_some(pieces)
}

/// Calls `found` with the offset of each NUL byte in `bytes`, in order. Eight bytes at a time:
/// `str::split`'s searcher cost about 10 ns a piece, a fifth of a 50-key call.
fn for_each_nul(bytes: &[u8], mut found: impl FnMut(usize)) {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for word in words.by_ref() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let w = u64::from_le_bytes(eight);
        // The high bit of each zero byte, exactly: `(b | 0x80) - 1` has its high bit set unless
        // b's low seven bits are all zero, `| w` sets it for b >= 0x80, and as every byte is at
        // least 0x80 before the subtraction, no borrow crosses into the next byte.
        let mut zeros = !(((w | HIGH) - LOW) | w) & HIGH;
        while zeros != 0 {
            found(base + (zeros.trailing_zeros() / 8) as usize);
            zeros &= zeros - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == 0 {
            found(base + i);
        }
    }
}

/// A map's keys, learnt once for all the maps with the same keys in the same order (the same
/// kind of request, signed again and again): kept in signing order, each with its place in the
/// caller's order. `index.js` holds it and sends only the values after that.
pub struct KeyOrder {
    sorted: Vec<(String, usize)>,
}

/// The key order of `keys` (`key NUL` each, `count` of them, in the order `index.js` will send
/// the values): `null` if they do not split into `count` keys, or if a map with those keys is
/// refused (a `secret` key, a key twice), for the general reader to say why.
#[napi]
pub fn key_order(keys: String, count: u32) -> Option<External<KeyOrder>> {
    let keys = pieces(&keys, usize::try_from(count).ok()?)?;
    TextParams::from_pairs(keys.iter().map(|&k| (k, ""))).ok()?;
    let mut sorted: Vec<(String, usize)> = keys
        .iter()
        .enumerate()
        .map(|(place, &k)| (k.to_owned(), place))
        .collect();
    sorted.sort_unstable_by(|a, b| cmp_keys(&a.0, &b.0));
    Some(External::new(KeyOrder { sorted }))
}

/// The map of `order`'s keys and `values` (`text NUL` each, in the caller's order), or `None`
/// if `values` does not hold one value per key.
fn with_values<T>(
    env: &Env,
    order: &KeyOrder,
    values: &str,
    then: impl FnOnce(&TextParams<'_>) -> Outcome<T>,
) -> Result<Option<T>> {
    run(env, || {
        let Some(values) = pieces(values, order.sorted.len()) else {
            return Ok(None);
        };
        let pairs = order
            .sorted
            .iter()
            .map(|(key, place)| (key.as_str(), TextValue::Text(values[*place])));
        then(&TextParams::from_pairs(pairs).map_err(Failure::param)?).map(Some)
    })
}

/// `sign` for the values of a map whose keys are `order`'s, in the text form `index.js` gives
/// strings, safe integers, booleans and null: one string across the boundary instead of a
/// property read per key. `null` when `values` does not hold one value per key.
#[napi]
pub fn sign_values(
    env: Env,
    order: &External<KeyOrder>,
    values: String,
    secret: String,
) -> Result<Option<String>> {
    with_values(&env, order, &values, |params| {
        Ok(params.sign(&self::secret(&secret)?).to_hex())
    })
}

/// `canonical` for the values of a map whose keys are `order`'s (see [`sign_values`]).
#[napi]
pub fn canonical_values(
    env: Env,
    order: &External<KeyOrder>,
    values: String,
    mask_secret: Option<bool>,
    secret: Option<String>,
) -> Result<Option<String>> {
    with_values(&env, order, &values, |params| {
        shown(params, mask_secret, secret.as_deref())
    })
}

/// `verify` for the values of a map whose keys are `order`'s (see [`sign_values`]).
#[napi]
pub fn verify_values(
    env: Env,
    order: &External<KeyOrder>,
    values: String,
    secret: String,
    signature: String,
) -> Result<Option<bool>> {
    with_values(&env, order, &values, |params| {
        let expected = params.sign(&self::secret(&secret)?);
        Ok(signs(&expected, &signature))
    })
}
