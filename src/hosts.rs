//! Hosts as HTTP names them: the authority of a `Host` header or an origin, normalized, and
//! the hosts of `--allowed-hosts`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A host of `--allowed-hosts`: a name or an IP literal, lowercase, without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct AllowedHost(String);

impl AllowedHost {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AllowedHost {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err(
                "an empty host (a stray comma, or an empty SOUNDCHECK_ALLOWED_HOSTS: unset it for none)"
                    .to_owned(),
            );
        }
        if let Ok(ip) = s.parse::<Ipv6Addr>() {
            return Ok(AllowedHost(Host::Ip(IpAddr::V6(ip).to_canonical()).to_string()));
        }
        match Authority::parse(s) {
            Some(Authority { host, port: None }) => Ok(AllowedHost(host.to_string())),
            Some(Authority { host, port: Some(_) }) => Err(format!(
                "give `{s}` without its port (`{host}`): every port of an allowed host is allowed"
            )),
            None => Err(format!("`{s}` is not a host name or an IP address")),
        }
    }
}

/// The host of a `Host` header or an origin, normalized: names lowercase without a trailing
/// dot, IPv4-mapped IPv6 as IPv4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

impl Host {
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Ip(ip) => ip.is_loopback(),
            // RFC 6761 §6.3: `localhost` and its subdomains are loopback, and browsers resolve
            // them so without asking DNS, which a rebinding attacker would need.
            Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
        }
    }
}

/// `host[:port]` as in a `Host` header (RFC 9110 §7.2): no user info, IPv6 in brackets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    pub host: Host,
    pub port: Option<u16>,
}

impl Authority {
    pub fn parse(s: &str) -> Option<Authority> {
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            let ip: Ipv6Addr = inside.parse().ok()?;
            (Host::Ip(IpAddr::V6(ip).to_canonical()), after)
        } else {
            let (name, after) = match s.find(':') {
                Some(i) => s.split_at(i),
                None => (s, ""),
            };
            (parse_name(name)?, after)
        };
        let port = match port {
            "" | ":" => None,
            port => {
                let digits = port.strip_prefix(':')?;
                if digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Some(digits.parse().ok()?)
            }
        };
        Some(Authority { host, port })
    }
}

/// A registered name or an IPv4 literal; one trailing dot (the DNS root) is dropped.
fn parse_name(name: &str) -> Option<Host> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(ip)));
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (name.len() <= 253 && name.split('.').all(label_ok)).then_some(Host::Name(name))
}

/// `scheme://host[:port]` of an `Origin` header; `None` for `null` and anything else.
pub fn parse_origin(s: &str) -> Option<(String, Authority)> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    Some((scheme, Authority::parse(rest)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(s: &str) -> Option<(String, Option<u16>)> {
        Authority::parse(s).map(|a| (a.host.to_string(), a.port))
    }

    #[test]
    fn hosts_parse_with_brackets_ports_case_and_trailing_dots() {
        let some = |host: &str, port: Option<u16>| Some((host.to_owned(), port));
        let cases = [
            ("localhost", some("localhost", None)),
            ("LocalHost:8080", some("localhost", Some(8080))),
            ("localhost.:8080", some("localhost", Some(8080))),
            ("localhost:", some("localhost", None)),
            ("127.0.0.1:65535", some("127.0.0.1", Some(65535))),
            ("127.0.0.1.", some("127.0.0.1", None)),
            ("[::1]:8080", some("[::1]", Some(8080))),
            ("[::1]", some("[::1]", None)),
            ("[0:0:0:0:0:0:0:1]", some("[::1]", None)),
            ("[::ffff:127.0.0.1]:80", some("127.0.0.1", Some(80))),
            ("Soundcheck:8080", some("soundcheck", Some(8080))),
            ("my_project-soundcheck-1", some("my_project-soundcheck-1", None)),
            ("", None),
            (":8080", None),
            ("::1", None),
            ("[::1", None),
            ("[::1]8080", None),
            ("[evil.example]", None),
            ("localhost:65536", None),
            ("localhost:80a", None),
            ("localhost:+80", None),
            ("user@localhost", None),
            ("local host", None),
            ("localhost..", None),
            ("evil.example/path", None),
        ];
        for (input, expected) in cases {
            assert_eq!(authority(input), expected, "{input:?}");
        }
    }

    #[test]
    fn loopback_names_and_addresses_are_loopback() {
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.9.8.7",
            "[::1]",
            "[::ffff:127.0.0.2]",
        ] {
            assert!(Authority::parse(host).expect(host).host.is_loopback(), "{host}");
        }
        for host in [
            "localhost.evil.example",
            "evillocalhost",
            "10.0.0.1",
            "[::2]",
            "0.0.0.0",
            "[::]",
        ] {
            assert!(!Authority::parse(host).expect(host).host.is_loopback(), "{host}");
        }
    }

    #[test]
    fn origins_are_a_web_scheme_and_an_authority() {
        let origin = |s: &str| parse_origin(s).map(|(scheme, a)| (scheme, a.host.to_string(), a.port));
        assert_eq!(
            origin("HTTP://LOCALHOST:3000"),
            Some(("http".to_owned(), "localhost".to_owned(), Some(3000)))
        );
        assert_eq!(
            origin("https://[::1]"),
            Some(("https".to_owned(), "[::1]".to_owned(), None))
        );
        for refused in [
            "null",
            "file://",
            "chrome-extension://abc",
            "http://",
            "http://a/b",
            "localhost:3000",
        ] {
            assert_eq!(origin(refused), None, "{refused}");
        }
    }

    #[test]
    fn allowed_hosts_are_names_or_addresses_without_ports() {
        assert_eq!(
            "Soundcheck.".parse::<AllowedHost>(),
            Ok(AllowedHost("soundcheck".to_owned()))
        );
        assert_eq!(
            "10.0.0.5".parse::<AllowedHost>(),
            Ok(AllowedHost("10.0.0.5".to_owned()))
        );
        assert_eq!(
            "FD00::1".parse::<AllowedHost>(),
            Ok(AllowedHost("[fd00::1]".to_owned()))
        );
        assert_eq!(
            "[fd00::1]".parse::<AllowedHost>(),
            Ok(AllowedHost("[fd00::1]".to_owned()))
        );
        let with_port = "soundcheck:8080".parse::<AllowedHost>().expect_err("a port");
        assert!(with_port.contains("without its port"), "{with_port}");
        assert!("".parse::<AllowedHost>().expect_err("empty").contains("empty"));
        assert!("http://soundcheck".parse::<AllowedHost>().is_err());
    }
}
