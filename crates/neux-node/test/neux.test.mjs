// The Node binding against the shared vectors, the refusals, and a sign/verify round trip.
//
// Run against the installed package (`cargo xtask ci` packs it with `npm pack`, installs the
// tarball into a fresh folder and runs this file there with NEUX_PACKAGE pointing at it). The
// vectors come from NEUX_VECTORS or from ../shared/vectors/sign-vectors.json beside the
// repository; without them the test fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const packagePath = process.env.NEUX_PACKAGE ?? resolve(here, '..');
const neux = require(packagePath);

const vectorsPath =
  process.env.NEUX_VECTORS ?? join(here, '..', '..', '..', '..', 'shared', 'vectors', 'sign-vectors.json');
assert.ok(existsSync(vectorsPath), `no signature vectors at ${vectorsPath}: set NEUX_VECTORS`);
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')).vectors;

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

test('the package under test is the installed one when asked', () => {
  if (process.env.NEUX_EXPECT_INSTALLED === '1') {
    assert.match(require.resolve(packagePath), /node_modules[\\/]neux[\\/]index\.js$/);
  }
  assert.ok(vectors.length >= 8);
});

for (const v of vectors) {
  test(`vector ${v.name}: digest, canonical string, round trip`, () => {
    // JSON.parse rounds integers beyond 2^53: read those as BigInt, as a Node SDK must.
    const params = JSON.parse(v.params_json, (key, value, ctx) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && ctx && /^-?\d+$/.test(ctx.source)
        ? BigInt(ctx.source)
        : value,
    );
    assert.equal(neux.sign(params, v.secret), v.sign);
    const exact = neux.canonical(params, false, v.secret);
    assert.equal(exact, v.canonical);
    assert.equal(sha256(exact), v.sign);
    assert.equal(
      neux.canonical(params),
      v.canonical.replace(`secret=${v.secret}`, `secret=${neux.SECRET_MASK}`),
    );
    const signature = neux.sign(params, v.secret);
    assert.equal(neux.verify(params, v.secret, signature), true);
    assert.equal(neux.verify(params, `${v.secret}x`, signature), false);
    const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
    assert.equal(neux.verify(params, v.secret, flipped), false);
    assert.equal(neux.verify(params, v.secret, 'not hex'), false);
  });
}

test('the published token request, in both dialects', () => {
  const form = neux.tokenRequest('demo-appid', 'abc123', 'user.info', 1700000000000, 'form', 'demo-secret');
  assert.deepEqual(form, {
    appid: 'demo-appid',
    code: 'abc123',
    grantType: 'authorization_code',
    scope: 'user.info',
    timestamp: 1700000000000,
    sign: '964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242',
  });
  assert.equal(Object.keys(form).at(-1), 'sign');
  const body = neux.tokenRequest('demo-appid', 'abc123', 'user.info', 1700000000000, undefined, 'demo-secret');
  assert.equal(body.clientId, 'demo-appid');
  const { sign, ...unsigned } = body;
  assert.equal(neux.verify(unsigned, 'demo-secret', sign), true);
  for (const [args, what] of [
    [['a', 'c', 'user.info', 1, 'xml', 's'], /dialect/],
    [['a', 'c', 'user.info', 1, 'json', ''], /secret/],
    [['a', 'c', 'no such scope', 1, 'json', 's'], /scope/],
    [['a', 'c', 'user.info', 1.5, 'json', 's'], /timestamp/],
    [['a', 'c', 'user.info', -1, 'json', 's'], /timestamp/],
  ]) {
    assert.throws(() => neux.tokenRequest(...args), (e) => e.code === 'ERR_NEUX_INVALID_INPUT' && what.test(e.message));
  }
});

test('values the references render differently are refused, naming the key', () => {
  for (const [value, kind] of [
    [1.5, 'float'],
    [Number.NaN, 'float'],
    [Infinity, 'float'],
    [2 ** 60, 'unsafe_integer'],
    [2n ** 64n, 'integer_out_of_range'],
    [-(2n ** 63n) - 1n, 'integer_out_of_range'],
    [{ nested: 1 }, 'object'],
    [[['a']], 'nested_list'],
    [['a', null], 'null_in_list'],
    [[true], 'bool_in_list'],
    [[1.5], 'float'],
  ]) {
    assert.throws(
      () => neux.sign({ appid: 'a', amount: value }, 's'),
      (e) => e instanceof Error && e.code === 'ERR_NEUX_UNSUPPORTED_VALUE' && e.key === 'amount' && e.kind === kind && e.message.includes('amount'),
      `${String(value)} -> ${kind}`,
    );
  }
});

test('the secret key and other types are refused without showing values', () => {
  assert.throws(
    () => neux.sign({ secret: 'leaked-value' }, 's'),
    (e) => e.code === 'ERR_NEUX_RESERVED_KEY' && e.key === 'secret' && !e.message.includes('leaked-value'),
  );
  assert.throws(() => neux.sign({ f: () => 1 }, 's'), (e) => e.code === 'ERR_NEUX_INVALID_TYPE' && /function/i.test(e.message));
  assert.throws(() => neux.sign({ s: Symbol('x') }, 's'), (e) => e.code === 'ERR_NEUX_INVALID_TYPE');
  assert.throws(() => neux.sign({ a: 'b' }, ''), (e) => e.code === 'ERR_NEUX_INVALID_INPUT');
  assert.throws(() => neux.canonical({ a: 'b' }, false), (e) => e.code === 'ERR_NEUX_INVALID_INPUT');
});

test('values sign as the Java server renders them', () => {
  const params = {
    big: 2n ** 64n - 1n,
    neg: -(2n ** 63n),
    safe: Number.MAX_SAFE_INTEGER,
    flag: true,
    none: null,
    skipped: undefined,
    ids: [1, 'b', 3n],
    Zeta: 'z',
    '\uffff': 'bmp',
    '\u{1f600}': 'astral',
    sign: 'ignored',
    fileData: 'ignored',
  };
  const expected =
    'Zeta=zbig=18446744073709551615flag=trueids=1,b,3neg=-9223372036854775808none=' +
    'safe=9007199254740991secret=[REDACTED]\u{1f600}=astral\uffff=bmp';
  assert.equal(neux.canonical(params), expected);
  assert.equal(neux.sign(params, 'k'), sha256(expected.replace('[REDACTED]', 'k')));
});

test('firstDifference finds the first differing byte', () => {
  const ours = neux.canonical({ appid: 'a', amount: 100 });
  const theirs = ours.replace('amount=100', 'amount=100.0');
  const at = neux.firstDifference(ours, theirs);
  assert.equal(Buffer.from(theirs).subarray(at).toString().startsWith('.0'), true);
  assert.equal(neux.firstDifference(ours, ours), null);
  assert.equal(neux.firstDifference('é', 'e'), 0);
});

test('a naive JavaScript signer differs where the binding refuses', () => {
  // The `sign.mjs` style: template strings over sorted keys.
  const naive = (params, secret) => {
    const all = { ...params, secret };
    return sha256(Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join(''));
  };
  const agree = { appid: 'a', n: 5, s: 'x' };
  assert.equal(naive(agree, 'k'), neux.sign(agree, 'k'));
  for (const value of [null, { a: 1 }, 1.5, 2 ** 60]) {
    const params = { appid: 'a', v: value };
    let ours;
    try {
      ours = neux.sign(params, 'k');
    } catch (e) {
      assert.equal(e.code, 'ERR_NEUX_UNSUPPORTED_VALUE');
      continue;
    }
    assert.notEqual(ours, naive(params, 'k'), String(value));
  }
});

const addon = require(join(dirname(require.resolve(packagePath)), 'neux.node'));
let seed = 20261207;
const next = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  // The high bits: an LCG modulo 2^31 has short cycles in its low ones.
  return Math.floor(seed / 65536) % n;
};

test('the packed path signs as the addon reading each property does', () => {
  // index.js packs the values of strings, safe integers, booleans and null into one string,
  // under a key order the addon learnt; the addon's own reader takes everything else. Both must
  // sign, show and verify alike, and a NUL inside a key or a value must send the call to the
  // reader, not split a pair.
  const keys = ['a', 'Zeta', 'sign', 'fileData', 'Sign', 'secretary', '\uffff', '\u{1f600}', 'é', 'k\u0000x'];
  const values = [
    () => Array.from({ length: next(6) }, () => 'ab=,&é\u0600\u0000 '[next(10)]).join(''),
    () => next(2 ** 31) - 2 ** 30,
    () => [0, -0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER][next(5)],
    () => [true, false, null, undefined][next(4)],
    () => [1.5, 2 ** 60, 10n, [1, 'x']][next(4)],
  ];
  let packedOnes = 0;
  for (let i = 0; i < 2000; i++) {
    const params = {};
    for (let n = next(8); n > 0; n--) params[keys[next(keys.length)] + next(3)] = values[next(values.length)]();
    let expected;
    try {
      expected = addon.sign(params, 'k');
    } catch (e) {
      assert.throws(() => neux.sign(params, 'k'), (thrown) => thrown.code === e.code && thrown.kind === e.kind);
      continue;
    }
    assert.equal(neux.sign(params, 'k'), expected, JSON.stringify(Object.keys(params)));
    assert.equal(neux.canonical(params), addon.canonical(params));
    assert.equal(neux.canonical(params, false, 'k'), addon.canonical(params, false, 'k'));
    assert.equal(neux.verify(params, 'k', expected), true);
    assert.equal(sha256(neux.canonical(params, false, 'k')), expected);
    if (Object.values(params).every((v) => v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v))) {
      packedOnes++;
    }
  }
  assert.ok(packedOnes > 500, `only ${packedOnes} maps of the common kinds`);
  assert.throws(() => neux.sign({ a: '1', secret: 'x' }, 'k'), (e) => e.code === 'ERR_NEUX_RESERVED_KEY');
  // Keys that do not split into `count` pieces, or that a map may not have, get no key order
  // (the caller then reads the object), however large the count: it sizes nothing.
  const one = addon.keyOrder('a\u0000', 1);
  assert.equal(addon.signValues(one, 'b\u0000', 'k'), neux.sign({ a: 'b' }, 'k'));
  for (const [keys, count] of [['a\u0000', 0], ['a\u0000', 2], ['a\u0000', 2 ** 32 - 1], ['a', 1],
    ['secret\u0000', 1], ['a\u0000a\u0000', 2], ['sign\u0000b\u0000sign\u0000', 3]]) {
    assert.equal(addon.keyOrder(keys, count), null, JSON.stringify([keys, count]));
  }
  // Values that are not one per key: null.
  for (const values of ['', 'b', 'b\u0000c\u0000', '\u0000\u0000']) {
    assert.equal(addon.signValues(one, values, 'k'), null, JSON.stringify(values));
  }
  assert.throws(() => addon.signValues({}, 'b\u0000', 'k'));
  // The addon finds the NULs eight bytes at a time: pieces of every length, of one- to
  // four-byte characters, so that NULs fall at every place in a word and beside bytes >= 0x80.
  const chars = ['a', '\u007f', '\u0080', 'é', '\u07ff', '\u0800', '\uffff', '\u{10000}'];
  const piece = () => Array.from({ length: next(10) }, () => chars[next(chars.length)]).join('');
  const ended = (texts) => texts.map((t) => `${t}\u0000`).join('');
  const oneMore = (text) => {
    const at = next(text.length + 1);
    return text.slice(0, at) + '\u0000' + text.slice(at);
  };
  for (let i = 0; i < 2000; i++) {
    const params = {};
    for (let n = 1 + next(12); n > 0; n--) params[`k${n}${piece()}`] = piece();
    const keys = ended(Object.keys(params));
    const values = ended(Object.values(params));
    const count = Object.keys(params).length;
    const order = addon.keyOrder(keys, count);
    assert.equal(addon.signValues(order, values, 'k'), addon.sign(params, 'k'), JSON.stringify([keys, values]));
    // One more NUL anywhere is one piece too many.
    assert.equal(addon.keyOrder(oneMore(keys), count), null);
    assert.equal(addon.signValues(order, oneMore(values), 'k'), null);
  }
});

test('key orders are kept, shared and forgotten without mixing two maps up', () => {
  // Maps of the same kind sign under one key order. Here: many orders that begin with the
  // same key (more than are kept per first key), maps that are a part of a kept order or
  // extend one, undefined values, and more first keys than are kept.
  const names = ['appid', 'amount', 'code', 'nonce', 'scope', 'timestamp', 'sign', 'secretary'];
  const shapes = [];
  for (let i = 0; i < 40; i++) {
    const rest = names.slice(1).filter(() => next(2));
    shapes.push(['appid', ...rest.sort(() => next(3) - 1)]);
  }
  for (let f = 0; f < 100; f++) shapes.push([`first${f}`, 'appid', 'code']);
  for (let i = 0; i < 5000; i++) {
    const shape = shapes[next(shapes.length)];
    const params = {};
    for (const key of shape.slice(0, shape.length - next(2))) {
      params[key] = [`v${next(100)}`, next(1000), next(2) === 0, null, undefined][next(5)];
    }
    const expected = addon.sign(params, 'k');
    assert.equal(neux.sign(params, 'k'), expected, JSON.stringify(params));
    assert.equal(neux.verify(params, 'k', expected), true);
  }
});

test('only own enumerable string keys are signed, as JSON.stringify sends them', () => {
  // An inherited enumerable key (a class's prototype, a polluted Object.prototype), a
  // non-enumerable own key and a symbol key are not in the body JSON.stringify writes: signing
  // them would make a signature the server cannot match. Both readers are checked: the packed
  // one (strings only) and the addon's own (an array sends the map there).
  const sent = (params) => JSON.parse(JSON.stringify(params));
  for (const own of [{ a: '1', n: 2 }, { a: '1', list: ['x', 'y'] }]) {
    const child = Object.assign(Object.create({ inherited: 'from the prototype' }), own);
    Object.defineProperty(child, 'hidden', { value: 'not enumerable', enumerable: false });
    child[Symbol('s')] = 'a symbol';
    assert.equal(neux.sign(child, 'k'), neux.sign(sent(child), 'k'), JSON.stringify(own));
    assert.equal(neux.canonical(child), neux.canonical(sent(child)));
    assert.equal(neux.verify(child, 'k', neux.sign(sent(child), 'k')), true);
    Object.prototype.polluted = 'x';
    try {
      assert.equal(neux.sign({ ...own }, 'k'), neux.sign(sent(own), 'k'), JSON.stringify(own));
      assert.equal(neux.canonical({ ...own }).includes('polluted'), false);
    } finally {
      delete Object.prototype.polluted;
    }
  }
});
