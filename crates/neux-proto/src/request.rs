//! Building the token request: parameters, signature and exact body bytes for each dialect.

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroize;

use crate::canonical::sign_pairs;
use crate::params::Params;
use crate::scope::Scope;
use crate::secret::{AccessToken, AppSecret, AuthCode, ClientId};
use crate::sign::SECRET_MASK;
use crate::signature::Signature;
use crate::time::Timestamp;
use crate::value::decimal;

/// Path of the code-for-token call (`POST`).
pub const TOKEN_PATH: &str = "/neuopenapi/oauth/mini/accessToken";
/// Path of the token-for-profile call (`GET`, token in the `accessToken` query parameter).
pub const USER_INFO_PATH: &str = "/neuopenapi/oauth/mini/user/info";
/// The only grant type the platform accepts.
pub const GRANT_TYPE: &str = "authorization_code";

/// Which of the two documented wire forms the token call uses.
///
/// ```
/// use neux_proto::Dialect;
/// assert_eq!(Dialect::default(), Dialect::Json);
/// assert_eq!("form".parse::<Dialect>()?, Dialect::Form);
/// assert_eq!(Dialect::Form.client_id_key(), "appid");
/// # Ok::<(), neux_proto::DialectParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// The seed guide's form: `application/json`, app id under `clientId`, timestamp a number.
    #[default]
    Json,
    /// The OpenAPI reference's form: `application/x-www-form-urlencoded`, app id under `appid`.
    Form,
}

impl Dialect {
    /// The key the app id is sent (and signed) under.
    pub fn client_id_key(self) -> &'static str {
        match self {
            Self::Json => "clientId",
            Self::Form => "appid",
        }
    }

    /// The request's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }

    /// `"json"` or `"form"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Form => "form",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text other than `json` or `form` was given as a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect {0:?}: expected \"json\" or \"form\"")]
pub struct DialectParseError(String);

impl FromStr for Dialect {
    type Err = DialectParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "form" => Ok(Self::Form),
            _ => Err(DialectParseError(s.to_owned())),
        }
    }
}

/// The code-for-token request, before it is signed.
///
/// ```
/// use neux_proto::{AppSecret, AuthCode, ClientId, Dialect, Scope, Timestamp, TokenRequest};
/// let request = TokenRequest::new(
///     ClientId::new("demo-appid")?,
///     AuthCode::new("abc123")?,
///     Scope::default(),
///     Timestamp::from_millis(1_700_000_000_000),
/// );
/// let body = request.encode(Dialect::Form, &AppSecret::new("demo-secret")?);
/// assert_eq!(body.content_type(), "application/x-www-form-urlencoded");
/// assert_eq!(body.signature().short(8), "964bd409");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenRequest {
    client_id: ClientId,
    code: AuthCode,
    scope: Scope,
    timestamp: Timestamp,
}

impl TokenRequest {
    /// A request for `code`, issued to `client_id`, asking for `scope`, stamped `timestamp`.
    pub fn new(client_id: ClientId, code: AuthCode, scope: Scope, timestamp: Timestamp) -> Self {
        Self {
            client_id,
            code,
            scope,
            timestamp,
        }
    }

    /// The app id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }
    /// The one-time code.
    pub fn code(&self) -> &AuthCode {
        &self.code
    }
    /// The requested scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// The timestamp that will be signed.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The signed parameters as a map (without `sign`), e.g. to inspect or re-sign them.
    pub fn params(&self, dialect: Dialect) -> Params {
        self.params_with_code(dialect, self.code.expose_secret())
    }

    fn params_with_code(&self, dialect: Dialect, code: &str) -> Params {
        // None of these keys is `secret`, so insertion cannot fail; build through the checked
        // path anyway and fall back to an empty map rather than panic.
        Params::new()
            .with(dialect.client_id_key(), self.client_id.as_str())
            .and_then(|p| p.with("code", code))
            .and_then(|p| p.with("grantType", GRANT_TYPE))
            .and_then(|p| p.with("scope", self.scope.as_str()))
            .and_then(|p| p.with("timestamp", self.timestamp.as_millis()))
            .unwrap_or_default()
    }

    /// The signature for `dialect` (the app id key differs, so the signature does too).
    pub fn sign(&self, dialect: Dialect, secret: &AppSecret) -> Signature {
        let mut digits = [0u8; 20];
        let timestamp = decimal(self.timestamp.as_millis(), &mut digits);
        // Both dialects' keys are already in signing order: appid|clientId < code < grantType
        // < scope < timestamp. The same signer as any Params map, over fields that need no map.
        let pairs: [(&str, &[u8]); 5] = [
            (dialect.client_id_key(), self.client_id.as_str().as_bytes()),
            ("code", self.code.expose_secret().as_bytes()),
            ("grantType", GRANT_TYPE.as_bytes()),
            ("scope", self.scope.as_str().as_bytes()),
            ("timestamp", timestamp),
        ];
        sign_pairs(pairs.into_iter(), secret)
    }

    /// The canonical string with both the secret and the code masked: safe to put in an error
    /// or a log when the server refuses the signature.
    pub fn canonical_string_redacted(&self, dialect: Dialect) -> String {
        self.params_with_code(dialect, SECRET_MASK)
            .canonical_string_redacted()
    }

    /// Signs the request and writes the exact body for `dialect`.
    pub fn encode(&self, dialect: Dialect, secret: &AppSecret) -> TokenRequestBody {
        let signature = self.sign(dialect, secret);
        let sign = signature.to_hex();
        let body = match dialect {
            Dialect::Json => json_body(self, &sign),
            Dialect::Form => form_urlencoded::Serializer::new(String::new())
                .append_pair("appid", self.client_id.as_str())
                .append_pair("code", self.code.expose_secret())
                .append_pair("grantType", GRANT_TYPE)
                .append_pair("scope", self.scope.as_str())
                .append_pair("timestamp", &self.timestamp.to_string())
                .append_pair("sign", &sign)
                .finish()
                .into_bytes(),
        };
        TokenRequestBody {
            content_type: dialect.content_type(),
            body,
            signature,
        }
    }
}

fn json_body(request: &TokenRequest, sign: &str) -> Vec<u8> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        client_id: &'a str,
        code: &'a str,
        grant_type: &'a str,
        scope: &'a str,
        timestamp: u64,
        sign: &'a str,
    }
    let body = Body {
        client_id: request.client_id.as_str(),
        code: request.code.expose_secret(),
        grant_type: GRANT_TYPE,
        scope: request.scope.as_str(),
        timestamp: request.timestamp.as_millis(),
        sign,
    };
    // Serialising plain strings and an integer into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A signed token request, ready to send. It holds the one-time code: `Debug` shows only its
/// length, and the bytes are wiped on drop.
pub struct TokenRequestBody {
    content_type: &'static str,
    body: Vec<u8>,
    signature: Signature,
}

impl TokenRequestBody {
    /// The `Content-Type` header value.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }
    /// The body bytes (they contain the code).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
    /// The signature that was put in the body.
    pub fn signature(&self) -> Signature {
        self.signature
    }
    /// Takes the bytes out (the caller becomes responsible for not logging them).
    pub fn into_body(mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }
}

impl fmt::Debug for TokenRequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequestBody")
            .field("content_type", &self.content_type)
            .field("len", &self.body.len())
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl Drop for TokenRequestBody {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

/// The path and query of the user-info call for `token`, percent-encoded
/// (`/neuopenapi/oauth/mini/user/info?accessToken=...`). It carries the token: never log it.
///
/// ```
/// use neux_proto::{AccessToken, user_info_path_and_query};
/// let token = AccessToken::new("a+b/c=")?;
/// assert_eq!(user_info_path_and_query(&token), "/neuopenapi/oauth/mini/user/info?accessToken=a%2Bb%2Fc%3D");
/// # Ok::<(), neux_proto::InvalidInput>(())
/// ```
pub fn user_info_path_and_query(token: &AccessToken) -> String {
    const KEY: &str = "?accessToken=";
    let token = token.expose_secret();
    let mut out = String::with_capacity(USER_INFO_PATH.len() + KEY.len() + token.len());
    out.push_str(USER_INFO_PATH);
    out.push_str(KEY);
    // `byte_serialize` yields each run of bytes that need no encoding as one piece: a JWT
    // (base64url and dots) is copied whole, into a string sized once.
    out.extend(form_urlencoded::byte_serialize(token.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(code: &str, scope: &str) -> TokenRequest {
        TokenRequest::new(
            ClientId::new("demo-appid").unwrap(),
            AuthCode::new(code).unwrap(),
            scope.parse().unwrap(),
            Timestamp::from_millis(1_700_000_000_000),
        )
    }

    fn secret() -> AppSecret {
        AppSecret::new("demo-secret").unwrap()
    }

    proptest::proptest! {
        #[test]
        fn user_info_query_is_the_form_encoding_of_any_token(token in "[a-zA-Z0-9._*-]{1,80}|[a-z._~+/= %-]{1,12}|[ -~]{1,80}|\\PC{1,40}") {
            if let Ok(t) = AccessToken::new(token.as_str()) {
                let expected = form_urlencoded::Serializer::new(String::new())
                    .append_pair("accessToken", &token)
                    .finish();
                proptest::prop_assert_eq!(
                    user_info_path_and_query(&t),
                    format!("{USER_INFO_PATH}?{expected}")
                );
            }
        }
    }

    #[test]
    fn fast_signature_equals_the_map_signature_in_both_dialects() {
        let r = request("c0de&=+% é", "user.info,user.phone");
        for d in [Dialect::Json, Dialect::Form] {
            assert_eq!(r.sign(d, &secret()), r.params(d).sign(&secret()), "{d}");
        }
        assert_ne!(
            r.sign(Dialect::Json, &secret()),
            r.sign(Dialect::Form, &secret())
        );
    }

    #[test]
    fn redacted_canonical_masks_secret_and_code() {
        let r = request("abc123", "user.info");
        let s = r.canonical_string_redacted(Dialect::Form);
        assert_eq!(
            s,
            "appid=demo-appidcode=[REDACTED]grantType=authorization_codescope=user.infosecret=[REDACTED]timestamp=1700000000000"
        );
        assert!(!s.contains("abc123"));
    }

    #[test]
    fn body_debug_hides_the_code() {
        let body = request("abc123", "user.info").encode(Dialect::Json, &secret());
        let dbg = format!("{body:?} {:?}", request("abc123", "user.info"));
        assert!(!dbg.contains("abc123"), "{dbg}");
        assert!(dbg.contains("len"));
    }

    #[test]
    fn dialect_parsing() {
        assert_eq!(" JSON ".parse::<Dialect>().unwrap(), Dialect::Json);
        assert_eq!(
            "xml".parse::<Dialect>().unwrap_err().to_string(),
            "unknown dialect \"xml\": expected \"json\" or \"form\""
        );
    }

    #[test]
    fn form_body_is_percent_encoded() {
        let body = request("a&b=c+d %", "user.info").encode(Dialect::Form, &secret());
        let text = std::str::from_utf8(body.body()).unwrap();
        assert!(text.contains("code=a%26b%3Dc%2Bd+%25&"), "{text}");
        let decoded: Vec<(String, String)> =
            form_urlencoded::parse(body.body()).into_owned().collect();
        assert_eq!(decoded[1], ("code".into(), "a&b=c+d %".into()));
    }
}
