//! The `bindspace` program: `bindspace --help` lists what it does.

use clap::Parser;

fn main() {
    let cli = bindspace_host::cli::Cli::parse();
    if let Err(e) = bindspace_host::cli::run(cli) {
        eprintln!("bindspace: error: {e}");
        std::process::exit(1);
    }
}
