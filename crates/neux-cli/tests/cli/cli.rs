//! The built `neux` binary, command by command.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::{neux, run, wrapped_message};

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\d+\.\d ms", "[TIME]"),
        (r"minted \S{4}…", "minted [CODE]…"),
        (r"code \S{4}…", "code [CODE]…"),
        (r"sign [0-9a-f]{8}…", "sign [SIGN]…"),
        (r"expires in 60479\d s", "expires in [~7 DAYS] s"),
    ]
}

#[test]
fn demo_shows_each_step() {
    let out = run(neux().arg("demo"), None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(
        !out.stdout.contains("demo-secret"),
        "the sandbox secret is never printed"
    );
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(out.stdout);
    });
}

#[cfg(feature = "surf")]
#[test]
fn demo_form_surf_phone_json() {
    let out = run(
        neux().args([
            "demo",
            "--dialect",
            "form",
            "--transport",
            "surf",
            "--scope",
            "user.info,user.phone",
            "--json",
        ]),
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatar", "country", "email", "nickName", "openId", "phone", "unionId"
        ],
        "platform names, nothing else"
    );
    assert!(
        out.stdout.starts_with(r#"{"openId":"#),
        "openId first: {}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn demo_refuses_a_bad_scope_in_one_line() {
    let out = run(neux().args(["demo", "--scope", "user.info,"]), None);
    assert_eq!(out.code, 2, "a usage error");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error (usage): --scope"),
        "{}",
        out.stderr
    );
}

#[derive(serde::Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}
#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    params_json: String,
    secret: String,
    sign: String,
    canonical: String,
}

#[test]
fn sign_matches_every_shared_vector() {
    let file: Vectors = serde_json::from_str(include_str!(
        "../../../neux-proto/tests/data/sign-vectors.json"
    ))
    .unwrap();
    assert!(file.vectors.len() >= 8);
    for v in file.vectors {
        let out = run(
            neux()
                .args(["sign", "--explain"])
                .env("NEUX_SECRET", &v.secret),
            Some(&v.params_json),
        );
        assert_eq!(out.code, 0, "{}: {}", v.name, out.stderr);
        assert_eq!(out.stdout, format!("{}\n", v.sign), "{}", v.name);
        let masked = v
            .canonical
            .replacen(&format!("secret={}", v.secret), "secret=[REDACTED]", 1);
        assert_eq!(out.stderr.trim_end(), masked, "{}", v.name);
        assert!(!out.stderr.contains(&format!("secret={}", v.secret)));
    }
}

#[test]
fn sign_takes_the_secret_from_a_named_variable_and_keeps_big_integers() {
    let out = run(
        neux()
            .args(["sign", "--secret-env", "MY_SECRET"])
            .env("MY_SECRET", "demo-secret"),
        Some(r#"{"appid":"demo-appid","amount":18446744073709551615,"neg":-9223372036854775808}"#),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The SHA-256 of the literal canonical string, computed outside neux (sha256sum):
    // "amount=18446744073709551615appid=demo-appidneg=-9223372036854775808secret=demo-secret".
    assert_eq!(
        out.stdout.trim(),
        "5f6c7dcc9672ef1518b9cce9155a9d8b2c68472ab0b9b1291b1aa9e1b00297a5"
    );
}

#[test]
fn sign_refusals_name_the_key_in_one_line() {
    let cases = [
        (
            r#"{"price": 1.5}"#,
            "error (params): parameter `price` is a floating-point number",
        ),
        (
            r#"{"secret": "x"}"#,
            "error (params): parameter `secret` is refused",
        ),
        (
            r#"{"l": [[1]]}"#,
            "error (params): parameter `l` is a nested list",
        ),
        (
            "[1, 2]",
            "error (params): the parameters must be one JSON object",
        ),
        ("{", "error (params): the parameters are not valid JSON"),
    ];
    for (input, expected) in cases {
        let out = run(
            neux().arg("sign").env("NEUX_SECRET", "s3cr3t-value"),
            Some(input),
        );
        assert_eq!(out.code, 1, "{input}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            wrapped_message(&out.stderr).len(),
            out.stderr.lines().count(),
            "{}",
            out.stderr
        );
        assert!(out.stderr.starts_with(expected), "{input}: {}", out.stderr);
        assert!(!out.stderr.contains("s3cr3t-value"));
    }
    let out = run(neux().arg("sign"), Some("{}"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("NEUX_SECRET is not set"),
        "{}",
        out.stderr
    );
}

/// A `neux sandbox` child process, killed on drop.
struct SandboxProcess {
    child: Child,
    base: String,
    rest: BufReader<std::process::ChildStdout>,
}

impl SandboxProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = neux()
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut rest = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        rest.read_line(&mut first).unwrap();
        let base = first
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Self { child, base, rest }
    }

    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.rest.read_line(&mut line).unwrap();
        line
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn mint(base: &str, client: &str, scope: &str) -> String {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/sandbox/v1/codes"))
        .json(&serde_json::json!({"clientId": client, "scope": scope, "user": {"nickName": "CLI User"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["response"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sandbox_and_login_as_two_processes_in_both_dialects() {
    let sb = SandboxProcess::start(&[
        "--app",
        "cli-app:cli-secret:with-colon",
        "--app",
        "second:s2",
    ]);
    let mut sb = sb;
    assert_eq!(sb.next_line().trim_end(), "apps: cli-app, second");
    for dialect in ["json", "form"] {
        let code = mint(&sb.base, "cli-app", "user.info,user.phone").await;
        let out = run(
            neux()
                .args([
                    "login",
                    "--base-url",
                    &sb.base,
                    "--client-id",
                    "cli-app",
                    "--code",
                    &code,
                ])
                .args([
                    "--scope",
                    "user.info,user.phone",
                    "--dialect",
                    dialect,
                    "--json",
                ])
                .env("NEUX_SECRET", "cli-secret:with-colon"),
            None,
        );
        assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
        let user: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(user["nickName"], "CLI User", "{dialect}");
        assert_eq!(user["phone"], "500000000");
        assert_eq!(out.stdout.lines().count(), 1, "exactly one JSON object");
        assert!(!out.stdout.contains(&code) && !out.stderr.contains(&code));
    }
    // Flags from the environment, human output, the other transport, a named secret variable.
    let transport = if cfg!(feature = "surf") {
        "surf"
    } else {
        "reqwest"
    };
    let code = mint(&sb.base, "second", "user.info").await;
    let out = run(
        neux()
            .args([
                "login",
                "--code",
                &code,
                "--transport",
                transport,
                "--secret-env",
                "OTHER",
            ])
            .env("NEUX_BASE_URL", &sb.base)
            .env("NEUX_CLIENT_ID", "second")
            .env("OTHER", "s2"),
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("logged in: openId "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("  nickName  CLI User"));
}

#[tokio::test]
async fn login_failures_are_one_line_with_a_kind_and_no_secrets() {
    let sb = SandboxProcess::start(&["--app", "cli-app:right-secret"]);
    let code = mint(&sb.base, "cli-app", "user.info").await;
    let login = |secret: &str, code: &str| {
        run(
            neux()
                .args([
                    "login",
                    "--base-url",
                    &sb.base,
                    "--client-id",
                    "cli-app",
                    "--code",
                    code,
                ])
                .env("NEUX_SECRET", secret),
            None,
        )
    };
    let out = login("wrong-secret", &code);
    assert_eq!(out.code, 1);
    // The verdict leads; the string that was signed has a line of its own.
    let lines: Vec<&str> = out.stderr.lines().collect();
    // The verdict first, wrapped at 100 columns; the signed string last, whole, to paste.
    let (signed, verdict) = lines.split_last().unwrap();
    assert!(
        verdict[0].starts_with(
            "error (signature_rejected): signature verification failed (status 2000): the app secret"
        ),
        "{}",
        out.stderr
    );
    assert!(verdict.len() >= 2, "{}", out.stderr);
    for line in verdict {
        assert!(line.chars().count() <= 100, "{line:?}");
    }
    assert!(
        signed.starts_with("  signed: clientId=cli-appcode=[REDACTED]grantType="),
        "{}",
        out.stderr
    );
    for s in ["wrong-secret", "right-secret", code.as_str()] {
        assert!(
            !out.stderr.contains(s) && !out.stdout.contains(s),
            "{s} printed"
        );
    }
    assert_eq!(login("right-secret", &code).code, 0);
    // Another process (no shared ledger): the platform's "already used" is the same typed error.
    let out = login("right-secret", &code);
    assert!(
        out.stderr.starts_with(
            "error (code_already_presented): the platform refused the code as already used"
        ),
        "{}",
        out.stderr
    );
    let out = run(
        neux()
            .args([
                "login",
                "--base-url",
                "http://example.test",
                "--client-id",
                "a",
                "--code",
                "c",
            ])
            .env("NEUX_SECRET", "s"),
        None,
    );
    assert!(
        out.stderr.starts_with("error (config): invalid `base_url`"),
        "{}",
        out.stderr
    );
}

#[test]
fn sandbox_without_apps_prints_credentials_and_stops_on_sigterm() {
    let mut sb = SandboxProcess::start(&[]);
    let creds = sb.next_line();
    assert!(creds.starts_with("app demo-app, secret "), "{creds}");
    let secret = creds.split_whitespace().nth(3).unwrap().to_owned();
    assert_eq!(secret.len(), 32);
    let pid = sb.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = sb.child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

#[test]
fn usage_errors_exit_2() {
    let out = run(neux().args(["sandbox", "--app", "no-colon"]), None);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("CLIENT_ID:SECRET"), "{}", out.stderr);
    let out = run(
        neux().args(["login", "--client-id", "a", "--code", "c"]),
        None,
    );
    assert_eq!(out.code, 2, "missing --base-url: {}", out.stderr);
}

#[test]
fn bad_scope_or_code_values_are_usage_errors_too() {
    let login = |extra: &[&str]| {
        run(
            neux()
                .args([
                    "login",
                    "--base-url",
                    "http://127.0.0.1:9",
                    "--client-id",
                    "a",
                ])
                .args(extra)
                .env("NEUX_SECRET", "s"),
            None,
        )
    };
    let out = login(&["--code", "c", "--scope", "user.info,"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error (usage): --scope"),
        "{}",
        out.stderr
    );
    let out = login(&["--code", "bad\u{7}code"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error (usage): --code"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("bad\u{7}code"), "{}", out.stderr);
}

#[tokio::test]
async fn the_code_can_come_from_the_environment_or_stdin_instead_of_argv() {
    let sb = SandboxProcess::start(&["--app", "cli-app:cli-secret"]);
    let login = |cmd: &mut Command, extra: &[&str], stdin: Option<&str>| {
        run(
            cmd.args([
                "login",
                "--base-url",
                &sb.base,
                "--client-id",
                "cli-app",
                "--json",
            ])
            .args(extra)
            .env("NEUX_SECRET", "cli-secret"),
            stdin,
        )
    };
    let code = mint(&sb.base, "cli-app", "user.info").await;
    let out = login(neux().env("NEUX_CODE", &code), &[], None);
    assert_eq!(out.code, 0, "NEUX_CODE: {}", out.stderr);
    assert!(out.stdout.contains("CLI User"), "{}", out.stdout);

    let code = mint(&sb.base, "cli-app", "user.info").await;
    let out = login(&mut neux(), &["--code", "-"], Some(&format!("{code}\n")));
    assert_eq!(out.code, 0, "--code -: {}", out.stderr);
    assert!(out.stdout.contains("CLI User"), "{}", out.stdout);

    // --help names the variable but never shows its value.
    let out = run(
        neux().args(["login", "--help"]).env("NEUX_CODE", &code),
        None,
    );
    assert!(out.stdout.contains("NEUX_CODE"), "{}", out.stdout);
    assert!(!out.stdout.contains(&code), "{}", out.stdout);
}

#[test]
fn the_sandbox_refuses_a_non_loopback_address_unless_allowed() {
    let out = run(neux().args(["sandbox", "--listen", "0.0.0.0:0"]), None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        wrapped_message(&out.stderr).len(),
        out.stderr.lines().count(),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-remote"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing was started: {}", out.stdout);
    // With the flag it warns and goes on to bind. 192.0.2.1 (TEST-NET-1) is on no interface
    // here, so binding fails: the flag is proven without opening a socket to any network.
    let out = run(
        neux().args(["sandbox", "--listen", "192.0.2.1:0", "--allow-remote"]),
        None,
    );
    assert!(
        out.stderr
            .starts_with("warning: listening on 192.0.2.1:0 with --allow-remote"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("could not listen on 192.0.2.1:0"),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 1);
}

/// A server that puts terminal escapes in a profile cannot drive the terminal: human output
/// escapes control characters; `--json` is JSON, escaped by its own rules.
#[tokio::test]
async fn login_escapes_control_characters_from_the_server() {
    let sb = SandboxProcess::start(&["--app", "cli-app:cli-secret"]);
    let hostile = "\u{1b}[2J\u{1b}]0;owned\u{7}Eve\u{9b}31m\nlogged in: openId admin";
    let mint_hostile = || async {
        let res: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/sandbox/v1/codes", sb.base))
            .json(&serde_json::json!({"clientId": "cli-app", "user": {"nickName": hostile, "avatar": "\u{7}"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["response"]["code"].as_str().unwrap().to_owned()
    };
    for json in [false, true] {
        let code = mint_hostile().await;
        let mut cmd = neux();
        cmd.args([
            "login",
            "--base-url",
            &sb.base,
            "--client-id",
            "cli-app",
            "--code",
            "-",
        ])
        .env("NEUX_SECRET", "cli-secret");
        if json {
            cmd.arg("--json");
        }
        let out = run(&mut cmd, Some(&code));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            !out.stdout.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the terminal: {:?}",
            out.stdout
        );
        if json {
            let user: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
            assert_eq!(user["nickName"], hostile, "JSON keeps the value, escaped");
        } else {
            assert!(
                out.stdout.contains(
                    "  nickName  \\u{1b}[2J\\u{1b}]0;owned\\u{7}Eve\\u{9b}31m\\u{a}logged in"
                ),
                "{}",
                out.stdout
            );
            // The value's line break did not make a line that looks like ours.
            let ours = out
                .stdout
                .lines()
                .filter(|l| l.starts_with("logged in: openId"))
                .count();
            assert_eq!(ours, 1, "{}", out.stdout);
        }
    }
}

/// Two `neux login` processes share a code ledger in Redis: the second never sends the code.
#[cfg(feature = "redis")]
#[tokio::test]
async fn login_with_a_shared_ledger_sends_a_code_once_across_processes() {
    let redis = neux_testkit::RedisServer::with_password("cli-ledger-pw");
    let sb = SandboxProcess::start(&["--app", "cli-app:cli-secret"]);
    let code = mint(&sb.base, "cli-app", "user.info").await;
    let login = || {
        run(
            neux()
                .args(["login", "--base-url", &sb.base, "--client-id", "cli-app"])
                .args(["--code", "-", "--ledger", &redis.url()])
                .env("NEUX_SECRET", "cli-secret"),
            Some(&code),
        )
    };
    let first = login();
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = login();
    assert_eq!(second.code, 1, "{}", second.stdout);
    assert!(
        second
            .stderr
            .starts_with("error (code_already_presented): this code was presented already"),
        "{}",
        second.stderr
    );
    let log: serde_json::Value = reqwest::get(format!("{}/sandbox/v1/requests", sb.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_calls = log["response"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/neuopenapi/oauth/mini/accessToken")
        .count();
    assert_eq!(token_calls, 1, "the second process did not send the code");
    // Redis down: a clear error naming the ledger without its password, and nothing sent.
    drop(redis);
    let code = mint(&sb.base, "cli-app", "user.info").await;
    let out = run(
        neux()
            .args(["login", "--base-url", &sb.base, "--client-id", "cli-app"])
            .args(["--code", "-"])
            .env("NEUX_LEDGER_URL", "redis://:cli-ledger-pw@127.0.0.1:1")
            .env("NEUX_SECRET", "cli-secret"),
        Some(&code),
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .starts_with("error (ledger_unavailable): the code ledger at redis://127.0.0.1:1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("cli-ledger-pw"), "{}", out.stderr);
}

/// The default build has no Redis ledger; asking for one says how to get it, and sends nothing.
#[cfg(not(feature = "redis"))]
#[test]
fn a_ledger_without_its_feature_says_how_to_get_it() {
    let out = run(
        neux()
            .args([
                "login",
                "--base-url",
                "http://127.0.0.1:9",
                "--client-id",
                "a",
            ])
            .args(["--code", "c", "--ledger", "redis://:pw@127.0.0.1:6379"])
            .env("NEUX_SECRET", "s"),
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--features redis"), "{}", out.stderr);
    assert!(!out.stderr.contains("pw@"), "{}", out.stderr);
}

/// The default build has no surf (it needs OpenSSL); asking for it says how to get it.
#[cfg(not(feature = "surf"))]
#[test]
fn surf_without_its_feature_says_how_to_get_it() {
    let out = run(neux().args(["demo", "--transport", "surf"]), None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`cargo install neux-cli --features surf`"),
        "the command is never cut: {}",
        out.stderr
    );
    assert_eq!(
        wrapped_message(&out.stderr).len(),
        out.stderr.lines().count(),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn call_sends_any_signed_call_in_both_dialects() {
    let sb = SandboxProcess::start(&["--app", "cli-app:cli-secret"]);
    let call = |dialect: &str, extra: &[&str]| {
        run(
            neux()
                .args([
                    "call",
                    "/neuopenapi/sandbox/push/v1/send",
                    "--dialect",
                    dialect,
                ])
                .args(["-p", "openId=o-1", "-p", "ids:=[1,2]", "-p", "note=a&b=c d"])
                .args(extra)
                .env("NEUX_BASE_URL", &sb.base)
                .env("NEUX_CLIENT_ID", "cli-app")
                .env("NEUX_SECRET", "cli-secret"),
            None,
        )
    };
    let json = call("json", &[]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""sign": "[0-9a-f]{64}""#, r#""sign": "[SIGN]""#);
    settings.add_filter(
        r#""timestamp": "?[0-9]{13}"?"#,
        r#""timestamp": [TIMESTAMP]"#,
    );
    settings.bind(|| insta::assert_snapshot!("call_json", json.stdout));
    let form = call("form", &["--json"]);
    assert_eq!(form.code, 0, "{}", form.stderr);
    let echo: serde_json::Value = serde_json::from_str(form.stdout.trim()).unwrap();
    assert_eq!(echo["params"]["appid"], "cli-app");
    assert_eq!(
        echo["params"]["ids"], "1,2",
        "a form body carries the signed text"
    );
    assert_eq!(form.stdout.lines().count(), 1);

    // A wrong secret: one line, the kind, the canonical string with the secret masked.
    let wrong = run(
        neux()
            .args([
                "call",
                "/neuopenapi/sandbox/x",
                "-p",
                "card=4111",
                "--sensitive",
                "card",
            ])
            .env("NEUX_BASE_URL", &sb.base)
            .env("NEUX_CLIENT_ID", "cli-app")
            .env("NEUX_SECRET", "not-the-secret"),
        None,
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.starts_with("error (signature_rejected): "),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong.stderr.contains("secret=[REDACTED]"),
        "{}",
        wrong.stderr
    );
    for leak in ["not-the-secret", "cli-secret", "4111"] {
        assert!(!wrong.stderr.contains(leak), "{leak}: {}", wrong.stderr);
    }
    // The verdict, then the signed string on its own line.
    let verdict = wrapped_message(&wrong.stderr);
    assert_eq!(
        verdict.len() + 1,
        wrong.stderr.lines().count(),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong
            .stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("  signed: ")),
        "{}",
        wrong.stderr
    );

    // Keys the client adds are refused before anything is sent; so are malformed pairs.
    for bad in [["-p", "sign=x"], ["-p", "appid=x"], ["-p", "novalue"]] {
        let out = run(
            neux()
                .args(["call", "/neuopenapi/sandbox/x"])
                .args(bad)
                .env("NEUX_BASE_URL", &sb.base)
                .env("NEUX_CLIENT_ID", "cli-app")
                .env("NEUX_SECRET", "cli-secret"),
            None,
        );
        assert_ne!(out.code, 0, "{bad:?}");
        assert_eq!(
            wrapped_message(&out.stderr).len(),
            out.stderr.lines().count(),
            "one message: {}",
            out.stderr
        );
    }
}
