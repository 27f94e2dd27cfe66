//! The okscript binary: everything happens in `okscript::cli`.

fn main() -> std::process::ExitCode {
    okscript::cli::main()
}
