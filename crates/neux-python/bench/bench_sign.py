"""The binding against the same signature written naively in Python, side by side.

Each round times both signers over the same parameters, alternating which goes first; the
figure is the median of the per-round ratios (naive time / binding time) and their spread.
Build the wheel with `maturin build --release` and install it before running:

    python bench/bench_sign.py [--rounds 41]
"""

import argparse
import hashlib
import json
import statistics
import sys
import time

import neux


def naive_sign(params, secret):
    # As a Python SDK writes it: sorted keys, string concatenation, hashlib. (It agrees with
    # the platform on these inputs: strings and non-negative ints only.)
    items = dict(params)
    items.pop("sign", None)
    items["secret"] = secret
    text = ""
    for key in sorted(items):
        text += key + "=" + str(items[key])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Each case is a list of maps signed in turn: the same keys with other values (as a backend
# signs one kind of request again and again), or, last, new keys every time.
def token(m):
    return {
        "clientId": "demo-appid",
        "code": f"abc123def456abc123de{m:04d}",
        "grantType": "authorization_code",
        "scope": "user.info",
        "timestamp": 1700000000000 + m,
    }


def fifty(m, prefix="key"):
    return {f"{prefix}{n:02d}": (f"value-{n}-{m}" if n % 2 else n * 1000 + m) for n in range(50)}


CASES = (
    ("token request (5 keys)", [token(m) for m in range(64)], 20000),
    ("50 keys", [fifty(m) for m in range(64)], 4000),
    ("50 keys, new keys every call", [fifty(m, f"k{m}_") for m in range(4096)], 4096),
)


def per_call(fn, maps, calls):
    count = len(maps)
    start = time.perf_counter_ns()
    for i in range(calls):
        fn(maps[i % count], "demo-secret")
    return (time.perf_counter_ns() - start) / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for name, maps, calls in CASES:
        for params in maps[:8]:
            assert naive_sign(params, "demo-secret") == neux.sign(params, "demo-secret")
        ratios, naive_ns, ours_ns = [], [], []
        for r in range(args.rounds):
            if r % 2:
                b = per_call(neux.sign, maps, calls)
                n = per_call(naive_sign, maps, calls)
            else:
                n = per_call(naive_sign, maps, calls)
                b = per_call(neux.sign, maps, calls)
            naive_ns.append(n)
            ours_ns.append(b)
            ratios.append(n / b)
        ratios.sort()
        q = len(ratios) // 4
        results[name] = {
            "naive_ns": statistics.median(naive_ns),
            "binding_ns": statistics.median(ours_ns),
            "speedup_median": statistics.median(ratios),
            "speedup_iqr": [ratios[q], ratios[-q - 1]],
            "speedup_range": [ratios[0], ratios[-1]],
            "rounds": args.rounds,
        }
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        print()
        return
    print(f"Python {sys.version.split()[0]}, {args.rounds} interleaved rounds")
    for name, r in results.items():
        print(
            f"{name}: naive {r['naive_ns']:.0f} ns, binding {r['binding_ns']:.0f} ns, "
            f"binding {r['speedup_median']:.2f}x faster "
            f"(IQR {r['speedup_iqr'][0]:.2f}-{r['speedup_iqr'][1]:.2f}, "
            f"range {r['speedup_range'][0]:.2f}-{r['speedup_range'][1]:.2f})"
        )


if __name__ == "__main__":
    main()
