//! Every shared signature vector: digest and canonical string.
#![allow(clippy::unwrap_used)]

use neux_proto::{AppSecret, Params, SECRET_MASK};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    params_json: String,
    secret: String,
    sign: String,
    canonical: String,
}

const VECTORS: &str = include_str!("../data/sign-vectors.json");

fn vectors() -> Vec<Vector> {
    let file: File = serde_json::from_str(VECTORS).expect("vector file parses");
    assert!(
        file.vectors.len() >= 8,
        "the shared file has at least 8 vectors"
    );
    file.vectors
}

#[test]
fn every_vector_signs_to_its_digest() {
    for v in vectors() {
        let params = Params::from_json_str(&v.params_json)
            .unwrap_or_else(|e| panic!("{}: params refused: {e}", v.name));
        let secret = AppSecret::new(v.secret.as_str()).unwrap();
        assert_eq!(params.sign(&secret).to_hex(), v.sign, "vector {}", v.name);
    }
}

#[test]
fn every_vector_has_the_published_canonical_string() {
    for v in vectors() {
        let params = Params::from_json_str(&v.params_json).unwrap();
        let masked = v.canonical.replacen(
            &format!("secret={}", v.secret),
            &format!("secret={SECRET_MASK}"),
            1,
        );
        assert_eq!(
            params.canonical_string_redacted(),
            masked,
            "vector {}",
            v.name
        );
        // And the published canonical string really is what the digest is over.
        assert_eq!(
            hex::encode(Sha256::digest(v.canonical.as_bytes())),
            v.sign,
            "vector {}",
            v.name
        );
    }
}

#[test]
fn copy_matches_the_shared_file() {
    // The project's shared/ folder sits beside the repository (as in CI); NEUX_SHARED_DIR points
    // elsewhere. Without it the drift check cannot run, and says so by failing.
    let dir = std::env::var("NEUX_SHARED_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_owned());
    let shared = format!("{dir}/vectors/sign-vectors.json");
    let text = std::fs::read_to_string(&shared).unwrap_or_else(|e| {
        panic!(
            "cannot read the shared vectors at {shared} ({e}): put the project's shared/ folder \
             beside the repository, or set NEUX_SHARED_DIR"
        )
    });
    assert_eq!(
        text, VECTORS,
        "tests/data/sign-vectors.json drifted from {shared}"
    );
}
