//! A company network: a forward proxy and a TLS server signed by a private CA, both written
//! here and listening on 127.0.0.1. The platform's host name never resolves through DNS: the
//! proxy maps it to the sandbox, and the client's resolver override does for direct requests.
#![cfg(feature = "reqwest-client")]
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::support::*;
use neux_oauth::ReqwestTransport;
use neux_oauth::{Client, Error, ProxyConfig, Scope, TransportConfig};
use neux_sandbox::UserSpec;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The platform's host as the client knows it.
const HOST: &str = "platform.neux.test";

/// A forward proxy that sends every request to `upstream`, whatever host it names, and keeps
/// the text of each request it carried.
struct ForwardProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn forward_proxy(upstream: SocketAddr) -> ForwardProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let _ = relay(client, upstream, log).await;
            });
        }
    });
    ForwardProxy { url, seen }
}

/// Reads one HTTP/1.1 message head and its `Content-Length` body.
async fn read_message(
    r: &mut BufReader<impl AsyncReadExt + Unpin>,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).await?;
    Ok(Some((head, body)))
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (cr, mut cw) = client.into_split();
    let mut cr = BufReader::new(cr);
    let (ur, mut uw) = TcpStream::connect(upstream).await?.into_split();
    let mut ur = BufReader::new(ur);
    while let Some((head, body)) = read_message(&mut cr).await? {
        seen.lock()
            .unwrap()
            .push(format!("{head}{}", String::from_utf8_lossy(&body)));
        // Absolute form (`POST http://host:port/path HTTP/1.1`) to origin form.
        let (line, rest) = head.split_once("\r\n").unwrap();
        let mut parts = line.splitn(3, ' ');
        let (method, target, version) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let path = target
            .strip_prefix("http://")
            .and_then(|t| t.find('/').map(|i| &t[i..]))
            .unwrap_or(target);
        uw.write_all(format!("{method} {path} {version}\r\n{rest}").as_bytes())
            .await?;
        uw.write_all(&body).await?;
        let Some((head, body)) = read_message(&mut ur).await? else {
            break;
        };
        cw.write_all(head.as_bytes()).await?;
        cw.write_all(&body).await?;
    }
    Ok(())
}

fn client_with(sb: &neux_sandbox::Sandbox, base: &str, config: TransportConfig) -> Client {
    // The platform's name resolves to the sandbox for requests that go direct; through the
    // proxy, the proxy maps it.
    let resolve = reqwest::Client::builder().resolve(HOST, sb.local_addr());
    Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(base)
        .allow_insecure_http(true)
        .transport(ReqwestTransport::from_builder(resolve, config).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_login_goes_through_the_configured_proxy_which_never_sees_the_secret() {
    let sb = sandbox().await;
    let proxy = forward_proxy(sb.local_addr()).await;
    let base = format!("http://{HOST}:{}", sb.local_addr().port());
    let client = client_with(
        &sb,
        &base,
        TransportConfig::default().proxy(ProxyConfig::Url(proxy.url.clone())),
    );
    let code = mint(&sb, "user.info", UserSpec::default());
    let (tokens, user) = client.login(&code, &Scope::default()).await.unwrap();
    assert_eq!(user.nick_name.as_deref(), Some("Sandbox User"));
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "the token call and the profile call: {seen:?}"
    );
    assert!(
        seen[0].starts_with(&format!("POST http://{HOST}:")),
        "{}",
        seen[0]
    );
    for text in &seen {
        assert!(!text.contains(SECRET), "the proxy saw the app secret");
    }
    // Over plain http the proxy sees the code and the token: over https it would see neither.
    assert!(seen[1].contains(&tokens.access_token().expose_secret()[..20]));
}

/// Runs this module's environment test again in a child process of this test binary, with
/// `vars` as its environment (a process's own environment cannot be changed safely while tests
/// run); there it logs in as `login_from_the_environment` says.
async fn login_in_a_child(vars: Vec<(&'static str, String)>) {
    let exe = std::env::current_exe().unwrap();
    let name = match module_path!().split_once("::") {
        Some((_, path)) => {
            format!("{path}::by_default_the_environment_proxy_is_used_and_no_proxy_is_honoured")
        }
        None => unreachable!("a module of the test binary"),
    };
    let out = tokio::process::Command::new(exe)
        .args(["--exact", &name, "--nocapture"])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .envs(vars)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the child login failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child half of the environment test: a default client (proxy settings from the
/// environment) logs in with the code the parent minted.
async fn login_from_the_environment(sandbox: SocketAddr) {
    let var = |name: &str| std::env::var(name).unwrap();
    let resolve = reqwest::Client::builder().resolve(HOST, sandbox);
    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(format!("http://{HOST}:{}", sandbox.port()))
        .allow_insecure_http(true)
        .transport(ReqwestTransport::from_builder(resolve, TransportConfig::default()).unwrap())
        .build()
        .unwrap();
    let code = neux_oauth::AuthCode::new(var("NEUX_TEST_CODE")).unwrap();
    client.login(&code, &Scope::default()).await.unwrap();
}

#[tokio::test]
async fn by_default_the_environment_proxy_is_used_and_no_proxy_is_honoured() {
    // In the child process that `login_in_a_child` starts, with the environment under test.
    if let Ok(sandbox) = std::env::var("NEUX_TEST_SANDBOX") {
        return login_from_the_environment(sandbox.parse().unwrap()).await;
    }
    let sb = sandbox().await;
    let proxy = forward_proxy(sb.local_addr()).await;
    let run = |no_proxy: &str| {
        let code = mint(&sb, "user.info", UserSpec::default());
        vec![
            ("NEUX_TEST_SANDBOX", sb.local_addr().to_string()),
            ("NEUX_TEST_CODE", code.expose_secret().to_owned()),
            ("HTTP_PROXY", proxy.url.clone()),
            ("NO_PROXY", no_proxy.to_owned()),
        ]
    };
    login_in_a_child(run("other.test")).await;
    assert_eq!(proxy.seen.lock().unwrap().len(), 2, "HTTP_PROXY was used");
    login_in_a_child(run("other.test, .neux.test")).await;
    assert_eq!(
        proxy.seen.lock().unwrap().len(),
        2,
        "NO_PROXY sent the host direct"
    );
}

#[tokio::test]
async fn loopback_goes_direct_even_with_a_proxy() {
    let sb = sandbox().await;
    let proxy = forward_proxy(sb.local_addr()).await;
    let client = client_with(
        &sb,
        &format!("http://127.0.0.1:{}", sb.local_addr().port()),
        TransportConfig::default().proxy(ProxyConfig::Url(proxy.url.clone())),
    );
    let code = mint(&sb, "user.info", UserSpec::default());
    client.login(&code, &Scope::default()).await.unwrap();
    assert!(
        proxy.seen.lock().unwrap().is_empty(),
        "loopback went through the proxy"
    );
}

#[tokio::test]
async fn a_proxy_that_refuses_the_connection_is_a_typed_error_with_nothing_sent() {
    let sb = sandbox().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let base = format!("http://{HOST}:{}", sb.local_addr().port());
    let client = client_with(
        &sb,
        &base,
        TransportConfig::default().proxy(ProxyConfig::Url(format!("http://{closed}"))),
    );
    let code = mint(&sb, "user.info", UserSpec::default());
    let err = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.is_connect() && !t.may_have_been_sent(), "{err:?}");
    assert!(!err.needs_new_code(), "nothing was sent: {err}");
    assert_eq!(presentations(&sb, &code), 0);
}

/// A TLS server for `HOST` whose certificate a private CA signed; it relays the decrypted bytes
/// to the sandbox. Returns its address and the CA's certificate (PEM).
async fn tls_front(upstream: SocketAddr) -> (SocketAddr, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![HOST.to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return; // the client refused our certificate
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, ca_cert.pem())
}

#[tokio::test]
async fn tls_with_a_private_ca_is_refused_without_the_root_and_works_with_it() {
    let sb = sandbox().await;
    let (front, ca_pem) = tls_front(sb.local_addr()).await;
    let base = format!("https://{HOST}:{}", front.port());
    let build = |config: TransportConfig| {
        let resolve = reqwest::Client::builder().resolve(HOST, front);
        Client::builder()
            .client_id(APP)
            .secret(SECRET)
            .base_url(&base)
            .retry(neux_oauth::RetryPolicy::none())
            .transport(ReqwestTransport::from_builder(resolve, config).unwrap())
            .build()
            .unwrap()
    };

    let code = mint(&sb, "user.info", UserSpec::default());
    let err = build(TransportConfig::default())
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.is_connect() && !err.needs_new_code(), "{err:?}");
    assert!(
        err.to_string().contains("add_root_certificate_pem"),
        "the error says what to do: {err}"
    );
    assert_eq!(
        presentations(&sb, &code),
        0,
        "nothing crossed an untrusted connection"
    );

    let trusted = build(TransportConfig::default().add_root_certificate_pem(ca_pem));
    let (_, user) = trusted.login(&code, &Scope::default()).await.unwrap();
    assert_eq!(user.nick_name.as_deref(), Some("Sandbox User"));
}

#[test]
fn a_root_certificate_that_is_not_pem_is_refused_at_construction() {
    let err = ReqwestTransport::new(
        TransportConfig::default().add_root_certificate_pem(b"not a certificate".to_vec()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("root certificate"), "{err}");
}

/// surf's h1 client can use neither a proxy nor extra roots: it says so instead of going direct.
#[cfg(feature = "surf")]
#[tokio::test]
async fn surf_refuses_a_proxy_or_extra_roots_it_cannot_use_but_serves_loopback() {
    use neux_oauth::SurfTransport;
    let sb = sandbox().await;
    let proxied = TransportConfig::default().proxy(ProxyConfig::Url("http://127.0.0.1:9".into()));
    let surf = || SurfTransport::new(proxied.clone()).unwrap();
    let remote = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(format!("https://{HOST}"))
        .transport(surf())
        .build()
        .unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let err = remote
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Transport(neux_oauth::TransportError::Unavailable { .. })
        ) && err.to_string().contains("cannot use a proxy")
            && !err.needs_new_code(),
        "{err:?}"
    );
    let local = builder(&sb, neux_oauth::Dialect::Json)
        .transport(surf())
        .build()
        .unwrap();
    local.login(&code, &Scope::default()).await.unwrap();
    let roots =
        SurfTransport::new(TransportConfig::default().add_root_certificate_pem(b"x".to_vec()))
            .unwrap_err();
    assert!(roots.to_string().contains("root certificates"), "{roots}");
}
