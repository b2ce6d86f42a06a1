//! The `bindspace` program: `bindspace --help` lists what it does.

use clap::error::ErrorKind;
use clap::Parser;

fn main() {
    let cli = match bindspace_host::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // Help and version asked for (or no subcommand given): clap's
            // own text is the answer.
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            // A command line that does not parse: one line, like every
            // other failure, and exit status 2 (usage), not 1.
            _ => {
                // clap's message is its first paragraph (usage follows).
                let text = e.to_string();
                let message = text.split("\n\n").next().unwrap_or_default();
                let message = message.strip_prefix("error: ").unwrap_or(message);
                let message: Vec<&str> = message.lines().map(str::trim).collect();
                eprintln!(
                    "bindspace: error: {} (`bindspace --help` lists the commands and options)",
                    message.join(" ")
                );
                std::process::exit(2);
            }
        },
    };
    if let Err(e) = bindspace_host::cli::run(cli) {
        eprintln!("bindspace: error: {e}");
        std::process::exit(1);
    }
}
