//! `neux sandbox --allow-remote`: what it says it opens, the token it prints or takes, and the
//! rebinding requests it refuses, as a user runs it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};

use crate::support::{neux, wrapped_message};

/// `neux sandbox --listen 127.0.0.1:0 --allow-remote` with `args` and `env`: the child, its
/// base URL and its first four lines of output (listening, apps, control token, inspector).
fn start(args: &[&str], env: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut cmd = neux();
    cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--allow-remote"])
        .args(args)
        .env_remove("NEUX_SANDBOX_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = (0..4)
        .map(|_| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line.trim_end().to_owned()
        })
        .collect();
    let base = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .to_owned();
    (child, base, lines)
}

/// Everything the child wrote to stderr, after it is stopped.
fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

async fn status(base: &str, method: &str, path: &str, headers: &[(&str, String)]) -> u16 {
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(r#"{"clientId": "demo-app"}"#);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn allow_remote_prints_what_it_opens_and_refuses_a_rebinding_page() {
    let (child, base, lines) = start(&["--public-host", "sandbox.test"], &[]);
    let token = lines[2]
        .strip_prefix("control token: ")
        .and_then(|l| l.split_once(' '))
        .map(|(t, _)| t.to_owned())
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(token.len(), 32, "{lines:?}");
    assert!(
        lines[3].starts_with(&format!("inspector: open {base}/#token={token} ")),
        "{lines:?}"
    );
    let port = base.rsplit(':').next().unwrap();
    let host = format!("attacker.example:{port}");
    let forged = [
        ("host", host.clone()),
        ("origin", format!("http://{host}")),
        ("sec-fetch-site", "same-origin".to_owned()),
    ];
    for (method, path) in [
        ("POST", "/sandbox/v1/codes"),
        ("GET", "/sandbox/v1/requests"),
        ("DELETE", "/sandbox/v1/requests"),
    ] {
        assert_eq!(
            status(&base, method, path, &forged).await,
            403,
            "{method} {path}"
        );
        assert_eq!(
            status(&base, method, path, &[]).await,
            401,
            "{method} {path}"
        );
        let bearer = [("authorization", format!("Bearer {token}"))];
        assert_eq!(
            status(&base, method, path, &bearer).await,
            200,
            "{method} {path}"
        );
    }
    let listed = [("host", format!("sandbox.test:{port}"))];
    assert_eq!(status(&base, "GET", "/", &listed).await, 200);
    let err = stop(child);
    // Said before anything is opened, wrapped for a terminal, naming what is open and to whom.
    assert!(
        err.starts_with("warning: listening on 127.0.0.1:0 with --allow-remote"),
        "{err}"
    );
    assert_eq!(wrapped_message(&err).len(), err.lines().count(), "{err}");
    let said = err.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "control token",
        "mint codes",
        "request log",
        "sandbox.test",
        "localhost",
    ] {
        assert!(said.contains(part), "{part}: {err}");
    }
    assert!(!err.contains(&token), "{err}");
}

#[tokio::test]
async fn a_token_from_the_environment_is_used_and_never_printed() {
    let token = "env-token-abcdefghijklmnop";
    let (child, base, lines) = start(&[], &[("NEUX_SANDBOX_TOKEN", token)]);
    assert!(!lines.join("\n").contains(token), "{lines:?}");
    assert!(lines[3].contains("/#token=TOKEN"), "{lines:?}");
    let bearer = [("authorization", format!("Bearer {token}"))];
    assert_eq!(
        status(&base, "GET", "/sandbox/v1/stats", &bearer).await,
        200
    );
    assert_eq!(status(&base, "GET", "/sandbox/v1/stats", &[]).await, 401);
    assert!(!stop(child).contains(token));
    // A token too short to be a secret is a usage error, and is not echoed.
    let out = neux()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--allow-remote"])
        .env("NEUX_SANDBOX_TOKEN", "short-tok")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error (usage)"), "{err}");
    assert!(!err.contains("short-tok"), "{err}");
    // --public-host means nothing without remote mode: refused, not ignored.
    let out = neux()
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--public-host",
            "x.test",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
