//! Progress bars on standard error (hidden when it is not a terminal, as in tests and pipes).

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A running count with its rate, for work whose total is not known in advance (windows cut
/// from records as they stream past).
pub fn counter(what: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} {{human_pos}} {unit} ({{per_sec}}) {{elapsed}}"
        ))
        .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}
