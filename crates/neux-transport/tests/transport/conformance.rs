//! The shared conformance suite, run against every transport implementation.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "reqwest-client")]
conformance!(
    reqwest,
    |config| Box::new(neux_transport::ReqwestTransport::new(config).unwrap()),
    separate_connect_timeout: true
);

#[cfg(feature = "surf")]
conformance!(
    surf,
    |config| Box::new(neux_transport::SurfTransport::new(config).unwrap()),
    separate_connect_timeout: false
);

/// surf needs no tokio: the same exchange driven by a plain `block_on`, no runtime anywhere.
#[cfg(feature = "surf")]
#[test]
fn surf_works_without_any_tokio_runtime() {
    use neux_transport::Transport;
    let server = crate::support::server::TestServer::start();
    let transport = neux_transport::SurfTransport::new(crate::support::suite::config()).unwrap();
    let res = futures_lite::future::block_on(
        transport.send(
            http::Request::get(server.url("/status/201"))
                .body(Vec::new())
                .unwrap(),
        ),
    )
    .unwrap();
    assert_eq!(res.status(), 201);
    assert!(tokio::runtime::Handle::try_current().is_err());
}

/// reqwest on a single-threaded runtime too (what `#[tokio::main(flavor = "current_thread")]` gives).
#[cfg(feature = "reqwest-client")]
#[test]
fn reqwest_works_on_a_current_thread_runtime() {
    use neux_transport::Transport;
    let server = crate::support::server::TestServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = neux_transport::ReqwestTransport::new(crate::support::suite::config()).unwrap();
    let res = rt
        .block_on(
            transport.send(
                http::Request::get(server.url("/status/202"))
                    .body(Vec::new())
                    .unwrap(),
            ),
        )
        .unwrap();
    assert_eq!(res.status(), 202);
}
