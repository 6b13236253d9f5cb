//! Progress bars on stderr: one per table (rows, bytes, ETA) and one for the attachment files
//! (bytes, files, ETA). Nothing is drawn when stderr is not a terminal (logs, CI, a test).

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one run.
#[derive(Debug)]
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    /// Bars on stderr if it is a terminal and `show` is set, else none.
    pub fn new(show: bool) -> Progress {
        let visible = show && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar for a table of `rows` rows.
    pub fn table(&self, name: &str, rows: u64) -> Bar {
        let bar = self.multi.add(ProgressBar::new(rows));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>20} [{bar:30}] {human_pos:>9}/{human_len:9} rows {msg:>10} {eta:>4}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_owned());
        Bar { bar, files: None }
    }

    /// A bar for `files` attachment files of `bytes` bytes in all.
    pub fn files(&self, files: u64, bytes: u64) -> Bar {
        let bar = self.multi.add(ProgressBar::new(bytes));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>20} [{bar:30}] {bytes:>9}/{total_bytes:9} {msg} {bytes_per_sec} {eta:>4}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix("attachment files");
        bar.set_message(format!("0/{files} files"));
        Bar {
            bar,
            files: Some(files),
        }
    }
}

/// One table's (or the files') bar.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    /// The number of files, for the files' bar.
    files: Option<u64>,
}

impl Bar {
    /// `done` rows (or files) of `bytes` bytes so far.
    pub fn set(&self, done: u64, bytes: u64) {
        if let Some(files) = self.files {
            self.bar.set_position(bytes);
            self.bar.set_message(format!("{done}/{files} files"));
        } else {
            self.bar.set_position(done);
            self.bar.set_message(HumanBytes(bytes).to_string());
        }
    }

    pub fn finish(&self) {
        self.bar.finish();
    }
}
