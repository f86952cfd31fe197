//! Signing, against the physical limit (raw SHA-256 over the finished canonical bytes) and
#![allow(clippy::unwrap_used, missing_docs)]
//! against what a user would write by hand. Run with `cargo xtask bench`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use neux_proto::{AppSecret, AuthCode, ClientId, Dialect, Params, Scope, Timestamp, TokenRequest};
use sha2::{Digest, Sha256};

const SECRET: &str = "eghhc4s5vxvd5wqzkmkl";

/// What a user writes without the SDK: a sorted map of strings, `format!`, `hex::encode`.
fn naive(params: &[(&str, String)], secret: &str) -> String {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in params {
        map.insert((*k).to_owned(), v.clone());
    }
    map.insert("secret".to_owned(), secret.to_owned());
    let canonical: String = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// The canonical bytes, built once outside the timing: the lower bound only hashes them.
fn canonical(params: &[(&str, String)], secret: &str) -> Vec<u8> {
    let mut pairs: Vec<(Vec<u16>, String)> = params
        .iter()
        .map(|(k, v)| (k.encode_utf16().collect(), format!("{k}={v}")))
        .collect();
    pairs.push((
        "secret".encode_utf16().collect(),
        format!("secret={secret}"),
    ));
    pairs.sort();
    pairs
        .into_iter()
        .map(|(_, s)| s)
        .collect::<String>()
        .into_bytes()
}

fn to_params(pairs: &[(&str, String)]) -> Params {
    let mut p = Params::new();
    for (k, v) in pairs {
        p.insert(*k, v.as_str()).expect("no secret key");
    }
    p
}

fn token_request(c: &mut Criterion) {
    let request = TokenRequest::new(
        ClientId::new("tmfxzpo3g02unycoyl").unwrap(),
        AuthCode::new("9d77061e-47dc-498d-8c72-ef44a53cc8c9").unwrap(),
        Scope::default(),
        Timestamp::from_millis(1_671_009_392_999),
    );
    let secret = AppSecret::new(SECRET).unwrap();
    let pairs: Vec<(&str, String)> = vec![
        ("clientId", "tmfxzpo3g02unycoyl".into()),
        ("code", "9d77061e-47dc-498d-8c72-ef44a53cc8c9".into()),
        ("grantType", "authorization_code".into()),
        ("scope", "user.info".into()),
        ("timestamp", "1671009392999".into()),
    ];
    let bytes = canonical(&pairs, SECRET);
    // All three compute the same digest.
    assert_eq!(
        request.sign(Dialect::Json, &secret).to_hex(),
        naive(&pairs, SECRET)
    );
    assert_eq!(
        request.sign(Dialect::Json, &secret).as_bytes()[..],
        Sha256::digest(&bytes)[..]
    );
    let params = request.params(Dialect::Json);

    let mut g = c.benchmark_group("sign-token-request");
    g.bench_function("ours", |b| {
        b.iter(|| black_box(&request).sign(Dialect::Json, black_box(&secret)))
    });
    g.bench_function("ours-params", |b| {
        b.iter(|| black_box(&params).sign(black_box(&secret)))
    });
    g.bench_function("raw-sha256", |b| {
        b.iter(|| Sha256::digest(black_box(&bytes)))
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive(black_box(&pairs), black_box(SECRET)))
    });
    g.finish();
}

fn large(c: &mut Criterion) {
    let arabic: String = "مستخدم تطبيق صغير ".repeat(10_000 / "مستخدم تطبيق صغير ".len() + 1);
    let pairs: Vec<(&str, String)> = vec![
        ("appid", "demo-appid".into()),
        ("text", "a".repeat(10_000)),
        ("title", arabic),
        ("timestamp", "1700000000000".into()),
    ];
    let params = to_params(&pairs);
    let secret = AppSecret::new(SECRET).unwrap();
    let bytes = canonical(&pairs, SECRET);
    assert_eq!(
        params.sign(&secret).as_bytes()[..],
        Sha256::digest(&bytes)[..]
    );
    let mut g = c.benchmark_group("sign-large");
    g.bench_function("ours", |b| {
        b.iter(|| black_box(&params).sign(black_box(&secret)))
    });
    g.bench_function("raw-sha256", |b| {
        b.iter(|| Sha256::digest(black_box(&bytes)))
    });
    g.finish();
}

fn many_keys(c: &mut Criterion) {
    let open_ids: Vec<String> = (0..20).map(|i| format!("{:032x}", i * 7919)).collect();
    let mut params = Params::new()
        .with("appid", "rha41wzp08ms3x9")
        .unwrap()
        .with("timestamp", 1_685_608_097_842u64)
        .unwrap()
        .with("openIds", open_ids.clone())
        .unwrap();
    let mut pairs: Vec<(String, String)> = vec![
        ("appid".into(), "rha41wzp08ms3x9".into()),
        ("timestamp".into(), "1685608097842".into()),
        ("openIds".into(), open_ids.join(",")),
    ];
    for i in 0..47 {
        let (k, v) = (format!("field{i:02}"), format!("value number {i}"));
        params.insert(k.clone(), v.clone()).unwrap();
        pairs.push((k, v));
    }
    assert_eq!(params.len(), 50);
    let borrowed: Vec<(&str, String)> =
        pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let secret = AppSecret::new(SECRET).unwrap();
    let bytes = canonical(&borrowed, SECRET);
    assert_eq!(
        params.sign(&secret).as_bytes()[..],
        Sha256::digest(&bytes)[..]
    );
    let mut g = c.benchmark_group("sign-many-keys");
    g.bench_function("ours", |b| {
        b.iter(|| black_box(&params).sign(black_box(&secret)))
    });
    g.bench_function("raw-sha256", |b| {
        b.iter(|| Sha256::digest(black_box(&bytes)))
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive(black_box(&borrowed), black_box(SECRET)))
    });
    g.finish();
}

criterion_group!(benches, token_request, large, many_keys);
criterion_main!(benches);
