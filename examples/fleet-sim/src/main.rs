//! `make sim`: runs both experiments, prints the tables, and writes
//! `results.json` and `report.html` (default directory `target/sim`).
//!
//! Usage: `fleet-sim [--out DIR] [--seed N] [--runs N]` (`--runs`: runs
//! averaged per point of the AWS study, default 100).

use std::path::PathBuf;
use std::process::ExitCode;

use resilience_fleet_sim::{fleet::Scenario, report, run};

fn main() -> ExitCode {
    let mut out = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned())).join("sim");
    let (mut seed, mut runs) = (42u64, 100u32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let parsed = match (arg.as_str(), value) {
            ("--out", Some(v)) => {
                out = PathBuf::from(v);
                true
            }
            ("--seed", Some(v)) => v.parse().map(|s| seed = s).is_ok(),
            ("--runs", Some(v)) => v.parse().map(|r: u32| runs = r.max(1)).is_ok(),
            _ => false,
        };
        if !parsed {
            eprintln!("usage: fleet-sim [--out DIR] [--seed N] [--runs N]");
            return ExitCode::from(2);
        }
    }
    let results = run(Scenario::standard(seed), runs);
    print!("{}", report::table(&results));
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| std::fs::write(out.join("results.json"), report::json(&results)))
        .and_then(|()| std::fs::write(out.join("report.html"), report::html(&results)));
    if let Err(e) = written {
        eprintln!("fleet-sim: cannot write to {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!(
        "\nwrote {} and {}",
        out.join("results.json").display(),
        out.join("report.html").display()
    );
    ExitCode::SUCCESS
}
