//! The `mlship` command: parses arguments and hands them to the facade library.

fn main() -> std::process::ExitCode {
    mlship::cli::main(std::env::args_os())
}
