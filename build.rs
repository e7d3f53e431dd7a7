// include_dir! cannot tell cargo which files it read (that needs a nightly
// API), so the console's assets are declared here: editing one rebuilds the
// binary that embeds it.
fn main() {
    println!("cargo:rerun-if-changed=console/web");
    println!("cargo:rerun-if-changed=build.rs");
}
