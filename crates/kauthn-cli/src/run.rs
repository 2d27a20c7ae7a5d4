//! The subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;

use crate::api;
use crate::chain::{AuthOutcome, Chain};
use crate::config::{self, ConfigError};
use crate::dev::{DevState, default_state_dir, files};
use crate::flags::{AuthenticateArgs, AuthnFlags, Cli, Command, ServeArgs};
use crate::metrics::Metrics;
use crate::server::{self, AppState};

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Authenticate(args) => authenticate(args),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kauthn: {e}");
            ExitCode::from(2)
        }
    }
}

/// The flags with the development setup filled in when no authenticator flag is given;
/// the state too when it is used (also for the serving certificate).
fn resolve(
    flags: &AuthnFlags,
    need_tls: bool,
) -> Result<(AuthnFlags, Option<(DevState, bool)>), ConfigError> {
    let dev = flags.no_authenticator_flags();
    let mut flags = flags.clone();
    if !dev && !need_tls {
        return Ok((flags, None));
    }
    let dir = flags.state_dir.clone().unwrap_or_else(default_state_dir);
    let (state, created) = DevState::ensure(&dir)?;
    if dev {
        flags.client_ca_file = Some(state.path(files::CA_CERT));
        flags.token_auth_file = Some(state.path(files::TOKENS));
    }
    Ok((flags, Some((state, created))))
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    init_logs(&args.log_format);
    let need_tls = match (&args.tls_cert_file, &args.tls_private_key_file) {
        (Some(_), Some(_)) => false,
        (None, None) => true,
        _ => {
            return Err(Box::new(ConfigError::new(
                "--tls-cert-file",
                "",
                "--tls-cert-file and --tls-private-key-file must be given together",
            )));
        }
    };
    let (mut flags, state) = resolve(&args.authn, need_tls)?;
    // kube-apiserver's completion: with issuers but no key file, the serving key verifies
    // service-account tokens.
    if !flags.service_account_issuer.is_empty()
        && flags.service_account_key_file.is_empty()
        && let Some(key) = &args.tls_private_key_file
    {
        tracing::info!(file = %key.display(), "--service-account-key-file defaults to --tls-private-key-file");
        flags.service_account_key_file.push(key.clone());
    }
    let cfg = config::load(&flags)?;
    let (cert_file, key_file): (PathBuf, PathBuf) =
        match (&args.tls_cert_file, &args.tls_private_key_file, &state) {
            (Some(c), Some(k), _) => (c.clone(), k.clone()),
            (_, _, Some((st, _))) => (st.path(files::SERVER_CERT), st.path(files::SERVER_KEY)),
            _ => return Err("no serving certificate".into()),
        };
    let read = |p: &PathBuf, flag: &str| {
        std::fs::read(p).map_err(|e| ConfigError::new(p.display().to_string(), flag, e.to_string()))
    };
    let tls = server::tls_config(
        &read(&cert_file, "--tls-cert-file")?,
        &read(&key_file, "--tls-private-key-file")?,
    )
    .map_err(|e| ConfigError::new(cert_file.display().to_string(), "", e))?;
    let groups = cfg.tokenreview_allowed_groups.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let addr = SocketAddr::new(args.bind_address, args.secure_port);
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            ConfigError::new("--secure-port", "", format!("listen tcp {addr}: {e}"))
        })?;
        let local = listener.local_addr()?;
        let chain = Chain::build(cfg)?;
        chain.start_background();
        tracing::info!(strategies = ?chain.strategies, "authentication chain");
        let url = match local.ip() {
            ip if ip.is_unspecified() => format!("https://127.0.0.1:{}", local.port()),
            std::net::IpAddr::V6(ip) => format!("https://[{ip}]:{}", local.port()),
            ip => format!("https://{ip}:{}", local.port()),
        };
        let mut out = std::io::stdout().lock();
        if let Some((st, created)) = &state
            && args.authn.no_authenticator_flags()
        {
            st.write_kubeconfig(&url)?;
            if *created {
                writeln!(out, "created a development CA, certificates and tokens")?;
            }
            writeln!(out, "{}", st.instructions(&url))?;
        }
        writeln!(out, "kauthn: serving on {url}")?;
        out.flush()?;
        drop(out);
        let state = Arc::new(AppState {
            chain,
            metrics: Metrics::default(),
            tokenreview_allowed_groups: groups,
        });
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        };
        server::serve(listener, Arc::new(tls), state, shutdown).await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn authenticate(args: AuthenticateArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (flags, _) = resolve(&args.authn, false)?;
    let cfg = config::load(&flags)?;
    let now = match &args.now {
        Some(t) => {
            kauthn::UnixTime::parse_rfc3339(t.as_bytes())
                .map_err(|e| ConfigError::new("--now", "", format!("{t:?}: {e}")))?
                .0
        }
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            kauthn::UnixTime::from_secs(i64::try_from(secs)?)
        }
    };
    let chain = Chain::build(cfg)?;
    // JWT keys are fetched once, before the single authentication; the chain's own waits
    // (a refetch, a webhook call) then run on temporary runtimes (`http_client::block_on`).
    if chain.does_io() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(chain.load_keys_once());
    }
    let bearer = args.token.as_ref().map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &[u8])> = bearer
        .as_ref()
        .map(|b| ("authorization", b.as_bytes()))
        .into_iter()
        .collect();
    let certs: Vec<Vec<u8>> = match &args.client_cert {
        Some(p) => {
            use rustls::pki_types::{CertificateDer, pem::PemObject as _};
            let pem = std::fs::read(p).map_err(|e| {
                ConfigError::new(p.display().to_string(), "--client-cert", e.to_string())
            })?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .map(|c| c.map(|c| c.to_vec()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ConfigError::new(p.display().to_string(), "--client-cert", e.to_string())
                })?;
            if certs.is_empty() {
                return Err(Box::new(ConfigError::new(
                    p.display().to_string(),
                    "--client-cert",
                    "no CERTIFICATE block",
                )));
            }
            certs
        }
        None => Vec::new(),
    };
    let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
    let outcome = chain.authenticate(&headers, "/", &refs, chain.api_audiences(), now);
    let result = match outcome {
        AuthOutcome::Authenticated(u) => api::ReviewResult {
            user: Some(u),
            error: None,
        },
        AuthOutcome::Failure => api::ReviewResult::default(),
        AuthOutcome::Error(e) => api::ReviewResult {
            user: None,
            error: Some(e),
        },
    };
    let ok = result.user.is_some();
    let status = api::token_review_status(&result);
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
