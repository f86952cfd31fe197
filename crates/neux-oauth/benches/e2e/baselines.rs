//! What the SDK is compared against: the same requests written by hand, as a user of the
//! platform's docs would, with plain reqwest and plain surf configured as neux's transports are.

use std::collections::BTreeMap;
use std::time::Duration;

use neux_oauth::{Params, TOKEN_PATH, Timestamp, USER_INFO_PATH};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{APP, SECRET};

/// The path of the generic-call case: the sandbox verifies and echoes any signed call there.
pub const CALL_PATH: &str = "/neuopenapi/sandbox/bench/order";

/// The one hand-written reqwest client, configured as `ReqwestTransport` is by default: no
/// proxy for loopback, no redirects, a 10 s exchange timeout and a 5 s connect timeout (a timer
/// per request, which a production client by hand pays too).
pub fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("a reqwest client")
}

/// A hand-written surf client configured like `SurfTransport`: no keep-alive (see
/// neux-transport's docs), TCP_NODELAY on (surf's default leaves Nagle's algorithm on: ~40 ms
/// stalls per request on loopback), a 10 s deadline on the exchange.
pub fn surf_client() -> surf::Client {
    surf::Config::new()
        .set_http_keep_alive(false)
        .set_tcp_no_delay(true)
        .set_timeout(Some(Duration::from_secs(10)))
        .try_into()
        .expect("a surf client")
}

pub fn now_ms() -> u64 {
    Timestamp::from_system_time(std::time::SystemTime::now()).as_millis()
}

/// A canonical string signed by hand: sorted map, `format!`, `hex::encode`.
fn sign_by_hand(pairs: &[(&str, String)]) -> String {
    let map: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let canonical: String = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// The token body as a user writes it by hand.
fn token_body(code: &str) -> Value {
    let ts = now_ms();
    let sign = sign_by_hand(&[
        ("clientId", APP.to_owned()),
        ("code", code.to_owned()),
        ("grantType", "authorization_code".to_owned()),
        ("scope", "user.info".to_owned()),
        ("timestamp", ts.to_string()),
        ("secret", SECRET.to_owned()),
    ]);
    json!({"clientId": APP, "code": code, "grantType": "authorization_code", "scope": "user.info", "timestamp": ts, "sign": sign})
}

fn user_info_url(base: &str, access: &str) -> String {
    let token: String = access
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{base}{USER_INFO_PATH}?accessToken={token}")
}

/// The two calls of a login with plain reqwest.
pub async fn login_reqwest(http: &reqwest::Client, base: &str, code: &str) -> Value {
    let token: Value = http
        .post(format!("{base}{TOKEN_PATH}"))
        .json(&token_body(code))
        .send()
        .await
        .expect("the token call")
        .json()
        .await
        .expect("a JSON answer");
    let access = token["response"]["accessToken"].as_str().expect("a token");
    let user: Value = http
        .get(user_info_url(base, access))
        .send()
        .await
        .expect("the profile call")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(user["responseHeader"]["status"], 200);
    user
}

/// The two calls of a login with plain surf.
pub async fn login_surf(http: &surf::Client, base: &str, code: &str) -> Value {
    let mut res = http
        .post(format!("{base}{TOKEN_PATH}"))
        .body_json(&token_body(code))
        .expect("a JSON body")
        .await
        .expect("the token call");
    let token: Value = res.body_json().await.expect("a JSON answer");
    let access = token["response"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let mut res = http
        .get(user_info_url(base, &access))
        .await
        .expect("the profile call");
    let user: Value = res.body_json().await.expect("a JSON answer");
    assert_eq!(user["responseHeader"]["status"], 200);
    user
}

/// The generic call's parameters, for the SDK side.
pub fn call_params() -> Params {
    Params::new()
        .with("outTradeNo", "order-0001")
        .and_then(|p| p.with("amount", 100))
        .and_then(|p| p.with("openId", "o-1"))
        .expect("valid parameters")
}

/// The generic call as a user writes it by hand with reqwest: a signed JSON body, the envelope's
/// status checked.
pub async fn call_reqwest(http: &reqwest::Client, base: &str) -> Value {
    let ts = now_ms();
    let sign = sign_by_hand(&[
        ("amount", "100".to_owned()),
        ("clientId", APP.to_owned()),
        ("openId", "o-1".to_owned()),
        ("outTradeNo", "order-0001".to_owned()),
        ("secret", SECRET.to_owned()),
        ("timestamp", ts.to_string()),
    ]);
    let body = json!({"amount": 100, "clientId": APP, "openId": "o-1", "outTradeNo": "order-0001", "timestamp": ts, "sign": sign});
    let answer: Value = http
        .post(format!("{base}{CALL_PATH}"))
        .json(&body)
        .send()
        .await
        .expect("the call")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(answer["responseHeader"]["status"], 200, "{answer}");
    answer["response"].clone()
}
