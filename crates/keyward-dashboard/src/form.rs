//! Form bodies and query strings (`application/x-www-form-urlencoded`).

/// The decoded fields of a form or query string, in order; a name may repeat
/// (`capabilities`).
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Decodes `bytes`; `None` when they are not a form.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Fields> {
        serde_urlencoded::from_bytes(bytes).ok().map(Fields)
    }

    /// The query string's fields; a malformed one counts as empty.
    pub(crate) fn query(query: Option<&str>) -> Fields {
        query
            .and_then(|q| Fields::parse(q.as_bytes()))
            .unwrap_or_default()
    }

    /// The first value of `name`.
    pub(crate) fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether `content_type` is `application/x-www-form-urlencoded` (parameters such as
/// `charset` allowed).
pub(crate) fn is_form(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let essence = value.split(|b| *b == b';').next().unwrap_or_default();
    essence
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_repeat_and_decode() {
        let fields = Fields::parse(b"name=a+b%21&capabilities=x&capabilities=y").unwrap();
        assert_eq!(fields.first("name"), Some("a b!"));
        assert_eq!(fields.all("capabilities").collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(fields.first("csrf"), None);
    }

    #[test]
    fn form_content_types() {
        assert!(is_form(Some(b"application/x-www-form-urlencoded")));
        assert!(is_form(Some(
            b"Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        )));
        assert!(!is_form(Some(b"application/json")));
        assert!(!is_form(Some(b"multipart/form-data; boundary=x")));
        assert!(!is_form(None));
    }
}
