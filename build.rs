// The migrations are embedded at compile time (`sqlx::migrate!`): build
// again when one is added or changed, not only when a source file is.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
