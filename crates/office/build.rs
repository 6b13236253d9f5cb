//! Rebuild when the console's build output changes: release builds embed `console/dist`, and a
//! proc macro cannot tell cargo about files added to a folder. Before the first `npm run build` the
//! folder does not exist; then watch `console/` for it to appear (a path that does not exist would
//! rerun this on every build).
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if Path::new("../../console/dist").is_dir() {
        println!("cargo:rerun-if-changed=../../console/dist");
    } else if Path::new("../../console").is_dir() {
        println!("cargo:rerun-if-changed=../../console");
    }
}
