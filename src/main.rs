//! The `bedrock-eval` binary: parse the command line, call the library, map errors to exit codes.

fn main() {
    println!("bedrock-eval {}", env!("CARGO_PKG_VERSION"));
}
