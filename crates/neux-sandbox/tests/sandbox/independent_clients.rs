//! Clients written from the spec alone, in other languages, log in against the sandbox: what
//! the docs promise a Python or curl user really works.
#![allow(clippy::unwrap_used)]

use neux_sandbox::status;
use std::process::Command;

use neux_sandbox::Sandbox;

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .app("spec-app", "spec secret & more")
        .start()
        .await
        .unwrap()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_spec_client_logs_in_with_both_dialects() {
    let sb = sandbox().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/spec_client.py");
    for dialect in ["json", "form"] {
        let base = sb.base_url().to_owned();
        let out = tokio::task::spawn_blocking(move || {
            run(Command::new("python3").args([
                script,
                &base,
                "spec-app",
                "spec secret & more",
                dialect,
            ]))
        })
        .await
        .unwrap();
        let user: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(user["nickName"], "Python & Co = 100%", "{dialect}");
        assert_eq!(user["phone"], "500000000", "{dialect}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_script_from_the_docs_logs_in_with_both_dialects() {
    // A secret without shell-special characters, as in the docs.
    let sb = Sandbox::builder()
        .app("curl-app", "curl-secret")
        .start()
        .await
        .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/curl_login.sh");
    let base = sb.base_url().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        run(Command::new("bash").args([script, &base, "curl-app", "curl-secret"]))
    })
    .await
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        let env: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(env["responseHeader"]["status"], status::OK.get(), "{line}");
        assert_eq!(env["response"]["nickName"], "Sandbox User");
    }
}

#[test]
fn docs_show_the_curl_script_verbatim() {
    let docs = include_str!("../../../../docs/sandbox.md");
    let script = include_str!("../curl_login.sh");
    assert!(
        docs.contains(script.trim()),
        "docs/sandbox.md must include tests/curl_login.sh verbatim"
    );
}
