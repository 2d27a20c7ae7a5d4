//! `kauthn`: kube-apiserver's authentication as a standalone HTTPS front.
//!
//! This crate is the binary's std side (DESIGN.md, "The kauthn binary"): kube-apiserver's
//! flags ([`flags`]), reading and validating files ([`config`], [`bootstrap_dir`],
//! [`authn_config`], [`kubeconfig`]), the authentication chain over the core
//! ([`chain`]), the HTTPS server ([`server`]) and its API objects ([`api`]), metrics
//! ([`metrics`]), the development setup ([`dev`]), and the outbound HTTPS pieces the JWT
//! and webhook authenticators need ([`http_client`], [`jwks`], [`webhook`]).
//!
//! Choices: clap (derive) for flags; tokio, hyper 1 and hyper-util for HTTP/1.1 and
//! HTTP/2; rustls with the `ring` provider (lighter to build than aws-lc-rs) through
//! tokio-rustls; rcgen for the development CA; k8s-openapi (`v1_32`) for JSON objects and
//! k8s-pb for Kubernetes protobuf; serde_norway (a maintained serde_yaml fork) for YAML;
//! tracing for structured logs. Metrics are written in the Prometheus text format by hand
//! (two metric families do not justify a registry crate). rustls-native-certs supplies the
//! host's roots when `--oidc-ca-file` (or a webhook kubeconfig's CA) is not given.
//!
//! # Strategies
//! Every kube-apiserver strategy is wired, in its order (spec §2.1): request header (front
//! proxy), x509, then behind the 10 s token cache the token file, legacy and bound
//! service-account tokens, bootstrap tokens, the JWT/OIDC authenticators (`--oidc-*` or
//! `--authentication-config` `jwt`, keys fetched by [`jwks`]) and the TokenReview webhook
//! in its own TTL cache ([`webhook`]), and anonymous last.
//!
//! # Differences from kube-apiserver
//! * `--service-account-lookup` is accepted but cannot be honoured: there is no cluster, so
//!   legacy tokens are not checked against their Secret and ServiceAccount, and bound tokens
//!   not against live Pods, Secrets and Nodes. The start-up log says so.
//! * `--service-account-issuer` needs `--service-account-key-file` (or, as kube-apiserver
//!   completes it, `--tls-private-key-file`); there is no `--service-account-signing-endpoint`.
//!   Issuers are checked for emptiness and duplicates, not parsed as URLs.
//! * With `--requestheader-client-ca-file` set, an unset `--requestheader-*-headers` list
//!   takes the delegating authenticator's default (`X-Remote-User`, `X-Remote-Uid`,
//!   `X-Remote-Group`, `X-Remote-Extra-`); kube-apiserver leaves them empty.
//! * No CEL: a configuration that uses an expression is refused at start-up with
//!   `CEL expressions are not supported`; `egressSelectorType` is ignored (logged).
//! * The configuration file is read once at start-up (kube-apiserver re-reads it).
// A std-only binary crate: `std::` paths are the natural ones here, unlike in the no_std
// core that the workspace lints are written for.
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

pub mod api;
pub mod authn_config;
pub mod bootstrap_dir;
pub mod chain;
pub mod config;
pub mod dev;
pub mod flags;
pub mod http_client;
pub mod jwks;
pub mod kubeconfig;
pub mod metrics;
pub mod server;
pub mod webhook;

mod run;
#[cfg(test)]
mod testutil;

pub use run::main;
