//! Helpers shared by the sandbox's HTTP tests.
#![allow(
    dead_code,
    unused_imports,
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use neux_sandbox::status;
use std::collections::BTreeMap;

use neux_sandbox::{ManualClock, Sandbox};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const NOW: u64 = 1_700_000_000_000;
pub use neux_proto::{TOKEN_PATH, USER_INFO_PATH as USER_PATH};

/// A code for `app`, minted in-process with the default scope and user.
pub fn code_for(sb: &Sandbox, app: &str) -> neux_proto::AuthCode {
    let id = neux_proto::ClientId::new(app).unwrap();
    sb.mint_code(&id, neux_proto::Scope::default(), Default::default())
        .unwrap()
        .code
}

pub use neux_testkit::Capture;

pub struct Ctx {
    pub sandbox: Sandbox,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

pub async fn start() -> Ctx {
    let clock = ManualClock::from_millis(NOW);
    let sandbox = Sandbox::builder()
        .app("app-a", "secret-a")
        .app("app-b", "secret-b")
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    Ctx {
        sandbox,
        clock,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

/// The signing rule written from the spec alone, sharing no code with neux-proto: one bug cannot
/// hide in both. String values only, which is all the token call has.
pub fn naive_sign(params: &[(&str, &str)], secret: &str) -> String {
    let mut sorted: BTreeMap<Vec<u16>, String> = BTreeMap::new();
    for (k, v) in params {
        if *k == "sign" || *k == "fileData" {
            continue;
        }
        sorted.insert(k.encode_utf16().collect(), format!("{k}={v}"));
    }
    sorted.insert(
        "secret".encode_utf16().collect(),
        format!("secret={secret}"),
    );
    let canonical: String = sorted.into_values().collect();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

impl Ctx {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// Mints a code through the control API.
    pub async fn mint(&self, client: &str, scope: Option<&str>, user: Value) -> (String, String) {
        let mut body = json!({"clientId": client, "user": user});
        if let Some(s) = scope {
            body["scope"] = s.into();
        }
        let (_, env) = self
            .post_raw(
                "/sandbox/v1/codes",
                "application/json",
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(env["responseHeader"]["status"], status::OK.get(), "{env}");
        let r = &env["response"];
        assert_eq!(r["expiresIn"], 300);
        (
            r["code"].as_str().unwrap().to_owned(),
            r["openId"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (reqwest::StatusCode, Value) {
        let res = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
        )
    }

    /// A correctly signed JSON token request, with overrides applied after signing.
    pub fn json_request(
        &self,
        client: &str,
        secret: &str,
        code: &str,
        scope: &str,
        ts: u64,
    ) -> Value {
        let ts_text = ts.to_string();
        let sign = naive_sign(
            &[
                ("clientId", client),
                ("code", code),
                ("grantType", "authorization_code"),
                ("scope", scope),
                ("timestamp", &ts_text),
            ],
            secret,
        );
        json!({"clientId": client, "code": code, "grantType": "authorization_code", "scope": scope, "timestamp": ts, "sign": sign})
    }

    pub async fn exchange_json(&self, body: &Value) -> Value {
        self.post_raw(
            TOKEN_PATH,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
        .1
    }

    /// A correctly signed, percent-encoded form request.
    pub fn form_request(
        &self,
        client: &str,
        secret: &str,
        code: &str,
        scope: &str,
        ts: u64,
    ) -> String {
        let ts_text = ts.to_string();
        let pairs = [
            ("appid", client),
            ("code", code),
            ("grantType", "authorization_code"),
            ("scope", scope),
            ("timestamp", ts_text.as_str()),
        ];
        let sign = naive_sign(&pairs, secret);
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k, v);
        }
        ser.append_pair("sign", &sign);
        ser.finish()
    }

    pub async fn exchange_form(&self, body: &str) -> Value {
        self.post_raw(
            TOKEN_PATH,
            "application/x-www-form-urlencoded",
            body.as_bytes().to_vec(),
        )
        .await
        .1
    }

    pub async fn user_info(
        &self,
        token: &str,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let url = format!(
            "{}?accessToken={}",
            self.url(USER_PATH),
            form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        );
        let res = self.http.get(url).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.json().await.unwrap())
    }
}

pub fn status(env: &Value) -> i64 {
    env["responseHeader"]["status"]
        .as_i64()
        .unwrap_or_else(|| panic!("no status in {env}"))
}

pub fn msg(env: &Value) -> String {
    env["responseHeader"]["msg"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}
