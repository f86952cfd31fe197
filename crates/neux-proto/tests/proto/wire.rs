//! Exact request bodies of both dialects, snapshotted, and decoding the seed guide's answers.
#![allow(clippy::unwrap_used)]

use neux_proto::{
    AccessToken, AppSecret, AuthCode, ClientId, Dialect, Envelope, Scope, Timestamp, TokenRequest,
    TokenResponse, UserInfo, user_info_path_and_query,
};

fn seed_request(scope: &str) -> TokenRequest {
    // The seed guide's sample request (its `sign` value is not verifiable; ours is).
    TokenRequest::new(
        ClientId::new("tmfxzpo3g02unycoyl").unwrap(),
        AuthCode::new("9d77061e-47dc-498d-8c72-ef44a53cc8c9").unwrap(),
        scope.parse::<Scope>().unwrap(),
        Timestamp::from_millis(1_671_009_392_999),
    )
}

fn secret() -> AppSecret {
    AppSecret::new("eghhc4s5vxvd5wqzkmkl").unwrap()
}

#[test]
fn json_body_snapshot() {
    let body = seed_request("user.info").encode(Dialect::Json, &secret());
    assert_eq!(body.content_type(), "application/json");
    // Matches the `clientId-dialect-readme` shared vector.
    assert_eq!(
        body.signature().to_hex(),
        "0eee134166010ec61fdd49ee3bcd39b9a96f11d7666d4dd2da7f8976cd37b246"
    );
    insta::assert_snapshot!(String::from_utf8(body.body().to_vec()).unwrap(), @r#"{"clientId":"tmfxzpo3g02unycoyl","code":"9d77061e-47dc-498d-8c72-ef44a53cc8c9","grantType":"authorization_code","scope":"user.info","timestamp":1671009392999,"sign":"0eee134166010ec61fdd49ee3bcd39b9a96f11d7666d4dd2da7f8976cd37b246"}"#);
}

#[test]
fn form_body_snapshot() {
    let body = seed_request("user.info,user.phone").encode(Dialect::Form, &secret());
    assert_eq!(body.content_type(), "application/x-www-form-urlencoded");
    insta::assert_snapshot!(String::from_utf8(body.body().to_vec()).unwrap(), @"appid=tmfxzpo3g02unycoyl&code=9d77061e-47dc-498d-8c72-ef44a53cc8c9&grantType=authorization_code&scope=user.info%2Cuser.phone&timestamp=1671009392999&sign=0d21949fd6941527ee8a97dd6b029c8b7b6195a6b8c88f21b5279ec78f1ae1d7");
}

#[test]
fn form_body_signature_matches_the_appid_vector() {
    let request = TokenRequest::new(
        ClientId::new("demo-appid").unwrap(),
        AuthCode::new("abc123").unwrap(),
        Scope::default(),
        Timestamp::from_millis(1_700_000_000_000),
    );
    let body = request.encode(Dialect::Form, &AppSecret::new("demo-secret").unwrap());
    assert_eq!(
        body.signature().to_hex(),
        "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242"
    );
}

#[test]
fn bodies_never_carry_the_secret() {
    for dialect in [Dialect::Json, Dialect::Form] {
        let body = seed_request("user.info").encode(dialect, &secret());
        let text = String::from_utf8(body.body().to_vec()).unwrap();
        assert!(!text.contains("eghhc4s5vxvd5wqzkmkl"), "{dialect}: {text}");
        assert!(!text.contains("secret"), "{dialect}: {text}");
    }
}

#[test]
fn seed_token_answer_decodes() {
    let body = br#"{
      "responseHeader": {"status": 200, "msg": "OK"},
      "response": {
        "accessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJpYXQiOjE2NzEwMDk1NDMsIm5iZiI6MTY3MTAwOTU0MywiZXhwIjoxNjcxNjE0MzQzLCJvcGVuSWQiOiIyMjEyZDRmMmYwYTBmNTUyOWYyYjVlYjgzMjQ2ODc5YyIsImNsaWVudElkIjoidG1meHpwbzNnMDJ1bnljb3lsIn0.pa54O9Da_W8TF4hEF7O3-UFVGWHNfMHyCJYcJKBMdcZoeAuqpktnMLPygnbsWbe_Q5MWQlYgp73i__h6-D3UBA",
        "expire": 604800,
        "tokenType": "bearer"
      }
    }"#;
    let token: TokenResponse = Envelope::decode(body).unwrap();
    assert_eq!(token.expires_in, 604_800);
    assert_eq!(token.token_type.as_deref(), Some("bearer"));
    let claims = token.access_token.claims_unverified().unwrap();
    assert_eq!(claims.client_id.as_deref(), Some("tmfxzpo3g02unycoyl"));
    assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 604_800);
    assert!(!format!("{token:?}").contains("eyJ"));
}

#[test]
fn seed_user_answer_decodes_and_reserialises_with_platform_names() {
    let body = br#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"openId":"2212d4f2f0a0f5529f2b5eb83246879c","nickName":"MiniAppUser","avatar":"http://static.satest.neuxnet.com/avatar/user/th_16003aab3b840f89f8d3b3cf87a84846.jpg","email":null,"unionId":"dbc9f53ccc51c2e611b7d39e620bc315"}}"#;
    let user: UserInfo = Envelope::decode(body).unwrap();
    insta::assert_json_snapshot!(user, @r#"
    {
      "openId": "2212d4f2f0a0f5529f2b5eb83246879c",
      "nickName": "MiniAppUser",
      "avatar": "http://static.satest.neuxnet.com/avatar/user/th_16003aab3b840f89f8d3b3cf87a84846.jpg",
      "email": null,
      "unionId": "dbc9f53ccc51c2e611b7d39e620bc315"
    }
    "#);
}

#[test]
fn user_info_query_is_encoded() {
    let token = AccessToken::new("eyJ.a+b/c=.x y").unwrap();
    assert_eq!(
        user_info_path_and_query(&token),
        "/neuopenapi/oauth/mini/user/info?accessToken=eyJ.a%2Bb%2Fc%3D.x+y"
    );
}
