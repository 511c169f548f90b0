//! 2.4: one log stream, whole lines, each with its time and source.

use crate::support;

/// `HH:MM:SS.mmm web-N | web-N line 00042 aaaa…` with 600 of one letter, matching its source.
fn well_formed(line: &str) -> Result<(), String> {
    let (time, rest) = line.split_once(' ').ok_or("no time")?;
    let t: Vec<&str> = time.split([':', '.']).collect();
    if t.len() != 4
        || t.iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("{time:?} is not HH:MM:SS.mmm"));
    }
    let (source, rest) = rest
        .split_once(" | ")
        .ok_or("no `source | ` after the time")?;
    let mut words = rest.split(' ');
    let (name, _, _, body) = (
        words.next(),
        words.next(),
        words.next(),
        words.next().unwrap_or(""),
    );
    if name != Some(source) {
        return Err(format!("printed by {name:?} but labelled {source:?}"));
    }
    let letter = if source.ends_with('0') { 'a' } else { 'b' };
    if body.len() != 600 || !body.chars().all(|c| c == letter) {
        return Err("its text is cut or mixed with another instance's".into());
    }
    Ok(())
}

#[tokio::test]
async fn lines_from_two_instances_never_mix_and_carry_time_and_source() {
    let dir = support::temp_dir();
    let log_file = dir.path().join("minipm.log");
    let mut minipm = support::start_in(
        dir,
        &format!(
            "log_file = {:?}\n\n{}",
            log_file,
            support::worker_app("instances = 2\nenv = { PORT = \"0\", CHATTER = \"200\" }")
        ),
    );

    // Both instances print 200 lines, then `ready`: 1,200 small writes through minipm, each
    // waiting for a turn on a core. Measured here: 0.1 s idle, 0.3 s beside two busy loops,
    // over 5 s under `just verify` (some ten busy processes on 2 cores). The test is about
    // whole lines, not speed: it waits while minipm prints, and fails once it goes quiet.
    minipm
        .nth_ready_after_chatter(2, "Both instances should print their lines, then `ready`.")
        .await;
    let output = minipm.server.output();
    let chatter: Vec<&str> = output.lines().filter(|l| l.contains(" line ")).collect();
    let bad: Vec<String> = chatter
        .iter()
        .filter_map(|l| well_formed(l).err().map(|why| format!("{why}: {:.80}…", l)))
        .collect();
    assert!(
        chatter.len() >= 400 && bad.is_empty(),
        "minipm printed {} lines from its instances, {} of them not whole, time-stamped and \
         labelled, e.g.\n  {}\nEach line must arrive whole (read lines, not chunks) and be \
         printed in one piece as `HH:MM:SS.mmm web-0 | …` by one writer. See 2.4.",
        chatter.len(),
        bad.len(),
        bad.first()
            .map_or("(none: but fewer than 400 lines arrived)", String::as_str)
    );
    let file = std::fs::read_to_string(&log_file).unwrap_or_default();
    let in_file = file
        .lines()
        .filter(|l| l.contains(" line ") && well_formed(l).is_ok())
        .count();
    assert!(
        in_file >= 400,
        "the log file {} holds {in_file} of the 400 lines: write every line to it too. See 2.4.",
        log_file.display()
    );
}
