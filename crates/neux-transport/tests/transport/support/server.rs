//! A tiny HTTP/1.1 server on 127.0.0.1 with misbehaving routes, written on raw TCP with std
//! threads so it serves clients on any executor and can break the protocol on purpose.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub const DATE: &str = "Thu, 26 Nov 2026 12:00:00 GMT";

pub struct TestServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl TestServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        // The thread ends with the test process.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let h = h.clone();
                thread::spawn(move || serve(stream, h));
            }
        });
        Self { addr, hits }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// Request targets received so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nDate: {DATE}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(stream: TcpStream, hits: Arc<Mutex<Vec<String>>>) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        hits.lock().unwrap().push(req.target.clone());
        let path = req.target.split('?').next().unwrap_or("").to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let arg = |i: usize| {
            segments
                .get(i)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let result = match segments[0] {
            "echo" => {
                let mut headers = serde_json::Map::new();
                for (k, v) in &req.headers {
                    headers
                        .entry(k.clone())
                        .or_insert_with(|| serde_json::json!([]))
                        .as_array_mut()
                        .unwrap()
                        .push(v.clone().into());
                }
                let body = serde_json::json!({
                    "method": req.method,
                    "target": req.target,
                    "headers": headers,
                    "body": req.body,
                });
                respond(
                    &mut writer,
                    200,
                    &[("Content-Type", "application/json".into())],
                    body.to_string().as_bytes(),
                )
            }
            "status" => respond(
                &mut writer,
                arg(1) as u16,
                &[],
                format!("status {}", arg(1)).as_bytes(),
            ),
            "large" => respond(&mut writer, 200, &[], &vec![b'a'; arg(1) as usize]),
            "chunked" => chunked(&mut writer, arg(1) as usize),
            "slow-headers" => {
                thread::sleep(Duration::from_millis(arg(1)));
                respond(&mut writer, 200, &[], b"late")
            }
            "slow-body" => slow_body(&mut writer, arg(1)),
            "multi-header" => respond(
                &mut writer,
                200,
                &[("X-Multi", "first".into()), ("X-Multi", "second".into())],
                b"two",
            ),
            "redirect" => {
                let to = req
                    .target
                    .split_once("?to=")
                    .map(|(_, t)| t.to_owned())
                    .unwrap_or_default();
                respond(&mut writer, 307, &[("Location", to)], b"")
            }
            "close" => return, // read the request, answer nothing
            // A CDN's header in raw UTF-8 (not visible ASCII): http-types unwraps an ASCII check.
            "non-ascii-header" => (|| {
                writer.write_all(
                    format!("HTTP/1.1 200 OK\r\nDate: {DATE}\r\nContent-Length: 2\r\n").as_bytes(),
                )?;
                writer.write_all("X-Edge: café\r\n\r\nok".as_bytes())?;
                writer.flush()
            })(),
            // Declares a body of the given length (any u64), sends one byte and hangs up.
            "declared" => {
                let declared = segments.get(1).copied().unwrap_or("1");
                let _ = writer.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nDate: {DATE}\r\nContent-Length: {declared}\r\n\r\nx"
                    )
                    .as_bytes(),
                );
                let _ = writer.flush();
                return;
            }
            _ => respond(&mut writer, 200, &[], b"hit"),
        };
        if result.is_err() {
            return;
        }
    }
}

fn chunked(w: &mut TcpStream, total: usize) -> std::io::Result<()> {
    w.write_all(
        format!("HTTP/1.1 200 OK\r\nDate: {DATE}\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes(),
    )?;
    let chunk = vec![b'c'; 64 * 1024];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(format!("{n:x}\r\n").as_bytes())?;
        w.write_all(&chunk[..n])?;
        w.write_all(b"\r\n")?;
        left -= n;
    }
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}

fn slow_body(w: &mut TcpStream, ms: u64) -> std::io::Result<()> {
    w.write_all(
        format!("HTTP/1.1 200 OK\r\nDate: {DATE}\r\nContent-Length: 10\r\n\r\nx").as_bytes(),
    )?;
    w.flush()?;
    thread::sleep(Duration::from_millis(ms));
    w.write_all(b"123456789")?;
    w.flush()
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A listener whose accept queue is full, so a new connection attempt hangs (the kernel drops
/// its SYN): the only way to provoke a connect timeout without leaving loopback.
pub struct Saturated {
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _held: Vec<std::net::TcpStream>,
}

pub fn saturated_listener() -> Saturated {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let listener = socket.listen(1).unwrap();
    let mut held = Vec::new();
    for _ in 0..64 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    assert!(held.len() < 64, "could not saturate the accept queue");
    Saturated {
        addr,
        _listener: listener,
        _held: held,
    }
}
