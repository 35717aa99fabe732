//! Analysis: the theme matrix (counted from attributions kept in memory),
//! co-occurrence and the theme table built on the matrix.

pub mod attributions;
pub mod joint_display;
pub mod matrix;
pub mod options;
pub mod theme_table;

pub use attributions::Attributions;
