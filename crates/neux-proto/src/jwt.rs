//! Reading (never verifying) the claims inside an access token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::secret::{AccessToken, OpenId};

/// The claims the platform puts in its access tokens. Unverified: the signing key is the
/// server's, so use them for information (expiry, openId) only, never for authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenClaims {
    /// Issued at (seconds since the epoch).
    #[serde(default)]
    pub iat: Option<u64>,
    /// Not before (seconds).
    #[serde(default)]
    pub nbf: Option<u64>,
    /// Expires at (seconds).
    #[serde(default)]
    pub exp: Option<u64>,
    /// The user's openId.
    #[serde(default)]
    pub open_id: Option<OpenId>,
    /// The app the token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The granted scope, in newer tokens.
    #[serde(default)]
    pub scope: Option<String>,
}

/// The token is not a JWT whose payload can be read. Says why, never shows the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// Not three dot-separated parts.
    #[error("the access token is not a JWT (expected three dot-separated parts)")]
    NotAJwt,
    /// The payload part is not base64url.
    #[error("the access token's payload is not base64url")]
    Base64,
    /// The payload is not the expected JSON.
    #[error("the access token's payload is not a JSON object of claims")]
    Json,
}

impl AccessToken {
    /// Decodes the token's payload without verifying its signature.
    ///
    /// ```
    /// use neux_proto::AccessToken;
    /// // The seed guide's sample token.
    /// let token = AccessToken::new(concat!(
    ///     "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.",
    ///     "eyJpYXQiOjE2NzEwMDk1NDMsIm5iZiI6MTY3MTAwOTU0MywiZXhwIjoxNjcxNjE0MzQzLCJvcGVuSWQiOiIyMjEyZDRmMmYwYTBmNTUyOWYyYjVlYjgzMjQ2ODc5YyIsImNsaWVudElkIjoidG1meHpwbzNnMDJ1bnljb3lsIn0.",
    ///     "pa54O9Da_W8TF4hEF7O3-UFVGWHNfMHyCJYcJKBMdcZoeAuqpktnMLPygnbsWbe_Q5MWQlYgp73i__h6-D3UBA"))?;
    /// let claims = token.claims_unverified()?;
    /// assert_eq!(claims.exp, Some(1671614343));
    /// assert_eq!(claims.open_id.unwrap().as_str(), "2212d4f2f0a0f5529f2b5eb83246879c");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claims_unverified(&self) -> Result<TokenClaims, ClaimsError> {
        let mut parts = self.expose_secret().split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ClaimsError::NotAJwt);
        };
        // Some encoders keep the padding; the JWT spec drops it.
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| ClaimsError::Base64)?;
        serde_json::from_slice(&bytes).map_err(|_| ClaimsError::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_jwts_without_echoing() {
        for (t, e) in [
            ("abc", ClaimsError::NotAJwt),
            ("a.b.c.d", ClaimsError::NotAJwt),
            ("a.!!!.c", ClaimsError::Base64),
            ("a.bm90IGpzb24.c", ClaimsError::Json),
        ] {
            let err = AccessToken::new(t)
                .unwrap()
                .claims_unverified()
                .unwrap_err();
            assert_eq!(err, e, "{t}");
        }
    }
}
