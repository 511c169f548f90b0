//! `reset` then `restore` gives back every byte of the learner's work.

use crate::common::Workbook;

#[test]
fn reset_then_restore_gives_back_every_byte_of_the_learners_files() {
    let wb = Workbook::new();
    let add = "exercises/ch01-alpha/src/add.rs";
    let greet = "exercises/ch01-alpha/src/greet.rs";
    let notes = "exercises/ch01-alpha/src/notes.rs";
    let starter = wb.read(add);
    // No final newline, CRLF, a byte that is not UTF-8: exactly as the learner left them.
    let mine: &[u8] = b"pub fn add(a: i64, b: i64) -> i64 {\r\n    a + b // \xff caf\xc3\xa9\r\n}";
    wb.write(add, mine);
    wb.write(
        greet,
        "pub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n",
    );
    let my_greet = wb.read(greet);
    wb.write(notes, "// a file of my own, not saved anywhere else\n");

    wb.run(&["reset", "chapter1", "--yes"]).assert_code(0);
    assert_eq!(wb.read(add), starter, "reset did not put the starter back");
    assert_eq!(
        wb.read(notes),
        b"// a file of my own, not saved anywhere else\n",
        "reset touched a file the learner added"
    );

    wb.run(&["restore", "chapter1", "--yes"]).assert_code(0);
    assert_eq!(wb.read(add), mine, "restore did not give back every byte");
    assert_eq!(wb.read(greet), my_greet);
    assert_eq!(
        wb.read(notes),
        b"// a file of my own, not saved anywhere else\n"
    );
}
