//! The signed identity assertion an upstream receives verifies with the key the
//! gateway publishes, names the caller, and is short-lived.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ED25519};

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

#[tokio::test]
async fn upstream_assertion_verifies_with_published_key() {
    let env = Env::new(Db::Sqlite);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    let cookie = crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await;
    let jwks: serde_json::Value = c
        .get(format!("{}/_centinela/jwks.json", server.base()))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    let public = b64(key["x"].as_str().expect("x"));

    let who: serde_json::Value = c
        .get(format!("{}/api/whoami", server.base()))
        .header("cookie", format!("theme=dark; __Host-centinela={cookie}"))
        .header("x-centinela-assertion", "forged.by.client")
        .send()
        .await
        .expect("whoami")
        .json()
        .await
        .expect("json");
    // The session id stays at the gateway; the application's own cookies pass.
    assert_eq!(who["cookie"], "theme=dark");
    let jwt = who["assertion"]
        .as_str()
        .expect("assertion header reached the upstream");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: serde_json::Value = serde_json::from_slice(&b64(parts[0])).expect("header");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key["kid"]);
    UnparsedPublicKey::new(&ED25519, &public)
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64(parts[2]),
        )
        .expect("the assertion verifies with the published key");
    let claims: serde_json::Value = serde_json::from_slice(&b64(parts[1])).expect("claims");
    assert_eq!(claims["sub"], "bruno");
    assert_eq!(claims["customer_id"], "2");
    assert_eq!(claims["aud"], "demo");
    assert_eq!(claims["route"], "whoami");
    assert_eq!(claims["iss"], server.base());
    let (iat, exp) = (
        claims["iat"].as_u64().expect("iat"),
        claims["exp"].as_u64().expect("exp"),
    );
    assert_eq!(exp - iat, 60);

    // A restart with the same master key publishes the same key.
    drop(server);
    let server = env.start_server();
    let again: serde_json::Value = crate::login::client(&env)
        .get(format!("{}/_centinela/jwks.json", server.base()))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(again, jwks);
}
