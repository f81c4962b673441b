use super::*;
use std::collections::HashMap;

/// A 2048-bit RSA key in PKCS#1 form (`openssl genrsa -traditional 2048`), generated for these tests only.
const PKCS1_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEA7SK1SleoaGE6Z80vtajqwssDMq/tM5yMy+W9OnVncjAmmDPr
xDNZ0BN4z1KX0N5ePT1Gh545P0B2iUNQhPH5TZmxIjNMlOtv5y3RFjGkmhqrVUrV
e3QBP1qjwRV+7pRRgD55opuGQmDXgwDmoCkI2bhM/J7zfcKAlgWknys9jUUQK8JX
dLS2eMTX0ik6gwkhrKnTxtAPr7tIccYbcCamjpe9kRW2umNIU31SsVlAjYBhOHXn
OXcM5pVhzQOpFJizADsFTZpl1QSTmBYNhWytv8rl0UQ3ck0wkjZAb2TuK9hvOsdd
co9n4W8ahLMVdgW/rgCvOBiz+8nZG5/TW0rNMwIDAQABAoIBAHPcBV9xPKLi/jpB
EhJbmXfa4JEfS3FwB4qHkNDDE+vCgtjSZVrTDAqRuPDylaJDQyAAlDkmoSm6QTAH
Z4vM/dVgRh9DmSMZdO8qf4Gsd5OjfBqMGYnbv9BIZMGt0vqWFMvnul4sRoif8Cvd
gNC3u89EMLksoCLNqS2jTC9IXSZrqxt0vLPwlSanfuOz3Ai+bSA9F4nyOiJT2wpr
QyTOUTYKZK5iAgNjxJy/Y3NzjKM15/vmv2We+1yeXKXH5N10/woJR9RU2SoYyOgI
aFqGMDfH0uHfTSOhcfrCyRo+GX/L7TMhlP6pI0Y53Ut27EKG56HGrwSSAvd2vC36
C3hlB8ECgYEA9vuDioSZFZA40e6a4xSKEJJ1KYo99kdwrdm7TGPqRaYOlvbClGcq
8xLpXm2QSbrzlV8JimoGDf7gzcvK4oQA8MisxEYDDMeXxeWlUdAL1xhjwVA4/EJV
Wl/N1zUASOqYNLZiGFItiIZo7293Mu9ekkPR/oCau6rjhcXMwauw0rkCgYEA9cso
YZuK4NewNkfzh0TWtYW0bUpXCBHdkrVp10QgD2NwJxOKGsRBUcMm/yWzJy+nyzos
R7uH4rOxLZqHldEEhMqIg8JRK/gUKbJuCzgn/PNCWCNjkWHN5eW+4tcBchJbVvR2
mijO2EsGZV8zsz944pN7Z2yuvkKv3c2SZNixGUsCgYA/Jn4yy8asqcyteNnnmBfZ
Nul4Lp27O/cGrLZkSOPc3SG73epQsbRcpIhBGbib8Y5Ysg0pdASKTZJDbIk6s8/d
wSHTqacb/GjFM/u6WHy+icDv68g2T+utCPQDw8yH2FwElmGsoE5+KwfnuNN8lZHT
yj2GWnG17HLygGnjVzgGGQKBgEW9XfjL7Ey9hibwpV11H8KjbD0yQZ1tjEPLK3vD
vaEAIttDhQTxOGNdjtwIM1vj/qUAHX5A7F5bg+MfnGbaxoBzAub3pJZoLjhigyy1
w0rXLrTZXa/rY0Neu5mbTbKzGK2EcX5uI7plFyx+JaovUTpghDwlLzOWslWptWbd
wOofAoGAeq7zgn8q2lqQBnTyiKAvEZRjfXo/MUePNFY1U3RvgPd9Ctrq+ZkYY+KG
7bWksnR4n9S5t/BvjMqAWiUX3qFT7fJbQNoKHyOY5c/ir8Ie5uF/OPg/XP7WS4BH
P4wRSC5HpEZwS4gqfBoO6a817GXzoA8xOzxoOgqWmmjGC922LjU=
-----END RSA PRIVATE KEY-----
";
/// The same key in PKCS#8 form (`openssl pkcs8 -topk8 -nocrypt`).
const PKCS8_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDtIrVKV6hoYTpn
zS+1qOrCywMyr+0znIzL5b06dWdyMCaYM+vEM1nQE3jPUpfQ3l49PUaHnjk/QHaJ
Q1CE8flNmbEiM0yU62/nLdEWMaSaGqtVStV7dAE/WqPBFX7ulFGAPnmim4ZCYNeD
AOagKQjZuEz8nvN9woCWBaSfKz2NRRArwld0tLZ4xNfSKTqDCSGsqdPG0A+vu0hx
xhtwJqaOl72RFba6Y0hTfVKxWUCNgGE4dec5dwzmlWHNA6kUmLMAOwVNmmXVBJOY
Fg2FbK2/yuXRRDdyTTCSNkBvZO4r2G86x11yj2fhbxqEsxV2Bb+uAK84GLP7ydkb
n9NbSs0zAgMBAAECggEAc9wFX3E8ouL+OkESEluZd9rgkR9LcXAHioeQ0MMT68KC
2NJlWtMMCpG48PKVokNDIACUOSahKbpBMAdni8z91WBGH0OZIxl07yp/gax3k6N8
GowZidu/0Ehkwa3S+pYUy+e6XixGiJ/wK92A0Le7z0QwuSygIs2pLaNML0hdJmur
G3S8s/CVJqd+47PcCL5tID0XifI6IlPbCmtDJM5RNgpkrmICA2PEnL9jc3OMozXn
++a/ZZ77XJ5cpcfk3XT/CglH1FTZKhjI6AhoWoYwN8fS4d9NI6Fx+sLJGj4Zf8vt
MyGU/qkjRjndS3bsQobnocavBJIC93a8LfoLeGUHwQKBgQD2+4OKhJkVkDjR7prj
FIoQknUpij32R3Ct2btMY+pFpg6W9sKUZyrzEulebZBJuvOVXwmKagYN/uDNy8ri
hADwyKzERgMMx5fF5aVR0AvXGGPBUDj8QlVaX83XNQBI6pg0tmIYUi2Ihmjvb3cy
716SQ9H+gJq7quOFxczBq7DSuQKBgQD1yyhhm4rg17A2R/OHRNa1hbRtSlcIEd2S
tWnXRCAPY3AnE4oaxEFRwyb/JbMnL6fLOixHu4fis7EtmoeV0QSEyoiDwlEr+BQp
sm4LOCf880JYI2ORYc3l5b7i1wFyEltW9HaaKM7YSwZlXzOzP3jik3tnbK6+Qq/d
zZJk2LEZSwKBgD8mfjLLxqypzK142eeYF9k26Xgunbs79wastmRI49zdIbvd6lCx
tFykiEEZuJvxjliyDSl0BIpNkkNsiTqzz93BIdOppxv8aMUz+7pYfL6JwO/ryDZP
660I9APDzIfYXASWYaygTn4rB+e403yVkdPKPYZacbXscvKAaeNXOAYZAoGARb1d
+MvsTL2GJvClXXUfwqNsPTJBnW2MQ8sre8O9oQAi20OFBPE4Y12O3AgzW+P+pQAd
fkDsXluD4x+cZtrGgHMC5veklmguOGKDLLXDStcutNldr+tjQ167mZtNsrMYrYRx
fm4jumUXLH4lqi9ROmCEPCUvM5ayVam1Zt3A6h8CgYB6rvOCfyraWpAGdPKIoC8R
lGN9ej8xR480VjVTdG+A930K2ur5mRhj4obttaSydHif1Lm38G+MyoBaJRfeoVPt
8ltA2gofI5jlz+Kvwh7m4X84+D9c/tZLgEc/jBFILkekRnBLiCp8Gg7przXsZfOg
DzE7PGg6CpaaaMYL3bYuNQ==
-----END PRIVATE KEY-----
";
/// A P-256 key in PKCS#8 form: a private key, but not RSA.
const EC_PKCS8_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDpzka8adHzewmeKl
pN+O1GYUhy2w8+buuOSXGgza9G2hRANCAARNhMVi88PubBItY9vlnZ57OMe9ZFUX
M9vCk4fk/f/U/YsbswV8Z1uoVziPib47g4zWu7nVrU1kymRxM/HTX/RV
-----END PRIVATE KEY-----
";
/// The public half of the RSA key.
const RSA_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7SK1SleoaGE6Z80vtajq
wssDMq/tM5yMy+W9OnVncjAmmDPrxDNZ0BN4z1KX0N5ePT1Gh545P0B2iUNQhPH5
TZmxIjNMlOtv5y3RFjGkmhqrVUrVe3QBP1qjwRV+7pRRgD55opuGQmDXgwDmoCkI
2bhM/J7zfcKAlgWknys9jUUQK8JXdLS2eMTX0ik6gwkhrKnTxtAPr7tIccYbcCam
jpe9kRW2umNIU31SsVlAjYBhOHXnOXcM5pVhzQOpFJizADsFTZpl1QSTmBYNhWyt
v8rl0UQ3ck0wkjZAb2TuK9hvOsddco9n4W8ahLMVdgW/rgCvOBiz+8nZG5/TW0rN
MwIDAQAB
-----END PUBLIC KEY-----
";

fn base() -> HashMap<&'static str, String> {
    HashMap::from([
        (APP_ID, "12345".to_owned()),
        (PRIVATE_KEY, PKCS1_KEY.to_owned()),
        (WEBHOOK_SECRET, "s3cr3t-webhook".to_owned()),
        (CATALOG_REPO, "acme/catalog".to_owned()),
    ])
}

fn load(vars: &HashMap<&'static str, String>) -> Result<ServeConfig, ConfigError> {
    ServeConfig::from_lookup(|name| vars.get(name).cloned())
}

/// The error line for `base()` with `name` set to `value` (or removed, for `None`).
fn error_with(name: &'static str, value: Option<&str>) -> String {
    let mut vars = base();
    match value {
        Some(v) => vars.insert(name, v.to_owned()),
        None => vars.remove(name),
    };
    let err = load(&vars).expect_err("configuration should be refused");
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(!line.contains("s3cr3t-webhook"), "no secret: {line}");
    line
}

#[test]
fn defaults_apply_when_only_required_settings_are_given() {
    let config = load(&base()).unwrap();
    assert_eq!(config.app_id, 12345);
    assert_eq!(config.private_key.pem(), PKCS1_KEY.trim());
    assert_eq!(config.webhook_secret.expose(), "s3cr3t-webhook");
    assert_eq!(config.catalog_repo, RepoSlug { owner: "acme".into(), name: "catalog".into() });
    assert_eq!(config.github_api_url, "https://api.github.com");
    assert_eq!(config.database_url, "sqlite://shipshape.db");
    assert_eq!(config.listen, "0.0.0.0:3000".parse().unwrap());
    assert_eq!(config.sweep_interval, Duration::from_secs(6 * 3600));
    assert_eq!(config.public_url, None);
    assert!(config.slack_webhook_url.is_none());
    assert_eq!(config.log_filter, "info");
    assert_eq!(config.log_format, LogFormat::Pretty);
}

#[test]
fn every_setting_can_be_given() {
    let mut vars = base();
    vars.insert(GITHUB_API_URL, "https://ghe.example.com/api/v3/".into());
    vars.insert(DATABASE_URL, "sqlite:///var/lib/shipshape/state.db".into());
    vars.insert(LISTEN, "127.0.0.1:8080".into());
    vars.insert(SWEEP_INTERVAL, "1h30m".into());
    vars.insert(PUBLIC_URL, "https://shipshape.example.com/".into());
    vars.insert(SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/T0/B0/XXXX".into());
    vars.insert(LOG, "shipshape=debug,info".into());
    vars.insert(LOG_FORMAT, "json".into());
    let config = load(&vars).unwrap();
    assert_eq!(config.github_api_url, "https://ghe.example.com/api/v3");
    assert_eq!(config.database_url, "sqlite:///var/lib/shipshape/state.db");
    assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.sweep_interval, Duration::from_secs(5400));
    assert_eq!(config.public_url.as_deref(), Some("https://shipshape.example.com"));
    assert_eq!(config.slack_webhook_url.unwrap().expose(), "https://hooks.slack.com/services/T0/B0/XXXX");
    assert_eq!(config.log_filter, "shipshape=debug,info");
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn empty_values_count_as_unset() {
    let mut vars = base();
    vars.insert(PUBLIC_URL, String::new());
    vars.insert(LISTEN, "  ".into());
    let config = load(&vars).unwrap();
    assert_eq!(config.public_url, None);
    assert_eq!(config.listen, "0.0.0.0:3000".parse().unwrap());
    assert_eq!(error_with(WEBHOOK_SECRET, Some("")), "SHIPSHAPE_WEBHOOK_SECRET: required but not set");
}

#[test]
fn private_key_forms() {
    let mut vars = base();
    vars.insert(PRIVATE_KEY, PKCS8_KEY.into());
    assert_eq!(load(&vars).unwrap().private_key.pem(), PKCS8_KEY.trim());

    // Newlines written as `\n`, as in many env files.
    vars.insert(PRIVATE_KEY, PKCS1_KEY.trim().replace('\n', "\\n"));
    assert_eq!(load(&vars).unwrap().private_key.pem(), PKCS1_KEY.trim());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, PKCS1_KEY).unwrap();
    vars.remove(PRIVATE_KEY);
    vars.insert(PRIVATE_KEY_PATH, path.display().to_string());
    let config = load(&vars).unwrap();
    assert_eq!(config.private_key.pem(), PKCS1_KEY.trim());
    // Usable for a JWT.
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &serde_json::json!({"iss": "1"}), &config.private_key.encoding_key()).unwrap();
}

#[test]
fn private_key_errors() {
    assert_eq!(
        error_with(PRIVATE_KEY, None),
        "SHIPSHAPE_PRIVATE_KEY_PATH: required but not set (nor SHIPSHAPE_PRIVATE_KEY)"
    );
    assert_eq!(
        error_with(PRIVATE_KEY, Some("hunter2-not-a-key")),
        "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key"
    );
    assert_eq!(error_with(PRIVATE_KEY, Some(EC_PKCS8_KEY)), "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key");
    assert_eq!(
        error_with(PRIVATE_KEY, Some(RSA_PUBLIC_KEY)),
        "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (found a PUBLIC KEY block)"
    );
    assert_eq!(
        error_with(
            PRIVATE_KEY,
            Some("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----")
        ),
        "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (found an encrypted key; decrypt it first)"
    );
    // Well-formed PEM and DER (SEQUENCE { INTEGER 1 }), but not an RSA key.
    assert_eq!(
        error_with(PRIVATE_KEY, Some("-----BEGIN RSA PRIVATE KEY-----\nMAMCAQE=\n-----END RSA PRIVATE KEY-----")),
        "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (the key data is invalid)"
    );
    // Base64 damaged in the middle of the key.
    let damaged = PKCS1_KEY.replacen("MII", "M!I", 1);
    assert_eq!(error_with(PRIVATE_KEY, Some(&damaged)), "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key");

    let mut vars = base();
    vars.insert(PRIVATE_KEY_PATH, "/x/key.pem".into());
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        "SHIPSHAPE_PRIVATE_KEY_PATH: set together with SHIPSHAPE_PRIVATE_KEY; set only one of them"
    );
    vars.remove(PRIVATE_KEY);
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        "SHIPSHAPE_PRIVATE_KEY_PATH: cannot read /x/key.pem: No such file or directory"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, "not a key").unwrap();
    vars.insert(PRIVATE_KEY_PATH, path.display().to_string());
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        format!("SHIPSHAPE_PRIVATE_KEY_PATH: {}: not a PEM-encoded RSA private key", path.display())
    );
    vars.insert(PRIVATE_KEY_PATH, dir.path().display().to_string());
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        format!("SHIPSHAPE_PRIVATE_KEY_PATH: cannot read {}: it is a directory", dir.path().display())
    );
}

#[test]
fn a_private_key_file_is_read_only_when_it_is_small_and_regular() {
    let mut vars = base();
    vars.remove(PRIVATE_KEY);
    // `/dev/zero` never ends: it is refused without reading it.
    vars.insert(PRIVATE_KEY_PATH, "/dev/zero".into());
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        "SHIPSHAPE_PRIVATE_KEY_PATH: cannot read /dev/zero: not a regular file (a device, pipe or socket)"
    );
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pem");
    // The key, then enough padding to pass the limit.
    let padding = "x".repeat(MAX_PRIVATE_KEY_BYTES as usize);
    std::fs::write(&big, format!("{PKCS1_KEY}{padding}")).unwrap();
    vars.insert(PRIVATE_KEY_PATH, big.display().to_string());
    assert_eq!(
        load(&vars).unwrap_err().to_string(),
        format!(
            "SHIPSHAPE_PRIVATE_KEY_PATH: cannot read {}: larger than 65536 bytes, so not a PEM private key",
            big.display()
        )
    );
    // Just at the limit, with trailing whitespace: still a key.
    let padded = format!("{PKCS1_KEY}{}", "\n".repeat(MAX_PRIVATE_KEY_BYTES as usize - PKCS1_KEY.len()));
    std::fs::write(&big, padded).unwrap();
    assert_eq!(load(&vars).unwrap().private_key.pem().trim(), PKCS1_KEY.trim());
}

#[test]
fn required_settings() {
    assert_eq!(error_with(APP_ID, None), "SHIPSHAPE_APP_ID: required but not set");
    assert_eq!(error_with(WEBHOOK_SECRET, None), "SHIPSHAPE_WEBHOOK_SECRET: required but not set");
    assert_eq!(error_with(CATALOG_REPO, None), "SHIPSHAPE_CATALOG_REPO: required but not set");
}

#[test]
fn app_id_errors() {
    assert_eq!(error_with(APP_ID, Some("abc")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "abc""#);
    assert_eq!(error_with(APP_ID, Some("0")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "0""#);
    assert_eq!(error_with(APP_ID, Some("-3")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "-3""#);
}

#[test]
fn catalog_repo_errors() {
    for bad in ["foo", "a/b/c", "/name", "owner/", "own er/name", "owner/..", "-owner/name"] {
        assert_eq!(
            error_with(CATALOG_REPO, Some(bad)),
            format!("SHIPSHAPE_CATALOG_REPO: expected owner/name, found {bad:?}")
        );
    }
    for good in ["acme/catalog", "a-b/c.d_e-f", "A1/.github"] {
        assert!(RepoSlug::parse(good).is_some(), "{good}");
    }
}

#[test]
fn url_errors() {
    assert_eq!(
        error_with(GITHUB_API_URL, Some("ftp://example.com")),
        r#"SHIPSHAPE_GITHUB_API_URL: expected an http(s) URL, found "ftp://example.com""#
    );
    assert_eq!(
        error_with(GITHUB_API_URL, Some("api.github.com")),
        r#"SHIPSHAPE_GITHUB_API_URL: expected an http(s) URL, found "api.github.com""#
    );
    assert_eq!(
        error_with(PUBLIC_URL, Some("not a url")),
        r#"SHIPSHAPE_PUBLIC_URL: expected an http(s) URL, found "not a url""#
    );
    // The Slack URL is a credential: not repeated.
    assert_eq!(
        error_with(SLACK_WEBHOOK_URL, Some("hooks.slack.com/services/T0/B0/SECRETPART")),
        "SHIPSHAPE_SLACK_WEBHOOK_URL: expected an http(s) URL without a user name or password"
    );
    let mut vars = base();
    vars.insert(GITHUB_API_URL, "http://127.0.0.1:9000".into());
    assert_eq!(load(&vars).unwrap().github_api_url, "http://127.0.0.1:9000");
}

#[test]
fn database_url_errors() {
    assert_eq!(
        error_with(DATABASE_URL, Some("postgres://")),
        "SHIPSHAPE_DATABASE_URL: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    );
    let line = error_with(DATABASE_URL, Some("mysql://root:pa55word@localhost/x"));
    assert_eq!(
        line,
        r#"SHIPSHAPE_DATABASE_URL: unsupported database "mysql"; use sqlite://PATH or postgres://HOST/DATABASE"#
    );
    assert!(!line.contains("pa55word"));
    assert_eq!(
        error_with(DATABASE_URL, Some("sqlite://")),
        "SHIPSHAPE_DATABASE_URL: expected sqlite://PATH, the path is missing"
    );
    assert_eq!(
        error_with(DATABASE_URL, Some("shipshape.db")),
        "SHIPSHAPE_DATABASE_URL: expected a URL like sqlite://PATH or postgres://HOST/DATABASE"
    );
    for good in [
        "sqlite://x.db",
        "sqlite:x.db",
        "sqlite::memory:",
        "sqlite:///tmp/a.db?mode=rwc",
        "postgres://shipshape:pa55word@db.internal/shipshape",
        "postgresql://localhost:5433/x?sslmode=require",
    ] {
        let mut vars = base();
        vars.insert(DATABASE_URL, good.into());
        assert_eq!(load(&vars).unwrap().database_url, good);
    }
}

#[test]
fn listen_errors() {
    assert_eq!(
        error_with(LISTEN, Some("localhost")),
        r#"SHIPSHAPE_LISTEN: expected an address like 0.0.0.0:3000 or [::]:3000, found "localhost""#
    );
}

#[test]
fn sweep_interval_parsing() {
    for (text, secs) in [("6h", 21600), ("30m", 1800), ("90s", 90), ("1d", 86400), ("1h30m", 5400), ("1d12h", 129600)] {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
    }
    for bad in ["6 hours", "6", "h", "6x", "1.5h", "-1h", "99999999999999999999d"] {
        assert_eq!(
            error_with(SWEEP_INTERVAL, Some(bad)),
            format!("SHIPSHAPE_SWEEP_INTERVAL: expected a duration like 6h, 30m, 90s or 1d, found {bad:?}")
        );
    }
    assert_eq!(
        error_with(SWEEP_INTERVAL, Some("0s")),
        r#"SHIPSHAPE_SWEEP_INTERVAL: must be longer than zero, found "0s""#
    );
}

#[test]
fn write_limit_parsing() {
    assert_eq!(load(&base()).unwrap().write_limit, (80, Duration::from_secs(60)));
    let mut vars = base();
    vars.insert(WRITE_LIMIT, " 60/1m ".into());
    assert_eq!(load(&vars).unwrap().write_limit, (60, Duration::from_secs(60)));
    assert_eq!(parse_rate("5/90s"), Ok((5, Duration::from_secs(90))));
    for bad in ["80", "0/1m", "80/", "/1m", "80/fortnight", "-1/1m", "80/0s"] {
        assert_eq!(
            error_with(WRITE_LIMIT, Some(bad)),
            format!(
                "SHIPSHAPE_WRITE_LIMIT: expected a rate like 80/1m (at least 1, a slash, a duration like 1m or \
                 90s), found {bad:?}"
            )
        );
    }
}

#[test]
fn linked_tool_urls_are_checked_and_named() {
    assert_eq!(
        error_with(PROMETHEUS_URL, Some("prometheus:9090")),
        "SHIPSHAPE_PROMETHEUS_URL: expected an http(s) URL, found \"prometheus:9090\""
    );
    assert!(error_with(PAGERDUTY_API_URL, Some("ftp://pd")).starts_with("SHIPSHAPE_PAGERDUTY_API_URL: "));
    let mut vars = base();
    vars.insert(PROMETHEUS_URL, "http://prometheus:9090/".into());
    let config = load(&vars).unwrap();
    assert_eq!(config.providers.prometheus, Some(("http://prometheus:9090".to_string(), None)));
    assert_eq!(config.providers.pagerduty, None, "no token, no PagerDuty");
}

#[test]
fn log_errors() {
    assert_eq!(error_with(LOG_FORMAT, Some("xml")), r#"SHIPSHAPE_LOG_FORMAT: expected pretty or json, found "xml""#);
    let line = error_with(LOG, Some("shipshape=loud"));
    assert!(line.starts_with(r#"SHIPSHAPE_LOG: invalid filter "shipshape=loud": "#), "{line}");
}

#[test]
fn debug_output_hides_secrets() {
    let mut vars = base();
    vars.insert(SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/T0/B0/SLACKSECRET".into());
    vars.insert(PAGERDUTY_TOKEN, "PDSECRET-u+123".into());
    vars.insert(PROMETHEUS_URL, "https://promuser:PROMPASS@prom.example.com".into());
    let config = load(&vars).unwrap().with_secrets([("SHIPSHAPE_SECRET_SONAR".into(), "SONARSECRET-1".into())]);
    let (pd_url, pd_token) = config.providers.pagerduty.clone().unwrap();
    assert_eq!((pd_url.as_str(), pd_token.as_str()), ("https://api.pagerduty.com", "PDSECRET-u+123"));
    assert_eq!(config.providers.secrets.get("SONAR").as_deref(), Some("SONARSECRET-1"));
    let text = format!("{config:?}");
    assert!(text.contains("12345") && text.contains("acme/catalog") && text.contains("SONAR"), "{text}");
    for secret in ["s3cr3t-webhook", "SLACKSECRET", "PDSECRET", "PROMPASS", "SONARSECRET", "MIIE", "PRIVATE KEY"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    vars.remove(PROMETHEUS_URL);
    vars.insert(PROMETHEUS_TOKEN, "PROMSECRET-9".into());
    vars.insert(PROMETHEUS_URL, "https://prom.example.com".into());
    let text = format!("{:?}", load(&vars).unwrap());
    assert!(!text.contains("PROMSECRET"), "{text}");
}

#[test]
fn no_url_setting_keeps_or_echoes_a_password() {
    // Prometheus takes `user:password@` as Basic credentials, out of the URL its client sees.
    let mut vars = base();
    vars.insert(PROMETHEUS_URL, "https://reader:hunter2@prom.example.com/".into());
    let (url, auth) = load(&vars).unwrap().providers.prometheus.unwrap();
    assert_eq!(url, "https://prom.example.com");
    assert_eq!(
        auth,
        Some(crate::providers::prometheus::Auth::Basic { user: "reader".into(), password: "hunter2".into() })
    );
    // With a token too: which one is meant?
    vars.insert(PROMETHEUS_TOKEN, "PROMSECRET-9".into());
    let line = load(&vars).unwrap_err().to_string();
    assert_eq!(
        line,
        "SHIPSHAPE_PROMETHEUS_URL: holds a user name and password (`user:password@`) and SHIPSHAPE_PROMETHEUS_TOKEN \
         is set too; give one of them"
    );
    // Every other URL setting refuses one, without repeating it.
    for name in [GITHUB_API_URL, PUBLIC_URL, PAGERDUTY_API_URL] {
        let line = error_with(name, Some("https://someone:hunter2@example.com"));
        assert_eq!(
            line,
            format!(
                "{name}: holds a user name or password (`user:password@`), which this setting does not take; remove it"
            )
        );
    }
    let line = error_with(SLACK_WEBHOOK_URL, Some("https://someone:hunter2@hooks.slack.com/services/T0/B0/X"));
    assert_eq!(line, "SHIPSHAPE_SLACK_WEBHOOK_URL: expected an http(s) URL without a user name or password");
    // A malformed one: named, with the reason, and nothing before its `@`.
    for name in [GITHUB_API_URL, PUBLIC_URL, PAGERDUTY_API_URL, PROMETHEUS_URL] {
        let line = error_with(name, Some("htps://someone:hun/ter2@example.com"));
        assert_eq!(line, format!("{name}: expected an http(s) URL, found \"htps://[redacted]@example.com\""));
    }
    let debug =
        format!("{:?}", ServeArgs { database_url: Some("postgres://u:hunter2@db/x".into()), ..Default::default() });
    assert!(debug.contains("postgres://[redacted]@db/x") && !debug.contains("hunter2"), "{debug}");
}

#[derive(Debug, clap::Parser)]
struct TestCli {
    #[command(flatten)]
    serve: ServeArgs,
}

#[test]
fn flags_go_through_the_same_validation() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, PKCS8_KEY).unwrap();
    let path = path.display().to_string();
    let args = [
        "test",
        "--app-id",
        "7",
        "--private-key-path",
        &path,
        "--webhook-secret",
        "s3cr3t-webhook",
        "--catalog-repo",
        "acme/catalog",
        "--sweep-interval",
        "30m",
        "--log-format",
        "json",
    ];
    let cli = TestCli::try_parse_from(args).unwrap();
    let debug = format!("{cli:?}");
    assert!(!debug.contains("s3cr3t-webhook"), "{debug}");
    let config = ServeConfig::try_from(cli.serve.clone()).unwrap();
    assert_eq!(config.app_id, 7);
    assert_eq!(config.sweep_interval, Duration::from_secs(1800));
    assert_eq!(config.log_format, LogFormat::Json);

    let mut serve = cli.serve;
    serve.catalog_repo = Some("foo".into());
    assert_eq!(
        serve.into_config().unwrap_err().to_string(),
        r#"SHIPSHAPE_CATALOG_REPO: expected owner/name, found "foo""#
    );
}

#[test]
fn the_api_token_must_be_long_and_is_never_shown() {
    let short = error_with("SHIPSHAPE_API_TOKEN", Some("hunter2hunter2"));
    assert!(short.contains("SHIPSHAPE_API_TOKEN") && short.contains("at least 32 characters"), "{short}");
    assert!(!short.contains("hunter2"), "{short}");
    let spaced = error_with("SHIPSHAPE_API_TOKEN", Some("0123456789abcdef 0123456789abcdef"));
    assert!(spaced.contains("without spaces"), "{spaced}");
    let mut vars = base();
    vars.insert("SHIPSHAPE_API_TOKEN", "  0123456789abcdef0123456789abcdef \n".into());
    let config = load(&vars).unwrap();
    assert_eq!(config.api_token.as_ref().map(|t| t.expose()), Some("0123456789abcdef0123456789abcdef"));
    assert!(!format!("{config:?}").contains("0123456789abcdef0123456789abcdef"));
    assert!(load(&base()).unwrap().api_token.is_none());
}

#[test]
fn public_badges_is_true_or_false() {
    assert!(error_with("SHIPSHAPE_PUBLIC_BADGES", Some("yes")).contains("expected true or false"));
    let mut vars = base();
    vars.insert("SHIPSHAPE_PUBLIC_BADGES", "true".into());
    assert!(load(&vars).unwrap().public_badges);
    assert!(!load(&base()).unwrap().public_badges);
}

#[test]
fn sign_in_needs_the_client_pair_and_the_public_url() {
    let mut vars = base();
    vars.insert("SHIPSHAPE_GITHUB_CLIENT_ID", "Iv1.abc".into());
    assert!(load(&vars).unwrap_err().to_string().starts_with("SHIPSHAPE_GITHUB_CLIENT_SECRET: needed"));
    vars.insert("SHIPSHAPE_GITHUB_CLIENT_SECRET", "client-secret-value".into());
    let no_url = load(&vars).unwrap_err().to_string();
    assert!(no_url.starts_with("SHIPSHAPE_PUBLIC_URL: needed for sign-in"), "{no_url}");
    assert!(!no_url.contains("client-secret-value"));
    vars.insert("SHIPSHAPE_PUBLIC_URL", "https://shipshape.example.com".into());
    let config = load(&vars).unwrap();
    let sign_in = config.sign_in.as_ref().unwrap();
    assert_eq!(sign_in.callback_url, "https://shipshape.example.com/auth/callback");
    assert_eq!(sign_in.web_url, "https://github.com");
    assert!(sign_in.secure && sign_in.session_key.is_none());
    assert!(!format!("{config:?}").contains("client-secret-value"));
    vars.insert("SHIPSHAPE_SESSION_KEY", "short".into());
    assert!(load(&vars).unwrap_err().to_string().contains("SHIPSHAPE_SESSION_KEY: must be at least 32"));
    assert!(load(&base()).unwrap().sign_in.is_none());
}

/// The web's settings reach the configuration through `serve`'s flags and variables, not only through a lookup.
#[test]
fn serve_flags_carry_the_web_settings() {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }
    let parse = |extra: &[&str]| {
        let key = format!("--private-key={PKCS1_KEY}");
        let mut args = vec!["serve", "--app-id", "12345", key.as_str(), "--webhook-secret", "s3cr3t-webhook"];
        args.extend_from_slice(&["--catalog-repo", "acme/catalog"]);
        args.extend_from_slice(extra);
        <Cli as clap::Parser>::try_parse_from(args).unwrap().serve.into_config()
    };
    let short = parse(&["--api-token", "short"]).unwrap_err().to_string();
    assert!(short.starts_with("SHIPSHAPE_API_TOKEN: must be at least 32"), "{short}");
    let config = parse(&[
        "--api-token",
        "0123456789abcdef0123456789abcdef",
        "--public-badges",
        "true",
        "--github-client-id",
        "Iv1.abc",
        "--github-client-secret",
        "client-secret-value",
        "--public-url",
        "https://shipshape.example.com",
        "--github-web-url",
        "https://ghe.example.com",
        "--session-key",
        "a session key of at least thirty-two characters",
    ])
    .unwrap();
    assert!(config.api_token.is_some() && config.public_badges);
    let sign_in = config.sign_in.unwrap();
    assert_eq!((sign_in.client_id.as_str(), sign_in.web_url.as_str()), ("Iv1.abc", "https://ghe.example.com"));
    assert!(sign_in.session_key.is_some());
}
