'use strict';
// The addon, built from this folder's Rust crate by `cargo xtask ci` (or by hand:
// `cargo build --release -p neux-node` then copy target/release/libneux_node.so to neux.node).
const native = require('./neux.node');

// Crossing into the addon costs a few hundred nanoseconds per call and per property read, so
// the common kinds cross as one string: `key NUL text NUL` per parameter, for the values whose
// JavaScript text form is the Java server's (a string as it is, a safe integer in decimal,
// true/false, null as empty; undefined is left out, as JSON.stringify leaves it out). Anything
// else (a fraction, a BigInt, an array, an object) goes to the addon's own reader, which renders
// or refuses it. The addon orders, leaves out, refuses and signs in both cases (neux-proto).
const NUL = '\u0000';
let packedCount = 0;

function pack(params) {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const keys = Object.keys(params);
  let text = '';
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = params[key];
    let piece;
    switch (typeof value) {
      case 'string':
        piece = value;
        break;
      case 'number':
        if (!Number.isSafeInteger(value)) return undefined;
        piece = String(value);
        break;
      case 'boolean':
        piece = value ? 'true' : 'false';
        break;
      case 'undefined':
        continue;
      case 'object':
        if (value !== null) return undefined;
        piece = '';
        break;
      default:
        return undefined;
    }
    text += key + NUL + piece + NUL;
    count++;
  }
  packedCount = count;
  return text;
}

function sign(params, secret) {
  const text = pack(params);
  if (text !== undefined) {
    const signature = native.signPacked(text, packedCount, secret);
    if (signature !== null) return signature;
  }
  return native.sign(params, secret);
}

function canonical(params, maskSecret, secret) {
  const text = pack(params);
  if (text !== undefined) {
    const shown = native.canonicalPacked(text, packedCount, maskSecret, secret);
    if (shown !== null) return shown;
  }
  return native.canonical(params, maskSecret, secret);
}

function verify(params, secret, signature) {
  const text = pack(params);
  if (text !== undefined) {
    const valid = native.verifyPacked(text, packedCount, secret, signature);
    if (valid !== null) return valid;
  }
  return native.verify(params, secret, signature);
}

module.exports = {
  sign,
  canonical,
  verify,
  tokenRequest: native.tokenRequest,
  firstDifference: native.firstDifference,
  SECRET_MASK: '[REDACTED]',
};
