//! An e-mail as the city receives it (SES stores the raw MIME; a fax
//! gateway sends one with the document attached), read with `mail-parser`:
//! plain and HTML-only bodies, any charset a Polish mailbox uses
//! (ISO-8859-2, Windows-1250, UTF-8), quoted replies trimmed, attachments
//! with their declared type (checked by content where kept), and what
//! tells an automatic message from a person's.

use mail_parser::{MessageParser, MimeHeaders};

use crate::contact::Email;
use crate::ids::CaseNumber;

/// The longest text kept from a message (the request's description limit).
pub const MAX_EMAIL_TEXT_CHARS: usize = 4000;

/// What SES's scanning said (`X-SES-Spam-Verdict`, `X-SES-Virus-Verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Gray, processing failed, or not scanned.
    Unknown,
}

impl Verdict {
    fn of(header: Option<&str>) -> Self {
        match header.map(|h| h.trim().to_ascii_uppercase()) {
            Some(h) if h == "PASS" => Verdict::Pass,
            Some(h) if h == "FAIL" => Verdict::Fail,
            _ => Verdict::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAttachment {
    pub name: Option<String>,
    /// As the sender declared it (lower case); what is kept is checked by content.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    pub from: Option<Email>,
    /// Every To and Cc address, lower case (plus-addressed replies show here).
    pub recipients: Vec<String>,
    pub subject: String,
    /// The body as text, the quoted earlier messages cut off.
    pub text: String,
    /// `In-Reply-To` and `References` message ids.
    pub replies_to: Vec<String>,
    /// Why this message must not be answered (an auto-reply, a list, bulk).
    pub automatic: Option<&'static str>,
    pub spam: Verdict,
    pub virus: Verdict,
    /// Whether the sender is who `From` says (SES's SPF, DKIM and DMARC
    /// verdicts; the stored headers alone cannot tell, so `true` until the
    /// receipt says otherwise).
    pub sender_verified: bool,
    pub attachments: Vec<EmailAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the message is not MIME that can be read")]
    Unreadable,
}

/// Reads a raw message.
pub fn parse_email(raw: &[u8]) -> Result<InboundEmail, EmailError> {
    let message = MessageParser::default()
        .parse(raw)
        // Something a mail always has: a sender, a subject or an id.
        .filter(|m| m.from().is_some() || m.subject().is_some() || m.message_id().is_some())
        .ok_or(EmailError::Unreadable)?;
    let header = |name: &'static str| message.header_raw(name).map(str::trim);
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|a| Email::parse(a).ok());
    let recipients = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_lowercase)
        .collect();
    let body = message
        .body_text(0)
        .map(|t| t.into_owned())
        .or_else(|| message.body_html(0).map(|h| h.into_owned()))
        .unwrap_or_default();
    let text: String = trim_quoted(&body)
        .chars()
        .take(MAX_EMAIL_TEXT_CHARS)
        .collect();
    let mut replies_to = Vec::new();
    for value in [message.in_reply_to(), message.references()] {
        if let Some(list) = value.as_text_list() {
            replies_to.extend(list.iter().map(|id| id.trim().to_owned()));
        }
    }
    let automatic = match (header("Auto-Submitted"), header("Precedence")) {
        (Some(a), _) if !a.eq_ignore_ascii_case("no") => Some("auto-submitted"),
        (_, Some(p))
            if ["bulk", "list", "junk", "auto_reply"]
                .contains(&p.to_ascii_lowercase().as_str()) =>
        {
            Some("bulk")
        }
        _ if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() => {
            Some("auto-reply")
        }
        _ if header("List-Id").is_some() => Some("mailing list"),
        _ => None,
    };
    let attachments = message
        .attachments()
        .map(|part| EmailAttachment {
            name: part.attachment_name().map(str::to_owned),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase(),
            bytes: part.contents().to_vec(),
        })
        .collect();
    Ok(InboundEmail {
        from,
        recipients,
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        text,
        replies_to,
        automatic,
        spam: Verdict::of(header("X-SES-Spam-Verdict")),
        virus: Verdict::of(header("X-SES-Virus-Verdict")),
        sender_verified: true,
        attachments,
    })
}

/// Lines that start the quoted earlier message in a reply (Polish and
/// English mail programs); a forwarded message is kept, it is the report.
fn starts_quote(line: &str) -> bool {
    let l = line.trim();
    let lower = l.to_lowercase();
    (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || (lower.starts_with("w dniu ")
            && (lower.ends_with("pisze:") || lower.ends_with("napisał(a):")))
        || (lower.starts_with("dnia ") && lower.ends_with("napisał(a):"))
        || lower.starts_with("-----original message-----")
        || lower.starts_with("-----wiadomość oryginalna-----")
        || lower.starts_with("-----oryginalna wiadomość-----")
        || (lower.starts_with("from:") && lower.contains("sent:"))
}

/// The new part of a reply: up to the first quote header or `>` line,
/// whitespace tidied.
pub fn trim_quoted(body: &str) -> String {
    let mut kept = Vec::new();
    for line in body.lines() {
        if starts_quote(line) || line.trim_start().starts_with('>') {
            break;
        }
        kept.push(line.trim_end());
    }
    let text = kept.join("\n");
    let text = text.trim();
    // A signature separator ends the message too.
    match text.find("\n-- \n").or_else(|| text.find("\n--\n")) {
        Some(at) => text[..at].trim().to_owned(),
        None => text.to_owned(),
    }
}

/// A case number a reply names: a plus-addressed recipient
/// (`requests+7H3K-9QX2@…`), else the subject ("Re: … zgłoszenie 7H3K-9QX2").
pub fn case_named(email: &InboundEmail, local_part: &str) -> Option<CaseNumber> {
    let plus = format!("{}+", local_part.to_lowercase());
    email
        .recipients
        .iter()
        .filter_map(|r| r.split_once('@').map(|(local, _)| local))
        .filter_map(|local| local.strip_prefix(&plus))
        .find_map(|case| CaseNumber::parse(case).ok())
        .or_else(|| {
            email
                .subject
                .split(|c: char| c.is_whitespace() || "[]():,".contains(c))
                .filter(|w| w.len() == 9 && w.as_bytes().get(4) == Some(&b'-'))
                .find_map(|w| CaseNumber::parse(w).ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &[u8]) -> InboundEmail {
        parse_email(raw).unwrap()
    }

    #[test]
    fn polish_text_in_every_charset_and_an_html_only_body() {
        let plain = read(include_bytes!("../../../../events/email/plain-utf8.eml"));
        assert_eq!(
            plain.from.as_ref().map(Email::as_str),
            Some("anna.nowak@example.pl")
        );
        assert_eq!(plain.subject, "Śmieci przed blokiem");
        assert!(plain.text.starts_with("Dzień dobry"), "{}", plain.text);
        assert!(
            !plain.text.contains("Wysłane z telefonu"),
            "the signature is cut: {}",
            plain.text
        );
        assert_eq!(
            (plain.spam, plain.virus, plain.automatic),
            (Verdict::Pass, Verdict::Pass, None)
        );

        let html = read(include_bytes!(
            "../../../../events/email/html-only-iso-8859-2.eml"
        ));
        assert!(
            html.text.contains("Nie świeci latarnia przy ul. Długa 20"),
            "{}",
            html.text
        );
        assert!(!html.text.contains("<p>"), "{}", html.text);

        let cp1250 = read(include_bytes!("../../../../events/email/windows-1250.eml"));
        assert!(
            cp1250.text.contains("Źródło problemu: liście"),
            "{}",
            cp1250.text
        );
        assert_eq!(
            cp1250.from.as_ref().map(Email::as_str),
            Some("ewa@example.pl")
        );
    }

    #[test]
    fn a_reply_is_trimmed_of_the_quote_and_names_its_case() {
        let reply = read(include_bytes!("../../../../events/email/reply-to-case.eml"));
        assert_eq!(
            reply.text,
            "Dziura jest coraz większa, dziś wpadł w nią rowerzysta."
        );
        assert_eq!(
            case_named(&reply, "requests")
                .map(|c| c.to_string())
                .as_deref(),
            Some("7H3K-9QX2")
        );
        assert_eq!(reply.replies_to.len(), 2, "{:?}", reply.replies_to);
        // The subject alone names it too.
        let mut by_subject = reply.clone();
        by_subject.recipients = vec!["311@krakow.example".into()];
        assert!(case_named(&by_subject, "requests").is_some());
        let plain = read(include_bytes!("../../../../events/email/plain-utf8.eml"));
        assert_eq!(case_named(&plain, "requests"), None);
    }

    #[test]
    fn a_forward_keeps_the_report_and_attachments_are_listed() {
        let fwd = read(include_bytes!("../../../../events/email/forwarded.eml"));
        assert!(fwd.text.contains("namalował graffiti"), "{}", fwd.text);
        let fax = read(include_bytes!("../../../../events/email/fax-pdf.eml"));
        assert_eq!(fax.attachments.len(), 1);
        assert_eq!(fax.attachments[0].content_type, "application/pdf");
        assert!(fax.attachments[0].bytes.starts_with(b"%PDF"));
        let photo = read(include_bytes!(
            "../../../../events/email/photo-and-program.eml"
        ));
        let types: Vec<&str> = photo
            .attachments
            .iter()
            .map(|a| a.content_type.as_str())
            .collect();
        assert_eq!(types, ["image/jpeg", "application/octet-stream"]);
    }

    #[test]
    fn automatic_and_spam_messages_are_told_and_garbage_is_refused() {
        let auto = read(include_bytes!("../../../../events/email/auto-reply.eml"));
        assert_eq!(auto.automatic, Some("auto-submitted"));
        let spam = read(include_bytes!("../../../../events/email/spam.eml"));
        assert_eq!(spam.spam, Verdict::Fail);
        assert_eq!(
            parse_email(include_bytes!("../../../../events/email/not-mime.eml")),
            Err(EmailError::Unreadable)
        );
        assert_eq!(parse_email(b""), Err(EmailError::Unreadable));
    }
}
