//! Paging through a chat's log by sequence number.

use crate::ApiError;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// `?after=N&limit=M`: messages with `seq > after`, at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub after: i64,
    pub limit: u32,
}

impl Page {
    /// Parses the query string pairs. Unknown parameters are ignored.
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Page, ApiError> {
        let mut page = Page { after: 0, limit: DEFAULT_PAGE };
        for (k, v) in pairs {
            match k {
                "after" => page.after = parse_after(v)?,
                "limit" => {
                    page.limit = v
                        .parse::<u32>()
                        .ok()
                        .filter(|l| (1..=MAX_PAGE).contains(l))
                        .ok_or_else(|| ApiError::InvalidQuery {
                            param: "limit",
                            reason: format!("must be an integer from 1 to {MAX_PAGE}"),
                        })?
                }
                _ => {}
            }
        }
        Ok(page)
    }
}

/// The `after` cursor: a non-negative sequence number.
pub fn parse_after(v: &str) -> Result<i64, ApiError> {
    v.parse::<i64>().ok().filter(|a| *a >= 0).ok_or_else(|| ApiError::InvalidQuery {
        param: "after",
        reason: "must be a non-negative integer".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(Page::from_query([]).unwrap(), Page { after: 0, limit: DEFAULT_PAGE });
        assert_eq!(Page::from_query([("after", "7"), ("limit", "200")]).unwrap(), Page { after: 7, limit: 200 });
        for (k, v) in [("after", "-1"), ("after", "x"), ("limit", "0"), ("limit", "201"), ("limit", "1.5")] {
            assert_eq!(Page::from_query([(k, v)]).unwrap_err().code(), "invalid_query", "{k}={v}");
        }
    }
}
