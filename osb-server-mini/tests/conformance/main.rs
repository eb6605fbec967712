//! Conformance tests of the runtime, by CHECKLIST part A section: each item the runtime owns,
//! at two levels — the request handler called directly (no sockets), and a real `Server` on
//! 127.0.0.1:0 over HTTP — and, where `osb check` has a check for it, the `osb-conformance`
//! check run against the runtime ([`support::library_checks`]). Every test asserts the status,
//! the JSON body, the relevant headers and the state afterwards.
//!
//! One broker and catalog serve them all ([`support::TestBroker`]); the harnesses check what
//! every answer must satisfy (a JSON object body, A16; the request identity echoed, A6; the
//! A11 error shape).

mod support;

mod a10_unbind;
mod a11_deprovision;
mod a1_async;
mod a1_errors;
mod a1_headers;
mod a2_catalog;
mod a3_provision;
mod a4_fetch_instance;
mod a5_update;
mod a6_instance_last_operation;
mod a7_bind;
mod a8_fetch_binding;
mod a9_binding_last_operation;
