// The binding against the same signature written naively in JavaScript, side by side.
//
// Each round times both signers over the same parameters, alternating which goes first; the
// figure is the median of the per-round ratios (naive time / binding time) and their spread.
// NEUX_PACKAGE points at the installed package (`cargo xtask bindings --bench` sets it).
//
//     node bench/bench.mjs [rounds]
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const neux = require(process.env.NEUX_PACKAGE ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const rounds = Number(process.argv[2] ?? 41);

// As a Node SDK writes it: sorted keys, string concatenation, node:crypto. (It agrees with the
// platform on these inputs: strings and small non-negative integers only.)
function naiveSign(params, secret) {
  const all = { ...params, secret };
  delete all.sign;
  let text = '';
  for (const key of Object.keys(all).sort()) text += `${key}=${all[key]}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// Each case is a set of maps signed in turn: the same keys with other values (as a backend
// signs one kind of request again and again), or, last, a new set of keys every time (the
// binding then learns a key order per call).
const token = (m) => ({
  clientId: 'demo-appid',
  code: `abc123def456abc123de${String(m).padStart(4, '0')}`,
  grantType: 'authorization_code',
  scope: 'user.info',
  timestamp: 1700000000000 + m,
});
const fifty = (m, prefix = 'key') =>
  Object.fromEntries(
    Array.from({ length: 50 }, (_, n) => [
      `${prefix}${String(n).padStart(2, '0')}`,
      n % 2 ? `value-${n}-${m}` : n * 1000 + m,
    ]),
  );
const maps = (count, make) => Array.from({ length: count }, (_, m) => make(m));

function perCall(fn, set, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn(set[i % set.length], 'demo-secret');
  return Number(process.hrtime.bigint() - start) / calls;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

console.log(`Node ${process.versions.node}, ${rounds} interleaved rounds`);
for (const [name, set, calls] of [
  ['token request (5 keys)', maps(64, token), 20000],
  ['50 keys', maps(64, (m) => fifty(m)), 4000],
  ['50 keys, new keys every call', maps(4096, (m) => fifty(m, `k${m}_`)), 4096],
]) {
  for (const params of set.slice(0, 8)) {
    if (naiveSign(params, 'demo-secret') !== neux.sign(params, 'demo-secret')) {
      throw new Error(`${name}: the naive signer and the binding disagree`);
    }
  }
  // Warm both up before measuring (the JIT, the addon's first calls).
  perCall(naiveSign, set, calls);
  perCall(neux.sign, set, calls);
  const ratios = [];
  const naive = [];
  const ours = [];
  for (let r = 0; r < rounds; r++) {
    let n;
    let b;
    if (r % 2) {
      b = perCall(neux.sign, set, calls);
      n = perCall(naiveSign, set, calls);
    } else {
      n = perCall(naiveSign, set, calls);
      b = perCall(neux.sign, set, calls);
    }
    naive.push(n);
    ours.push(b);
    ratios.push(n / b);
  }
  ratios.sort((a, b) => a - b);
  const q = Math.floor(ratios.length / 4);
  console.log(
    `${name}: naive ${median(naive).toFixed(0)} ns, binding ${median(ours).toFixed(0)} ns, ` +
      `binding ${median(ratios).toFixed(2)}x faster (IQR ${ratios[q].toFixed(2)}-${ratios[ratios.length - 1 - q].toFixed(2)}, ` +
      `range ${ratios[0].toFixed(2)}-${ratios[ratios.length - 1].toFixed(2)})`,
  );
}
