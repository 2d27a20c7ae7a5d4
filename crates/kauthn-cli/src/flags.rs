//! Command-line flags, named and defaulted as kube-apiserver names and defaults them.
//!
//! Upstream: `k8s.io/apiserver/pkg/server/options/authentication.go`,
//! `pkg/kubeapiserver/options/authentication.go`, `pkg/server/options/serving.go`.
//! List flags take comma-separated values and may be repeated (pflag's `StringSlice`);
//! boolean flags take `--flag`, `--flag=true` or `--flag=false` (Go's `flag.Bool`).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// `kauthn`: kube-apiserver's authentication, as a standalone front.
#[derive(Debug, Parser)]
#[command(name = "kauthn", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTPS and answer like kube-apiserver's authentication layer. With no
    /// authenticator or TLS flags, creates (or reuses) a development CA, certificates and a
    /// token file in the state directory and prints commands to try.
    Serve(ServeArgs),
    /// Run the authentication chain once, offline, on a token or a client certificate and
    /// print the TokenReview status as JSON. Exit status 0 when authenticated, 1 when not.
    Authenticate(AuthenticateArgs),
}

/// Flags of `kauthn serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Authentication flags (shared with `kauthn authenticate`).
    #[command(flatten)]
    pub authn: AuthnFlags,

    /// The port on which to serve HTTPS with authentication.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,

    /// The IP address on which to listen. kube-apiserver's default is 0.0.0.0; kauthn
    /// defaults to loopback so the development setup is never exposed by accident.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_address: std::net::IpAddr,

    /// File containing the default x509 certificate for HTTPS (CA certificate, if any,
    /// concatenated after the server certificate).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,

    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

/// Flags of `kauthn authenticate`.
#[derive(Debug, Args)]
pub struct AuthenticateArgs {
    /// Authentication flags (the same as `kauthn serve`).
    #[command(flatten)]
    pub authn: AuthnFlags,

    /// A bearer token to authenticate (as `Authorization: Bearer <token>`).
    #[arg(
        long,
        conflicts_with = "client_cert",
        required_unless_present = "client_cert"
    )]
    pub token: Option<String>,

    /// A PEM file with a client certificate chain (leaf first) to authenticate as if it
    /// had been presented in the TLS handshake.
    #[arg(long)]
    pub client_cert: Option<PathBuf>,

    /// The time to authenticate at, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

/// kube-apiserver's authentication flags, plus kauthn's `--bootstrap-token-secrets-dir`,
/// `--tokenreview-allowed-groups` and `--state-dir`.
#[derive(Debug, Args, Default, Clone)]
pub struct AuthnFlags {
    /// If set, any request presenting a client certificate signed by one of the
    /// authorities in the client-ca-file is authenticated with an identity corresponding
    /// to the CommonName of the client certificate.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,

    /// If set, the file that will be used to secure the secure port of the API server via
    /// token authentication.
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,

    /// Enable to allow secrets of type 'bootstrap.kubernetes.io/token' to be used for TLS
    /// bootstrapping authentication.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set)]
    pub enable_bootstrap_token_auth: Option<bool>,

    /// A directory of bootstrap token Secret manifests (YAML or JSON, as `kubectl get secret
    /// -o yaml` writes them); re-read when its files change. kauthn has no cluster to list
    /// Secrets from.
    #[arg(long)]
    pub bootstrap_token_secrets_dir: Option<PathBuf>,

    /// File containing PEM-encoded x509 RSA or ECDSA private or public keys (or
    /// certificates), used to verify ServiceAccount tokens (repeatable).
    #[arg(long, value_delimiter = ',')]
    pub service_account_key_file: Vec<PathBuf>,

    /// Identifier of the service account token issuer (repeatable: the first is the one
    /// kube-apiserver signs with, all are accepted).
    #[arg(long, value_delimiter = ',')]
    pub service_account_issuer: Vec<String>,

    /// If true, validate ServiceAccount tokens exist in etcd as part of authentication.
    /// Accepted for compatibility; kauthn has no cluster to look objects up in, so tokens
    /// are accepted on signature and claims alone (a warning is logged when this is true,
    /// the default, and legacy tokens are accepted).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set)]
    pub service_account_lookup: Option<bool>,

    /// Identifiers of the API. Tokens used against the API should be bound to at least one
    /// of these audiences. Defaults to the --service-account-issuer values.
    #[arg(long, value_delimiter = ',')]
    pub api_audiences: Vec<String>,

    /// The URL of the OpenID issuer, only HTTPS scheme will be accepted.
    #[arg(long)]
    pub oidc_issuer_url: Option<String>,

    /// The client ID for the OpenID Connect client.
    #[arg(long)]
    pub oidc_client_id: Option<String>,

    /// If set, the OpenID server's certificate will be verified by one of the authorities
    /// in the oidc-ca-file, otherwise the host's root CA set will be used.
    #[arg(long)]
    pub oidc_ca_file: Option<PathBuf>,

    /// The OpenID claim to use as the user name.
    #[arg(long)]
    pub oidc_username_claim: Option<String>,

    /// If provided, all usernames will be prefixed with this value.
    #[arg(long)]
    pub oidc_username_prefix: Option<String>,

    /// If provided, the name of a custom OpenID Connect claim for specifying user groups.
    #[arg(long)]
    pub oidc_groups_claim: Option<String>,

    /// If provided, all groups will be prefixed with this value.
    #[arg(long)]
    pub oidc_groups_prefix: Option<String>,

    /// Comma-separated list of allowed JOSE asymmetric signing algorithms (default RS256).
    #[arg(long, value_delimiter = ',')]
    pub oidc_signing_algs: Vec<String>,

    /// A key=value pair that describes a required claim in the ID Token (repeatable).
    #[arg(long)]
    pub oidc_required_claim: Vec<String>,

    /// File with Authentication Configuration to configure the JWT Token authenticator or
    /// the anonymous authenticator.
    #[arg(long)]
    pub authentication_config: Option<PathBuf>,

    /// File with webhook configuration for token authentication in kubeconfig format.
    #[arg(long)]
    pub authentication_token_webhook_config_file: Option<PathBuf>,

    /// The duration to cache responses from the webhook token authenticator.
    #[arg(long, default_value = "2m0s")]
    pub authentication_token_webhook_cache_ttl: String,

    /// The API version of the authentication.k8s.io TokenReview to send to and expect from
    /// the webhook.
    #[arg(long, default_value = "v1beta1")]
    pub authentication_token_webhook_version: String,

    /// Root certificate bundle to use to verify client certificates on incoming requests
    /// before trusting usernames in headers specified by --requestheader-username-headers.
    #[arg(long)]
    pub requestheader_client_ca_file: Option<PathBuf>,

    /// List of client certificate common names to allow to provide usernames in headers.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_allowed_names: Vec<String>,

    /// List of request headers to inspect for usernames. X-Remote-User is common.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_username_headers: Vec<String>,

    /// List of request headers to inspect for UIDs. X-Remote-Uid is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_uid_headers: Vec<String>,

    /// List of request headers to inspect for groups. X-Remote-Group is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_group_headers: Vec<String>,

    /// List of request header prefixes to inspect. X-Remote-Extra- is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_extra_headers_prefix: Vec<String>,

    /// Enables anonymous requests to the secure port of the API server. Requests that are
    /// not rejected by another authentication method are treated as anonymous requests.
    /// Default true.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set)]
    pub anonymous_auth: Option<bool>,

    /// Groups whose members may create TokenReviews (kube-apiserver leaves this to RBAC;
    /// kauthn has no authorizer).
    #[arg(long, value_delimiter = ',', default_value = "system:masters")]
    pub tokenreview_allowed_groups: Vec<String>,

    /// Where the development CA, certificates, token file and kubeconfig are kept
    /// (default: `$XDG_STATE_HOME/kauthn`, else `$HOME/.local/state/kauthn`, else
    /// `./.kauthn-state`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

impl AuthnFlags {
    /// True when no authenticator is configured by a flag, so the development setup from
    /// the state directory is used.
    pub fn no_authenticator_flags(&self) -> bool {
        self.client_ca_file.is_none()
            && self.token_auth_file.is_none()
            && self.enable_bootstrap_token_auth.is_none()
            && self.bootstrap_token_secrets_dir.is_none()
            && self.service_account_key_file.is_empty()
            && self.service_account_issuer.is_empty()
            && self.oidc_issuer_url.is_none()
            && self.oidc_client_id.is_none()
            && self.authentication_config.is_none()
            && self.authentication_token_webhook_config_file.is_none()
            && self.requestheader_client_ca_file.is_none()
    }
}
