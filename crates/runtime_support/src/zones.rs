//! Time-zone rules from the runtime's own database (`Intl.DateTimeFormat`), so the policy engine
//! needs no compiled-in copy of the IANA database.

use policy::{Millis, ZoneRules};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

/// Offsets read through `Intl`, with one formatter cached per zone (and unknown names cached as
/// unknown).
#[derive(Default)]
pub struct IntlZones {
    formatters: RefCell<HashMap<String, Option<js_sys::Intl::DateTimeFormat>>>,
}

impl IntlZones {
    fn formatter(&self, zone: &str) -> Option<js_sys::Intl::DateTimeFormat> {
        if let Some(cached) = self.formatters.borrow().get(zone) {
            return cached.clone();
        }
        let made = make_formatter(zone);
        self.formatters.borrow_mut().insert(zone.to_owned(), made.clone());
        made
    }

    /// Whether the runtime knows this IANA zone name.
    pub fn is_known(&self, zone: &str) -> bool {
        self.formatter(zone).is_some()
    }
}

fn make_formatter(zone: &str) -> Option<js_sys::Intl::DateTimeFormat> {
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
    set("timeZone", zone).ok()?;
    set("hourCycle", "h23").ok()?;
    for field in ["year", "month", "day", "hour", "minute", "second"] {
        set(field, "numeric").ok()?;
    }
    let ctor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"Intl".into())
        .and_then(|intl| js_sys::Reflect::get(&intl, &"DateTimeFormat".into()))
        .ok()?
        .dyn_into()
        .ok()?;
    let args = js_sys::Array::of2(&JsValue::from_str("en-US"), &options);
    // An unknown zone makes the constructor throw a RangeError.
    js_sys::Reflect::construct(&ctor, &args).ok()?.dyn_into().ok()
}

impl ZoneRules for IntlZones {
    fn offset_seconds(&self, zone: &str, utc_ms: Millis) -> Option<i32> {
        let formatter = self.formatter(zone)?;
        let parts = formatter.format_to_parts(&js_sys::Date::new(&JsValue::from_f64(utc_ms as f64)));
        let mut fields = [0i64; 6];
        for part in parts.iter() {
            let kind = js_sys::Reflect::get(&part, &"type".into()).ok()?.as_string()?;
            let value: i64 = js_sys::Reflect::get(&part, &"value".into()).ok()?.as_string()?.parse().unwrap_or(0);
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            fields[slot] = value;
        }
        let [y, mo, d, h, mi, s] = fields;
        let date = days_from_civil(y, mo, d)?;
        let local_ms = (date * 86_400 + h * 3_600 + mi * 60 + s) * 1000;
        let utc_seconds = utc_ms.div_euclid(1000) * 1000;
        i32::try_from((local_ms - utc_seconds) / 1000).ok()
    }
}

/// Days since the Unix epoch of a civil date, `None` for an impossible month or day.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let (m, d) = (u32::try_from(m).ok().filter(|m| (1..=12).contains(m))?, u32::try_from(d).ok().filter(|d| (1..=31).contains(d))?);
    Some(domain::civil::days_from_civil(y, m, d))
}
