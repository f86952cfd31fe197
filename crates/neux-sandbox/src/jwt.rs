//! HS512 access tokens shaped like the platform's, signed with a per-sandbox key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha512;

/// The claims the sandbox puts in a token (the platform's set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Claims {
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub open_id: String,
    pub client_id: String,
    pub scope: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    /// Not a JWT, wrong algorithm, bad signature, or unreadable claims.
    Invalid,
    /// Signed by us but past `exp` (or before `nbf`).
    Expired,
}

const HEADER: &str = r#"{"typ":"JWT","alg":"HS512"}"#;

fn mac(key: &[u8]) -> Hmac<Sha512> {
    // HMAC takes keys of any length.
    <Hmac<Sha512> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
}

pub(crate) fn mint(key: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(key);
    m.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

pub(crate) fn verify(key: &[u8], token: &str, now_secs: u64) -> Result<Claims, TokenProblem> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Invalid);
    };
    let header_json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenProblem::Invalid)?;
    let header_value: serde_json::Value =
        serde_json::from_slice(&header_json).map_err(|_| TokenProblem::Invalid)?;
    // Refuse `alg: none` and friends before touching the signature.
    if header_value.get("alg").and_then(|a| a.as_str()) != Some("HS512") {
        return Err(TokenProblem::Invalid);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| TokenProblem::Invalid)?;
    let mut m = mac(key);
    m.update(header.as_bytes());
    m.update(b".");
    m.update(payload.as_bytes());
    // Constant-time comparison.
    m.verify_slice(&sig).map_err(|_| TokenProblem::Invalid)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(TokenProblem::Invalid)?;
    if now_secs >= claims.exp || now_secs < claims.nbf {
        return Err(TokenProblem::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iat: 100,
            nbf: 100,
            exp: 200,
            open_id: "o".into(),
            client_id: "c".into(),
            scope: "user.info".into(),
        }
    }

    #[test]
    fn round_trip_and_expiry_boundaries() {
        let t = mint(b"key", &claims());
        assert_eq!(verify(b"key", &t, 100), Ok(claims()));
        assert_eq!(verify(b"key", &t, 199), Ok(claims()));
        assert_eq!(verify(b"key", &t, 200), Err(TokenProblem::Expired));
        assert_eq!(verify(b"key", &t, 99), Err(TokenProblem::Expired));
        // The platform's header, readable by neux-proto's unverified decoder.
        let decoded = neux_proto::AccessToken::new(t.clone())
            .unwrap()
            .claims_unverified()
            .unwrap();
        assert_eq!(decoded.exp, Some(200));
        assert_eq!(decoded.scope.as_deref(), Some("user.info"));
    }

    #[test]
    fn forged_and_foreign_tokens_are_invalid() {
        let t = mint(b"key", &claims());
        assert_eq!(verify(b"other", &t, 150), Err(TokenProblem::Invalid));
        let mut forged = claims();
        forged.exp = 10_000;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = t.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(b"key", &tampered, 150), Err(TokenProblem::Invalid));
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(verify(b"key", &none_alg, 150), Err(TokenProblem::Invalid));
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(
                verify(b"key", junk, 150),
                Err(TokenProblem::Invalid),
                "{junk}"
            );
        }
    }
}
