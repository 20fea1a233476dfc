//! Field-level validation errors: every error names the field it is about, carries a stable machine
//! code, and a [`Message`] from the catalogue, said in the reader's language where it is answered.

use crate::Message;

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (API name, e.g. `uscc`, `region_code`).
    pub field: String,
    /// Stable machine code, e.g. `invalid_check_character`.
    pub code: String,
    /// What is wrong, as a catalogue key and its arguments.
    pub message: Message,
    /// The field named a record the writer may not read. Said to the client exactly as an unknown
    /// record is (so nothing about the other record shows); kept apart only to audit the write as
    /// `denied`.
    pub refused: bool,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: Message) -> Self {
        Self { field: field.to_owned(), code: code.to_owned(), message, refused: false }
    }

    /// The same error, marked as a reference to a record the writer may not read.
    pub fn refused(mut self) -> Self {
        self.refused = true;
        self
    }

    /// The message in the requested language (`zh…` for Chinese, anything else English).
    pub fn message_in(&self, lang: &str) -> String {
        self.message.render(lang)
    }

    /// The same error re-attached to another field name (e.g. a code parsed for `parent_uscc`).
    pub fn on_field(mut self, field: &str) -> Self {
        self.field = field.to_owned();
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// All the problems found in one input, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the errors of `more` about fields that have none here yet (a field that did not parse has
    /// nothing more to say about what it refers to).
    pub fn merge_new_fields(&mut self, more: FieldErrors) {
        for e in more.0 {
            if !self.0.iter().any(|seen| seen.field == e.field) {
                self.0.push(e);
            }
        }
    }

    /// Records the error of a parse and returns the value if it parsed.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Whether some error is a reference to a record the writer may not read.
    pub fn any_refused(&self) -> bool {
        self.0.iter().any(|e| e.refused)
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}
