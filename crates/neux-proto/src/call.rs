//! Any signed `/neuopenapi/*` call: the caller's parameters plus the app id, the timestamp and
//! the signature, encoded in a dialect.

use crate::params::Params;
use crate::request::Dialect;
use crate::secret::{AppSecret, ClientId};
use crate::time::Timestamp;
use crate::value::ParamError;

/// The keys a signed call's signer adds itself; a caller's map may not hold them.
pub const ADDED_BY_SIGNER: [&str; 4] = ["appid", "clientId", "timestamp", "sign"];

/// A signed call, encoded: the parameters as sent (app id, timestamp and `sign` included) and
/// the body bytes in the dialect's form.
///
/// ```
/// use neux_proto::{AppSecret, ClientId, Dialect, Params, SignedCall, Timestamp};
/// let params = Params::new().with("openId", "o-1")?.with("amount", 100)?;
/// let call = SignedCall::encode(
///     params,
///     &ClientId::new("demo-appid")?,
///     Timestamp::from_millis(1_700_000_000_000),
///     Dialect::Form,
///     &AppSecret::new("demo-secret")?,
/// )?;
/// assert_eq!(call.content_type(), "application/x-www-form-urlencoded");
/// let body = std::str::from_utf8(call.body())?;
/// // Keys in signing order, `sign` among them.
/// assert!(body.starts_with("amount=100&appid=demo-appid&openId=o-1&sign="));
/// assert!(body.ends_with("&timestamp=1700000000000"));
/// assert!(!body.contains("demo-secret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SignedCall {
    params: Params,
    content_type: &'static str,
    body: Vec<u8>,
}

impl SignedCall {
    /// Adds the app id (under the dialect's key: `clientId` for JSON, `appid` for form) and the
    /// timestamp to `params`, signs them, adds `sign`, and encodes the body. Refuses a map that
    /// already holds one of [`ADDED_BY_SIGNER`] (`secret` is refused when the map is built).
    pub fn encode(
        mut params: Params,
        client_id: &ClientId,
        timestamp: Timestamp,
        dialect: Dialect,
        secret: &AppSecret,
    ) -> Result<Self, ParamError> {
        if let Some(key) = ADDED_BY_SIGNER.iter().find(|k| params.get(k).is_some()) {
            return Err(ParamError::AddedBySigner(key));
        }
        params.insert(dialect.client_id_key(), client_id.as_str())?;
        params.insert("timestamp", timestamp.as_millis())?;
        let signature = params.sign(secret);
        params.insert("sign", signature.to_hex())?;
        let body = match dialect {
            Dialect::Json => serde_json::to_vec(&params)?,
            _ => form_body(&params).into_bytes(),
        };
        Ok(Self {
            params,
            content_type: dialect.content_type(),
            body,
        })
    }

    /// The parameters as sent, `sign` included. Their `Debug` hides sensitive values.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The body's content type.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

// The body holds every value as sent, sensitive ones included: show its length only.
impl std::fmt::Debug for SignedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedCall")
            .field("params", &self.params)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// `application/x-www-form-urlencoded`, every value in the text form it is signed in.
fn form_body(params: &Params) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params.iter() {
        form.append_pair(key, &value.to_string());
    }
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ParamValue;

    fn encode(params: Params, dialect: Dialect) -> Result<SignedCall, ParamError> {
        SignedCall::encode(
            params,
            &ClientId::new("demo-appid").unwrap(),
            Timestamp::from_millis(1_700_000_000_000),
            dialect,
            &AppSecret::new("demo-secret").unwrap(),
        )
    }

    #[test]
    fn the_published_vector_signs_the_same_as_a_generic_call() {
        // The spec's published check, sent as a generic form call.
        let params = Params::new()
            .with("code", "abc123")
            .and_then(|p| p.with("grantType", "authorization_code"))
            .and_then(|p| p.with("scope", "user.info"))
            .unwrap();
        let call = encode(params, Dialect::Form).unwrap();
        let sign = call.params().get("sign").cloned();
        assert_eq!(
            sign,
            Some(ParamValue::Str(
                "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242".into()
            ))
        );
    }

    #[test]
    fn both_dialects_carry_the_same_values_in_their_own_form() {
        let params = Params::new()
            .with("note", "a&b=c d+é")
            .and_then(|p| p.with("ids", vec![1u64, 2]))
            .and_then(|p| p.with("ok", true))
            .unwrap();
        let form = encode(params.clone(), Dialect::Form).unwrap();
        let decoded: Vec<(String, String)> = form_urlencoded::parse(form.body())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert!(decoded.contains(&("note".into(), "a&b=c d+é".into())));
        assert!(decoded.contains(&("ids".into(), "1,2".into())));
        assert!(decoded.contains(&("appid".into(), "demo-appid".into())));
        let json = encode(params, Dialect::Json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(json.body()).unwrap();
        assert_eq!(v["ids"], serde_json::json!([1, 2]));
        assert_eq!(v["clientId"], "demo-appid");
        assert_eq!(v["timestamp"], 1_700_000_000_000u64);
        // The same parameters, so the same signature, whatever the dialect's id key.
        assert_ne!(v["sign"], serde_json::Value::Null);
    }

    #[test]
    fn debug_shows_no_sensitive_value_in_either_dialect() {
        for dialect in [Dialect::Json, Dialect::Form] {
            let mut params = Params::new().with("code", "c0de-c0de").unwrap();
            params.insert("cardNo", "4111-1111").unwrap();
            params.mark_sensitive("cardNo");
            let text = format!("{:?}", encode(params, dialect).unwrap());
            for value in ["c0de-c0de", "4111-1111"] {
                // Neither as text nor as the bytes a derived `Debug` of the body would list.
                let bytes = format!("{:?}", value.as_bytes());
                let bytes = bytes.trim_matches(['[', ']']);
                assert!(!text.contains(value) && !text.contains(bytes), "{text}");
            }
            assert!(!text.contains("demo-secret"), "{text}");
        }
    }

    #[test]
    fn keys_the_signer_adds_are_refused() {
        for key in ADDED_BY_SIGNER {
            let params = Params::new().with(key, "x").unwrap();
            match encode(params, Dialect::Json) {
                Err(ParamError::AddedBySigner(k)) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }
}
