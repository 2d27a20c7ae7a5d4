//! webhook (placeholder)
