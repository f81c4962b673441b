//! Machine-readable state hidden in what the App writes on GitHub (issue and pull request bodies): JSON inside an
//! HTML comment, `<!-- shipshape:<kind> {json} -->`, so state survives a lost database and GitHub shows nothing.

use serde::Serialize;
use serde::de::DeserializeOwned;

const CLOSE: &str = " -->";

/// The hidden marker of `kind` holding `value`.
pub fn write(kind: &str, value: &impl Serialize) -> String {
    let json = serde_json::to_string(value).expect("marker values serialise");
    format!("<!-- shipshape:{kind} {} -->", escape_comment(&json))
}

/// The value of the first well-formed marker of `kind` in `body`.
pub fn read<T: DeserializeOwned>(body: &str, kind: &str) -> Option<T> {
    let open = format!("<!-- shipshape:{kind} ");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(CLOSE)? + start;
    serde_json::from_str(&body[start..end]).ok()
}

/// JSON inside an HTML comment: `--` must not appear (it could close the comment early), nor `>`. Our JSON has
/// these characters only inside strings (dates, ids, user text), where the `\u` escapes keep it valid and equal,
/// and serde_json reads them back.
fn escape_comment(json: &str) -> String {
    json.replace('-', "\\u002d").replace('>', "\\u003e")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_close_the_comment_and_reads_back_equal() {
        let value = serde_json::json!({"reason": "a --> b <!-- c -- d", "n": 1});
        let marker = write("request", &value);
        assert_eq!(marker.matches("-->").count(), 1, "{marker}");
        assert!(!marker[4..marker.len() - 3].contains("--"), "{marker}");
        let body = format!("Some text\n\n{marker}\n");
        assert_eq!(read::<serde_json::Value>(&body, "request"), Some(value));
        assert_eq!(read::<serde_json::Value>(&body, "tracking"), None);
    }
}
