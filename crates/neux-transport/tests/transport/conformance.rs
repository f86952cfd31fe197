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

/// A handled panic prints nothing: surf's stack unwraps an ASCII check on a raw UTF-8 header;
/// the transport catches it and the request gets a one-line error, and the panic hook stays
/// quiet for that thread alone: a panic elsewhere in the process at the same time is still
/// reported. Run in a child process (this test binary) whose stderr is read.
#[cfg(feature = "surf")]
#[test]
fn a_handled_panic_prints_nothing_and_other_panics_still_print() {
    use neux_transport::Transport;
    if std::env::var_os("NEUX_QUIET_PANIC_CHILD").is_some() {
        let server = crate::support::server::TestServer::start();
        let transport =
            neux_transport::SurfTransport::new(crate::support::suite::config()).unwrap();
        // Another thread panics while the exchange runs: its report must not be swallowed.
        let other = std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(5));
            panic!("an unrelated panic on another thread");
        });
        for _ in 0..20 {
            let request = http::Request::get(server.url("/non-ascii-header"))
                .body(Vec::new())
                .unwrap();
            match futures_lite::future::block_on(transport.send(request)) {
                Ok(res) => println!("NEUX answered {}", res.status()),
                Err(e) => println!("NEUX error {e}"),
            }
        }
        assert!(other.join().is_err());
        return;
    }
    let name = match module_path!().split_once("::") {
        Some((_, path)) => {
            format!("{path}::a_handled_panic_prints_nothing_and_other_panics_still_print")
        }
        None => unreachable!("a test module"),
    };
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads", "1"])
        .env("NEUX_QUIET_PANIC_CHILD", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let errors: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once("NEUX error ").map(|(_, e)| e))
        .collect();
    assert_eq!(
        errors.len(),
        20,
        "surf caught the header's panic every time: {stdout}"
    );
    assert!(
        errors
            .iter()
            .all(|e| !e.contains("backtrace") && e.len() < 400),
        "{errors:?}"
    );
    assert_eq!(
        stderr.matches("panicked").count(),
        1,
        "only the unrelated panic is reported: {stderr}"
    );
    assert!(
        stderr.contains("an unrelated panic on another thread"),
        "{stderr}"
    );
}
