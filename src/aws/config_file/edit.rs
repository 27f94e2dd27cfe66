//! Editing a parsed config file: [`ConfigFile::upsert`] changes only the lines of the section
//! it names, or appends the section; every other byte stays.

use super::*;

impl ConfigFile {
    /// Makes section `id` hold `set` (key, value) and none of the keys in `absent`.
    ///
    /// Nothing changes when it already does (the text stays byte-identical). A key with
    /// another value, or an `absent` key that is present, is a conflict: all of them are
    /// returned and nothing changes, unless `force` replaces (or removes) them in place.
    /// Missing keys are appended after the section's last setting (so before its trailing
    /// blank and comment lines); a missing section is appended at the end of the file after
    /// one blank line. No other line changes.
    pub fn upsert(
        &mut self,
        id: &SectionId,
        set: &[(&str, &str)],
        absent: &[&str],
        force: bool,
    ) -> Result<Edit, EditError> {
        match id {
            SectionId::Profile(n) | SectionId::SsoSession(n) if !is_valid_name(n) => {
                return Err(EditError::BadName(n.clone()))
            }
            SectionId::Other(t) if t.trim().is_empty() || t.contains(['[', ']', '\n', '\r']) => {
                return Err(EditError::BadName(t.clone()))
            }
            _ => {}
        }
        for (k, v) in set {
            if !is_valid_key(k) {
                return Err(EditError::BadKey(k.to_string()));
            }
            if !is_valid_value(v) {
                return Err(EditError::BadValue {
                    key: k.to_string(),
                    value: v.to_string(),
                });
            }
        }
        let nl = self.newline();
        let mut edit = Edit::default();
        let Some(at) = self.index(id) else {
            edit.created = true;
            edit.added = set.iter().map(|(k, _)| k.to_string()).collect();
            self.append_section(id, set);
            return Ok(edit);
        };
        let section = &self.sections[at];
        let mut missing = Vec::new();
        for (k, v) in set {
            match section.entry(k) {
                Some(e) if e.value() == *v => {}
                Some(e) => edit.replaced.push(Conflict {
                    section: id.clone(),
                    key: e.key.clone(),
                    old: e.value(),
                    new: Some(v.to_string()),
                }),
                None => missing.push((*k, *v)),
            }
        }
        for k in absent {
            if let Some(e) = section.entry(k) {
                edit.removed.push(Conflict {
                    section: id.clone(),
                    key: e.key.clone(),
                    old: e.value(),
                    new: None,
                });
            }
        }
        if !force && (!edit.replaced.is_empty() || !edit.removed.is_empty()) {
            let mut all = edit.replaced;
            all.extend(edit.removed);
            return Err(EditError::Conflicts(all));
        }
        let section = &mut self.sections[at];
        for c in &edit.replaced {
            let i = section.position(&c.key).expect("found above");
            let BodyLine::Entry(e) = &mut section.body[i] else {
                unreachable!("position finds entries")
            };
            let first = &e.lines[0];
            let ending = &first[content(first).len()..];
            let mut prefix = content(first)[..e.value_at].to_string();
            if !prefix.ends_with([' ', '\t']) {
                prefix.push(' ');
            }
            let new = c.new.as_deref().expect("replacements have a value");
            // Continuation lines belonged to the old value; the last one's ending is kept.
            let ending = if e.lines.len() > 1 {
                let last = e.lines.last().expect("several lines");
                last[content(last).len()..].to_string()
            } else {
                ending.to_string()
            };
            e.lines = vec![format!("{prefix}{new}{ending}")];
        }
        for c in &edit.removed {
            let i = section.position(&c.key).expect("found above");
            let removed = section.body.remove(i);
            // A file whose last line had no line ending keeps having none.
            let unterminated = {
                let mut s = String::new();
                removed.render_into(&mut s);
                !s.ends_with('\n')
            };
            if unterminated && i == section.body.len() {
                let last = match section.body.last_mut() {
                    Some(b) => b.last_line_mut(),
                    None => &mut section.header,
                };
                let len = content(last).len();
                last.truncate(len);
            }
        }
        if !missing.is_empty() {
            let pos = section
                .body
                .iter()
                .rposition(|b| matches!(b, BodyLine::Entry(_)))
                .map_or(0, |i| i + 1);
            {
                let before = match pos {
                    0 => &mut section.header,
                    p => section.body[p - 1].last_line_mut(),
                };
                if !before.ends_with('\n') {
                    before.push_str(nl);
                }
            }
            for (offset, (k, v)) in missing.iter().enumerate() {
                section
                    .body
                    .insert(pos + offset, BodyLine::Entry(new_entry(k, v, nl)));
                edit.added.push(k.to_string());
            }
        }
        Ok(edit)
    }

    fn append_section(&mut self, id: &SectionId, set: &[(&str, &str)]) {
        let nl = self.newline();
        let empty = self.preamble.is_empty() && self.sections.is_empty();
        let last: Option<&mut String> = match self.sections.last_mut() {
            Some(s) => Some(match s.body.last_mut() {
                Some(b) => b.last_line_mut(),
                None => &mut s.header,
            }),
            None => self.preamble.last_mut(),
        };
        let mut blank_before = !empty;
        if let Some(last) = last {
            if !last.ends_with('\n') {
                last.push_str(nl);
            }
            if content(last).trim().is_empty() {
                blank_before = false;
            }
        }
        if blank_before {
            match self.sections.last_mut() {
                Some(s) => s.body.push(BodyLine::Other(nl.to_string())),
                None => self.preamble.push(nl.to_string()),
            }
        }
        let inner = id.header();
        let inner = inner[1..inner.len() - 1].to_string();
        self.sections.push(Section {
            id: id.clone(),
            header: format!("{}{nl}", id.header()),
            inner,
            body: set
                .iter()
                .map(|(k, v)| BodyLine::Entry(new_entry(k, v, nl)))
                .collect(),
        });
    }
}

fn new_entry(key: &str, value: &str, nl: &str) -> Entry {
    Entry {
        key: key.to_string(),
        indent: 0,
        value_at: key.len() + 3,
        lines: vec![format!("{key} = {value}{nl}")],
    }
}
