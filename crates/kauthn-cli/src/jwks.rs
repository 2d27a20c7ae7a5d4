//! JWKS (placeholder)
