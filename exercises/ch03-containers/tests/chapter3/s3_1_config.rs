//! 3.1: configuration from the environment, called directly (no process, no container).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use service::config::{AppEnv, Config, ConfigError, LogLevel, Secret, Vars, with_dotenv};

const KEY: &str = "k3y-0123456789abcdef";

fn vars(pairs: &[(&str, &str)]) -> Vars {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn problems(result: Result<Config, ConfigError>, what: &str) -> Vec<String> {
    match result {
        Ok(config) => panic!(
            "{what}: `Config::from_vars` accepted it and returned {config:?}.\n\
             A service that starts with a wrong setting fails later, somewhere else, with a \
             worse message. Return `Err(ConfigError {{ problems }})` instead. See 3.1."
        ),
        Err(err) => err.problems,
    }
}

fn assert_problem(problems: &[String], needle: &str, why: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem containing {needle:?} ({why}); the problems were:\n  {}\nSee 3.1.",
        problems.join("\n  ")
    );
}

#[test]
fn defaults_fit_a_container() {
    let config = Config::from_vars(&vars(&[("API_KEY", KEY)])).unwrap_or_else(|err| {
        panic!("with only API_KEY set, every other setting has a default; got: {err}. See 3.1.")
    });
    assert_eq!(
        config.host,
        IpAddr::from([0, 0, 0, 0]),
        "HOST should default to 0.0.0.0. Inside a container 127.0.0.1 is the container's own \
         loopback: `docker run -p 8080:8080` forwards to the container's network interface, and \
         a service bound to 127.0.0.1 refuses every one of those connections. See 3.1."
    );
    assert_eq!(config.port, 8080, "PORT should default to 8080. See 3.1.");
    assert_eq!(
        config.log_level,
        LogLevel::Info,
        "LOG_LEVEL should default to info. See 3.1."
    );
    assert_eq!(
        config.shutdown_timeout,
        Duration::from_secs(10),
        "SHUTDOWN_TIMEOUT should default to 10 seconds, Docker's own stop timeout (chapter 1). \
         See 3.1."
    );
    assert_eq!(config.redis_url, None, "REDIS_URL is optional. See 3.1.");
    assert_eq!(
        config.app_env,
        AppEnv::Production,
        "APP_ENV should default to production: forgetting to set it must never switch \
         development behaviour on in a deployment. See 3.1."
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = problems(
        Config::from_vars(&vars(&[
            ("PORT", "abc"),
            ("LOG_LEVEL", "loud"),
            ("SHUTDOWN_TIMEOUT", "soon"),
            ("HOST", "localhost:80"),
        ])),
        "PORT=abc, LOG_LEVEL=loud, SHUTDOWN_TIMEOUT=soon, HOST=localhost:80 and no API_KEY",
    );
    assert_problem(
        &found,
        "PORT=abc: not a port number",
        "name, value, what is wrong",
    );
    assert_problem(
        &found,
        "LOG_LEVEL=loud: not a log level",
        "name, value, what is wrong",
    );
    assert_problem(
        &found,
        "SHUTDOWN_TIMEOUT=soon: not a whole number of seconds",
        "name, value, what is wrong",
    );
    assert_problem(
        &found,
        "HOST=localhost:80: not an IP address",
        "name, value, what is wrong",
    );
    assert_problem(&found, "API_KEY: required", "a secret has no default");
    assert_eq!(
        found.len(),
        5,
        "five variables are wrong, so five problems, one each, all at once (a deploy that fails \
         should say everything wrong with it, not one thing per attempt). Got:\n  {}\nSee 3.1.",
        found.join("\n  ")
    );
    let text = ConfigError { problems: found }.to_string();
    assert!(
        text.contains("5 problems") && text.contains("\n  - PORT=abc"),
        "ConfigError's Display should count the problems and list one per line, like\n\
         the configuration has 5 problems:\n  - PORT=abc: not a port number (0 to 65535)\n\
         …\nbut it printed:\n{text}\nSee 3.1."
    );
}

#[test]
fn a_short_or_missing_api_key_is_refused_without_quoting_it() {
    let short = "hunter2";
    let found = problems(
        Config::from_vars(&vars(&[("API_KEY", short)])),
        "API_KEY=hunter2 (7 characters)",
    );
    assert_problem(
        &found,
        "API_KEY: too short (7 characters; at least 16)",
        "its length, not its value",
    );
    assert!(
        !found.iter().any(|p| p.contains(short)),
        "a problem quotes the API key itself: {found:?}. Error messages end up in logs, and \
         logs are read by far more people than should know a secret. Name the variable and the \
         rule, never the value. See 3.1."
    );
    let found = problems(
        Config::from_vars(&vars(&[("API_KEY", "   ")])),
        "API_KEY made of spaces",
    );
    assert_problem(
        &found,
        "API_KEY: required",
        "an empty or blank value counts as not set",
    );
}

#[test]
fn secrets_are_redacted_in_debug_and_display() {
    let password = "s3cr3t-pa55word";
    let config = Config::from_vars(&vars(&[
        ("API_KEY", KEY),
        (
            "REDIS_URL",
            &format!("redis://default:{password}@cache:6379/0"),
        ),
    ]))
    .unwrap_or_else(|err| panic!("a valid configuration was refused: {err}. See 3.1."));
    let debug = format!("{config:?}");
    for (secret, name) in [(KEY, "API_KEY"), (password, "the password in REDIS_URL")] {
        assert!(
            !debug.contains(secret),
            "`{{:?}}` of the Config prints {name}:\n{debug}\nThe service logs its configuration \
             at start-up (main.rs), and a Debug derive prints every field. Give `Secret` and \
             `RedisUrl` hand-written Debug and Display impls. See 3.1."
        );
    }
    assert!(
        debug.contains("[redacted]") && debug.contains("cache:6379"),
        "the Debug output should still show the shape: `[redacted]` where the secrets were, and \
         the Redis host, which is not secret:\n{debug}\nSee 3.1."
    );
    let secret = Secret::new("plain-text-secret");
    assert_eq!(
        (format!("{secret}"), format!("{secret:?}")),
        ("[redacted]".to_string(), "[redacted]".to_string()),
        "Display and Debug of a Secret should both print `[redacted]`. See 3.1."
    );
    assert_eq!(
        secret.expose(),
        "plain-text-secret",
        "`expose` returns the value."
    );
    let bad = problems(
        Config::from_vars(&vars(&[
            ("API_KEY", KEY),
            ("REDIS_URL", &format!("http://admin:{password}@cache:6379")),
        ])),
        "REDIS_URL=http://admin:…@cache:6379",
    );
    assert_problem(
        &bad,
        "REDIS_URL=",
        "a URL that is not redis:// or rediss://",
    );
    assert!(
        !bad.iter().any(|p| p.contains(password)),
        "the REDIS_URL problem quotes its password: {bad:?}. Print the redacted URL. See 3.1."
    );
}

#[test]
fn dotenv_is_read_only_in_development_and_never_wins() {
    let dir = test_support::TempDir::with_prefix("ch03-dotenv-").unwrap();
    let file = dir.path().join(".env");
    std::fs::write(
        &file,
        "# local development only\nAPP_ENV=development\nAPI_KEY=from-dotenv-0123456789\nPORT=7000\nexport LOG_LEVEL=\"debug\"\n",
    )
    .unwrap();

    let dev = with_dotenv(vars(&[("APP_ENV", "development"), ("PORT", "9000")]), &file)
        .unwrap_or_else(|err| panic!("reading a valid .env failed: {err}. See 3.1."));
    assert_eq!(
        dev.get("API_KEY").map(String::as_str),
        Some("from-dotenv-0123456789"),
        "with APP_ENV=development, the variables of .env should be added. See 3.1."
    );
    assert_eq!(
        dev.get("PORT").map(String::as_str),
        Some("9000"),
        "PORT=9000 is set in the real environment and .env says 7000: the real environment \
         wins, so `PORT=9000 cargo run` means port 9000 even with a .env. See 3.1."
    );

    // The file says APP_ENV=development too, as a developer's .env often does: only the real
    // environment decides whether the file is read, or a stray .env in an image would switch
    // development behaviour on in a deployment where APP_ENV is unset.
    for env in [
        vars(&[("APP_ENV", "production")]),
        HashMap::new(), // APP_ENV unset means production
    ] {
        let prod = with_dotenv(env.clone(), &file)
            .unwrap_or_else(|err| panic!("with_dotenv failed: {err}. See 3.1."));
        assert_eq!(
            prod,
            env,
            "outside development (APP_ENV={:?}), a .env file must be ignored: configuration \
             comes from the platform, and a stray file must not change a deployment. \
             with_dotenv added {:?}. See 3.1.",
            env.get("APP_ENV"),
            prod.keys()
                .filter(|k| !env.contains_key(*k))
                .collect::<Vec<_>>()
        );
    }

    // Development without a .env file is normal (a fresh clone, or everything exported).
    let without = vars(&[("APP_ENV", "development"), ("API_KEY", KEY)]);
    match with_dotenv(without.clone(), &dir.path().join("no-such.env")) {
        Ok(env) => assert_eq!(
            env, without,
            "with APP_ENV=development and no .env file, the environment is used as it is. See 3.1."
        ),
        Err(err) => panic!(
            "with APP_ENV=development and no .env file, with_dotenv failed: {err}. The file is \
             optional: if it cannot be read, use the environment as it is. See 3.1."
        ),
    }
}
