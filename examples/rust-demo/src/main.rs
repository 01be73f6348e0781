//! The demo's Rust leg: one flaky service driven through
//! fallback(retry(breaker(service))) on virtual time, printing the trace
//! format of `examples/README.md`.
//!
//! Usage: `resilience-demo SCENARIO.json OUT.trace`

mod scenario;
mod trace;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scenario_path), Some(out_path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: resilience-demo SCENARIO.json OUT.trace");
        return ExitCode::from(2);
    };
    let result = scenario::Scenario::load(scenario_path).and_then(|s| {
        let lines = s.run()?;
        let text = lines.join("\n") + "\n";
        print!("{text}");
        std::fs::write(out_path, text).map_err(|e| format!("writing {out_path}: {e}"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
