//! Randomness from the runtime's CSPRNG (`crypto.getRandomValues`).

use wasm_bindgen::{JsCast, JsValue};

/// 16 random bytes, or `None` if the runtime's crypto is unavailable.
pub fn bytes16() -> Option<[u8; 16]> {
    bytes::<16>()
}

/// `N` random bytes, or `None` if the runtime's crypto is unavailable.
pub fn bytes<const N: usize>() -> Option<[u8; N]> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let get: js_sys::Function = js_sys::Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).ok()?.dyn_into().ok()?;
    let array = js_sys::Uint8Array::new_with_length(N as u32);
    get.call1(&crypto, &array).ok()?;
    let mut out = [0u8; N];
    array.copy_to(&mut out);
    Some(out)
}
