//! `d2l-book`: builds *Dive into Deep Learning in Rust* from its Markdown sources.
//!
//! The pipeline, one module per stage: [`parse`] -> [`library`] -> [`program`] -> [`build`] ->
//! [`run`] -> [`render`], driven by [`pipeline`]; [`cache`] keeps real outputs between builds.

pub mod build;
pub mod cache;
pub mod cmd;
pub mod config;
pub mod diag;
pub mod fsutil;
pub mod library;
pub mod parse;
pub mod pipeline;
pub mod program;
pub mod render;
pub mod run;
pub mod sourcemap;
pub mod workspace;
