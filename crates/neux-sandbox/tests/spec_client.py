"""A login written from the specification alone (stdlib only), run against the sandbox by
tests/independent_clients.rs. It shares no code with neux: if the sandbox and neux-proto ever
agreed on a wrong rule, this client would disagree with both.

usage: spec_client.py BASE_URL CLIENT_ID SECRET DIALECT(json|form)
"""
import hashlib
import json
import sys
import time
import urllib.parse
import urllib.request


def canonical(params, secret):
    pairs = {k: v for k, v in params.items() if k not in ("sign", "fileData")}
    pairs["secret"] = secret
    # Java's String.compareTo: by UTF-16 code unit.
    keys = sorted(pairs, key=lambda k: k.encode("utf-16-be"))
    return "".join(f"{k}={pairs[k]}" for k in keys)


def call(req):
    with urllib.request.urlopen(req, timeout=5) as res:
        return json.load(res)


def main():
    base, client_id, secret, dialect = sys.argv[1:5]
    minted = call(urllib.request.Request(
        base + "/sandbox/v1/codes",
        data=json.dumps({"clientId": client_id, "scope": "user.info,user.phone",
                         "user": {"id": "py", "nickName": "Python & Co = 100%"}}).encode(),
        headers={"Content-Type": "application/json"}))
    code = minted["response"]["code"]
    key = "clientId" if dialect == "json" else "appid"
    params = {key: client_id, "code": code, "grantType": "authorization_code",
              "scope": "user.info,user.phone", "timestamp": str(int(time.time() * 1000))}
    sign = hashlib.sha256(canonical(params, secret).encode("utf-8")).hexdigest()
    if dialect == "json":
        body = dict(params, timestamp=int(params["timestamp"]), sign=sign)
        data, ctype = json.dumps(body).encode(), "application/json"
    else:
        data = urllib.parse.urlencode(dict(params, sign=sign)).encode()
        ctype = "application/x-www-form-urlencoded"
    token = call(urllib.request.Request(base + "/neuopenapi/oauth/mini/accessToken",
                                        data=data, headers={"Content-Type": ctype}))
    assert token["responseHeader"]["status"] == 200, token
    access = token["response"]["accessToken"]
    user = call(base + "/neuopenapi/oauth/mini/user/info?accessToken=" + urllib.parse.quote(access, safe=""))
    assert user["responseHeader"]["status"] == 200, user
    print(json.dumps(user["response"], ensure_ascii=False, sort_keys=True))


main()
