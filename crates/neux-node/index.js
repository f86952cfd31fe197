'use strict';
// The addon, built from this folder's Rust crate by `cargo xtask ci` (or by hand:
// `cargo build --release -p neux-node` then copy target/release/libneux_node.so to neux.node).
const native = require('./neux.node');

// Crossing into the addon costs a few hundred nanoseconds per call and per property read, so
// the common kinds of value cross as one string, `text NUL` per value, in the text form the
// Java server gives them (a string as it is, a safe integer in decimal, true/false, null as
// empty; undefined is left out, as JSON.stringify leaves it out). The keys cross once per key
// order: the addon learns them (a `KeyOrder`, in signing order) and this module keeps it for
// the next map with the same keys in the same order, the same kind of request signed again.
// Anything else (a fraction, a BigInt, an array, an object, a NUL inside a key or a value, a
// refused key) goes to the addon's own reader, which renders or refuses it. The addon orders,
// leaves out, refuses and signs in both cases (neux-proto).
const NUL = '\u0000';

// Key orders by their first key, the most recently used first; a few per first key, and a
// bounded number of first keys (all forgotten when full: learning one again is one call).
const orders = new Map();
const ORDERS_PER_FIRST_KEY = 4;
const FIRST_KEYS_KEPT = 64;

// The key order of the map `values` just packed, for the call that follows.
let packedOrder;

// The values of `params` as one string, and their key order in `packedOrder`; undefined when
// the addon's own reader must read the map.
function pack(params) {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  // for-in, not Object.keys: V8 reads `params[key]` inside it from the object's own layout,
  // which made packing 50 keys a third faster. for-in also walks the prototype chain's
  // enumerable keys (a polluted Object.prototype): the count check below sends those maps to
  // the general reader, which reads own keys only, as JSON.stringify does.
  let text = '';
  let seen = 0;
  let count = 0;
  // The candidate order while the keys match it; once they do not, the keys themselves.
  let order;
  let keys;
  for (const key in params) {
    seen++;
    const value = params[key];
    switch (typeof value) {
      case 'string':
        text += value + NUL;
        break;
      case 'number':
        // `+` writes a safe integer in plain decimal, as the Java server does.
        if (!Number.isSafeInteger(value)) return undefined;
        text += value + NUL;
        break;
      case 'boolean':
        text += value ? 'true\u0000' : 'false\u0000';
        break;
      case 'undefined':
        continue;
      case 'object':
        if (value !== null) return undefined;
        text += NUL;
        break;
      default:
        return undefined;
    }
    if (keys !== undefined) {
      keys.push(key);
    } else {
      if (count === 0) order = orders.get(key)?.[0];
      if (order === undefined || order.keys[count] !== key) {
        // The keys so far are the candidate's (or there are none yet).
        keys = order === undefined ? [] : order.keys.slice(0, count);
        keys.push(key);
        order = undefined;
      }
    }
    count++;
  }
  if (seen !== Object.keys(params).length) return undefined;
  if (keys === undefined && (order === undefined || order.keys.length !== count)) {
    keys = order === undefined ? [] : order.keys.slice(0, count);
  }
  const handle = keys === undefined ? order.handle : recall(keys);
  if (handle === null) return undefined;
  packedOrder = handle;
  return text;
}

// The addon's key order for `keys`, kept or learnt; null if the addon refuses it.
function recall(keys) {
  if (keys.length === 0) return native.keyOrder('', 0);
  const kept = orders.get(keys[0]);
  if (kept !== undefined) {
    const at = kept.findIndex((o) => o.keys.length === keys.length && o.keys.every((k, i) => k === keys[i]));
    if (at >= 0) {
      const [found] = kept.splice(at, 1);
      kept.unshift(found);
      return found.handle;
    }
  }
  const handle = native.keyOrder(keys.join(NUL) + NUL, keys.length);
  if (handle === null) return null;
  if (kept === undefined) {
    if (orders.size >= FIRST_KEYS_KEPT) orders.clear();
    orders.set(keys[0], [{ keys, handle }]);
  } else {
    kept.unshift({ keys, handle });
    if (kept.length > ORDERS_PER_FIRST_KEY) kept.pop();
  }
  return handle;
}

function sign(params, secret) {
  const values = pack(params);
  if (values !== undefined) {
    const signature = native.signValues(packedOrder, values, secret);
    if (signature !== null) return signature;
  }
  return native.sign(params, secret);
}

function canonical(params, maskSecret, secret) {
  const values = pack(params);
  if (values !== undefined) {
    const shown = native.canonicalValues(packedOrder, values, maskSecret, secret);
    if (shown !== null) return shown;
  }
  return native.canonical(params, maskSecret, secret);
}

function verify(params, secret, signature) {
  const values = pack(params);
  if (values !== undefined) {
    const valid = native.verifyValues(packedOrder, values, secret, signature);
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
