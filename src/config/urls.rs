//! URL settings, checked once at start-up. No client is ever built from a URL holding `user:password@` (connection
//! pools log the authority at DEBUG and TRACE): it is taken out here, for the one setting that uses it as Basic
//! credentials, and refused everywhere else. A bad value is never echoed with what stands before its `@`.

use super::Secret;
use crate::http::redact_userinfo;
use std::fmt;

/// The user and password a URL's `user:password@` held, percent-decoded. `Debug` shows the user only.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlCredentials {
    pub user: String,
    pub password: Secret,
}

impl fmt::Debug for UrlCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlCredentials").field("user", &self.user).field("password", &self.password).finish()
    }
}

/// An absolute `http` or `https` URL with a host and no `user:password@`, without trailing slashes. The error is
/// the problem only.
pub(crate) fn parse_http_url(value: &str) -> Result<String, String> {
    match parse_tool_url(value)? {
        (url, None) => Ok(url),
        (_, Some(_)) => Err("holds a user name or password (`user:password@`), which this setting does not take; \
                             remove it"
            .into()),
    }
}

/// An absolute `http` or `https` URL with a host, without trailing slashes and without its `user:password@`, which
/// is returned apart (percent-decoded). The error is the problem only, the value shown without its credentials.
pub(crate) fn parse_tool_url(value: &str) -> Result<(String, Option<UrlCredentials>), String> {
    let value = value.trim();
    let bad = || format!("expected an http(s) URL, found {:?}", redact_userinfo(value));
    let uri: axum::http::Uri = value.parse().map_err(|_| bad())?;
    let scheme = match uri.scheme_str() {
        Some(scheme @ ("http" | "https")) => scheme,
        _ => return Err(bad()),
    };
    match uri.host() {
        Some(host) if !host.is_empty() => {}
        _ => return Err(bad()),
    }
    // `http://user:pa/ss@host` parses as the host `user`, the port `pa` and the path `/ss@host`.
    if uri.port().is_some() && uri.port_u16().is_none() || uri.path().contains('@') {
        return Err(format!(
            "{}; a password holding `/`, `?` or `#` must be percent-encoded (`%2F`, `%3F`, `%23`)",
            bad()
        ));
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return Ok((value.trim_end_matches('/').to_owned(), None));
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part).decode_utf8().map(|text| text.into_owned()).map_err(|_| {
            "the user name or password before `@` is not percent-encoded UTF-8 (write `%40` for `@`, `%3A` for `:`)"
                .to_string()
        })
    };
    let credentials = UrlCredentials { user: decode(user)?, password: Secret::new(decode(password)?) };
    let rest = uri.path_and_query().map_or("", |p| p.as_str());
    let url = format!("{scheme}://{host}{rest}");
    Ok((url.trim_end_matches('/').to_owned(), Some(credentials)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(user: &str, password: &str) -> Option<UrlCredentials> {
        Some(UrlCredentials { user: user.into(), password: Secret::new(password) })
    }

    #[test]
    fn userinfo_is_taken_out_of_the_url() {
        assert_eq!(parse_tool_url("https://prom.example:9090/"), Ok(("https://prom.example:9090".into(), None)));
        assert_eq!(
            parse_tool_url(" https://reader:s%40cret%3Ax@prom.example:9090/prometheus/ "),
            Ok(("https://prom.example:9090/prometheus".into(), credentials("reader", "s@cret:x")))
        );
        assert_eq!(parse_tool_url("http://token@prom"), Ok(("http://prom".into(), credentials("token", ""))));
        let (_, found) = parse_tool_url("http://u:hunter2@prom").unwrap();
        assert!(!format!("{found:?}").contains("hunter2"));
    }

    #[test]
    fn bad_urls_are_named_without_their_credentials() {
        for bad in ["htp://u:hunter2@prom", "http//u:hunter2@prom", "http://u:hun ter2@prom", "http://u:hun/ter2@prom"]
        {
            let problem = parse_tool_url(bad).expect_err(bad);
            assert!(!problem.contains("hunter2") && !problem.contains("ter2"), "{bad}: {problem}");
            assert!(problem.starts_with("expected an http(s) URL, found "), "{problem}");
        }
        assert_eq!(
            parse_tool_url("ftp://u:hunter2@prom").unwrap_err(),
            r#"expected an http(s) URL, found "ftp://[redacted]@prom""#
        );
        let problem = parse_tool_url("http://u:%FFhunter2@prom").unwrap_err();
        assert!(problem.starts_with("the user name or password before `@` is not") && !problem.contains("hunter2"));
        assert_eq!(
            parse_http_url("https://u:hunter2@ghe.example/api/v3"),
            Err("holds a user name or password (`user:password@`), which this setting does not take; remove it".into())
        );
        assert_eq!(parse_http_url("https://ghe.example/api/v3/"), Ok("https://ghe.example/api/v3".into()));
    }
}
