//! `cargo xtask container`: builds the sandbox's image from the repository's `Dockerfile` and
//! runs it, where no image registry is reachable (this project's machines, CI).
//!
//! - podman, runc and debootstrap come from Debian's packages (installed as root when missing);
//!   podman is configured by a file of ours (`CONTAINERS_CONF`), not the system's: no ulimits
//!   from the host, cgroupfs, runc (crun fails on these machines' cgroup v1 mounts).
//! - The base image is a `debootstrap --variant=minbase bookworm`, cached as a tarball under
//!   `target/neux-container/` (about 200 MB), so later runs skip debootstrap.
//! - The binary is the one cargo builds on the host, given to the Dockerfile's `BINARY=host`
//!   stage; the published path (`BINARY=compile`, from `rust:1-slim-bookworm`) is unchanged.
//! - The image is run with its port published on 127.0.0.1 and a control token in
//!   `NEUX_SANDBOX_TOKEN`; the requests a DNS-rebinding page would send are refused, `neux login`
//!   logs a user in against it from the host, the request log is checked (with the token), and
//!   the container is stopped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, run_step};

const DIR: &str = "target/neux-container";
const BASE_IMAGE: &str = "localhost/debian:bookworm-slim";
const IMAGE: &str = "localhost/neux-sandbox:ci";
const MIRROR: &str = "http://deb.debian.org/debian";

/// Our podman settings, instead of the system's.
const CONTAINERS_CONF: &str = "[containers]\n# The host's limits do not apply inside.\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = \"cgroupfs\"\n# crun fails on cgroup v1 mounts.\nruntime = \"runc\"\n";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`container` takes no arguments (got {extra:?})"));
    }
    check_image(Binary::Build)
}

/// Where the image's binary comes from.
pub(crate) enum Binary {
    /// `cargo build -p neux-cli` first.
    Build,
    /// `target/debug/neux` as a test run just built it (`cargo xtask ci`, after the default
    /// feature set's tests: building it again with other features would cost a minute).
    AsTested,
}

pub(crate) fn check_image(binary: Binary) -> Result<(), String> {
    let started = Instant::now();
    let dir = PathBuf::from(DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{DIR}: {e}"))?;
    ensure_tools()?;
    let conf = dir.join("containers.conf");
    std::fs::write(&conf, CONTAINERS_CONF).map_err(|e| format!("{}: {e}", conf.display()))?;
    let conf = conf
        .canonicalize()
        .map_err(|e| format!("{}: {e}", conf.display()))?;
    let podman = |args: &[&str]| {
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", &conf).args(args);
        cmd
    };

    base_image(&dir, &podman)?;

    if matches!(binary, Binary::Build) || !Path::new("target/debug/neux").is_file() {
        let mut build = cargo();
        build.args(["build", "-p", "neux-cli"]);
        run_step("build the neux binary", build)?;
    }
    let context = dir.join("context");
    std::fs::create_dir_all(&context).map_err(|e| e.to_string())?;
    let binary = context.join("neux");
    std::fs::copy("target/debug/neux", &binary).map_err(|e| format!("copy neux: {e}"))?;
    // Debug info is most of a debug binary's size; the image needs none.
    let _ = Command::new("strip").arg(&binary).status();

    let mut image = podman(&[
        "build",
        "--file",
        "Dockerfile",
        "--build-arg",
        "BINARY=host",
        "--build-arg",
        &format!("BASE={BASE_IMAGE}"),
        "--tag",
        IMAGE,
    ]);
    image.arg(&context);
    run_step("build the image (Dockerfile, BINARY=host)", image)?;

    let port = free_port()?;
    let name = format!("neux-sandbox-ci-{}", std::process::id());
    let token = control_token()?;
    let mut start = podman(&[
        "run",
        "--detach",
        "--name",
        &name,
        "--publish",
        &format!("127.0.0.1:{port}:7878"),
        "--env",
        "NEUX_SANDBOX_TOKEN",
        IMAGE,
        "--app",
        "ci-app:ci-secret",
    ]);
    start
        .stdout(Stdio::null())
        .env("NEUX_SANDBOX_TOKEN", &token);
    run_step("run the image", start)?;
    // Stopped however the check ends.
    let _stop = Stop {
        name: name.clone(),
        conf: conf.clone(),
    };
    let checked = check(port, &name, &token, &podman);
    println!(
        "\ncontainer: {} in {:.0} s",
        if checked.is_ok() { "passed" } else { "failed" },
        started.elapsed().as_secs_f64()
    );
    checked
}

/// Stops the container when dropped.
struct Stop {
    name: String,
    conf: PathBuf,
}

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .env("CONTAINERS_CONF", &self.conf)
            .args(["rm", "--force", "--time", "2", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The container's sandbox answers, refuses what a DNS-rebinding page sends, `neux login` logs a
/// user in against it, and its request log shows the exchange and the profile read.
fn check(
    port: u16,
    name: &str,
    token: &str,
    podman: &dyn Fn(&[&str]) -> Command,
) -> Result<(), String> {
    let bearer = format!("Bearer {token}");
    let authorized = [("Authorization", bearer.as_str())];
    println!("\n==> check the running container on 127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let output = || {
        podman(&["logs", name]).output().map_or(String::new(), |o| {
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
        })
    };
    loop {
        match http(port, "GET", "/sandbox/v1/requests", None, &authorized) {
            Ok((200, _)) => break,
            result => {
                let running = podman(&["inspect", "--format", "{{.State.Running}}", name])
                    .output()
                    .is_ok_and(|o| o.stdout.starts_with(b"true"));
                if !running || Instant::now() > deadline {
                    return Err(format!(
                        "the container {} ({result:?}); its output:\n{}",
                        if running { "never answered" } else { "exited" },
                        output()
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let first = podman(&["logs", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .map_err(|e| e.to_string())?;
    if first.lines().next() != Some("listening on http://0.0.0.0:7878") {
        return Err(format!("unexpected first line: {first:?}"));
    }
    if output().contains(token) {
        return Err("the container printed the control token it was given".to_owned());
    }
    refuses_rebinding(port)?;
    let (status, minted) = http(
        port,
        "POST",
        "/sandbox/v1/codes",
        Some(r#"{"clientId": "ci-app", "user": {"nickName": "Container User"}}"#),
        &authorized,
    )?;
    let minted: serde_json::Value = serde_json::from_str(&minted).map_err(|e| e.to_string())?;
    let code = minted["response"]["code"]
        .as_str()
        .ok_or_else(|| format!("minting a code failed ({status}): {minted}"))?;
    let mut login = Command::new("target/debug/neux");
    login
        .args(["login", "--base-url", &format!("http://127.0.0.1:{port}")])
        .args(["--client-id", "ci-app", "--code", "-", "--json"])
        .env("NEUX_SECRET", "ci-secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = login.spawn().map_err(|e| format!("neux login: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(code.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    if !out.status.success() || user["nickName"] != "Container User" {
        return Err(format!(
            "neux login against the container failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    println!("    neux login: logged in {}", user["openId"]);
    let (_, log) = http(port, "GET", "/sandbox/v1/requests", None, &authorized)?;
    let log: serde_json::Value = serde_json::from_str(&log).map_err(|e| e.to_string())?;
    let entries = log["response"].as_array().cloned().unwrap_or_default();
    let answered = |path: &str| {
        entries
            .iter()
            .filter(|e| e["path"] == path && e["httpStatus"] == 200 && e["apiStatus"] == 200)
            .count()
    };
    let (exchanges, profiles) = (
        answered("/neuopenapi/oauth/mini/accessToken"),
        answered("/neuopenapi/oauth/mini/user/info"),
    );
    if (exchanges, profiles) != (1, 1) {
        return Err(format!(
            "the request log shows {exchanges} exchanges and {profiles} profile reads, not 1 and 1: {log}"
        ));
    }
    println!("    request log: one exchange, one profile read, both answered 200");
    Ok(())
}

/// What a page on attacker.example, its name resolved to 127.0.0.1, makes a browser send to the
/// published port: refused (403); the control API without the token: refused (401).
fn refuses_rebinding(port: u16) -> Result<(), String> {
    let host = format!("attacker.example:{port}");
    let origin = format!("http://{host}");
    let forged = [
        ("Host", host.as_str()),
        ("Origin", origin.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let body = Some(r#"{"clientId": "ci-app"}"#);
    for (method, path, body) in [
        ("POST", "/sandbox/v1/codes", body),
        ("GET", "/sandbox/v1/requests", None),
        ("DELETE", "/sandbox/v1/requests", None),
        ("GET", "/", None),
    ] {
        let (status, answer) = http(port, method, path, body, &forged)?;
        if status != 403 {
            return Err(format!(
                "{method} {path} with a forged Host and Origin answered {status}, not 403: {answer}"
            ));
        }
        if path != "/" {
            let (status, answer) = http(port, method, path, body, &[])?;
            if status != 401 {
                return Err(format!(
                    "{method} {path} without the control token answered {status}, not 401: {answer}"
                ));
            }
        }
    }
    println!("    forged Host/Origin: 403 on the control API and the page; no token: 401");
    Ok(())
}

/// 128 bits from the kernel, as hex: the container's control token for this run.
fn control_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("no randomness for the control token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// podman, runc and debootstrap, installed from Debian's packages when missing (as root).
fn ensure_tools() -> Result<(), String> {
    let missing: Vec<&str> = ["podman", "runc", "debootstrap"]
        .into_iter()
        .filter(|p| !crate::tools::on_path(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !crate::tools::is_root() {
        return Err(format!(
            "missing {}: run `sudo apt-get install podman runc debootstrap` (the container check runs as root)",
            missing.join(", ")
        ));
    }
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(["podman", "runc", "debootstrap"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run_step("install podman, runc and debootstrap", install)
}

/// The base image, from the cached rootfs tarball, made with debootstrap the first time.
fn base_image(dir: &Path, podman: &dyn Fn(&[&str]) -> Command) -> Result<(), String> {
    let exists = podman(&["image", "exists", BASE_IMAGE])
        .status()
        .is_ok_and(|s| s.success());
    if exists {
        println!("\n==> base image {BASE_IMAGE}: present");
        return Ok(());
    }
    let tarball = dir.join("bookworm-minbase.tar");
    if !tarball.is_file() {
        let rootfs = dir.join("rootfs");
        let _ = std::fs::remove_dir_all(&rootfs);
        let mirror = std::env::var("NEUX_DEBIAN_MIRROR").unwrap_or_else(|_| MIRROR.to_owned());
        let mut boot = Command::new("debootstrap");
        boot.args(["--variant=minbase", "bookworm"])
            .arg(&rootfs)
            .arg(&mirror)
            .stdout(Stdio::null());
        run_step("debootstrap a bookworm base (cached afterwards)", boot)?;
        let partial = dir.join("bookworm-minbase.tar.partial");
        let mut tar = Command::new("tar");
        tar.arg("-C").arg(&rootfs).arg("-cf").arg(&partial).arg(".");
        run_step("pack the base", tar)?;
        std::fs::rename(&partial, &tarball).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&rootfs);
    }
    let mut import = podman(&["import"]);
    import.arg(&tarball).arg(BASE_IMAGE).stdout(Stdio::null());
    run_step(&format!("import the base as {BASE_IMAGE}"), import)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port` with `headers` (a `Host` among them replaces
/// the default): the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let default_host = format!("127.0.0.1:{port}");
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(default_host.as_str(), |(_, v)| v);
    let extra: String = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer: {answer:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_owned()))
}
