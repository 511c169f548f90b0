//! The service's settings, from the environment (chapter 3 showed how; this one is kept short).

use std::net::IpAddr;
use std::time::Duration;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST`, default 0.0.0.0.
    pub host: IpAddr,
    /// `PORT`, default 8080; 0 picks a free port (the tests do that).
    pub port: u16,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default `ch05:`: every key the service writes starts with it.
    pub prefix: String,
    /// `INSTANCE`: this copy's name in answers and logs; default the host name (a container id).
    pub instance: String,
    /// `SHUTDOWN_TIMEOUT` seconds, default 10.
    pub shutdown_timeout: Duration,
    /// `SHUTDOWN_DELAY` seconds, default 0: how long readiness fails before draining starts, so
    /// the load balancer stops sending first (5.2, 5.5).
    pub shutdown_delay: Duration,
    /// `SESSION_TTL` seconds, default 1800.
    pub session_ttl: Duration,
    /// `RATE_LIMIT`: requests per client per `RATE_WINDOW` seconds (default 600 per 60).
    pub rate_limit: u32,
    /// `RATE_WINDOW` seconds, default 60.
    pub rate_window: Duration,
    /// `TRUSTED_PROXIES`: the balancers whose `X-Real-IP` the rate limit believes (5.4), as
    /// addresses or networks, comma-separated (`127.0.0.1,10.0.0.0/8`). Default: none, so every
    /// client counts by the address it connects from.
    pub trusted_proxies: TrustedProxies,
}

/// The addresses a request may come from to have its `X-Real-IP` header believed: the load
/// balancers in front of this service, nobody else (5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Is `ip` one of them? An IPv4 client on an IPv6 socket (`::ffff:10.0.0.5`) counts as
    /// the IPv4 address it is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// `10.0.0.5`, `10.0.0.0/8`, `::1` or `fd00::/8`, comma-separated; spaces are ignored.
    fn from_str(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = item.split_once('/').unwrap_or((item, ""));
            let addr: IpAddr = addr.parse().map_err(|_| {
                format!("{item:?} is not an IP address (hosts are not resolved: give addresses)")
            })?;
            let addr = addr.to_canonical();
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() {
                max
            } else {
                match bits.parse::<u8>() {
                    Ok(b) if b <= max => b,
                    _ => return Err(format!("{item:?}: the prefix length must be 0 to {max}")),
                }
            };
            nets.push((addr, bits));
        }
        Ok(TrustedProxies(nets))
    }
}

impl Config {
    /// Reads the environment; a bad value is an error naming the variable.
    pub fn from_env() -> Result<Config, String> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}={v}: not a valid value")),
                _ => Ok(default),
            }
        }
        let secs = |name: &str, default: u64| var(name, default).map(Duration::from_secs);
        let instance = std::env::var("INSTANCE")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| format!("pid-{}", std::process::id()));
        Ok(Config {
            host: var("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: var("PORT", 8080)?,
            redis_url: var("REDIS_URL", "redis://127.0.0.1:6379".to_string())?,
            prefix: var("REDIS_KEY_PREFIX", "ch05:".to_string())?,
            instance: instance.chars().take(12).collect(),
            shutdown_timeout: secs("SHUTDOWN_TIMEOUT", 10)?,
            shutdown_delay: secs("SHUTDOWN_DELAY", 0)?,
            session_ttl: secs("SESSION_TTL", 1800)?,
            rate_limit: var("RATE_LIMIT", 600)?,
            rate_window: secs("RATE_WINDOW", 60)?,
            trusted_proxies: match std::env::var("TRUSTED_PROXIES") {
                Ok(list) => list
                    .parse()
                    .map_err(|e| format!("TRUSTED_PROXIES={list}: {e}"))?,
                Err(_) => TrustedProxies::default(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TrustedProxies;

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let t: TrustedProxies = "127.0.0.1, 10.0.0.0/8,fd00::/8".parse().unwrap();
        for yes in ["127.0.0.1", "10.1.2.3", "::ffff:10.9.9.9", "fd12::1"] {
            assert!(t.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "::1", "fe80::1"] {
            assert!(!t.contains(no.parse().unwrap()), "{no}");
        }
        assert!(!TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
        let all: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn a_bad_trusted_proxy_says_what_is_wrong() {
        let err = "10.0.0.1,lb".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("\"lb\" is not an IP address"), "{err}");
        let err = "10.0.0.0/33".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("0 to 32"), "{err}");
    }
}
