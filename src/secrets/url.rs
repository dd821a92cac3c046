//! Credentials in a URL's userinfo (`https://user:pass@host/v1`).

use std::borrow::Cow;

/// `url` with the userinfo of its authority (everything before the last `@` ahead of the
/// path, query or fragment) replaced by `…[redacted]`: the host stays readable, the user name
/// and password do not.
pub fn mask_url_userinfo(url: &str) -> Cow<'_, str> {
    let Some(scheme) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let start = scheme + 3;
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!("{}…[redacted]{}", &url[..start], &rest[at..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url_userinfo;

    #[test]
    fn masks_the_userinfo_and_keeps_the_rest() {
        for (url, masked) in [
            ("https://user:pass@host/v1", "https://…[redacted]@host/v1"),
            ("http://tok@127.0.0.1:9", "http://…[redacted]@127.0.0.1:9"),
            (
                "https://a:b@c@host:8/x?y=@z",
                "https://…[redacted]@host:8/x?y=@z",
            ),
            ("https://host/v1?to=a@b", "https://host/v1?to=a@b"),
            ("https://api.openai.com/v1", "https://api.openai.com/v1"),
            ("not a url @ all", "not a url @ all"),
        ] {
            assert_eq!(mask_url_userinfo(url), masked, "{url}");
        }
    }
}
