//! All-or-nothing writes in Durable Object SQLite.
//!
//! SQLite-backed objects refuse `BEGIN`; the runtime offers `storage.transactionSync(fn)`
//! instead, which workers-rs does not wrap. A closure that returns an error rolls back every
//! write it made, so a failed request never leaves half a change behind.

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Error, Result, Storage};

/// Runs `f` inside `storage.transactionSync`. `f` must not await (it cannot: it is sync).
pub fn transaction<T: 'static>(storage: &Storage, f: impl FnOnce() -> Result<T> + 'static) -> Result<T> {
    let raw: &JsValue = storage.as_raw().as_ref();
    let func: js_sys::Function = js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))
        .map_err(Error::from)?
        .dyn_into()
        .map_err(|_| Error::RustError("storage.transactionSync is not available".into()))?;
    let out: Rc<RefCell<Option<Result<T>>>> = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let body = Closure::once(move || -> std::result::Result<(), JsValue> {
        let result = f();
        let thrown = result.as_ref().err().map(|e| JsValue::from_str(&e.to_string()));
        *slot.borrow_mut() = Some(result);
        match thrown {
            Some(e) => Err(e),
            None => Ok(()),
        }
    });
    let called = func.call1(raw, body.as_ref().unchecked_ref());
    let result = out.borrow_mut().take();
    match (result, called) {
        (Some(r), _) => r,
        (None, Err(e)) => Err(Error::from(e)),
        (None, Ok(_)) => Err(Error::RustError("transaction body did not run".into())),
    }
}
