//! Any signed `/neuopenapi/*` call through the same client, with the login's guarantees.

use http::Method;
use neux_proto::{Params, SignedCall, TOKEN_PATH};
use serde::de::DeserializeOwned;

use crate::answer::Endpoint;
use crate::client::{Client, Core};
use crate::error::Error;
use crate::mask::Sensitive;
use crate::meter::CallLabel;
use crate::pipeline::{Request, Resend, observe};

/// A signed call to a platform path, for [`Client::call`]: the caller's parameters, to which
/// the client adds the app id, the timestamp and the signature.
///
/// Sensitive values (keys in [`SENSITIVE_KEYS`](neux_proto::SENSITIVE_KEYS), or marked with
/// [`Params::mark_sensitive`]) never appear in `Debug`, logs or errors.
///
/// ```
/// use neux_oauth::{ApiCall, Params};
/// let mut params = Params::new().with("openId", "o-1")?.with("amount", 100)?;
/// params.mark_sensitive("openId");
/// let call = ApiCall::new("/neuopenapi/pay/v1/refund", params);
/// assert!(!format!("{call:?}").contains("o-1"));
/// # Ok::<(), neux_oauth::ParamError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ApiCall {
    path: String,
    params: Params,
    idempotent: bool,
}

impl ApiCall {
    /// A call to `path` (below the client's base URL, starting with `/`) with `params`.
    pub fn new(path: impl Into<String>, params: Params) -> Self {
        Self {
            path: path.into(),
            params,
            idempotent: false,
        }
    }

    /// Declares the call idempotent: sending it twice does no more than sending it once. It is
    /// then retried like `user_info` (transport failures, HTTP 5xx), within the client's
    /// [`RetryPolicy`](crate::RetryPolicy). By default a call is sent again only when nothing
    /// was sent, as the exchange is.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The caller's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

impl Client {
    /// Sends a signed call and decodes the envelope's `response` as `T`.
    ///
    /// The app id (under the dialect's key), the timestamp and `sign` are added; the body is
    /// encoded in the client's dialect. A non-200 status becomes the same typed [`Error`] as
    /// for the login: 2000 is [`Error::SignatureRejected`] with the masked canonical string,
    /// 2001 is [`Error::ClockSkew`] with the measured skew, 2002 [`Error::NotAuthorized`],
    /// anything else [`Error::Api`] with the status unchanged. A map holding `sign`, `appid`,
    /// `clientId` or `timestamp` is refused with [`Error::InvalidCall`] before anything is
    /// sent (`secret` cannot be put in a [`Params`] at all).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use neux_oauth::{ApiCall, Client, Params};
    ///
    /// # let sandbox = neux_sandbox::Sandbox::builder().app("demo-app", "demo-secret").start().await?;
    /// let client = Client::builder()
    ///     .client_id("demo-app")
    ///     .secret("demo-secret")
    ///     .base_url(sandbox.base_url())
    ///     .build()?;
    /// let params = Params::new().with("openId", "o-1")?.with("amount", 100)?;
    /// // The sandbox verifies any signed call under /neuopenapi/sandbox/ and echoes it.
    /// let echo: serde_json::Value = client.call(ApiCall::new("/neuopenapi/sandbox/echo", params)).await?;
    /// assert_eq!(echo["params"]["amount"], 100);
    /// # Ok(()) }
    /// ```
    pub async fn call<T: DeserializeOwned>(&self, call: ApiCall) -> Result<T, Error> {
        let span = tracing::info_span!(
            "neux.call",
            client_id = %self.inner.client_id,
            dialect = %self.inner.dialect,
            path = %before_query(&call.path),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        // A path the call refuses gets no metrics label of its own: a query in it may hold a
        // secret, and junk paths would take the labels of real ones.
        let checked = check_path(&call.path);
        let label = match checked {
            Ok(()) => CallLabel::signed(&call.path),
            Err(_) => CallLabel::refused_path(),
        };
        observe(span, label, async move {
            checked?;
            signed(&self.inner, call, label).await
        })
        .await
    }
}

/// Signs and sends a call whose path was checked through the pipeline.
async fn signed<T: DeserializeOwned>(
    core: &Core,
    call: ApiCall,
    label: CallLabel,
) -> Result<T, Error> {
    check_not_an_exchange(&call)?;
    let ApiCall {
        path,
        params,
        idempotent,
    } = call;
    let signed = SignedCall::encode(
        params,
        &core.client_id,
        core.clock.timestamp(),
        core.dialect,
        &core.secret,
    )
    .map_err(|e| Error::InvalidCall(e.to_string()))?;
    let url = format!("{}{path}", core.base);
    let request = Request {
        method: Method::POST,
        url: &url,
        body: Some((signed.content_type(), signed.body())),
        resend: if idempotent {
            Resend::Idempotent
        } else {
            Resend::IfNothingSent
        },
        endpoint: Endpoint::Signed,
        canonical: &|| signed.params().canonical_string_masked(),
        sensitive: Sensitive::Params(signed.params()),
        label,
    };
    core.pipeline.send(&request).await
}

/// A path the base URL can take as it is: absolute, no query or fragment, no dot segments.
fn check_path(path: &str) -> Result<(), Error> {
    // Never the query: it may hold a token.
    let bad = |why: &str| {
        Err(Error::InvalidCall(format!(
            "path {:?}: {why}",
            before_query(path)
        )))
    };
    if !path.starts_with('/') {
        return bad("must start with `/`");
    }
    if path.contains(['?', '#']) {
        return bad("must not carry a query or fragment: send parameters in the Params");
    }
    // Gateways decode percent-escapes before they resolve dot segments, so `/%2e%2e/` climbs out
    // of a base URL's path prefix as `/../` does, and `%2f` makes a segment of its own.
    if path.split('/').any(|s| {
        let s = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
        s == "." || s == ".." || s.contains(['/', '\\'])
    }) {
        return bad("must not hold `.` or `..` segments or slashes, percent-encoded or not");
    }
    if !path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        return bad("must be printable ASCII without spaces (percent-encode anything else)");
    }
    Ok(())
}

/// `path` without its query or fragment, if it has one.
fn before_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Refuses a code exchange sent as a generic call: it would go around the code ledger, so a
/// code could reach the platform twice.
fn check_not_an_exchange(call: &ApiCall) -> Result<(), Error> {
    let refuse = |what: &str| {
        Err(Error::InvalidCall(format!(
            "{what}: a code is exchanged with Client::exchange_code (or login), which records it in the code ledger so it is sent at most once"
        )))
    };
    if same_path(&call.path, TOKEN_PATH) {
        return refuse("the token path is not a generic call");
    }
    if call.params.get("code").is_some() && call.params.get("grantType").is_some() {
        return refuse("a call with `code` and `grantType` is a code exchange");
    }
    Ok(())
}

/// Whether `path` names `target` as a gateway may read it: percent-decoded, case-insensitive,
/// repeated and trailing slashes ignored.
fn same_path(path: &str, target: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let normal: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    let wanted: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
    normal.len() == wanted.len()
        && normal
            .iter()
            .zip(&wanted)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_would_leave_the_base_url_are_refused() {
        for ok in [
            "/neuopenapi/pay/v1/order",
            "/x",
            "/a-b_c.d~e/%41",
            "/a/...",
            "/%2e%2e%2e",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "neuopenapi/x",
            "/x?y=1",
            "/x#f",
            "/a/../b",
            "/./a",
            "/%2e%2e/oauth",
            "/%2E%2E/oauth",
            "/a/.%2e/b",
            "/a/%2e",
            "/a%2fb",
            "/a%2F..%2Fb",
            "/a%5cb",
            "/a b",
            "/é",
            "/a\\b",
        ] {
            assert!(
                matches!(check_path(bad), Err(Error::InvalidCall(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_code_exchange_is_not_a_generic_call() {
        let call = |path: &str, params: Params| ApiCall::new(path, params);
        let exchange = Params::new()
            .with("code", "c0de")
            .and_then(|p| p.with("grantType", "authorization_code"))
            .unwrap_or_default();
        for path in [
            TOKEN_PATH,
            "/neuopenapi/oauth/mini/accessToken/",
            "//neuopenapi//oauth/mini/AccessToken",
            "/neuopenapi/oauth/mini/%61ccessToken",
        ] {
            let refused = check_not_an_exchange(&call(path, Params::new()));
            assert!(
                matches!(&refused, Err(Error::InvalidCall(m)) if m.contains("exchange_code")),
                "{path}: {refused:?}"
            );
        }
        assert!(check_not_an_exchange(&call("/neuopenapi/pay/v1/x", exchange)).is_err());
        let code_only = Params::new().with("code", "c0de").unwrap_or_default();
        assert!(check_not_an_exchange(&call("/neuopenapi/pay/v1/x", code_only)).is_ok());
        assert!(
            check_not_an_exchange(&call("/neuopenapi/oauth/mini/accessTokens", Params::new()))
                .is_ok()
        );
    }
}
