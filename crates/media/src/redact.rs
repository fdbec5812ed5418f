//! Credentials out of everything printed: URLs and free text (GStreamer debug strings repeat
//! the location they were given).

/// The URL with any `user:password@` removed; the user name goes too, being half a credential.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => redact_userinfo(url),
    }
}

/// Removes `scheme://userinfo@` from every URL-like run in `text`, and each given secret.
pub fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = redact_userinfo(text);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "<redacted>");
    }
    out
}

fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => out.push_str(&authority[userinfo_end + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_userinfo() {
        assert_eq!(
            redact_url("rtsp://admin:pw@10.0.0.5:554/s1"),
            "rtsp://10.0.0.5:554/s1"
        );
        assert_eq!(redact_url("rtsp://10.0.0.5/s1"), "rtsp://10.0.0.5/s1");
        assert_eq!(
            redact_url("not a url user:pw@host"),
            "not a url user:pw@host"
        );
    }

    #[test]
    fn free_text_loses_userinfo_and_secrets() {
        let text = "Could not open rtsp://u:s3cret@cam:554/a (401) pass=s3cret";
        let out = redact_text(text, &["s3cret"]);
        assert!(!out.contains("s3cret"), "{out}");
        assert!(out.contains("rtsp://cam:554/a"), "{out}");
        // A quote inside the password does not end the redaction.
        let quoted = redact_text("open 'rtsp://admin:it's@cam/x' failed", &[]);
        assert_eq!(quoted, "open 'rtsp://cam/x' failed");
    }
}
