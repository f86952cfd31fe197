//! Whole logins against the in-process sandbox: both dialects, both transports.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_oauth::{Client, Dialect, Scope, ScopeName};
use neux_sandbox::UserSpec;

fn transports() -> Vec<(
    &'static str,
    Option<std::sync::Arc<dyn neux_oauth::Transport>>,
)> {
    #[allow(unused_mut)]
    let mut out: Vec<(
        &'static str,
        Option<std::sync::Arc<dyn neux_oauth::Transport>>,
    )> = vec![("default", None)];
    #[cfg(feature = "surf")]
    out.push((
        "surf",
        Some(std::sync::Arc::new(
            neux_oauth::SurfTransport::new(Default::default()).unwrap(),
        )),
    ));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_in_both_dialects_with_every_transport() {
    let sb = sandbox().await;
    for dialect in [Dialect::Json, Dialect::Form] {
        for (name, transport) in transports() {
            let mut b = builder(&sb, dialect);
            if let Some(t) = transport {
                b = b.shared_transport(t);
            }
            let client = b.build().unwrap();
            let user = UserSpec {
                id: Some(format!("{name}-{dialect}")),
                nick_name: Some("مستخدم 🚀".into()),
                ..Default::default()
            };
            let code = mint(&sb, "user.info,user.phone", user);
            let (tokens, info) = client
                .login(&code, &Scope::user_info_and_phone())
                .await
                .unwrap_or_else(|e| panic!("{name}/{dialect}: {e}"));
            assert_eq!(info.nick_name.as_deref(), Some("مستخدم 🚀"));
            assert_eq!(info.phone.as_deref(), Some("500000000"));
            assert_eq!(
                tokens.open_id(),
                Some(&info.open_id),
                "token claims carry the openId"
            );
            assert!(tokens.scope().contains(&ScopeName::UserPhone));
            assert_eq!(tokens.token_type(), Some("bearer"));
            assert!(!tokens.is_expired());
            let left = tokens.expires_in().as_secs();
            assert!((604_700..=604_800).contains(&left), "{left}");
            // The token can be kept and reused until it expires.
            let again = client.user_info(tokens.access_token()).await.unwrap();
            assert_eq!(again, info);
            assert_eq!(presentations(&sb, &code), 1, "{name}/{dialect}");
        }
    }
}

#[tokio::test]
async fn clients_for_several_apps_live_side_by_side() {
    let sb = sandbox().await;
    let a = builder(&sb, Dialect::Json).build().unwrap();
    let b = Client::builder()
        .client_id("other-app")
        .secret("other-secret")
        .base_url(sb.base_url())
        .build()
        .unwrap();
    let user = || UserSpec {
        id: Some("shared-user".into()),
        ..Default::default()
    };
    let code_a = mint(&sb, "user.info", user());
    let other = neux_oauth::ClientId::new("other-app").unwrap();
    let code_b = sb.mint_code(&other, Scope::default(), user()).unwrap().code;
    let (_, ua) = a.login(&code_a, &Scope::default()).await.unwrap();
    let (_, ub) = b.login(&code_b, &Scope::default()).await.unwrap();
    assert_ne!(ua.open_id, ub.open_id, "openId is per app");
    assert_eq!(ua.union_id, ub.union_id, "unionId spans apps");
}

/// surf needs no tokio: the sandbox runs on a runtime in another thread, the client on a plain
/// `block_on`.
#[cfg(feature = "surf")]
#[test]
fn surf_client_works_without_tokio() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(sandbox());
    let client = builder(&sb, Dialect::Form)
        .transport(neux_oauth::SurfTransport::new(Default::default()).unwrap())
        .build()
        .unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let handle = std::thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        futures_lite::future::block_on(client.login(&code, &Scope::default()))
    });
    let (_, user) = handle.join().unwrap().unwrap();
    assert_eq!(user.nick_name.as_deref(), Some("Sandbox User"));
    drop(rt);
}

/// Non-ASCII and reserved characters in every field a client chooses, end to end in both
/// dialects: the form body is percent-encoded and signed over the decoded text.
#[tokio::test]
async fn non_ascii_and_reserved_characters_survive_both_dialects() {
    let (id, secret) = ("app-é🚀&=+%/?#", "s&=+% é🚀;\"'");
    let sb = neux_sandbox::Sandbox::builder()
        .app(id, secret)
        .start()
        .await
        .unwrap();
    for dialect in [Dialect::Form, Dialect::Json] {
        let client = Client::builder()
            .client_id(id)
            .secret(secret)
            .base_url(sb.base_url())
            .dialect(dialect)
            .build()
            .unwrap();
        let user = UserSpec {
            id: Some(format!("ü&=+%-{dialect}")),
            nick_name: Some("é 🚀 &=+%".into()),
            ..Default::default()
        };
        let code = sb
            .mint_code(
                client.client_id(),
                "user.info,user.phone".parse().unwrap(),
                user,
            )
            .unwrap()
            .code;
        let (_, info) = client
            .login(&code, &Scope::user_info_and_phone())
            .await
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert_eq!(info.nick_name.as_deref(), Some("é 🚀 &=+%"), "{dialect}");
        let logged = sb.requests();
        let token_call = logged.iter().rev().find(|r| r.path == TOKEN_PATH).unwrap();
        assert_eq!(token_call.client_id.as_deref(), Some(id), "{dialect}");
        assert_eq!(token_call.dialect.as_deref(), Some(dialect.as_str()));
    }
}
