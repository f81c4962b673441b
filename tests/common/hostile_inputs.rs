//! Inputs an attacker would send, shared by the test crates (included with `#[path]`).

use std::fmt::Write as _;

/// "Billion laughs": under 400 bytes, 10^9 values once its aliases are expanded.
pub fn billion_laughs() -> String {
    let mut text = String::from(
        "on: pull_request\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut previous = 'a';
    for name in "bcdefghi".chars() {
        let _ = writeln!(text, "{name}: &{name} [{}]", vec![format!("*{previous}"); 9].join(","));
        previous = name;
    }
    text
}
