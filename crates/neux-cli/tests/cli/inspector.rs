//! The sandbox's inspector page in a real browser (Debian's Chromium, over WebDriver): logins
//! through the SDK appear on it, a refused signature shows what the sandbox signed and where a
//! pasted `neux sign --explain` differs, a code minted with its button logs in, an armed fault
//! strikes, and neither the secret nor a full code is ever on the page.
//!
//! It also takes the screenshots in `docs/sandbox.md`: set `NEUX_SCREENSHOTS=docs/images` (from
//! the workspace root) to write them there; they are always written under the target directory.

use std::path::PathBuf;

use neux_oauth::{AuthCode, Client, Error, Scope};
use neux_sandbox::{Sandbox, UserSpec};
use serde_json::json;

use crate::support::{Browser, neux, run};

const APP: &str = "demo-app";
const SECRET: &str = "inspector-test-secret-Zq81";

fn client(secret: &str, sandbox: &Sandbox) -> Client {
    Client::builder()
        .client_id(APP)
        .secret(secret)
        .base_url(sandbox.base_url())
        .build()
        .unwrap()
}

fn mint(sandbox: &Sandbox, user: &str) -> AuthCode {
    let user = UserSpec {
        id: Some(user.to_owned()),
        nick_name: Some(format!("{user} (sandbox)")),
        ..UserSpec::default()
    };
    sandbox
        .mint_code(&APP.parse().unwrap(), Scope::default(), user)
        .unwrap()
        .code
}

/// The texts of the log's rows, newest first, as a JavaScript expression.
const ROWS: &str = "[...document.querySelectorAll('#log-rows tr')].map(r => r.innerText)";

fn rows_matching(all: &[&str]) -> String {
    let tests: Vec<String> = all
        .iter()
        .map(|t| format!("r.includes({})", serde_json::to_string(t).unwrap()))
        .collect();
    format!("{ROWS}.find(r => {})", tests.join(" && "))
}

/// What `neux sign --explain` prints of `params` signed with `secret`: the canonical string.
fn explain(params: &serde_json::Value, secret: &str) -> String {
    let out = run(
        neux()
            .args(["sign", "--explain"])
            .env("NEUX_SECRET", secret),
        Some(&params.to_string()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stderr.trim_end().to_owned()
}

fn save(name: &str, png: &[u8]) {
    let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inspector")];
    if let Some(dir) = std::env::var_os("NEUX_SCREENSHOTS") {
        // Relative to the workspace root, where `cargo` is run from.
        dirs.push(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(dir),
        );
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_shows_what_happened_in_a_real_browser() {
    let sandbox = Sandbox::builder().app(APP, SECRET).start().await.unwrap();
    let browser = Browser::start().await;
    browser.goto(&sandbox.inspector_url()).await;
    browser
        .wait_for(
            "the page to reach the sandbox",
            "document.querySelector('#live').innerText === 'live'",
        )
        .await;
    assert!(browser.page_text().await.contains("No requests yet"));
    let mut codes: Vec<String> = Vec::new();

    // 1. A login through the SDK appears: the exchange and the profile read, both answered 200.
    let good = client(SECRET, &sandbox);
    let code = mint(&sandbox, "ayesha");
    codes.push(code.expose_secret().to_owned());
    let (tokens, _) = good.login(&code, &Scope::default()).await.unwrap();
    let token = tokens.access_token().expose_secret().to_owned();
    browser
        .wait_for(
            "the exchange",
            &rows_matching(&["token exchange", "200 OK", &code.fingerprint()]),
        )
        .await;
    browser
        .wait_for("the profile read", &rows_matching(&["user info", "200 OK"]))
        .await;

    // 2. A wrong secret: the 2000 row, and in its detail what the sandbox signed, masked.
    let code = mint(&sandbox, "bilal");
    codes.push(code.expose_secret().to_owned());
    let err = client("not-the-secret", &sandbox)
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SignatureRejected { .. }), "{err:?}");
    let row = browser
        .wait_for(
            "the 2000",
            &rows_matching(&["2000", "signature verification failed"]),
        )
        .await;
    assert!(
        row.as_str().unwrap().contains("check the app secret"),
        "{row}"
    );
    let seq = browser
        .script(
            "return [...document.querySelectorAll('#log-rows tr')].find(r => r.innerText.includes('2000')).dataset.seq;",
            json!([]),
        )
        .await;
    let seq = seq.as_str().unwrap().to_owned();
    browser
        .click(&format!("#log-rows tr[data-seq='{seq}']"))
        .await;
    let canonical = browser
        .wait_for(
            "what the sandbox signed",
            "document.querySelector('#canonical')?.innerText",
        )
        .await;
    let canonical = canonical.as_str().unwrap().to_owned();
    // The page reads the timestamp the client sent from the parameters it shows.
    let timestamp = browser
        .script(
            "return [...document.querySelectorAll('.params tr')].find(r => r.cells[0].innerText === 'timestamp').cells[1].innerText;",
            json!([]),
        )
        .await;
    let timestamp = timestamp.as_str().unwrap().to_owned();
    assert_eq!(
        canonical,
        format!(
            "clientId={APP}code=[REDACTED]grantType=authorization_codescope=user.infosecret=[REDACTED]timestamp={timestamp}"
        )
    );
    let detail = browser.text("#detail").await;
    assert!(
        detail.contains(&format!("fingerprint {}", code.fingerprint())),
        "{detail}"
    );
    assert!(detail.contains("First presentation of code"), "{detail}");
    let prefixes = browser
        .script(
            "return [...document.querySelectorAll('#detail .kv dd')].map(d => d.innerText).filter(t => /^[0-9a-f]{8}…$/.test(t));",
            json!([]),
        )
        .await;
    let prefixes = prefixes.as_array().unwrap();
    assert_eq!(prefixes.len(), 2, "expected and received: {prefixes:?}");
    assert_ne!(prefixes[0], prefixes[1]);

    // What the client signed, as `neux sign --explain` prints it (the code in clear, the
    // secret masked), pasted and compared in the page: alike apart from the masked values.
    let params = json!({
        "clientId": APP, "code": code.expose_secret(), "grantType": "authorization_code",
        "scope": "user.info", "timestamp": timestamp.parse::<u64>().unwrap(),
    });
    let explained = explain(&params, "not-the-secret");
    assert!(explained.contains(code.expose_secret()) && explained.contains("secret=[REDACTED]"));
    browser.type_into("#explain-input", &explained).await;
    browser.click("#explain-compare").await;
    let verdict = browser
        .wait_for(
            "the comparison",
            "document.querySelector('#explain-result').innerText",
        )
        .await;
    assert!(
        verdict.as_str().unwrap().contains("The strings match"),
        "{verdict}"
    );
    // Another scope: the first byte that differs is found.
    let other = explained.replace("scope=user.info", "scope=user.phone");
    let at = explained
        .bytes()
        .zip(other.bytes())
        .position(|(a, b)| a != b)
        .unwrap();
    browser.type_into("#explain-input", &other).await;
    browser.click("#explain-compare").await;
    let verdict = browser
        .wait_for(
            "the difference",
            "document.querySelector('#explain-result').innerText",
        )
        .await;
    assert!(
        verdict
            .as_str()
            .unwrap()
            .contains(&format!("First difference at byte {at} of yours")),
        "{verdict}"
    );
    // What was pasted is not kept in the page.
    assert!(!browser.page_html().await.contains(code.expose_secret()));

    // 3. A code minted with the button, read from the page, logs in.
    browser.type_into("#mint-user", "chen").await;
    browser.click("#mint-button").await;
    let minted = browser
        .wait_for(
            "the minted code",
            "document.querySelector('#minted-code')?.innerText",
        )
        .await;
    let minted = AuthCode::new(minted.as_str().unwrap().to_owned()).unwrap();
    codes.push(minted.expose_secret().to_owned());
    let (_, user) = good.login(&minted, &Scope::default()).await.unwrap();
    assert_eq!(
        Some(user.open_id),
        sandbox.open_id_for(&APP.parse().unwrap(), "chen")
    );
    // Once presented, the page lets go of the code and keeps its fingerprint.
    let note = browser
        .wait_for(
            "the code to be let go",
            "!document.querySelector('#minted-code') && document.querySelector('#minted').innerText",
        )
        .await;
    assert!(
        note.as_str().unwrap().contains(&minted.fingerprint()),
        "{note}"
    );

    // 4. A fault armed on the page strikes the next exchange, then is spent.
    browser.click("#fault-button").await;
    browser
        .wait_for(
            "the armed fault",
            "document.querySelector('#fault-list').innerText.includes('HTTP 503 page')",
        )
        .await;
    let code = mint(&sandbox, "dana");
    codes.push(code.expose_secret().to_owned());
    let err = good
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    browser
        .wait_for(
            "the struck request",
            &rows_matching(&["HTTP 503", "fault: HTTP 503 page"]),
        )
        .await;
    browser
        .wait_for(
            "the fault to be spent",
            "!document.querySelector('#faults-empty').hidden",
        )
        .await;
    assert_eq!(sandbox.stats().armed_faults, 0);

    // Rows filter by status and by path.
    let count = "document.querySelectorAll('#log-rows tr').length";
    assert_eq!(
        browser.script(&format!("return {count};"), json!([])).await,
        6
    );
    browser.click("#filter-status option[value='2000']").await;
    browser
        .wait_for("one 2000 row", &format!("{count} === 1"))
        .await;
    browser.click("#filter-status option[value='']").await;
    browser.click("#filter-path option[value='user']").await;
    browser
        .wait_for("the two profile reads", &format!("{count} === 2"))
        .await;
    assert!(browser.text("#log-more").await.contains("2 of 6 requests"));
    browser.click("#filter-path option[value='']").await;
    browser
        .wait_for("every row", &format!("{count} === 6"))
        .await;

    // 5. Nothing secret on the page: not the app secret, no full code, no token, in the text
    // or anywhere in the DOM, nor in what the script still holds.
    // Its detail is still open from step 2: empty it first, so the wait below sees the
    // detail this click loads (typing into the old one raced its replacement: a stale element).
    browser
        .script(
            "document.getElementById('detail-body').replaceChildren(); return null;",
            json!([]),
        )
        .await;
    browser
        .click(&format!("#log-rows tr[data-seq='{seq}']"))
        .await;
    browser
        .wait_for(
            "the 2000 again",
            "document.querySelector('#canonical')?.innerText",
        )
        .await;
    // Compared again, for the picture: where the pasted string differs, its code masked.
    browser.type_into("#explain-input", &other).await;
    browser.click("#explain-compare").await;
    let verdict = browser
        .wait_for(
            "the difference",
            "document.querySelector('#explain-result').innerText",
        )
        .await;
    assert!(
        verdict.as_str().unwrap().contains("Yours (masked"),
        "{verdict}"
    );
    let text = browser.page_text().await;
    let html = browser.page_html().await;
    let held = browser
        .script("return JSON.stringify(state);", json!([]))
        .await;
    for (what, value) in std::iter::once(("the secret", SECRET.to_owned()))
        .chain(std::iter::once(("the token", token.clone())))
        .chain(codes.iter().map(|c| ("a code", c.clone())))
    {
        assert!(!text.contains(&value), "{what} in the page's text");
        assert!(!html.contains(&value), "{what} in the DOM");
        assert!(
            !held.as_str().unwrap().contains(&value),
            "{what} in the script's state"
        );
    }

    // The pictures in docs/sandbox.md: the log with a refused signature open, light and dark.
    browser
        .script(
            "window.scrollTo(0, 0); const a = document.querySelector('aside'); a.scrollTop = document.querySelector('#canonical').offsetTop - a.offsetTop - 330;",
            json!([]),
        )
        .await;
    browser.color_scheme("light").await;
    save("inspector-light.png", &browser.screenshot().await);
    browser.color_scheme("dark").await;
    save("inspector-dark.png", &browser.screenshot().await);
    browser.color_scheme("light").await;

    // 6. Clearing the log empties the page.
    browser.click("#clear-log").await;
    browser
        .wait_for(
            "an empty log",
            "document.querySelectorAll('#log-rows tr').length === 0",
        )
        .await;
    assert!(sandbox.requests().is_empty());
    sandbox.shutdown().await;
}

/// In remote mode the inspector works from the URL `neux sandbox` prints (the token in its
/// fragment), keeps working after a reload, and takes the token out of the address bar; without
/// the token it says why it cannot read the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_takes_the_control_token_from_its_url() {
    let sandbox = Sandbox::builder()
        .app(APP, SECRET)
        .allow_remote(true)
        .start()
        .await
        .unwrap();
    let token = sandbox.control_token().unwrap().expose().to_owned();
    let browser = Browser::start().await;
    browser.goto(&format!("{}/", sandbox.base_url())).await;
    let refused = browser
        .wait_for(
            "the page to say it lacks the token",
            "document.querySelector('#live').innerText.includes('4071') && document.querySelector('#live').innerText",
        )
        .await;
    assert!(
        refused.as_str().unwrap().contains("control token"),
        "{refused}"
    );
    browser.goto(&sandbox.inspector_url()).await;
    browser
        .wait_for(
            "the page to reach the sandbox",
            "document.querySelector('#live').innerText === 'live'",
        )
        .await;
    let href = browser.script("return location.href;", json!([])).await;
    assert_eq!(href, json!(format!("{}/", sandbox.base_url())));
    // After a reload (the token now from the tab's storage) the page still reads the stats.
    mint(&sandbox, "remote-user");
    browser
        .script("location.reload(); return null;", json!([]))
        .await;
    browser
        .wait_for(
            "the reloaded page to reach the sandbox",
            "document.querySelector('#live').innerText === 'live' && document.body.innerText.includes('1 / 1 minted')",
        )
        .await;
    assert!(!browser.page_text().await.contains(&token));
}
