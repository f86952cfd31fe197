//! The platform's answers: the envelope, its statuses, and the two payloads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::secret::{AccessToken, OpenId, UnionId};
use crate::status::{self, ApiStatus};

/// `responseHeader`: the outcome of the call, whatever the HTTP status said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHeader {
    /// The outcome; 200 is success.
    pub status: ApiStatus,
    /// The server's message (may be empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub msg: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The platform's JSON envelope: `{"responseHeader": {...}, "response": ...}`.
///
/// Unknown fields are ignored; `response` may be `null` or absent (it is on failures).
///
/// ```
/// use neux_proto::{Envelope, TokenResponse};
/// let ok = br#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":604800,"tokenType":"bearer"}}"#;
/// let token: TokenResponse = Envelope::decode(ok)?;
/// assert_eq!(token.expires_in, 604800);
///
/// let refused = br#"{"responseHeader":{"status":2000,"msg":"sign error"},"response":null}"#;
/// let err = Envelope::<TokenResponse>::decode(refused).unwrap_err();
/// assert_eq!(err.api().unwrap().status.get(), 2000);
/// # Ok::<(), neux_proto::ResponseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The outcome.
    #[serde(rename = "responseHeader")]
    pub header: ResponseHeader,
    /// The payload, present on success (`null` on the wire otherwise, as the platform sends it).
    #[serde(default = "none")]
    pub response: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// A success envelope around `response`.
    pub fn ok(response: T) -> Self {
        Self {
            header: ResponseHeader {
                status: status::OK,
                msg: "OK".to_owned(),
            },
            response: Some(response),
        }
    }

    /// A failure envelope with no payload.
    pub fn error(status: ApiStatus, msg: impl Into<String>) -> Self {
        Self {
            header: ResponseHeader {
                status,
                msg: msg.into(),
            },
            response: None,
        }
    }
}

impl<T: DeserializeOwned> Envelope<T> {
    /// Decodes a body and turns it into the payload or a typed error.
    ///
    /// The header is read first, so a failure whose `response` has an unexpected shape still
    /// comes out as [`ResponseError::Api`] with the server's status, not as a decode error.
    pub fn decode(body: &[u8]) -> Result<T, ResponseError> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "responseHeader")]
            header: ResponseHeader,
            #[serde(default)]
            response: serde_json::Value,
        }
        let raw: Raw = serde_json::from_slice(body).map_err(|e| DecodeError::new(&e, body))?;
        if !raw.header.status.is_success() {
            return Err(ResponseError::Api(ApiError {
                status: raw.header.status,
                message: raw.header.msg,
            }));
        }
        if raw.response.is_null() {
            return Err(DecodeError::with_reason(
                "status 200 but `response` is missing or null",
                body,
            )
            .into());
        }
        T::deserialize(raw.response).map_err(|e| DecodeError::new(&e, body).into())
    }
}

/// The platform answered with a status other than 200.
///
/// The status and message are carried unchanged; a documented status gets its hint from the
/// [status table](crate::status::ALL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the platform refused the request: status {status}{}: {message:?}", self.hint().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct ApiError {
    /// `responseHeader.status`.
    pub status: ApiStatus,
    /// `responseHeader.msg`, unchanged.
    pub message: String,
}

impl ApiError {
    /// What the status means and what to check, for a documented status.
    pub fn hint(&self) -> Option<String> {
        let row = status::info(self.status)?;
        row.hint.map(|hint| format!("{}: {hint}", row.meaning))
    }
}

/// How many bytes of a bad body an error keeps.
const EXCERPT_LIMIT: usize = 120;
/// Runs of token-like characters at least this long are masked in excerpts.
const MASK_RUN: usize = 16;

/// A body could not be decoded. Holds a short excerpt with anything token-like masked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not decode the platform's answer: {reason} (body starts: {excerpt:?})")]
pub struct DecodeError {
    reason: String,
    excerpt: String,
}

impl DecodeError {
    fn new(err: &serde_json::Error, body: &[u8]) -> Self {
        // serde_json quotes offending values in its messages: mask those too.
        Self::with_reason(&redact(&err.to_string()), body)
    }

    /// A decode error with a reason of the caller's; the excerpt of `body` is redacted.
    pub fn with_reason(reason: &str, body: &[u8]) -> Self {
        let cut = &body[..body.len().min(EXCERPT_LIMIT)];
        let mut excerpt = redact(&String::from_utf8_lossy(cut));
        if body.len() > EXCERPT_LIMIT {
            excerpt.push('…');
        }
        Self {
            reason: reason.to_owned(),
            excerpt,
        }
    }

    /// The same error with its reason and excerpt passed through `f` (the excerpt is not cut
    /// again), for a caller that knows more values to keep out of it.
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        Self {
            reason: f(&self.reason),
            excerpt: f(&self.excerpt),
        }
    }

    /// Why decoding failed.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The start of the body, with long token-like runs masked.
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }
}

/// Masks every run of at least 16 characters that could be a token, a code or a secret
/// (letters, digits, `-_.+/=`), so an excerpt of a token response never shows the token.
pub fn redact(text: &str) -> String {
    let is_tokenish = |c: char| c.is_ascii_alphanumeric() || "-_.+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= MASK_RUN {
            out.push_str("[REDACTED]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_tokenish(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { ' ' } else { c });
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Why an answer did not yield its payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The platform answered with a non-200 status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The body was not the expected JSON.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl ResponseError {
    /// The API error, if that is what this is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            Self::Decode(_) => None,
        }
    }
}

/// The token call's payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (`accessToken`).
    #[serde(rename = "accessToken")]
    pub access_token: AccessToken,
    /// Lifetime in seconds (`expire`), e.g. 604800.
    #[serde(rename = "expire")]
    pub expires_in: u64,
    /// `tokenType`, `"bearer"` in every sample; absent is tolerated.
    #[serde(rename = "tokenType", default)]
    pub token_type: Option<String>,
}

/// The user's profile, as the user-info call returns it.
///
/// Only `openId` is required; fields this version does not know land in
/// [`extra`](Self::extra). Serialises with the platform's field names (without `extra`).
///
/// ```
/// use neux_proto::UserInfo;
/// let user: UserInfo = serde_json::from_str(r#"{"openId":"o1","nickName":"مستخدم","email":null,"vip":true}"#)?;
/// assert_eq!(user.open_id.as_str(), "o1");
/// assert_eq!(user.email, None);
/// assert_eq!(user.extra["vip"], true);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's id within this mini app: the key to store.
    pub open_id: OpenId,
    /// Display name.
    #[serde(default)]
    pub nick_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub avatar: Option<String>,
    /// E-mail; often null.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's id across the vendor's mini apps.
    #[serde(default)]
    pub union_id: Option<UnionId>,
    /// Country code, with the `user.phone` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Phone number, with the `user.phone` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Fields this version does not know, kept as they came.
    #[serde(flatten, skip_serializing)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl UserInfo {
    /// A profile with only an openId (for tests and emulators).
    pub fn new(open_id: OpenId) -> Self {
        Self {
            open_id,
            nick_name: None,
            avatar: None,
            email: None,
            union_id: None,
            country: None,
            phone: None,
            extra: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_wins_over_an_odd_payload() {
        let body = br#"{"responseHeader":{"status":2001,"msg":"timeout"},"response":"whatever"}"#;
        let err = Envelope::<TokenResponse>::decode(body).unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(api.status, status::TIMESTAMP_OUT_OF_WINDOW);
        assert_eq!(api.message, "timeout");
        assert!(err.to_string().contains("clock skew"), "{err}");
    }

    #[test]
    fn unknown_statuses_are_carried_unchanged() {
        let body = br#"{"responseHeader":{"status":4107,"msg":"code used"}}"#;
        let err = Envelope::<UserInfo>::decode(body).unwrap_err();
        assert_eq!(
            err,
            ResponseError::Api(ApiError {
                status: ApiStatus::new(4107),
                message: "code used".into()
            })
        );
        assert_eq!(
            err.to_string(),
            "the platform refused the request: status 4107: \"code used\""
        );
    }

    #[test]
    fn success_without_payload_is_a_decode_error() {
        for body in [
            &br#"{"responseHeader":{"status":200,"msg":"OK"}}"#[..],
            br#"{"responseHeader":{"status":200,"msg":null},"response":null}"#,
        ] {
            let err = Envelope::<UserInfo>::decode(body).unwrap_err();
            assert!(matches!(err, ResponseError::Decode(_)), "{err}");
        }
    }

    #[test]
    fn decode_errors_never_show_a_token() {
        let jwt =
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJpYXQiOjE2NzEwMDk1NDN9.pa54O9Da_W8TF4hEF7O3";
        // `expire` has the wrong type, so decoding fails with the token in the body.
        let body = format!(
            r#"{{"responseHeader":{{"status":200}},"response":{{"accessToken":"{jwt}","expire":"{jwt}"}}}}"#
        );
        let err = Envelope::<TokenResponse>::decode(body.as_bytes()).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("eyJ0eXAi"), "{text}");
        assert!(!text.contains("pa54O9Da"), "{text}");
        assert!(text.contains("[REDACTED]"));
    }

    #[test]
    fn non_json_bodies_give_a_short_excerpt() {
        let html = format!(
            "<html><body>502 Bad Gateway{}</body></html>",
            " ".repeat(500)
        );
        let err = Envelope::<UserInfo>::decode(html.as_bytes()).unwrap_err();
        let ResponseError::Decode(d) = err else {
            panic!("expected decode error")
        };
        assert!(d.excerpt().starts_with("<html><body>502 Bad Gateway"));
        assert!(d.excerpt().chars().count() <= EXCERPT_LIMIT + 1);
        assert!(d.excerpt().ends_with('…'));
    }

    #[test]
    fn user_info_requires_open_id_and_keeps_extras() {
        let missing = br#"{"responseHeader":{"status":200},"response":{"nickName":"x"}}"#;
        let err = Envelope::<UserInfo>::decode(missing).unwrap_err();
        assert!(err.to_string().contains("openId"), "{err}");
        let full = br#"{"responseHeader":{"status":200,"msg":"OK","traceId":"t"},"response":{"openId":"o","nickName":"\u0645","avatar":null,"email":null,"unionId":"u","country":"+971","phone":"500000000","level":3}}"#;
        let user: UserInfo = Envelope::decode(full).unwrap();
        assert_eq!(user.country.as_deref(), Some("+971"));
        assert_eq!(user.extra.get("level"), Some(&serde_json::json!(3)));
        let back = serde_json::to_value(&user).unwrap();
        assert!(back.get("level").is_none(), "extra is not re-serialised");
        assert_eq!(back["openId"], "o");
    }

    #[test]
    fn redact_masks_long_runs_only() {
        assert_eq!(redact("status 2000 short"), "status 2000 short");
        assert_eq!(redact("a 0123456789abcdef b"), "a [REDACTED] b");
        assert_eq!(redact("line\nbreak"), "line break");
    }
}
