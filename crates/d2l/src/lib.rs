//! # d2l: the library of *Dive into Deep Learning in Rust*
//!
//! Almost everything here is **generated** by `d2l-book lib` from the book's `//@save` cells, in
//! book order: a module per chapter (see [`generated`]), each item documented with the section
//! that defines and explains it. Edit the book, not `src/generated/`, then run
//! `cargo run -p d2l-book -- lib`.
//!
//! This file and [`runtime`] are the hand-written rest: what no section teaches.

pub mod generated;
pub mod runtime;

pub use burn;
pub use generated::*;
pub use runtime::{Scale, device, in_book, scale, show_svg};

/// What every section program imports: burn's prelude, the device and scale helpers, and every
/// item the book has saved so far.
pub mod prelude {
    pub use crate::generated::prelude::*;
    pub use crate::runtime::{Scale, device, in_book, scale, show_svg};
    pub use burn::prelude::*;
}
