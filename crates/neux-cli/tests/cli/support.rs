//! Helpers for the CLI's tests: running the built `neux`, and a real Chromium driven over
//! WebDriver (W3C) for the sandbox's inspector page.
//!
//! A few requests of the WebDriver protocol, written here rather than pulled in as a client
//! crate: the tests need navigation, clicks, typing, a script and a screenshot, nothing more.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};

/// The built `neux`, with none of its environment variables inherited.
pub fn neux() -> Command {
    let mut cmd = Command::cargo_bin("neux").unwrap();
    cmd.env_remove("NEUX_SECRET")
        .env_remove("NEUX_BASE_URL")
        .env_remove("NEUX_CLIENT_ID")
        .env_remove("NEUX_CODE");
    cmd
}

/// How a command ended.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to its end, with `stdin` as its input.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Out {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        // The command may exit before reading (e.g. a missing secret): a closed pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a wait may last before the test fails: a guard against a hang, not a timing.
const WAIT: Duration = Duration::from_secs(20);

/// A headless Chromium session through `chromedriver`, both stopped when dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
}

impl Browser {
    /// Starts `chromedriver` on a free loopback port and opens a session of Debian's headless
    /// Chromium that can reach loopback only.
    pub async fn start() -> Browser {
        let chromium = neux_testkit::need("chromium", "chromium");
        let driver_bin = neux_testkit::need("chromedriver", "chromium-driver");
        let port = neux_testkit::free_port(u16::MAX);
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: dropping the browser kills the driver and Chromium with it.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["value"]["ready"].as_bool()),
                Err(_) => None,
            };
            if ready == Some(true) {
                break;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--metrics-recording-only",
            "--window-size=1440,1100",
            "--force-device-scale-factor=1",
            // Nothing but loopback: every other name fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"));
        Browser {
            http,
            session: format!("{base}/session/{id}"),
            driver,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {v}"
        );
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    /// Runs `body` as a function in the page (`arguments` holds `args`) and returns its value.
    pub async fn script(&self, body: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": body, "args": args}))
            .await
    }

    /// Waits until `expr` (a JavaScript expression) is truthy, and returns its value; fails
    /// after [`WAIT`] with `what` and the page's text.
    pub async fn wait_for(&self, what: &str, expr: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(&format!("return ({expr});"), json!([])).await;
            let truthy = match &v {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            if started.elapsed() > WAIT {
                let text = self.page_text().await;
                panic!("waited {WAIT:?} for {what} ({expr}); the page shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// Clicks the element `css` selects, scrolled to the middle of the window first (the
    /// driver would scroll it to an edge, under the page's sticky header).
    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.script(
            "arguments[0].scrollIntoView({block: 'center'});",
            json!([{ELEMENT: id}]),
        )
        .await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Replaces the text of the input `css` selects with `text`, typed as keys.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    /// The rendered text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Everything the page shows, as text.
    pub async fn page_text(&self) -> String {
        let v = self
            .script("return document.body.innerText;", json!([]))
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The whole DOM, serialized.
    pub async fn page_html(&self) -> String {
        let v = self
            .script("return document.documentElement.outerHTML;", json!([]))
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Emulates the light or dark colour scheme (Chrome DevTools Protocol, through the driver).
    pub async fn color_scheme(&self, scheme: &str) {
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}],
            }}),
        )
        .await;
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver's whole process group: the driver, Chromium and its helpers.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A failure's message as the CLI prints it: lines of at most 100 columns, every line after
/// the first indented by four (a detail line, by two). Returns the message's lines.
pub fn wrapped_message(stderr: &str) -> Vec<&str> {
    let message: Vec<&str> = stderr
        .lines()
        .take_while(|l| !l.starts_with("  ") || l.starts_with("    "))
        .collect();
    for (i, line) in message.iter().enumerate() {
        assert!(line.chars().count() <= 100, "{line:?} in {stderr}");
        assert_eq!(i > 0, line.starts_with("    "), "{line:?} in {stderr}");
    }
    message
}
