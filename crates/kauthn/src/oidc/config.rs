//! The `AuthenticationConfiguration` model (`apiserver.config.k8s.io/v1` and `v1beta1`, whose
//! JWT and anonymous schemas are identical), upstream's validation with its messages, the
//! `--oidc-*` flag mapping, and the conversion into a [`JwtAuthenticator`].
//!
//! Upstream: `pkg/apis/apiserver/v1/types.go`, `pkg/apis/apiserver/validation/validation.go`
//! (`ValidateAuthenticationConfiguration`, `validateJWTAuthenticator`),
//! `pkg/kubeapiserver/options/authentication.go` (flags).
//!
//! With the `serde` feature every type derives `serde::Deserialize` with upstream's field
//! names, unknown fields refused (upstream decodes the file strictly). Validation collects
//! every problem as a [`FieldError`] in Kubernetes' `field.Error` format
//! (`jwt[0].issuer.url: Invalid value: "http://x": URL scheme must be https`).
//!
//! # No CEL
//! kauthn has no CEL evaluator, so every place where upstream compiles an expression
//! (`claimValidationRules[].expression`, `claimMappings.{username,groups,uid}.expression`,
//! `claimMappings.extra[].valueExpression`, `userValidationRules[].expression`) is an
//! `Invalid value: "<expr>": CEL expressions are not supported` error. Upstream's checks
//! that need a compiled expression (its type, the `claims.email_verified` rule) cannot apply.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{JwksProvider, JwtAuthenticator, MAX_REQUIRED_CLAIMS};
use crate::jose::{Algorithm, AlgorithmSet};
use crate::user::MAX_AUDIENCES;

/// Most `jwt` authenticators in one configuration (upstream's limit).
pub const MAX_JWT_AUTHENTICATORS: usize = 64;
/// The message of every configuration field that holds a CEL expression.
pub const CEL_UNSUPPORTED: &str = "CEL expressions are not supported";
/// The only non-empty `audienceMatchPolicy`.
pub const AUDIENCE_MATCH_ANY: &str = "MatchAny";

/// `AuthenticationConfiguration`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthenticationConfiguration {
    /// `apiserver.config.k8s.io/v1`, `v1beta1` or `v1alpha1`.
    pub api_version: String,
    /// `AuthenticationConfiguration`.
    pub kind: String,
    /// The JWT authenticators, one per issuer.
    pub jwt: Vec<JwtAuthenticatorConfig>,
    /// The anonymous authenticator's configuration.
    pub anonymous: Option<AnonymousConfig>,
}

/// `AnonymousAuthConfig`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnonymousConfig {
    /// Whether anonymous requests are allowed.
    pub enabled: bool,
    /// Paths anonymous requests are limited to.
    pub conditions: Vec<AnonymousCondition>,
}

/// `AnonymousAuthCondition`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnonymousCondition {
    /// The exact request path.
    pub path: String,
}

/// `JWTAuthenticator`: one issuer.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwtAuthenticatorConfig {
    /// The issuer and audiences.
    pub issuer: Issuer,
    /// Rules every token's claims must satisfy.
    pub claim_validation_rules: Vec<ClaimValidationRule>,
    /// How claims become the user.
    pub claim_mappings: ClaimMappings,
    /// Rules over the final user (CEL only).
    pub user_validation_rules: Vec<UserValidationRule>,
}

/// `Issuer`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issuer {
    /// The issuer URL; tokens' `iss` must equal it exactly.
    pub url: String,
    /// Where to fetch the discovery document instead of `<url>/.well-known/openid-configuration`.
    #[cfg_attr(feature = "serde", serde(rename = "discoveryURL"))]
    pub discovery_url: Option<String>,
    /// PEM CA certificates for the discovery and JWKS requests.
    pub certificate_authority: String,
    /// Acceptable `aud` values.
    pub audiences: Vec<String>,
    /// `""` or `MatchAny`.
    pub audience_match_policy: String,
    /// `""`, `controlplane` or `cluster`.
    pub egress_selector_type: String,
}

/// `ClaimValidationRule`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimValidationRule {
    /// The claim that must be present with [`ClaimValidationRule::required_value`].
    pub claim: String,
    /// The value the claim must have (empty when omitted).
    pub required_value: String,
    /// A CEL expression (unsupported).
    pub expression: String,
    /// The message of a failed expression.
    pub message: String,
}

/// `ClaimMappings`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimMappings {
    /// The user name (required).
    pub username: PrefixedClaimOrExpression,
    /// The groups (optional).
    pub groups: PrefixedClaimOrExpression,
    /// The UID (optional).
    pub uid: ClaimOrExpression,
    /// Extra attributes (CEL only).
    pub extra: Vec<ExtraMapping>,
}

/// `PrefixedClaimOrExpression`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrefixedClaimOrExpression {
    /// The claim.
    pub claim: String,
    /// The prefix; required (possibly empty) with a claim.
    pub prefix: Option<String>,
    /// A CEL expression (unsupported).
    pub expression: String,
}

/// `ClaimOrExpression`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimOrExpression {
    /// The claim.
    pub claim: String,
    /// A CEL expression (unsupported).
    pub expression: String,
}

/// `ExtraMapping`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraMapping {
    /// The extra key: a lowercase, domain-prefixed path outside Kubernetes' domains.
    pub key: String,
    /// A CEL expression (unsupported).
    pub value_expression: String,
}

/// `UserValidationRule`.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", default, deny_unknown_fields)
)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserValidationRule {
    /// A CEL expression (unsupported).
    pub expression: String,
    /// The message of a failed rule.
    pub message: String,
}

// ---------------------------------------------------------------------------------------
// Field errors (k8s.io/apimachinery/pkg/util/validation/field)
// ---------------------------------------------------------------------------------------

/// The type of a [`FieldError`], as `field.ErrorType` prints it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// `Required value`.
    Required,
    /// `Invalid value: <value>`; the value is already written as Go's `%q` would.
    Invalid(String),
    /// `Duplicate value: <value>`.
    Duplicate(String),
    /// `Too many: <n>`.
    TooMany(usize),
    /// `Forbidden`.
    Forbidden,
}

/// One validation problem: a field path, a kind and a detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field, such as `jwt[0].issuer.url`.
    pub path: String,
    /// What is wrong.
    pub kind: FieldErrorKind,
    /// The explanation (may be empty).
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            FieldErrorKind::Required => f.write_str("Required value")?,
            FieldErrorKind::Invalid(v) => write!(f, "Invalid value: {v}")?,
            FieldErrorKind::Duplicate(v) => write!(f, "Duplicate value: {v}")?,
            FieldErrorKind::TooMany(n) => write!(f, "Too many: {n}")?,
            FieldErrorKind::Forbidden => f.write_str("Forbidden")?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Every problem found in a configuration, printed as upstream's aggregate: one message
/// alone, several as `[a, b]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<FieldError>);

impl ConfigErrors {
    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages, in order.
    pub fn messages(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(ToString::to_string)
    }

    fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => fmt::Display::fmt(one, f),
            all => {
                f.write_str("[")?;
                for (i, e) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    fmt::Display::fmt(e, f)?;
                }
                f.write_str("]")
            }
        }
    }
}

impl core::error::Error for ConfigErrors {}

/// Go's `%q` of a string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Collects field errors under a path prefix.
struct Collector<'e> {
    errors: &'e mut Vec<FieldError>,
}

impl Collector<'_> {
    fn push(&mut self, path: &str, kind: FieldErrorKind, detail: &str) {
        self.errors.push(FieldError {
            path: path.to_string(),
            kind,
            detail: detail.to_string(),
        });
    }

    fn required(&mut self, path: &str, detail: &str) {
        self.push(path, FieldErrorKind::Required, detail);
    }

    fn invalid(&mut self, path: &str, value: &str, detail: &str) {
        self.push(path, FieldErrorKind::Invalid(quote(value)), detail);
    }

    fn duplicate(&mut self, path: &str, value: &str) {
        self.push(path, FieldErrorKind::Duplicate(quote(value)), "");
    }

    fn cel(&mut self, path: &str, expression: &str) {
        self.invalid(path, expression, CEL_UNSUPPORTED);
    }
}

fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

// ---------------------------------------------------------------------------------------
// URLs (Go's net/url.Parse, the parts validation needs)
// ---------------------------------------------------------------------------------------

struct ParsedUrl<'u> {
    scheme: &'u str,
    has_user: bool,
    query: &'u str,
    fragment: &'u str,
}

fn parse_url(u: &str) -> Result<ParsedUrl<'_>, String> {
    let err = |msg: String| format!("parse {}: {msg}", quote(u));
    let (rest, fragment) = u.split_once('#').unwrap_or((u, ""));
    // Scheme: a letter, then letters, digits, + - . up to the first ':'.
    let mut scheme = "";
    let mut rest = rest;
    if let Some(colon) = rest.find(':') {
        let cand = rest.get(..colon).unwrap_or_default();
        let valid = cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if colon == 0 {
            return Err(err("missing protocol scheme".to_string()));
        }
        if valid {
            scheme = cand;
            rest = rest.get(colon + 1..).unwrap_or_default();
        }
    }
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut has_user = false;
    if let Some(after) = rest.strip_prefix("//") {
        let authority = after.split('/').next().unwrap_or_default();
        let host = match authority.rsplit_once('@') {
            Some((_, h)) => {
                has_user = true;
                h
            }
            None => authority,
        };
        // validOptionalPort: the text after the last ':' outside an IPv6 literal is digits.
        let after_bracket = host.rsplit_once(']').map_or(host, |(_, p)| p);
        if let Some(i) = after_bracket.rfind(':') {
            let port = after_bracket.get(i..).unwrap_or_default();
            if !port.bytes().skip(1).all(|b| b.is_ascii_digit()) {
                return Err(err(format!("invalid port {} after host", quote(port))));
            }
        }
    }
    Ok(ParsedUrl {
        scheme,
        has_user,
        query,
        fragment,
    })
}

fn validate_url(c: &mut Collector<'_>, path: &str, u: &str, disallowed: Option<&[&str]>) {
    if let Some(list) = disallowed {
        if list.contains(&u) {
            let mut sorted: Vec<&str> = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            let detail = format!(
                "URL must not overlap with disallowed issuers: [{}]",
                sorted.join(" ")
            );
            c.invalid(path, u, &detail);
        }
    }
    let parsed = match parse_url(u) {
        Ok(p) => p,
        Err(e) => {
            c.invalid(path, u, &e);
            return;
        }
    };
    if parsed.scheme != "https" {
        c.invalid(path, u, "URL scheme must be https");
    }
    if parsed.has_user {
        c.invalid(path, u, "URL must not contain a username or password");
    }
    if !parsed.query.is_empty() {
        c.invalid(path, u, "URL must not contain a query");
    }
    if !parsed.fragment.is_empty() {
        c.invalid(path, u, "URL must not contain a fragment");
    }
}

fn has_pem_certificate(pem: &str) -> bool {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let from = rest.get(start..).unwrap_or_default();
        let Some(end) = from.find(END) else {
            return false;
        };
        let block = from.get(..end + END.len()).unwrap_or_default();
        let mut buf = alloc::vec![0u8; block.len()];
        if let Ok((_, der)) = pem_rfc7468::decode(block.as_bytes(), &mut buf) {
            if crate::jose::certificate_public_key(der).is_ok() {
                return true;
            }
        }
        rest = from.get(end + END.len()..).unwrap_or_default();
    }
    false
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

const PREFIX_REQUIRED: &str =
    "prefix is required when claim is set. It can be set to an empty string to disable prefixing";

fn is_dns1123_subdomain(s: &str) -> bool {
    crate::service_account::is_dns1123_subdomain(s)
}

const DNS1123_SUBDOMAIN_ERROR: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. \
'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn is_kubernetes_domain(host: &str) -> bool {
    ["kubernetes.io", "k8s.io"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

impl JwtAuthenticatorConfig {
    /// Validates one authenticator as `oidc.New` does: paths have no `jwt[i].` prefix
    /// (`issuer.url: Required value`). `disallowed_issuers` are the service-account issuers.
    ///
    /// # Errors
    /// Every problem found, in upstream's order.
    pub fn validate(&self, disallowed_issuers: &[&str]) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        self.validate_at(
            &mut Collector {
                errors: &mut errors,
            },
            "",
            disallowed_issuers,
        );
        ConfigErrors(errors).into_result()
    }

    fn validate_at(&self, c: &mut Collector<'_>, root: &str, disallowed: &[&str]) {
        let issuer_path = child(root, "issuer");
        self.issuer.validate_at(c, &issuer_path, disallowed);

        // claimValidationRules
        let rules_path = child(root, "claimValidationRules");
        let mut seen_claims: Vec<&str> = Vec::new();
        let mut seen_exprs: Vec<&str> = Vec::new();
        for (i, rule) in self.claim_validation_rules.iter().enumerate() {
            let p = index(&rules_path, i);
            match (rule.claim.is_empty(), rule.expression.is_empty()) {
                (false, false) => {
                    c.invalid(&p, &rule.claim, "claim and expression can't both be set")
                }
                (true, true) => c.required(&p, "claim or expression is required"),
                (false, true) => {
                    if !rule.message.is_empty() {
                        c.invalid(
                            &child(&p, "message"),
                            &rule.message,
                            "may not be specified when claim is set",
                        );
                    }
                    if seen_claims.contains(&rule.claim.as_str()) {
                        c.duplicate(&child(&p, "claim"), &rule.claim);
                    }
                    seen_claims.push(&rule.claim);
                }
                (true, false) => {
                    if !rule.required_value.is_empty() {
                        c.invalid(
                            &child(&p, "requiredValue"),
                            &rule.required_value,
                            "may not be specified when expression is set",
                        );
                    }
                    if seen_exprs.contains(&rule.expression.as_str()) {
                        c.duplicate(&child(&p, "expression"), &rule.expression);
                        continue;
                    }
                    seen_exprs.push(&rule.expression);
                    c.cel(&child(&p, "expression"), &rule.expression);
                }
            }
        }

        // claimMappings
        let m = &self.claim_mappings;
        let mp = child(root, "claimMappings");
        let up = child(&mp, "username");
        let u = &m.username;
        if !u.claim.is_empty() && !u.expression.is_empty() {
            c.invalid(&up, "", "claim and expression can't both be set");
        }
        if u.claim.is_empty() && u.expression.is_empty() {
            c.required(&up, "claim or expression is required");
        }
        if !u.expression.is_empty() {
            if let Some(prefix) = &u.prefix {
                c.invalid(
                    &child(&up, "prefix"),
                    prefix,
                    "may not be specified when expression is set",
                );
            }
            c.cel(&child(&up, "expression"), &u.expression);
        }
        if !u.claim.is_empty() && u.prefix.is_none() {
            c.required(&child(&up, "prefix"), PREFIX_REQUIRED);
        }
        let gp = child(&mp, "groups");
        let g = &m.groups;
        if !g.claim.is_empty() && !g.expression.is_empty() {
            c.invalid(&gp, "", "claim and expression can't both be set");
        }
        if !g.expression.is_empty() {
            if let Some(prefix) = &g.prefix {
                c.invalid(
                    &child(&gp, "prefix"),
                    prefix,
                    "may not be specified when expression is set",
                );
            }
            c.cel(&child(&gp, "expression"), &g.expression);
        }
        if !g.claim.is_empty() && g.prefix.is_none() {
            c.required(&child(&gp, "prefix"), PREFIX_REQUIRED);
        }
        let uidp = child(&mp, "uid");
        if !m.uid.claim.is_empty() && !m.uid.expression.is_empty() {
            c.invalid(&uidp, "", "claim and expression can't both be set");
        }
        if !m.uid.expression.is_empty() {
            c.cel(&child(&uidp, "expression"), &m.uid.expression);
        }
        let ep = child(&mp, "extra");
        let mut seen_keys: Vec<&str> = Vec::new();
        for (i, x) in m.extra.iter().enumerate() {
            let p = index(&ep, i);
            let kp = child(&p, "key");
            let key = x.key.as_str();
            if key.is_empty() {
                c.required(&kp, "");
            } else {
                match key.split_once('/') {
                    Some((host, path)) if !host.is_empty() && !path.is_empty() => {
                        if !is_dns1123_subdomain(host) {
                            c.invalid(&kp, host, DNS1123_SUBDOMAIN_ERROR);
                        }
                    }
                    _ => c.invalid(
                        &kp,
                        key,
                        "must be a domain-prefixed path (such as \"acme.io/foo\")",
                    ),
                }
                if key != key.to_lowercase() {
                    c.invalid(&kp, key, "must be lowercase");
                }
                if key
                    .split_once('/')
                    .is_some_and(|(h, _)| is_kubernetes_domain(h))
                {
                    c.invalid(
                        &kp,
                        key,
                        "k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use",
                    );
                }
                if seen_keys.contains(&key) {
                    c.duplicate(&kp, key);
                }
                seen_keys.push(key);
            }
            let vp = child(&p, "valueExpression");
            if x.value_expression.is_empty() {
                c.required(&vp, "");
            } else {
                c.cel(&vp, &x.value_expression);
            }
        }

        // userValidationRules
        let urp = child(root, "userValidationRules");
        let mut seen: Vec<&str> = Vec::new();
        for (i, rule) in self.user_validation_rules.iter().enumerate() {
            let p = child(&index(&urp, i), "expression");
            if rule.expression.is_empty() {
                c.required(&p, "");
                continue;
            }
            if seen.contains(&rule.expression.as_str()) {
                c.duplicate(&p, &rule.expression);
                continue;
            }
            seen.push(&rule.expression);
            c.cel(&p, &rule.expression);
        }
    }

    /// Validates and builds the authenticator, with all nine algorithms allowed (the
    /// structured configuration's rule; use [`JwtAuthenticator::algorithms`] for flags).
    ///
    /// # Errors
    /// The validation errors, or a capacity error as a [`FieldError`] (more than
    /// [`MAX_AUDIENCES`] audiences or [`MAX_REQUIRED_CLAIMS`] claim rules).
    pub fn build<P: JwksProvider>(
        &self,
        disallowed_issuers: &[&str],
        keys: P,
    ) -> Result<JwtAuthenticator<P, String>, ConfigErrors> {
        self.validate(disallowed_issuers)?;
        let too_many = |path: &str, n: usize, max: usize| {
            ConfigErrors(alloc::vec![FieldError {
                path: path.to_string(),
                kind: FieldErrorKind::TooMany(n),
                detail: format!("must have at most {max} items"),
            }])
        };
        let n = self.issuer.audiences.len();
        let m = &self.claim_mappings;
        let mut auth = JwtAuthenticator::new(
            self.issuer.url.clone(),
            self.issuer.audiences.iter().cloned(),
            m.username.claim.clone(),
            keys,
        )
        .map_err(|_| too_many("issuer.audiences", n, MAX_AUDIENCES))?;
        if let Some(p) = &m.username.prefix {
            auth = auth.username_prefix(p.clone());
        }
        if !m.groups.claim.is_empty() {
            auth = auth.groups(m.groups.claim.clone(), m.groups.prefix.clone());
        }
        if !m.uid.claim.is_empty() {
            auth = auth.uid_claim(m.uid.claim.clone());
        }
        let rules = self.claim_validation_rules.len();
        for r in &self.claim_validation_rules {
            auth = auth
                .required_claim(r.claim.clone(), r.required_value.clone())
                .map_err(|_| too_many("claimValidationRules", rules, MAX_REQUIRED_CLAIMS))?;
        }
        Ok(auth)
    }
}

impl Issuer {
    fn validate_at(&self, c: &mut Collector<'_>, path: &str, disallowed: &[&str]) {
        let url_path = child(path, "url");
        if self.url.is_empty() {
            c.required(&url_path, "");
        } else {
            validate_url(c, &url_path, &self.url, Some(disallowed));
        }
        if let Some(d) = self.discovery_url.as_deref().filter(|d| !d.is_empty()) {
            let dp = child(path, "discoveryURL");
            if !self.url.is_empty() && self.url.trim_end_matches('/') == d.trim_end_matches('/') {
                c.invalid(&dp, d, "discoveryURL must be different from URL");
            }
            validate_url(c, &dp, d, None);
        }
        let ap = child(path, "audiences");
        if self.audiences.is_empty() {
            c.required(&ap, &format!("at least one {ap} is required"));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, a) in self.audiences.iter().enumerate() {
            let p = index(&ap, i);
            if a.is_empty() {
                c.required(&p, "");
            }
            if seen.contains(&a.as_str()) {
                c.duplicate(&p, a);
            }
            seen.push(a);
        }
        let pp = child(path, "audienceMatchPolicy");
        let policy = self.audience_match_policy.as_str();
        if self.audiences.len() > 1 && policy != AUDIENCE_MATCH_ANY {
            c.invalid(
                &pp,
                policy,
                "audienceMatchPolicy must be MatchAny for multiple audiences",
            );
        }
        if self.audiences.len() == 1 && !policy.is_empty() && policy != AUDIENCE_MATCH_ANY {
            c.invalid(
                &pp,
                policy,
                "audienceMatchPolicy must be empty or MatchAny for single audience",
            );
        }
        if !self.certificate_authority.is_empty()
            && !has_pem_certificate(&self.certificate_authority)
        {
            c.invalid(
                &child(path, "certificateAuthority"),
                "<omitted>",
                "data does not contain any valid RSA or ECDSA certificates",
            );
        }
        let egress = self.egress_selector_type.as_str();
        if !matches!(egress, "" | "controlplane" | "cluster") {
            c.invalid(
                &child(path, "egressSelectorType"),
                egress,
                "egress selector must be either controlplane or cluster",
            );
        }
    }
}

impl AuthenticationConfiguration {
    /// `ValidateAuthenticationConfiguration`: every authenticator (paths `jwt[i].…`),
    /// duplicate issuer and discovery URLs, and the anonymous block. `disallowed_issuers` are
    /// the service-account issuers.
    ///
    /// # Errors
    /// Every problem found, in upstream's order.
    pub fn validate(&self, disallowed_issuers: &[&str]) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        let mut c = Collector {
            errors: &mut errors,
        };
        if self.jwt.len() > MAX_JWT_AUTHENTICATORS {
            c.push(
                "jwt",
                FieldErrorKind::TooMany(self.jwt.len()),
                &format!("must have at most {MAX_JWT_AUTHENTICATORS} items"),
            );
        }
        let mut seen_issuers: Vec<&str> = Vec::new();
        let mut seen_discovery: Vec<&str> = Vec::new();
        for (i, a) in self.jwt.iter().enumerate() {
            let p = index("jwt", i);
            a.validate_at(&mut c, &p, disallowed_issuers);
            let url = a.issuer.url.as_str();
            if seen_issuers.contains(&url) {
                c.duplicate(&format!("{p}.issuer.url"), url);
            }
            seen_issuers.push(url);
            if let Some(d) = a.issuer.discovery_url.as_deref().filter(|d| !d.is_empty()) {
                if seen_discovery.contains(&d) {
                    c.duplicate(&format!("{p}.issuer.discoveryURL"), d);
                }
                seen_discovery.push(d);
            }
        }
        if let Some(anon) = &self.anonymous {
            if !anon.enabled && !anon.conditions.is_empty() {
                let json: Vec<String> = anon
                    .conditions
                    .iter()
                    .map(|c| format!("{{\"Path\":{}}}", quote(&c.path)))
                    .collect();
                c.push(
                    "anonymous.conditions",
                    FieldErrorKind::Invalid(format!("[{}]", json.join(","))),
                    "enabled should be set to true when conditions are defined",
                );
            }
        }
        ConfigErrors(errors).into_result()
    }
}

// ---------------------------------------------------------------------------------------
// --oidc-* flags
// ---------------------------------------------------------------------------------------

/// kube-apiserver's `--oidc-*` flags, with their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcFlags {
    /// `--oidc-issuer-url`.
    pub issuer_url: String,
    /// `--oidc-client-id`.
    pub client_id: String,
    /// The contents of `--oidc-ca-file`.
    pub ca: String,
    /// `--oidc-username-claim` (default `sub`).
    pub username_claim: String,
    /// `--oidc-username-prefix` (default empty: see [`OidcFlags::to_config`]).
    pub username_prefix: String,
    /// `--oidc-groups-claim`.
    pub groups_claim: String,
    /// `--oidc-groups-prefix`.
    pub groups_prefix: String,
    /// `--oidc-signing-algs` (default `RS256`).
    pub signing_algs: Vec<String>,
    /// `--oidc-required-claim key=value`, in flag order (a repeated key keeps its last value).
    pub required_claims: Vec<(String, String)>,
}

impl Default for OidcFlags {
    fn default() -> Self {
        OidcFlags {
            issuer_url: String::new(),
            client_id: String::new(),
            ca: String::new(),
            username_claim: "sub".to_string(),
            username_prefix: String::new(),
            groups_claim: String::new(),
            groups_prefix: String::new(),
            signing_algs: alloc::vec!["RS256".to_string()],
            required_claims: Vec::new(),
        }
    }
}

/// Why `--oidc-*` flags do not make an authenticator.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagError {
    /// Only one of `--oidc-issuer-url` and `--oidc-client-id` is set.
    IssuerAndClientIdTogether,
    /// A `--oidc-signing-algs` value is not one of the nine algorithms.
    UnsupportedSigningAlg(String),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::IssuerAndClientIdTogether => f.write_str(
                "oidc-issuer-url and oidc-client-id must be specified together when any oidc-* flags are set",
            ),
            FlagError::UnsupportedSigningAlg(a) => {
                write!(f, "oidc: unsupported signing alg: {}", quote(a))
            }
        }
    }
}

impl core::error::Error for FlagError {}

impl OidcFlags {
    /// The `JWTAuthenticator` kube-apiserver builds from the flags, and the allowed
    /// algorithms. `Ok(None)` when neither the issuer URL nor the client id is set (the flags
    /// configure nothing).
    ///
    /// The username prefix: `-` means none; empty means `<issuer-url>#` unless the claim is
    /// `email`; anything else is used verbatim. The result still needs
    /// [`JwtAuthenticatorConfig::validate`] (an `http` issuer is rejected there, as upstream
    /// rejects it).
    ///
    /// # Errors
    /// See [`FlagError`].
    pub fn to_config(&self) -> Result<Option<(JwtAuthenticatorConfig, AlgorithmSet)>, FlagError> {
        match (self.issuer_url.is_empty(), self.client_id.is_empty()) {
            (true, true) => return Ok(None),
            (false, false) => {}
            _ => return Err(FlagError::IssuerAndClientIdTogether),
        }
        let mut algs = AlgorithmSet::EMPTY;
        for a in &self.signing_algs {
            let alg = Algorithm::ALL
                .into_iter()
                .find(|x| x.name() == a)
                .ok_or_else(|| FlagError::UnsupportedSigningAlg(a.clone()))?;
            algs = algs.with(alg);
        }
        let prefix = match self.username_prefix.as_str() {
            "-" => String::new(),
            "" if self.username_claim != "email" => format!("{}#", self.issuer_url),
            p => p.to_string(),
        };
        let mut rules: Vec<ClaimValidationRule> = Vec::new();
        for (k, v) in &self.required_claims {
            rules.retain(|r| r.claim != *k);
            rules.push(ClaimValidationRule {
                claim: k.clone(),
                required_value: v.clone(),
                ..ClaimValidationRule::default()
            });
        }
        let groups = if self.groups_claim.is_empty() {
            PrefixedClaimOrExpression::default()
        } else {
            PrefixedClaimOrExpression {
                claim: self.groups_claim.clone(),
                prefix: Some(self.groups_prefix.clone()),
                expression: String::new(),
            }
        };
        let config = JwtAuthenticatorConfig {
            issuer: Issuer {
                url: self.issuer_url.clone(),
                certificate_authority: self.ca.clone(),
                audiences: alloc::vec![self.client_id.clone()],
                ..Issuer::default()
            },
            claim_validation_rules: rules,
            claim_mappings: ClaimMappings {
                username: PrefixedClaimOrExpression {
                    claim: self.username_claim.clone(),
                    prefix: Some(prefix),
                    expression: String::new(),
                },
                groups,
                ..ClaimMappings::default()
            },
            user_validation_rules: Vec::new(),
        };
        Ok(Some((config, algs)))
    }
}
