//! Shared helpers for the osb-rs end-to-end tests.
