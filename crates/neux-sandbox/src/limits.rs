//! Every bound on what the sandbox keeps of what a caller sent: how much of a request the log
//! and the inspector keep, and how many requests keep their detail.

/// The longest client id the request log keeps of a request (it is logged before it is
/// checked, so it may be anything a caller sent).
pub(crate) const LOGGED_CLIENT_ID_MAX: usize = 64;

/// The longest path the request log keeps (the signed-call route admits ~64 KiB).
pub(crate) const LOGGED_PATH_MAX: usize = 256;

/// The longest method the request log keeps (hyper admits extension methods of hundreds of KB).
pub(crate) const LOGGED_METHOD_MAX: usize = 16;

/// The first `max` bytes of `text` that end on a character boundary: what the request log keeps
/// of what a caller sent before it was checked.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let end = text
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|end| *end <= max)
        .last()
        .unwrap_or(0);
    text[..end].to_owned()
}

/// How many parameters a request's detail keeps, and how much of each key and value.
pub(crate) const SHOWN_PARAMS_MAX: usize = 32;
pub(crate) const SHOWN_KEY_MAX: usize = 64;
pub(crate) const SHOWN_VALUE_MAX: usize = 200;

/// The longest canonical string a 2000's detail keeps (a 64 KiB body signs a longer one).
pub(crate) const SHOWN_CANONICAL_MAX: usize = 8 * 1024;

/// The longest envelope message a detail keeps.
pub(crate) const SHOWN_MESSAGE_MAX: usize = 1024;

/// How many of the latest requests keep their detail (parameters, message, signature check):
/// the log itself keeps more entries, but only their summary.
pub(crate) const DETAIL_CAPACITY: usize = 500;

/// The most bytes one field of a user's profile (`id`, `nickName`, `avatar`, `email`,
/// `country`, `phone`) may hold: a mint with a longer one is refused (HTTP 413).
pub const MAX_PROFILE_FIELD_BYTES: usize = 1024;

/// What the profile table charges for a profile beyond its fields' bytes (its keys, the
/// union id, the map's and queue's entries).
pub(crate) const PROFILE_OVERHEAD_BYTES: usize = 256;
