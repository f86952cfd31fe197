//! The key orders of dicts seen before: a map's keys read once, as UTF-8 and in signing order,
//! for the dicts of the same kind of request that follow.

use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyString;

/// The keys of a dict seen before, as UTF-8, with their signing order: a backend signs the same
/// kind of request again and again, and its dicts share their key objects (string literals and
/// interned names), or at least their text (`json.loads`). Encoding and ordering the keys once
/// saves half of a 50-key signature's conversions. A key order is found by the identity of its
/// key objects, which it keeps alive (so an address cannot be reused by another string while it
/// is kept), or else by `==` on each key.
pub(crate) struct KeyOrder {
    keys: Vec<Py<PyString>>,
    /// The keys' UTF-8, one after another (one allocation, however many keys).
    text: String,
    /// Each key's place in the dict, and where it is in `text`, in signing order.
    sorted: Vec<(usize, usize, usize)>,
}

impl KeyOrder {
    /// The keys in signing order, each with its place in the dict.
    pub(crate) fn sorted(&self) -> impl Iterator<Item = (&str, usize)> {
        self.sorted
            .iter()
            .map(|&(place, start, end)| (&self.text[start..end], place))
    }
}

/// What tells key orders apart before their keys are compared: the number of keys and the
/// first key's hash (held in the `str` itself). Comparing it first keeps a miss from touching
/// the kept keys, which are cold in memory by then.
type Fingerprint = (usize, isize);

/// The key orders kept (the most recently used first), and the fingerprints of orders seen
/// once: an order is kept when it is seen a second time, so that dicts whose keys are new
/// every time cost what they cost before orders were kept.
struct Kept {
    orders: Vec<(Fingerprint, Arc<KeyOrder>)>,
    seen: [Option<Fingerprint>; SEEN_KEPT],
    next_seen: usize,
}

static KEPT: Mutex<Kept> = Mutex::new(Kept {
    orders: Vec::new(),
    seen: [None; SEEN_KEPT],
    next_seen: 0,
});
const ORDERS_KEPT: usize = 16;
const SEEN_KEPT: usize = 32;
/// A dict with more keys is not kept (its key order is learnt for the call alone).
const KEYS_KEPT_AT_MOST: usize = 1024;

/// The kept key order of `keys`: one whose keys are these, or a new one if they were seen
/// before (and are not too many); `None` the first time (the caller then reads the keys as it
/// did before orders were kept), or if a key does not encode (a lone surrogate).
pub(crate) fn kept_order(keys: &[Bound<'_, PyString>]) -> Option<Arc<KeyOrder>> {
    let fingerprint = (keys.len(), keys.first().map_or(Some(0), |k| k.hash().ok())?);
    // The same key objects, or (a dict from `json.loads`, whose keys are new strings each
    // time) keys of the same text: `==` on two exact `str` compares without encoding either,
    // and runs no Python code (no finalizer can sign while the lock is held).
    let same = |order: &KeyOrder| {
        order.keys.iter().zip(keys).all(|(a, b)| {
            a.as_ptr() == b.as_ptr()
                || PyAnyMethods::eq(a.bind(b.py()).as_any(), b).unwrap_or(false)
        })
    };
    let keep = {
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = kept
            .orders
            .iter()
            .position(|(f, order)| *f == fingerprint && same(order))
        {
            let found = kept.orders.remove(at);
            let order = Arc::clone(&found.1);
            kept.orders.insert(0, found);
            return Some(order);
        }
        let seen = kept.seen.contains(&Some(fingerprint));
        if !seen {
            let next = kept.next_seen;
            kept.seen[next] = Some(fingerprint);
            kept.next_seen = (next + 1) % SEEN_KEPT;
        }
        seen && keys.len() <= KEYS_KEPT_AT_MOST
    };
    if !keep {
        return None;
    }
    // Learnt on the second sighting: a bytes object per key (dropped here), copied into `text`.
    let mut text = String::with_capacity(keys.len() * 16);
    let mut sorted = Vec::with_capacity(keys.len());
    for (place, key) in keys.iter().enumerate() {
        let start = text.len();
        text.push_str(std::str::from_utf8(key.encode_utf8().ok()?.as_bytes()).ok()?);
        sorted.push((place, start, text.len()));
    }
    sorted.sort_unstable_by(|a, b| neux_proto::cmp_keys(&text[a.1..a.2], &text[b.1..b.2]));
    let order = Arc::new(KeyOrder {
        keys: keys.iter().map(|k| k.clone().unbind()).collect(),
        text,
        sorted,
    });
    let evicted = {
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        kept.orders.insert(0, (fingerprint, Arc::clone(&order)));
        (kept.orders.len() > ORDERS_KEPT).then(|| kept.orders.pop())
    };
    // Dropped (its keys released, which can free them) after the lock.
    drop(evicted);
    Some(order)
}
