//! The `notification_urls` allow-list: a notification URL may be POSTed to only
//! when, parsed, it has the scheme, host and port of an allowed entry and a path
//! under the entry's path (on a segment boundary). URLs with userinfo
//! (`http://allowed@other/`) are refused outright: raw prefixes would let them
//! through to another host.

use url::Url;

/// Whether `target` is on the allow-list.
pub fn permitted(target: &str, allowed: &[String]) -> bool {
    let Ok(url) = Url::parse(target) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.host_str().is_none()
    {
        return false;
    }
    allowed.iter().any(|entry| matches_entry(&url, entry))
}

fn matches_entry(url: &Url, entry: &str) -> bool {
    let Ok(allowed) = Url::parse(entry) else {
        return false;
    };
    if !allowed.username().is_empty() || allowed.password().is_some() {
        return false;
    }
    // dewstack's choice: an entry whose port is written empty
    // (`http://127.0.0.1:`) allows every port of that host.
    let any_port = entry
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .is_some_and(|authority| authority.ends_with(':'));
    url.scheme() == allowed.scheme()
        && url.host() == allowed.host()
        && (any_port || url.port_or_known_default() == allowed.port_or_known_default())
        && path_under(url.path(), allowed.path())
}

/// `path` is `prefix` itself or lies below it.
fn path_under(path: &str, prefix: &str) -> bool {
    if prefix.ends_with('/') {
        return path.starts_with(prefix);
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::permitted;

    fn allow(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn userinfo_and_lookalike_hosts_are_refused() {
        let list = allow(&["http://allowed.example/"]);
        assert!(permitted("http://allowed.example/hook", &list));
        assert!(!permitted("http://allowed.example@other-host/", &list));
        assert!(!permitted("http://allowed.example:x@other-host/", &list));
        assert!(!permitted("http://user@allowed.example/hook", &list));
        assert!(!permitted("http://allowed.example.evil.com/", &list));
        assert!(!permitted("http://allowed.example:8080/", &list));
        assert!(!permitted("https://allowed.example/", &list));
        assert!(!permitted("ftp://allowed.example/", &list));
        assert!(!permitted("not a url", &list));
        assert!(permitted("HTTP://ALLOWED.example:80/x", &list));
    }

    #[test]
    fn paths_match_on_segment_boundaries() {
        let list = allow(&["https://hooks.example.com/csms"]);
        assert!(permitted("https://hooks.example.com/csms", &list));
        assert!(permitted("https://hooks.example.com/csms/a", &list));
        assert!(!permitted("https://hooks.example.com/csms-evil", &list));
        assert!(!permitted("https://hooks.example.com/csms/../admin", &list));
        assert!(!permitted("https://hooks.example.com/other", &list));
        let list = allow(&["https://hooks.example.com/csms/"]);
        assert!(permitted("https://hooks.example.com/csms/x", &list));
        assert!(!permitted("https://hooks.example.com/csmsx", &list));
    }

    #[test]
    fn ports_and_empty_entries() {
        let list = allow(&["http://127.0.0.1:"]);
        assert!(permitted("http://127.0.0.1:9/hook", &list));
        assert!(!permitted("http://127.0.0.1.evil.com:9/hook", &list));
        assert!(!permitted("http://127.0.0.1:@evil.com/", &list));
        let list = allow(&["http://127.0.0.1:9000/"]);
        assert!(permitted("http://127.0.0.1:9000/a", &list));
        assert!(!permitted("http://127.0.0.1:9001/a", &list));
        assert!(!permitted("http://x/", &allow(&[""])));
        assert!(!permitted("http://x/", &allow(&["http://"])));
        assert!(!permitted("http://x/", &[]));
    }
}
