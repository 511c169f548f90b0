//! `if:` conditions, the small expression language of GitHub Actions: strings, `github.*` and
//! `secrets.*` names, `==`, `!=`, `!`, `&&`, `||`, parentheses, and the status functions
//! `success()`, `failure()` and `always()`. Given, not an exercise.

use crate::workflow::Context;

// ANCHOR: evaluate
/// How the jobs a job needs have ended, for the status functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Every needed job succeeded (or there were none).
    Succeeded,
    /// At least one needed job failed or was skipped.
    Failed,
}

/// Evaluates `condition` (with or without `${{ }}` around it). A job or step with no condition
/// runs only if everything before it succeeded: that is `success()`.
pub fn evaluate(
    condition: Option<&str>,
    ctx: &Context,
    upstream: Upstream,
) -> Result<bool, String> {
    let Some(text) = condition else {
        return Ok(upstream == Upstream::Succeeded);
    };
    let text = text.trim();
    let text = text
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .unwrap_or(text);
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        ctx,
        upstream,
        uses_status: false,
    };
    let value = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(format!(
            "unexpected {:?} in `if: {text}`",
            parser.tokens[parser.pos]
        ));
    }
    // As in Actions: without a status function, `success() &&` is implied.
    let status_ok = parser.uses_status || upstream == Upstream::Succeeded;
    Ok(status_ok && truthy(&value))
}
// ANCHOR_END: evaluate

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Name(String),
    Call(String),
    Op(&'static str),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unclosed string in `{text}`")),
                        // '' is an escaped quote inside a string.
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Str(s));
            }
            '=' | '!' | '&' | '|' => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let op = match two.as_str() {
                    "==" => "==",
                    "!=" => "!=",
                    "&&" => "&&",
                    "||" => "||",
                    _ if c == '!' => "!",
                    _ => return Err(format!("unknown operator at {two:?} in `{text}`")),
                };
                i += op.len();
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "_-.".contains(chars[i]))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&')') {
                    i += 2;
                    tokens.push(Token::Call(word));
                } else {
                    tokens.push(Token::Name(word));
                }
            }
            other => return Err(format!("unexpected {other:?} in `{text}`")),
        }
    }
    Ok(tokens)
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Str(s) => !s.is_empty(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => s.clone(),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    ctx: &'a Context,
    upstream: Upstream,
    uses_status: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Value, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Op("||")) {
            self.pos += 1;
            let right = self.and()?;
            left = Value::Bool(truthy(&left) || truthy(&right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut left = self.compare()?;
        while self.peek() == Some(&Token::Op("&&")) {
            self.pos += 1;
            let right = self.compare()?;
            left = Value::Bool(truthy(&left) && truthy(&right));
        }
        Ok(left)
    }

    fn compare(&mut self) -> Result<Value, String> {
        let left = self.unary()?;
        match self.peek() {
            Some(Token::Op(op @ ("==" | "!="))) => {
                let equal = *op == "==";
                self.pos += 1;
                let right = self.unary()?;
                // Actions compares strings case-insensitively.
                let same = text_of(&left).eq_ignore_ascii_case(&text_of(&right));
                Ok(Value::Bool(same == equal))
            }
            _ => Ok(left),
        }
    }

    fn unary(&mut self) -> Result<Value, String> {
        if self.peek() == Some(&Token::Op("!")) {
            self.pos += 1;
            let v = self.unary()?;
            return Ok(Value::Bool(!truthy(&v)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Value, String> {
        let token = self.peek().cloned().ok_or("the condition ends too early")?;
        self.pos += 1;
        match token {
            Token::Str(s) => Ok(Value::Str(s)),
            Token::Name(n) if n == "true" => Ok(Value::Bool(true)),
            Token::Name(n) if n == "false" => Ok(Value::Bool(false)),
            Token::Name(n) => Ok(Value::Str(self.ctx.lookup(&n))),
            Token::Call(f) => {
                self.uses_status = true;
                match f.as_str() {
                    "success" => Ok(Value::Bool(self.upstream == Upstream::Succeeded)),
                    "failure" => Ok(Value::Bool(self.upstream == Upstream::Failed)),
                    "always" => Ok(Value::Bool(true)),
                    other => Err(format!("unknown function {other}()")),
                }
            }
            Token::Open => {
                let v = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a `(` is not closed".into());
                }
                self.pos += 1;
                Ok(v)
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(branch: &str, cond: &str) -> bool {
        evaluate(
            Some(cond),
            &Context::push(branch, "abc"),
            Upstream::Succeeded,
        )
        .unwrap()
    }

    #[test]
    fn branch_conditions() {
        assert!(on("main", "github.ref == 'refs/heads/main'"));
        assert!(!on("feature", "github.ref == 'refs/heads/main'"));
        assert!(on(
            "main",
            "${{ github.ref == 'refs/heads/main' && github.event_name == 'push' }}"
        ));
        assert!(on("feature", "github.ref != 'refs/heads/main' || false"));
        assert!(!on("main", "!(github.ref_name == 'main')"));
    }

    #[test]
    fn status_functions_and_the_implied_success() {
        let ctx = Context::push("main", "abc");
        assert!(!evaluate(None, &ctx, Upstream::Failed).unwrap());
        assert!(!evaluate(Some("github.ref_name == 'main'"), &ctx, Upstream::Failed).unwrap());
        assert!(evaluate(Some("always()"), &ctx, Upstream::Failed).unwrap());
        assert!(evaluate(Some("failure()"), &ctx, Upstream::Failed).unwrap());
    }

    #[test]
    fn bad_conditions_are_errors() {
        let ctx = Context::default();
        assert!(evaluate(Some("github.ref == 'main"), &ctx, Upstream::Succeeded).is_err());
        assert!(evaluate(Some("nope()"), &ctx, Upstream::Succeeded).is_err());
    }
}
