//! From flags and files to a validated configuration: every file is read and checked
//! before the server starts, and the first problem stops the start with the file (or
//! flag), the field and the reason.
//!
//! Upstream: `pkg/kubeapiserver/options/authentication.go` (`Validate`, `ToAuthenticationConfig`)
//! and `pkg/kubeapiserver/authenticator/config.go` (`New`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kauthn::{ClientCaPool, OwnedTokenFile};

use crate::authn_config::{self, AuthenticationConfiguration};
use crate::bootstrap_dir::SecretsDir;
use crate::flags::AuthnFlags;
use crate::kubeconfig::Kubeconfig;

/// A configuration problem: where (file or flag), which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file path, or the flag when no file is involved.
    pub source: String,
    /// The field or record (may be empty).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// A new error.
    pub fn new(
        source: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError {
            source: source.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// The seam for strategies whose core authenticator has not landed yet: a configuration
/// error, never a silently ignored flag.
fn not_in_this_build(flag: &str, what: &str) -> ConfigError {
    ConfigError::new(flag, "", format!("{what} is not in this build yet"))
}

/// Anonymous access as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousSettings {
    /// Whether anonymous requests are authenticated as `system:anonymous`.
    pub enabled: bool,
    /// When non-empty, only these exact paths.
    pub paths: Vec<String>,
}

/// Everything the authentication chain is built from, validated.
#[derive(Debug)]
pub struct Config {
    /// `--client-ca-file`, parsed.
    pub client_ca: Option<(PathBuf, ClientCaPool<'static>)>,
    /// `--token-auth-file`, parsed.
    pub token_file: Option<(PathBuf, OwnedTokenFile)>,
    /// `--enable-bootstrap-token-auth` with `--bootstrap-token-secrets-dir`.
    pub bootstrap: Option<SecretsDir>,
    /// `--api-audiences`.
    pub api_audiences: Vec<String>,
    /// `--anonymous-auth` or the config file's `anonymous`.
    pub anonymous: AnonymousSettings,
    /// `--tokenreview-allowed-groups`.
    pub tokenreview_allowed_groups: Vec<String>,
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::new(path.display().to_string(), flag, e.to_string()))
}

/// Parses a Go duration (`2m0s`, `1h30m`, `500ms`, `10s`), as pflag's `Duration` does.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("time: invalid duration {s:?}");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration {s:?}"))?;
        let (num, tail) = rest.split_at(num_len);
        let value: f64 = num.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {s:?}")),
        };
        total += value * scale;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Reads and validates every authentication flag and file.
pub fn load(flags: &AuthnFlags) -> Result<Config, ConfigError> {
    // --authentication-config first: it may configure anonymous, and it excludes --oidc-*.
    let auth_config = match &flags.authentication_config {
        Some(path) => {
            let text = String::from_utf8(read(path, "--authentication-config")?).map_err(|_| {
                ConfigError::new(path.display().to_string(), "", "file is not UTF-8")
            })?;
            let cfg = authn_config::parse(&text).map_err(|(field, reason)| {
                ConfigError::new(path.display().to_string(), field, reason)
            })?;
            Some((path.clone(), cfg))
        }
        None => None,
    };

    let oidc_flag_set = flags.oidc_issuer_url.is_some()
        || flags.oidc_client_id.is_some()
        || flags.oidc_ca_file.is_some()
        || flags.oidc_username_claim.is_some()
        || flags.oidc_username_prefix.is_some()
        || flags.oidc_groups_claim.is_some()
        || flags.oidc_groups_prefix.is_some()
        || !flags.oidc_signing_algs.is_empty()
        || !flags.oidc_required_claim.is_empty();
    if oidc_flag_set && auth_config.is_some() {
        return Err(ConfigError::new(
            "--authentication-config",
            "",
            "authentication-config file and oidc-* flags are mutually exclusive",
        ));
    }
    if oidc_flag_set {
        if flags.oidc_issuer_url.is_none() || flags.oidc_client_id.is_none() {
            return Err(ConfigError::new(
                "--oidc-issuer-url",
                "",
                "oidc-issuer-url and oidc-client-id must be specified together when any oidc-* flags are set",
            ));
        }
        for alg in &flags.oidc_signing_algs {
            const ALLOWED: [&str; 9] = [
                "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
            ];
            if !ALLOWED.contains(&alg.as_str()) {
                return Err(ConfigError::new(
                    "--oidc-signing-algs",
                    "",
                    format!("oidc: unsupported signing alg: {alg:?}"),
                ));
            }
        }
        for pair in &flags.oidc_required_claim {
            if !pair.contains('=') {
                return Err(ConfigError::new(
                    "--oidc-required-claim",
                    "",
                    format!("{pair:?} is not a key=value pair"),
                ));
            }
        }
        if let Some(ca) = &flags.oidc_ca_file {
            let pem = read(ca, "--oidc-ca-file")?;
            crate::http_client::roots_from_pem(&pem)
                .map_err(|e| ConfigError::new(ca.display().to_string(), "--oidc-ca-file", e))?;
        }
        // wired when the core's oidc.rs lands: build a JwtAuthenticator from the flags,
        // with keys from `jwks::JwksCache`.
        return Err(not_in_this_build("--oidc-issuer-url", "OIDC support"));
    }

    let mut anonymous = AnonymousSettings {
        enabled: flags.anonymous_auth.unwrap_or(true),
        paths: Vec::new(),
    };
    if let Some((path, cfg)) = &auth_config {
        if let Some(a) = &cfg.anonymous {
            if flags.anonymous_auth.is_some() {
                return Err(ConfigError::new(
                    path.display().to_string(),
                    "anonymous",
                    "Forbidden: --anonymous-auth flag cannot be set when anonymous field is configured in authentication configuration file",
                ));
            }
            anonymous = AnonymousSettings {
                enabled: a.enabled,
                paths: a.conditions.iter().map(|c| c.path.clone()).collect(),
            };
        }
        if !cfg.jwt.is_empty() {
            // wired when the core's oidc.rs lands: `cfg.jwt` becomes its JWT
            // authenticators, keys fetched by `jwks::JwksCache`.
            return Err(ConfigError::new(
                path.display().to_string(),
                "jwt",
                "JWT authenticators (OIDC support) are not in this build yet",
            ));
        }
        validate_jwt_shape(path, cfg)?;
    }

    if !flags.service_account_key_file.is_empty() || !flags.service_account_issuer.is_empty() {
        for f in &flags.service_account_key_file {
            let pem = read(f, "--service-account-key-file")?;
            let mut set = kauthn::jose::OwnedKeySet::new();
            set.add_pem(&pem).map_err(|e| {
                ConfigError::new(
                    f.display().to_string(),
                    "--service-account-key-file",
                    e.to_string(),
                )
            })?;
        }
        // wired when the core's service_account.rs lands: legacy and bound SA token
        // authenticators over these keys and issuers.
        return Err(not_in_this_build(
            "--service-account-key-file",
            "service account token authentication",
        ));
    }

    if flags.requestheader_client_ca_file.is_some()
        || !flags.requestheader_username_headers.is_empty()
        || !flags.requestheader_uid_headers.is_empty()
        || !flags.requestheader_group_headers.is_empty()
        || !flags.requestheader_extra_headers_prefix.is_empty()
        || !flags.requestheader_allowed_names.is_empty()
    {
        validate_requestheader(flags)?;
        if let Some(ca) = &flags.requestheader_client_ca_file {
            let pem = read(ca, "--requestheader-client-ca-file")?;
            ClientCaPool::from_pem(&pem).map_err(|e| {
                ConfigError::new(
                    ca.display().to_string(),
                    "--requestheader-client-ca-file",
                    e.to_string(),
                )
            })?;
            // wired when the core's request_header.rs lands: the front-proxy
            // authenticator, first in the request union (spec §2.1).
            return Err(not_in_this_build(
                "--requestheader-client-ca-file",
                "request-header (front proxy) authentication",
            ));
        }
    }

    let webhook_version = flags.authentication_token_webhook_version.as_str();
    if webhook_version != "v1" && webhook_version != "v1beta1" {
        return Err(ConfigError::new(
            "--authentication-token-webhook-version",
            "",
            format!(
                "unsupported authentication webhook version {webhook_version:?}, supported versions are \"v1\", \"v1beta1\""
            ),
        ));
    }
    parse_go_duration(&flags.authentication_token_webhook_cache_ttl)
        .map_err(|e| ConfigError::new("--authentication-token-webhook-cache-ttl", "", e))?;
    if let Some(path) = &flags.authentication_token_webhook_config_file {
        let kc = Kubeconfig::load(path)?;
        kc.webhook_target(path)?;
        // wired when the core's webhook.rs lands: `webhook::WebhookClient::from_target`
        // is its transport, in its own TTL cache (spec §9), last in the token union.
        return Err(not_in_this_build(
            "--authentication-token-webhook-config-file",
            "webhook token authentication",
        ));
    }

    let client_ca = match &flags.client_ca_file {
        Some(path) => {
            let pem = read(path, "--client-ca-file")?;
            let pool = ClientCaPool::from_pem(&pem).map_err(|e| {
                ConfigError::new(
                    path.display().to_string(),
                    "--client-ca-file",
                    format!("error loading certs: {e}"),
                )
            })?;
            Some((path.clone(), pool))
        }
        None => None,
    };

    let token_file = match &flags.token_auth_file {
        Some(path) => {
            let csv = read(path, "--token-auth-file")?;
            let shown = path.display().to_string();
            let table = OwnedTokenFile::parse(csv).map_err(|e| {
                ConfigError::new(shown.clone(), "", e.with_path(&shown).to_string())
            })?;
            if table.duplicates() > 0 {
                tracing::warn!(file = %shown, duplicates = table.duplicates(), "duplicate tokens in token file; the later record wins");
            }
            if table.empty_tokens() > 0 {
                tracing::warn!(file = %shown, records = table.empty_tokens(), "empty tokens in token file were skipped");
            }
            Some((path.clone(), table))
        }
        None => None,
    };

    let bootstrap = match (
        flags.enable_bootstrap_token_auth,
        &flags.bootstrap_token_secrets_dir,
    ) {
        (Some(true), Some(dir)) => Some(SecretsDir::load(dir)?),
        (Some(true), None) => {
            return Err(ConfigError::new(
                "--enable-bootstrap-token-auth",
                "",
                "kauthn reads bootstrap token Secrets from --bootstrap-token-secrets-dir; set it",
            ));
        }
        (_, Some(_)) => {
            return Err(ConfigError::new(
                "--bootstrap-token-secrets-dir",
                "",
                "requires --enable-bootstrap-token-auth",
            ));
        }
        _ => None,
    };

    for (i, aud) in flags.api_audiences.iter().enumerate() {
        if aud.is_empty() {
            return Err(ConfigError::new(
                "--api-audiences",
                format!("[{i}]"),
                "Required value",
            ));
        }
    }
    if flags.api_audiences.len() > kauthn::MAX_AUDIENCES {
        return Err(ConfigError::new(
            "--api-audiences",
            "",
            format!("at most {} audiences", kauthn::MAX_AUDIENCES),
        ));
    }

    Ok(Config {
        client_ca,
        token_file,
        bootstrap,
        api_audiences: flags.api_audiences.clone(),
        anonymous,
        tokenreview_allowed_groups: flags.tokenreview_allowed_groups.clone(),
    })
}

fn validate_jwt_shape(_path: &Path, _cfg: &AuthenticationConfiguration) -> Result<(), ConfigError> {
    // The full `ValidateAuthenticationConfiguration` (spec §8.3) belongs with the core's
    // JWT authenticator; an empty `jwt` list has nothing to validate.
    Ok(())
}

// Upstream `RequestHeaderAuthenticationOptions.Validate` (spec §5).
fn validate_requestheader(flags: &AuthnFlags) -> Result<(), ConfigError> {
    let lists: [(&str, &Vec<String>); 5] = [
        (
            "--requestheader-username-headers",
            &flags.requestheader_username_headers,
        ),
        (
            "--requestheader-uid-headers",
            &flags.requestheader_uid_headers,
        ),
        (
            "--requestheader-group-headers",
            &flags.requestheader_group_headers,
        ),
        (
            "--requestheader-extra-headers-prefix",
            &flags.requestheader_extra_headers_prefix,
        ),
        (
            "--requestheader-allowed-names",
            &flags.requestheader_allowed_names,
        ),
    ];
    for (flag, list) in lists {
        if list.iter().any(|v| v.trim().is_empty()) {
            return Err(ConfigError::new(
                flag,
                "",
                format!("empty value in {flag:?}"),
            ));
        }
    }
    if !flags.requestheader_uid_headers.is_empty()
        && !flags
            .requestheader_uid_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("X-Remote-Uid"))
    {
        return Err(ConfigError::new(
            "--requestheader-uid-headers",
            "",
            "--requestheader-uid-headers is set without specifying the standard X-Remote-Uid header - API aggregation will not work",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_pflag() {
        assert_eq!(parse_go_duration("2m0s").unwrap(), Duration::from_secs(120));
        assert_eq!(
            parse_go_duration("1h30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_go_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("5x").is_err());
    }

    #[test]
    fn oidc_flags_without_client_id_are_upstreams_error() {
        let flags = AuthnFlags {
            oidc_issuer_url: Some("https://issuer".into()),
            ..AuthnFlags::default()
        };
        let e = load(&flags).unwrap_err();
        assert_eq!(
            e.reason,
            "oidc-issuer-url and oidc-client-id must be specified together when any oidc-* flags are set"
        );
    }

    #[test]
    fn oidc_flags_give_a_clear_not_in_this_build_error() {
        let flags = AuthnFlags {
            oidc_issuer_url: Some("https://issuer".into()),
            oidc_client_id: Some("c".into()),
            ..AuthnFlags::default()
        };
        assert_eq!(
            load(&flags).unwrap_err().to_string(),
            "--oidc-issuer-url: OIDC support is not in this build yet"
        );
    }

    #[test]
    fn an_unknown_webhook_version_is_rejected() {
        let flags = AuthnFlags {
            authentication_token_webhook_version: "v2".into(),
            authentication_token_webhook_cache_ttl: "2m0s".into(),
            ..AuthnFlags::default()
        };
        assert!(
            load(&flags)
                .unwrap_err()
                .reason
                .starts_with("unsupported authentication webhook version \"v2\"")
        );
    }

    #[test]
    fn uid_headers_without_x_remote_uid_are_rejected() {
        let flags = AuthnFlags {
            requestheader_uid_headers: vec!["X-Other".into()],
            ..AuthnFlags::default()
        };
        assert!(
            load(&flags)
                .unwrap_err()
                .reason
                .contains("without specifying the standard X-Remote-Uid")
        );
    }
}
