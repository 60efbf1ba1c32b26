//! Bulk lead import from CSV: parsing (RFC 4180 quoting), and a per-row verdict with every
//! reason a row was rejected. Whether a time zone exists and whether an email is already known
//! are checked by the shell, which has the zone database and the leads.

use crate::lead::NewLead;
use serde::Serialize;

/// Most rows one import may carry.
pub const MAX_ROWS: usize = 1_000;
/// Largest CSV body, in bytes.
pub const MAX_BYTES: usize = domain::message::MAX_IMPORT_BYTES;

const COLUMNS: &[&str] = &["name", "email", "phone", "time_zone", "industry", "company_stage", "employees"];

/// A row that could not be imported, numbered as in the file (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    pub row: usize,
    pub errors: Vec<String>,
}

/// The parsed file: valid leads with their row numbers, and the rejected rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub leads: Vec<(usize, NewLead)>,
    pub rejected: Vec<RejectedRow>,
}

/// Why a whole file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    TooLarge,
    TooManyRows(usize),
    NotUtf8,
    Malformed(String),
    MissingNameColumn,
    UnknownColumn(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::TooLarge => write!(f, "the file is larger than {MAX_BYTES} bytes"),
            FileError::TooManyRows(n) => write!(f, "{n} rows; at most {MAX_ROWS} per import"),
            FileError::NotUtf8 => write!(f, "the file is not UTF-8 text"),
            FileError::Malformed(why) => write!(f, "malformed CSV: {why}"),
            FileError::MissingNameColumn => write!(f, "the header must have a `name` column"),
            FileError::UnknownColumn(c) => write!(f, "unknown column `{c}`; known: {}", COLUMNS.join(", ")),
        }
    }
}

/// Parses a CSV file with a header row.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = records(text)?;
    let mut rows = records.into_iter();
    let header: Vec<String> = rows.next().unwrap_or_default().into_iter().map(|h| h.trim().to_lowercase()).collect();
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(FileError::UnknownColumn(unknown.clone()));
    }
    if !header.iter().any(|h| h == "name") {
        return Err(FileError::MissingNameColumn);
    }
    let data: Vec<Vec<String>> = rows.filter(|r| !(r.len() == 1 && r[0].trim().is_empty())).collect();
    if data.len() > MAX_ROWS {
        return Err(FileError::TooManyRows(data.len()));
    }
    let mut parsed = Parsed::default();
    for (i, record) in data.into_iter().enumerate() {
        let row = i + 2;
        if record.len() != header.len() {
            parsed.rejected.push(RejectedRow { row, errors: vec![format!("{} fields; the header has {}", record.len(), header.len())] });
            continue;
        }
        let mut obj = serde_json::Map::new();
        for (column, value) in header.iter().zip(record) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let json = if column == "employees" {
                value.parse::<u64>().map(serde_json::Value::from).unwrap_or_else(|_| serde_json::Value::from(value))
            } else {
                serde_json::Value::from(value)
            };
            obj.insert(column.clone(), json);
        }
        match NewLead::from_body(serde_json::Value::Object(obj).to_string().as_bytes()) {
            Ok(lead) => parsed.leads.push((row, lead)),
            Err(e) => parsed.rejected.push(RejectedRow { row, errors: vec![e.to_string()] }),
        }
    }
    Ok(parsed)
}

/// RFC 4180 records: fields separated by commas, records by CRLF or LF, fields optionally in
/// double quotes with `""` for a quote inside.
fn records(text: &str) -> Result<Vec<Vec<String>>, FileError> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',') | Some('\n') | Some('\r')) {
                    return Err(FileError::Malformed(format!("text after a closing quote on line {line}")));
                }
            }
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err(FileError::Malformed(format!("a quote inside an unquoted field on line {line}"))),
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(FileError::Malformed("a quoted field is not closed".into()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_good_rows_and_reports_every_bad_one() {
        let csv = "name,email,time_zone,employees\r\nAda,ada@acme.io,Europe/London,40\r\n\"Lovelace, Ada\",,,\r\n,nobody@acme.io,,\r\nBob,not-an-email,,\r\nCarl,carl@acme.io,,many\r\nDee,dee@acme.io\r\n\"Quote \"\"Q\"\" Co\",q@acme.io,,7\r\n";
        let p = parse(csv.as_bytes()).unwrap();
        let names: Vec<(usize, &str)> = p.leads.iter().map(|(r, l)| (*r, l.name.as_str())).collect();
        assert_eq!(names, vec![(2, "Ada"), (3, "Lovelace, Ada"), (8, "Quote \"Q\" Co")]);
        let rejected: Vec<usize> = p.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rejected, vec![4, 5, 6, 7]);
        assert!(p.rejected.iter().all(|r| !r.errors.is_empty()));
        assert_eq!(p.leads[0].1.employees, Some(40));
    }

    #[test]
    fn whole_file_errors() {
        assert_eq!(parse(b"email\nx@y.io\n"), Err(FileError::MissingNameColumn));
        assert_eq!(parse(b"name,shoe_size\nA,9\n"), Err(FileError::UnknownColumn("shoe_size".into())));
        assert!(matches!(parse(b"name\n\"open\n"), Err(FileError::Malformed(_))));
        assert!(matches!(parse(b"name\nab\"c\n"), Err(FileError::Malformed(_))));
        assert_eq!(parse(&[0xff, 0xfe]), Err(FileError::NotUtf8));
        let many = format!("name\n{}", "x\n".repeat(MAX_ROWS + 1));
        assert_eq!(parse(many.as_bytes()), Err(FileError::TooManyRows(MAX_ROWS + 1)));
    }

    #[test]
    fn a_byte_order_mark_and_blank_lines_are_fine() {
        let p = parse("\u{feff}name\nA\n\nB".as_bytes()).unwrap();
        assert_eq!(p.leads.len(), 2);
        assert!(p.rejected.is_empty());
    }
}
