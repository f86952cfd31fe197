//! From an HTTP answer to the payload or the [`Error`] that says what happened: pure, no I/O.
//!
//! It lives here rather than in neux-proto because its output is this crate's `Error`, whose
//! variants carry the retry and recovery decisions (`needs_new_code`, `is_retryable`); proto
//! supplies the pieces it reads (the envelope, the status table, the `Date` codec).

use std::time::SystemTime;

use http::header;
use neux_proto::{
    ApiError, ApiStatus, DecodeError, Dialect, Envelope, ResponseError, parse_http_date, redact,
    status,
};
use neux_transport::HttpResponse;
use serde::de::DeserializeOwned;

use crate::error::{Error, SeenBy, Skew};
use crate::mask::Sensitive;

/// Which endpoint an answer comes from: the same status means different things at each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The code-for-token exchange: 2000 is about our signature, code refusals are known.
    Token,
    /// Any other signed call: 2000 is about our signature.
    Signed,
    /// The profile, which carries no signature.
    Profile,
}

/// What reading an answer needs to know about the client and the moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub endpoint: Endpoint,
    pub dialect: Dialect,
    /// Statuses that mean "this code is refused" (exchange only).
    pub code_rejection: &'a [ApiStatus],
    /// Statuses that mean "this code was used already" (exchange only); they win over
    /// `code_rejection`.
    pub code_used: &'a [ApiStatus],
    /// The client's clock when the answer arrived, to measure skew against `Date`.
    pub now: SystemTime,
}

/// Turns an HTTP answer into the payload or the error that says what happened. `canonical`
/// renders the masked string that was signed, for a 2000; it runs only then.
pub(crate) fn interpret<T: DeserializeOwned>(
    res: &HttpResponse,
    cx: Context<'_>,
    canonical: impl FnOnce() -> String,
    sensitive: Sensitive<'_>,
) -> Result<T, Error> {
    let err = match Envelope::<T>::decode(res.body()) {
        Ok(v) => return Ok(v),
        Err(ResponseError::Api(api)) => classify(api, cx, res, canonical),
        Err(ResponseError::Decode(d)) => {
            // The excerpt is cut from the body with every sensitive value masked first: cut
            // first, it could keep a prefix of one.
            let mask = sensitive.mask();
            let body = mask.apply_bytes(res.body());
            let d = DecodeError::with_reason(&mask.apply(d.reason()), &body);
            if res.status().is_success() {
                Error::Decode(d)
            } else {
                Error::Http {
                    status: res.status().as_u16(),
                    excerpt: d.excerpt().to_owned(),
                }
            }
        }
        Err(_) => {
            let body = sensitive.mask().apply_bytes(res.body());
            Error::Http {
                status: res.status().as_u16(),
                excerpt: redact(&String::from_utf8_lossy(&body[..body.len().min(120)])),
            }
        }
    };
    Err(err)
}

fn classify(
    api: ApiError,
    cx: Context<'_>,
    res: &HttpResponse,
    canonical: impl FnOnce() -> String,
) -> Error {
    let ApiError {
        status, message, ..
    } = api;
    let exchange = cx.endpoint == Endpoint::Token;
    match status {
        status::SIGNATURE_REJECTED if cx.endpoint != Endpoint::Profile => {
            Error::SignatureRejected {
                message,
                dialect: cx.dialect,
                canonical: canonical(),
            }
        }
        status::TIMESTAMP_OUT_OF_WINDOW => Error::ClockSkew {
            message,
            skew: skew(res, cx.now),
        },
        status::NOT_AUTHORIZED => Error::NotAuthorized { message },
        s if exchange && cx.code_used.contains(&s) => Error::CodeAlreadyPresented {
            by: SeenBy::Platform { status, message },
        },
        s if exchange && cx.code_rejection.contains(&s) => Error::CodeRejected { status, message },
        _ => Error::Api { status, message },
    }
}

/// The server's clock minus ours, from its `Date` header.
fn skew(res: &HttpResponse, local: SystemTime) -> Option<Skew> {
    let server = parse_http_date(res.headers().get(header::DATE)?.to_str().ok()?)?;
    Some(match local.duration_since(server) {
        Ok(ahead) => Skew {
            by: ahead,
            local_ahead: true,
        },
        Err(behind) => Skew {
            by: behind.duration(),
            local_ahead: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use neux_proto::{TokenResponse, UserInfo};

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn answer(http: u16, date: Option<&str>, body: &str) -> HttpResponse {
        let mut res = http::Response::builder().status(http);
        if let Some(d) = date {
            res = res.header(header::DATE, d);
        }
        res.body(body.as_bytes().to_vec())
            .expect("a valid response")
    }

    fn cx(endpoint: Endpoint) -> Context<'static> {
        Context {
            endpoint,
            dialect: Dialect::Form,
            code_rejection: &status::CODE_REFUSALS,
            code_used: &[status::CODE_USED],
            now: UNIX_EPOCH + Duration::from_secs(NOW),
        }
    }

    fn refusal(status: i64) -> String {
        format!(r#"{{"responseHeader":{{"status":{status},"msg":"no"}},"response":null}}"#)
    }

    fn read<T: DeserializeOwned>(res: &HttpResponse, endpoint: Endpoint) -> Result<T, Error> {
        interpret(
            res,
            cx(endpoint),
            || "canonical".to_owned(),
            Sensitive::Texts(&[]),
        )
    }

    #[test]
    fn a_2000_is_our_signature_only_on_signed_calls() {
        let res = answer(200, None, &refusal(2000));
        match read::<TokenResponse>(&res, Endpoint::Token) {
            Err(Error::SignatureRejected {
                dialect, canonical, ..
            }) => assert_eq!((dialect, canonical.as_str()), (Dialect::Form, "canonical")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read::<UserInfo>(&res, Endpoint::Signed),
            Err(Error::SignatureRejected { .. })
        ));
        assert!(matches!(
            read::<UserInfo>(&res, Endpoint::Profile),
            Err(Error::Api { status, .. }) if status == status::SIGNATURE_REJECTED
        ));
    }

    #[test]
    fn code_refusals_are_known_only_on_the_exchange() {
        let res = answer(200, None, &refusal(status::CODE_EXPIRED.get()));
        assert!(matches!(
            read::<TokenResponse>(&res, Endpoint::Token),
            Err(Error::CodeRejected { status, .. }) if status == status::CODE_EXPIRED
        ));
        // "Already used" is the same error a second presenter gets from the ledger.
        let used = answer(200, None, &refusal(status::CODE_USED.get()));
        match read::<TokenResponse>(&used, Endpoint::Token) {
            Err(e @ Error::CodeAlreadyPresented { .. }) => {
                assert!(e.needs_new_code() && e.request_may_have_been_sent(), "{e}");
                assert!(matches!(
                    e,
                    Error::CodeAlreadyPresented { by: SeenBy::Platform { status, .. } } if status == status::CODE_USED
                ));
            }
            other => panic!("{other:?}"),
        }
        for endpoint in [Endpoint::Signed, Endpoint::Profile] {
            for res in [&res, &used] {
                assert!(matches!(
                    read::<UserInfo>(res, endpoint),
                    Err(Error::Api { .. })
                ));
            }
        }
    }

    #[test]
    fn a_2001_measures_the_skew_from_date() {
        // The server's clock is 90 s behind ours.
        let res = answer(200, Some("Tue, 14 Nov 2023 22:11:50 GMT"), &refusal(2001));
        match read::<UserInfo>(&res, Endpoint::Profile) {
            Err(Error::ClockSkew {
                skew: Some(skew), ..
            }) => assert_eq!((skew.by, skew.local_ahead), (Duration::from_secs(90), true)),
            other => panic!("{other:?}"),
        }
        let res = answer(200, Some("not a date"), &refusal(2001));
        assert!(matches!(
            read::<UserInfo>(&res, Endpoint::Profile),
            Err(Error::ClockSkew { skew: None, .. })
        ));
    }

    #[test]
    fn a_page_that_is_not_an_envelope_is_http_or_decode_by_status() {
        let page = answer(502, None, "<html>Bad Gateway</html>");
        assert!(matches!(
            read::<UserInfo>(&page, Endpoint::Profile),
            Err(Error::Http { status: 502, .. })
        ));
        let ok_but_junk = answer(200, None, "<html>maintenance</html>");
        assert!(matches!(
            read::<UserInfo>(&ok_but_junk, Endpoint::Profile),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn a_success_is_the_payload() {
        let res = answer(
            200,
            None,
            r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"openId":"o1"}}"#,
        );
        let user: UserInfo = read(&res, Endpoint::Profile).expect("a profile");
        assert_eq!(user.open_id.as_str(), "o1");
    }
}
