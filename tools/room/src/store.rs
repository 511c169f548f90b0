//! The room's memory: SQLite, embedded (rusqlite's bundled build: nothing to install), so that
//! closing the room, or the laptop's battery, loses nothing. Each report is one transaction.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::limits::Report;
use crate::manifest::Section;

/// Letters and digits that cannot be misread aloud (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

#[derive(Debug)]
pub(crate) struct Store {
    /// One connection: SQLite serialises writers anyway, and a class's writes take well under a
    /// millisecond each. A std Mutex, held only inside `spawn_blocking`, never across an await.
    conn: Mutex<Connection>,
    /// Each section's place in the book, to tell a learner's first failure.
    order: HashMap<String, usize>,
}

/// One learner's row of the instructor's table.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Learner {
    pub(crate) name: String,
    pub(crate) runs: u64,
    /// Milliseconds since the epoch of their last report.
    pub(crate) updated: i64,
    /// Section id → (passed, total).
    pub(crate) cells: BTreeMap<String, (u32, u32)>,
    /// Their first failure (in the book's order), and since when it is the same.
    pub(crate) failure: Option<Failure>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Failure {
    pub(crate) section: String,
    pub(crate) sentence: String,
    pub(crate) since: i64,
}

impl Store {
    pub(crate) fn open(path: &Path, sections: &[Section]) -> Result<Store> {
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        // WAL: readers (the page) never wait for the writer; NORMAL sync is durable across a
        // crash of the process, which is what a restart of the room is.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS room (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS learner (
               id TEXT PRIMARY KEY, name TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 0,
               updated INTEGER NOT NULL,
               fail_section TEXT, fail_sentence TEXT, fail_since INTEGER);
             CREATE TABLE IF NOT EXISTS verdict (
               learner TEXT NOT NULL, section TEXT NOT NULL, passed INTEGER NOT NULL,
               total INTEGER NOT NULL, failure TEXT, at INTEGER NOT NULL,
               PRIMARY KEY (learner, section));",
        )
        .with_context(|| format!("preparing {}", path.display()))?;
        let order = sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(Store {
            conn: Mutex::new(conn),
            order,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room's join code: made once, kept, so that learners who joined before a restart are
    /// still in.
    pub(crate) fn code(&self) -> Result<String> {
        let conn = self.conn();
        let kept: Option<String> = conn
            .query_row("SELECT value FROM room WHERE key = 'code'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(code) = kept {
            return Ok(code);
        }
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let code: String = random
            .iter()
            .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
            .collect();
        conn.execute(
            "INSERT INTO room (key, value) VALUES ('code', ?1)",
            params![code],
        )?;
        Ok(code)
    }

    /// Keeps a report (already checked): the learner's name, each section's verdict, and their
    /// first failure, whose `since` moves only when it changes.
    pub(crate) fn record(&self, report: &Report, now: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let run = i64::from(!report.sections.is_empty());
        tx.execute(
            "INSERT INTO learner (id, name, runs, updated) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = ?2, runs = runs + ?3, updated = ?4",
            params![report.learner, report.name.trim(), run, now],
        )?;
        for v in &report.sections {
            let failure = v.failure.as_deref().filter(|_| v.passed < v.total);
            tx.execute(
                "INSERT INTO verdict (learner, section, passed, total, failure, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (learner, section) DO UPDATE
                 SET passed = ?3, total = ?4, failure = ?5, at = ?6",
                params![report.learner, v.id, v.passed, v.total, failure, now],
            )?;
        }
        let first = {
            let mut stmt = tx.prepare(
                "SELECT section, COALESCE(failure, '') FROM verdict
                 WHERE learner = ?1 AND passed < total",
            )?;
            let failing = stmt
                .query_map(params![report.learner], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            failing
                .into_iter()
                .min_by_key(|(section, _)| self.order.get(section).copied().unwrap_or(usize::MAX))
        };
        let kept: (Option<String>, Option<String>) = tx.query_row(
            "SELECT fail_section, fail_sentence FROM learner WHERE id = ?1",
            params![report.learner],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match first {
            Some((section, sentence))
                if kept.0.as_deref() != Some(&section) || kept.1.as_deref() != Some(&sentence) =>
            {
                tx.execute(
                    "UPDATE learner SET fail_section = ?2, fail_sentence = ?3, fail_since = ?4
                     WHERE id = ?1",
                    params![report.learner, section, sentence, now],
                )?;
            }
            Some(_) => {}
            None => {
                tx.execute(
                    "UPDATE learner SET fail_section = NULL, fail_sentence = NULL,
                     fail_since = NULL WHERE id = ?1",
                    params![report.learner],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every learner, by name.
    pub(crate) fn learners(&self) -> Result<Vec<Learner>> {
        let conn = self.conn();
        let mut by_id: BTreeMap<String, Learner> = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT id, name, runs, updated, fail_section, fail_sentence, fail_since FROM learner",
        )?;
        let rows = stmt.query_map([], |r| {
            let failure = match (r.get(4)?, r.get(5)?, r.get(6)?) {
                (Some(section), Some(sentence), Some(since)) => Some(Failure {
                    section,
                    sentence,
                    since,
                }),
                _ => None,
            };
            Ok((
                r.get::<_, String>(0)?,
                Learner {
                    name: r.get(1)?,
                    runs: r.get(2)?,
                    updated: r.get(3)?,
                    cells: BTreeMap::new(),
                    failure,
                },
            ))
        })?;
        for row in rows {
            let (id, learner) = row?;
            by_id.insert(id, learner);
        }
        let mut stmt = conn.prepare("SELECT learner, section, passed, total FROM verdict")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, u32>(3)?,
            ))
        })?;
        for row in rows {
            let (id, section, passed, total) = row?;
            if let Some(learner) = by_id.get_mut(&id) {
                learner.cells.insert(section, (passed, total));
            }
        }
        let mut learners: Vec<Learner> = by_id.into_values().collect();
        learners.sort_by_key(|a| a.name.to_lowercase());
        Ok(learners)
    }
}
