//! From flags and files to a validated configuration: every file is read and checked
//! before the server starts, and the first problem stops the start with the file (or
//! flag), the field and the reason.
//!
//! Upstream: `pkg/kubeapiserver/options/authentication.go` (`Validate`, `ToAuthenticationConfig`)
//! and `pkg/kubeapiserver/authenticator/config.go` (`New`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use kauthn::jose::OwnedKeySet;
use kauthn::oidc::config::{FlagError, OidcFlags};
use kauthn::{ClientCaPool, JwtAuthenticator, OwnedTokenFile, TokenReviewVersion};

use crate::authn_config;
use crate::bootstrap_dir::SecretsDir;
use crate::flags::AuthnFlags;
use crate::http_client::HttpClient;
use crate::jwks::{self, JwksCache, SharedKeys};
use crate::kubeconfig::Kubeconfig;
use crate::webhook::{self, Backoff, WebhookClient};

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

/// Anonymous access as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousSettings {
    /// Whether anonymous requests are authenticated as `system:anonymous`.
    pub enabled: bool,
    /// When non-empty, only these exact paths.
    pub paths: Vec<String>,
}

/// `--requestheader-*`, validated, with the defaults applied.
#[derive(Debug)]
pub struct RequestHeaderSettings {
    /// `--requestheader-client-ca-file`, parsed.
    pub pool: ClientCaPool<'static>,
    /// `--requestheader-username-headers`.
    pub username_headers: Vec<String>,
    /// `--requestheader-uid-headers`.
    pub uid_headers: Vec<String>,
    /// `--requestheader-group-headers`.
    pub group_headers: Vec<String>,
    /// `--requestheader-extra-headers-prefix`.
    pub extra_header_prefixes: Vec<String>,
    /// `--requestheader-allowed-names`.
    pub allowed_names: Vec<String>,
}

/// `--service-account-*`, validated.
#[derive(Debug)]
pub struct ServiceAccountSettings {
    /// The keys of every `--service-account-key-file`, with Kubernetes key ids.
    pub keys: OwnedKeySet,
    /// `--service-account-issuer` (empty: legacy tokens only).
    pub issuers: Vec<String>,
    /// `--service-account-lookup` (accepted; there is nothing to look objects up in).
    pub lookup: bool,
}

/// One JWT authenticator (`--oidc-*`, or an `--authentication-config` `jwt` entry), built
/// and validated, with the cache its keys are fetched into.
#[derive(Debug)]
pub struct JwtSettings {
    /// The flag or file it came from.
    pub source: String,
    /// The core authenticator, reading keys from `keys`.
    pub authenticator: JwtAuthenticator<SharedKeys, String>,
    /// Discovery and JWKS fetching for its issuer.
    pub keys: Arc<JwksCache>,
}

/// `--authentication-token-webhook-*`, validated.
#[derive(Debug)]
pub struct WebhookSettings {
    /// The HTTP client for the kubeconfig's server.
    pub client: WebhookClient,
    /// `--authentication-token-webhook-version`.
    pub version: TokenReviewVersion,
    /// `--authentication-token-webhook-cache-ttl`.
    pub cache_ttl: Duration,
}

/// Everything the authentication chain is built from, validated.
#[derive(Debug)]
pub struct Config {
    /// `--requestheader-client-ca-file` and the other `--requestheader-*` flags.
    pub request_header: Option<RequestHeaderSettings>,
    /// `--client-ca-file`, parsed.
    pub client_ca: Option<(PathBuf, ClientCaPool<'static>)>,
    /// `--token-auth-file`, parsed.
    pub token_file: Option<(PathBuf, OwnedTokenFile)>,
    /// `--service-account-key-file`, `--service-account-issuer`.
    pub service_accounts: Option<ServiceAccountSettings>,
    /// `--enable-bootstrap-token-auth` with `--bootstrap-token-secrets-dir`.
    pub bootstrap: Option<SecretsDir>,
    /// The JWT authenticators, in configuration order.
    pub jwt: Vec<JwtSettings>,
    /// The token webhook.
    pub webhook: Option<WebhookSettings>,
    /// `--api-audiences` (defaulted to the service-account issuers).
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

    // Service accounts before JWT: their issuers are the JWT authenticators' disallowed
    // issuers.
    let service_accounts = load_service_accounts(flags)?;
    let sa_issuers: Vec<String> = service_accounts
        .as_ref()
        .map(|s| s.issuers.clone())
        .unwrap_or_default();

    let mut jwt = Vec::new();
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
        jwt.push(load_oidc_flags(flags, &sa_issuers)?);
    }

    let mut anonymous = AnonymousSettings {
        enabled: flags.anonymous_auth.unwrap_or(true),
        paths: Vec::new(),
    };
    if let Some((path, cfg)) = &auth_config {
        let shown = path.display().to_string();
        authn_config::validate(cfg, &sa_issuers)
            .map_err(|reason| ConfigError::new(shown.clone(), "", reason))?;
        if let Some(a) = &cfg.anonymous {
            if flags.anonymous_auth.is_some() {
                return Err(ConfigError::new(
                    shown,
                    "anonymous",
                    "Forbidden: --anonymous-auth flag cannot be set when anonymous field is configured in authentication configuration file",
                ));
            }
            anonymous = AnonymousSettings {
                enabled: a.enabled,
                paths: a.conditions.iter().map(|c| c.path.clone()).collect(),
            };
        }
        for (i, entry) in cfg.jwt.iter().enumerate() {
            let field = format!("jwt[{i}]");
            if !entry.issuer.egress_selector_type.is_empty() {
                tracing::warn!(file = %shown, field = %field, "issuer.egressSelectorType is ignored: kauthn has no egress selector");
            }
            let keys = jwks_cache(
                &entry.issuer.url,
                entry.issuer.discovery_url.as_deref(),
                &entry.issuer.certificate_authority,
            )
            .map_err(|e| {
                ConfigError::new(
                    shown.clone(),
                    format!("{field}.issuer.certificateAuthority"),
                    e,
                )
            })?;
            let disallowed: Vec<&str> = sa_issuers.iter().map(String::as_str).collect();
            let authenticator = entry
                .build(&disallowed, keys.provider())
                .map_err(|e| ConfigError::new(shown.clone(), field.clone(), e.to_string()))?;
            jwt.push(JwtSettings {
                source: format!("{shown} {field}"),
                authenticator,
                keys,
            });
        }
    }

    let request_header = load_request_header(flags)?;
    let webhook = load_webhook(flags)?;

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
    if let (Some(rh_ca), Some(ca)) = (&flags.requestheader_client_ca_file, &flags.client_ca_file)
        && flags.requestheader_allowed_names.is_empty()
        && overlapping(rh_ca, ca)?
    {
        return Err(ConfigError::new(
            "--requestheader-client-ca-file",
            "",
            "--requestheader-client-ca-file and --client-ca-file contain overlapping certificates; --requestheader-allowed-names must be specified to ensure regular client certificates cannot set authenticating proxy headers for arbitrary users",
        ));
    }

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
    // kube-apiserver: "--api-audiences" defaults to the service-account issuers.
    let api_audiences = if flags.api_audiences.is_empty() {
        sa_issuers
    } else {
        flags.api_audiences.clone()
    };
    if api_audiences.len() > kauthn::MAX_AUDIENCES {
        return Err(ConfigError::new(
            "--api-audiences",
            "",
            format!("at most {} audiences", kauthn::MAX_AUDIENCES),
        ));
    }

    Ok(Config {
        request_header,
        client_ca,
        token_file,
        service_accounts,
        bootstrap,
        jwt,
        webhook,
        api_audiences,
        anonymous,
        tokenreview_allowed_groups: flags.tokenreview_allowed_groups.clone(),
    })
}

/// The HTTP client and key cache for one issuer; `ca` is PEM (empty: the host's roots).
fn jwks_cache(
    issuer: &str,
    discovery_url: Option<&str>,
    ca: &str,
) -> Result<Arc<JwksCache>, String> {
    let ca = (!ca.is_empty()).then_some(ca.as_bytes());
    let client = HttpClient::new(ca, None, None, jwks::DEFAULT_TIMEOUT)?;
    Ok(Arc::new(JwksCache::new(issuer, discovery_url, client)))
}

// Upstream `BuiltInAuthenticationOptions.ToAuthenticationConfig` for `--oidc-*`: the flags
// become one `JWTAuthenticator`, validated as the file's entries are (paths without the
// `jwt[i].` prefix, as `oidc.New` reports them).
fn load_oidc_flags(flags: &AuthnFlags, sa_issuers: &[String]) -> Result<JwtSettings, ConfigError> {
    const FLAG: &str = "--oidc-issuer-url";
    let (Some(issuer_url), Some(client_id)) = (&flags.oidc_issuer_url, &flags.oidc_client_id)
    else {
        return Err(ConfigError::new(
            FLAG,
            "",
            FlagError::IssuerAndClientIdTogether.to_string(),
        ));
    };
    let ca = match &flags.oidc_ca_file {
        Some(path) => String::from_utf8(read(path, "--oidc-ca-file")?).map_err(|_| {
            ConfigError::new(
                path.display().to_string(),
                "--oidc-ca-file",
                "file is not UTF-8",
            )
        })?,
        None => String::new(),
    };
    let mut required_claims = Vec::new();
    for pair in &flags.oidc_required_claim {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            ConfigError::new(
                "--oidc-required-claim",
                "",
                format!("{pair:?} is not a key=value pair"),
            )
        })?;
        required_claims.push((k.to_string(), v.to_string()));
    }
    let defaults = OidcFlags::default();
    let oidc = OidcFlags {
        issuer_url: issuer_url.clone(),
        client_id: client_id.clone(),
        ca,
        username_claim: flags
            .oidc_username_claim
            .clone()
            .unwrap_or(defaults.username_claim),
        username_prefix: flags.oidc_username_prefix.clone().unwrap_or_default(),
        groups_claim: flags.oidc_groups_claim.clone().unwrap_or_default(),
        groups_prefix: flags.oidc_groups_prefix.clone().unwrap_or_default(),
        signing_algs: if flags.oidc_signing_algs.is_empty() {
            defaults.signing_algs
        } else {
            flags.oidc_signing_algs.clone()
        },
        required_claims,
    };
    let (cfg, algorithms) = oidc
        .to_config()
        .map_err(|e| ConfigError::new(FLAG, "", e.to_string()))?
        .ok_or_else(|| {
            ConfigError::new(FLAG, "", FlagError::IssuerAndClientIdTogether.to_string())
        })?;
    let source = flags
        .oidc_ca_file
        .as_ref()
        .map_or_else(|| FLAG.to_string(), |p| p.display().to_string());
    let keys = jwks_cache(&cfg.issuer.url, None, &cfg.issuer.certificate_authority)
        .map_err(|e| ConfigError::new(source, "--oidc-ca-file", e))?;
    let disallowed: Vec<&str> = sa_issuers.iter().map(String::as_str).collect();
    let authenticator = cfg
        .build(&disallowed, keys.provider())
        .map_err(|e| ConfigError::new(FLAG, "", e.to_string()))?
        .algorithms(algorithms);
    Ok(JwtSettings {
        source: FLAG.to_string(),
        authenticator,
        keys,
    })
}

// Upstream `ServiceAccountAuthenticationOptions.Validate` and `keyutil.PublicKeysFromFile`.
fn load_service_accounts(
    flags: &AuthnFlags,
) -> Result<Option<ServiceAccountSettings>, ConfigError> {
    const ISSUER: &str = "--service-account-issuer";
    if flags.service_account_key_file.is_empty() {
        if !flags.service_account_issuer.is_empty() {
            // kube-apiserver also accepts --service-account-signing-endpoint, which kauthn
            // has no use for: the keys must be given.
            return Err(ConfigError::new(
                "--service-account-key-file",
                "",
                "--service-account-key-file must be set when --service-account-issuer is",
            ));
        }
        return Ok(None);
    }
    let mut seen: Vec<&str> = Vec::new();
    for issuer in &flags.service_account_issuer {
        if issuer.is_empty() {
            return Err(ConfigError::new(
                ISSUER,
                "",
                "service-account-issuer should not be an empty string",
            ));
        }
        if seen.contains(&issuer.as_str()) {
            return Err(ConfigError::new(
                ISSUER,
                "",
                format!("service-account-issuer {issuer:?} is already specified"),
            ));
        }
        seen.push(issuer);
    }
    if seen.len() > kauthn::MAX_ISSUERS {
        return Err(ConfigError::new(
            ISSUER,
            "",
            format!("at most {} issuers", kauthn::MAX_ISSUERS),
        ));
    }
    let mut keys = OwnedKeySet::new();
    for f in &flags.service_account_key_file {
        let pem = read(f, "--service-account-key-file")?;
        keys.add_pem(&pem).map_err(|e| {
            ConfigError::new(
                f.display().to_string(),
                "--service-account-key-file",
                e.to_string(),
            )
        })?;
    }
    Ok(Some(ServiceAccountSettings {
        keys,
        issuers: flags.service_account_issuer.clone(),
        lookup: flags.service_account_lookup.unwrap_or(true),
    }))
}

fn load_request_header(flags: &AuthnFlags) -> Result<Option<RequestHeaderSettings>, ConfigError> {
    validate_requestheader(flags)?;
    let Some(ca) = &flags.requestheader_client_ca_file else {
        if !flags.requestheader_username_headers.is_empty()
            || !flags.requestheader_group_headers.is_empty()
            || !flags.requestheader_allowed_names.is_empty()
        {
            tracing::warn!(
                "--requestheader-* flags have no effect without --requestheader-client-ca-file"
            );
        }
        return Ok(None);
    };
    let pem = read(ca, "--requestheader-client-ca-file")?;
    let pool = ClientCaPool::from_pem(&pem).map_err(|e| {
        ConfigError::new(
            ca.display().to_string(),
            "--requestheader-client-ca-file",
            format!("error loading certs: {e}"),
        )
    })?;
    // An unset list takes the delegating authenticator's default (k8s.io/apiserver
    // `pkg/server/options/authentication.go` `NewDelegatingAuthenticationOptions`): the
    // standard headers. kube-apiserver itself leaves them empty, which makes a front proxy
    // without `--requestheader-username-headers` authenticate nobody.
    let standard = kauthn::RequestHeaderConfig::STANDARD;
    let or_default = |given: &Vec<String>, default: &[&str]| -> Vec<String> {
        if given.is_empty() {
            default.iter().map(|s| s.to_string()).collect()
        } else {
            given.clone()
        }
    };
    let settings = RequestHeaderSettings {
        pool,
        username_headers: or_default(
            &flags.requestheader_username_headers,
            standard.username_headers,
        ),
        uid_headers: or_default(&flags.requestheader_uid_headers, standard.uid_headers),
        group_headers: or_default(&flags.requestheader_group_headers, standard.group_headers),
        extra_header_prefixes: or_default(
            &flags.requestheader_extra_headers_prefix,
            standard.extra_header_prefixes,
        ),
        allowed_names: flags.requestheader_allowed_names.clone(),
    };
    for (flag, list, want) in [
        (
            "--requestheader-username-headers",
            &settings.username_headers,
            "X-Remote-User",
        ),
        (
            "--requestheader-group-headers",
            &settings.group_headers,
            "X-Remote-Group",
        ),
        (
            "--requestheader-extra-headers-prefix",
            &settings.extra_header_prefixes,
            "X-Remote-Extra-",
        ),
    ] {
        if !list.iter().any(|h| h.trim().eq_ignore_ascii_case(want)) {
            tracing::warn!(
                "{flag} does not include the standard {want} header - API aggregation will not work"
            );
        }
    }
    Ok(Some(settings))
}

/// True when the two PEM bundles share a certificate.
fn overlapping(a: &Path, b: &Path) -> Result<bool, ConfigError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};
    let certs = |p: &Path, flag: &str| -> Result<Vec<Vec<u8>>, ConfigError> {
        Ok(CertificateDer::pem_slice_iter(&read(p, flag)?)
            .filter_map(Result::ok)
            .map(|c| c.to_vec())
            .collect())
    };
    let a = certs(a, "--requestheader-client-ca-file")?;
    let b = certs(b, "--client-ca-file")?;
    Ok(a.iter().any(|c| b.contains(c)))
}

fn load_webhook(flags: &AuthnFlags) -> Result<Option<WebhookSettings>, ConfigError> {
    let version = TokenReviewVersion::from_flag(&flags.authentication_token_webhook_version)
        .map_err(|e| {
            ConfigError::new("--authentication-token-webhook-version", "", e.to_string())
        })?;
    let cache_ttl = parse_go_duration(&flags.authentication_token_webhook_cache_ttl)
        .map_err(|e| ConfigError::new("--authentication-token-webhook-cache-ttl", "", e))?;
    let Some(path) = &flags.authentication_token_webhook_config_file else {
        return Ok(None);
    };
    let kc = Kubeconfig::load(path)?;
    let target = kc.webhook_target(path)?;
    let client = WebhookClient::from_target(&target, webhook::DEFAULT_TIMEOUT, Backoff::default())
        .map_err(|e| ConfigError::new(path.display().to_string(), "", e))?;
    Ok(Some(WebhookSettings {
        client,
        version,
        cache_ttl,
    }))
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
    fn an_http_oidc_issuer_is_rejected_with_upstreams_validation_text() {
        let flags = AuthnFlags {
            oidc_issuer_url: Some("http://issuer.example".into()),
            oidc_client_id: Some("c".into()),
            ..base()
        };
        assert_eq!(
            load(&flags).unwrap_err().to_string(),
            "--oidc-issuer-url: issuer.url: Invalid value: \"http://issuer.example\": URL scheme must be https"
        );
    }

    #[test]
    fn oidc_flags_build_one_jwt_authenticator_with_the_flag_algorithms() {
        let flags = AuthnFlags {
            oidc_issuer_url: Some("https://issuer.example".into()),
            oidc_client_id: Some("c".into()),
            oidc_signing_algs: vec!["ES256".into()],
            ..base()
        };
        let cfg = load(&flags).unwrap();
        assert_eq!(cfg.jwt.len(), 1);
        assert_eq!(cfg.jwt[0].authenticator.issuer(), "https://issuer.example");
        assert_eq!(
            cfg.jwt[0].authenticator.allowed_algorithms(),
            kauthn::jose::AlgorithmSet::EMPTY.with(kauthn::jose::Algorithm::ES256)
        );
    }

    /// The flags with clap's defaults (`AuthnFlags::default()` leaves strings empty).
    fn base() -> AuthnFlags {
        AuthnFlags {
            authentication_token_webhook_version: "v1beta1".into(),
            authentication_token_webhook_cache_ttl: "2m0s".into(),
            ..AuthnFlags::default()
        }
    }

    fn core_key(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../kauthn/tests/data")).join(name)
    }

    #[test]
    fn api_audiences_default_to_the_service_account_issuers() {
        let flags = AuthnFlags {
            service_account_key_file: vec![core_key("k8s-ec-public.pem")],
            service_account_issuer: vec!["https://a.example".into(), "https://b.example".into()],
            ..base()
        };
        let cfg = load(&flags).unwrap();
        assert_eq!(
            cfg.api_audiences,
            ["https://a.example", "https://b.example"]
        );
        let sa = cfg.service_accounts.unwrap();
        assert_eq!(sa.keys.len(), 1);
        assert!(sa.lookup);
    }

    #[test]
    fn service_account_issuers_are_validated_like_kube_apiserver() {
        let mut flags = AuthnFlags {
            service_account_key_file: vec![core_key("k8s-rsa-private.pem")],
            service_account_issuer: vec!["https://a".into(), "https://a".into()],
            ..base()
        };
        assert_eq!(
            load(&flags).unwrap_err().reason,
            "service-account-issuer \"https://a\" is already specified"
        );
        flags.service_account_issuer = vec![String::new()];
        assert_eq!(
            load(&flags).unwrap_err().reason,
            "service-account-issuer should not be an empty string"
        );
        flags.service_account_issuer.clear();
        flags.service_account_key_file = vec![core_key("README.md")];
        let e = load(&flags).unwrap_err();
        assert_eq!(e.field, "--service-account-key-file");
        assert!(
            e.reason
                .ends_with("data does not contain any valid RSA or ECDSA public keys"),
            "{e}"
        );
    }

    #[test]
    fn jwt_issuers_may_not_be_service_account_issuers() {
        let dir = std::env::temp_dir().join(format!("kauthn-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("authn.yaml");
        std::fs::write(&file, "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://sa.example', audiences: [a]}\n  claimMappings: {username: {claim: sub, prefix: ''}}\n").unwrap();
        let flags = AuthnFlags {
            authentication_config: Some(file.clone()),
            service_account_key_file: vec![core_key("k8s-ec-public.pem")],
            service_account_issuer: vec!["https://sa.example".into()],
            ..base()
        };
        let e = load(&flags).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(e.source, file.display().to_string());
        assert_eq!(
            e.reason,
            "jwt[0].issuer.url: Invalid value: \"https://sa.example\": URL must not overlap with disallowed issuers: [https://sa.example]"
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
