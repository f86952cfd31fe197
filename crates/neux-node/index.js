'use strict';
// The addon, built from this folder's Rust crate by `cargo xtask ci` (or by hand:
// `cargo build --release -p neux-node` then copy target/release/libneux_node.so to neux.node).
const native = require('./neux.node');

module.exports = {
  sign: native.sign,
  canonical: native.canonical,
  verify: native.verify,
  tokenRequest: native.tokenRequest,
  firstDifference: native.firstDifference,
  SECRET_MASK: '[REDACTED]',
};
