#!/usr/bin/env bash
# Logs a user in against a running sandbox with nothing but curl and sha256sum, in the JSON
# dialect and then the form dialect. Shown in docs/sandbox.md; run by the test suite.
# usage: curl_login.sh BASE_URL CLIENT_ID SECRET
set -euo pipefail
BASE=$1 CLIENT=$2 SECRET=$3

login() { # $1 = json | form
  CODE=$(curl -sf "$BASE/sandbox/v1/codes" -H 'Content-Type: application/json' \
    -d "{\"clientId\":\"$CLIENT\"}" | sed -E 's/.*"code":"([^"]+)".*/\1/')
  TS=$(($(date +%s) * 1000))
  KEY=$([ "$1" = json ] && echo clientId || echo appid)
  # key=value pairs in key order, secret in its sorted place, no separators.
  SIGN=$(printf '%s' "$KEY=${CLIENT}code=${CODE}grantType=authorization_codescope=user.infosecret=${SECRET}timestamp=$TS" \
    | sha256sum | cut -d' ' -f1)
  if [ "$1" = json ]; then
    BODY="{\"clientId\":\"$CLIENT\",\"code\":\"$CODE\",\"grantType\":\"authorization_code\",\"scope\":\"user.info\",\"timestamp\":$TS,\"sign\":\"$SIGN\"}"
    TYPE=application/json
  else
    BODY="appid=$CLIENT&code=$CODE&grantType=authorization_code&scope=user.info&timestamp=$TS&sign=$SIGN"
    TYPE=application/x-www-form-urlencoded
  fi
  TOKEN=$(curl -sf "$BASE/neuopenapi/oauth/mini/accessToken" -H "Content-Type: $TYPE" -d "$BODY" \
    | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
  curl -sf "$BASE/neuopenapi/oauth/mini/user/info?accessToken=$TOKEN"
  echo
}

login json
login form
