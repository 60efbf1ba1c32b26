//! The runtime's WebCrypto (`crypto.subtle`) for the two primitives Parley does not implement
//! itself: RS256 signature verification (Clerk session tokens) and AES-256-GCM (secrets at
//! rest). WebCrypto is constant-time and audited, and using it keeps both out of the wasm.
//! Every decision around these calls (which key, which claims, which associated data) is made
//! by the pure crates; this module only moves bytes in and out.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A WebCrypto failure, described without any key or data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError(pub String);

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webcrypto: {}", self.0)
    }
}

fn err(what: &str) -> impl Fn(JsValue) -> CryptoError + '_ {
    move |e| CryptoError(format!("{what}: {}", e.as_string().unwrap_or_else(|| js_sys::JSON::stringify(&e).map(String::from).unwrap_or_default())))
}

fn subtle() -> Result<Object, CryptoError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(err("crypto"))?;
    Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(err("subtle"))?.dyn_into().map_err(err("subtle"))
}

async fn call(method: &str, args: &[JsValue]) -> Result<JsValue, CryptoError> {
    let subtle = subtle()?;
    let f: js_sys::Function = Reflect::get(&subtle, &JsValue::from_str(method)).map_err(err(method))?.dyn_into().map_err(err(method))?;
    let promise: Promise = f.apply(&subtle, &args.iter().collect::<Array>()).map_err(err(method))?.dyn_into().map_err(err(method))?;
    JsFuture::from(promise).await.map_err(err(method))
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn usages(list: &[&str]) -> JsValue {
    list.iter().map(|u| JsValue::from_str(u)).collect::<Array>().into()
}

fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

/// Verifies an RSASSA-PKCS1-v1_5 / SHA-256 signature (JWS `RS256`) with a public key given
/// as a JWK (JSON text). `Ok(false)` is a well-formed signature that does not match.
pub async fn verify_rs256(jwk_json: &str, data: &[u8], signature: &[u8]) -> Result<bool, CryptoError> {
    let jwk = js_sys::JSON::parse(jwk_json).map_err(err("jwk"))?;
    let algorithm = object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())]);
    let key = call("importKey", &["jwk".into(), jwk, algorithm.clone(), JsValue::FALSE, usages(&["verify"])]).await?;
    let ok = call("verify", &[algorithm, key, bytes(signature), bytes(data)]).await?;
    Ok(ok.as_bool().unwrap_or(false))
}

async fn aes_key(raw_key: &[u8], usage: &str) -> Result<JsValue, CryptoError> {
    if raw_key.len() != 32 {
        return Err(CryptoError("the AES key must be 32 bytes".into()));
    }
    call("importKey", &["raw".into(), bytes(raw_key), object(&[("name", "AES-GCM".into())]), JsValue::FALSE, usages(&[usage])]).await
}

fn gcm_params(nonce: &[u8; 12], aad: &[u8]) -> JsValue {
    object(&[("name", "AES-GCM".into()), ("iv", bytes(nonce)), ("additionalData", bytes(aad)), ("tagLength", JsValue::from_f64(128.0))])
}

/// AES-256-GCM encryption; the result is the ciphertext followed by the 16-byte tag.
pub async fn aes_gcm_encrypt(raw_key: &[u8], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = aes_key(raw_key, "encrypt").await?;
    let out = call("encrypt", &[gcm_params(nonce, aad), key, bytes(plaintext)]).await?;
    Ok(Uint8Array::new(&out).to_vec())
}

/// AES-256-GCM decryption; fails if the ciphertext, tag, nonce or associated data were altered.
pub async fn aes_gcm_decrypt(raw_key: &[u8], nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = aes_key(raw_key, "decrypt").await?;
    let out = call("decrypt", &[gcm_params(nonce, aad), key, bytes(ciphertext)]).await?;
    Ok(Uint8Array::new(&out).to_vec())
}
