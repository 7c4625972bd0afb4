#!/usr/bin/env python3
"""Writes the raw e-mails SES would store (events/email/*.eml) with Python's
own MIME writer: Polish text in the charsets Polish mail programs use, an
HTML-only message, a reply quoting ours, a forwarded report, a fax from a
gateway with its PDF, a photo, an auto-reply and a message SES marked as
spam. Run it again after changing one: python3 events/email/make_fixtures.py"""

import base64, pathlib
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.utils import format_datetime, formataddr, parseaddr
import datetime

HERE = pathlib.Path(__file__).parent
CITY = "311@krakow.example"
DATE = format_datetime(datetime.datetime(2026, 12, 4, 18, 0, tzinfo=datetime.timezone.utc))
# A small well-formed JPEG whose EXIF carries a position (the marker GPS!).
EXIF = b"Exif\0\0II*\0\x08\0\0\0GPS!"
JPEG = (b"\xff\xd8\xff\xe1" + (len(EXIF) + 2).to_bytes(2, "big") + EXIF
        + bytes([0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9]))
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

def headers(m, sender, subject, msgid, to=CITY, verdicts="PASS"):
    # Only the display name is encoded; the address stays readable.
    m["From"] = formataddr(parseaddr(sender), charset="utf-8")
    m["To"] = formataddr(parseaddr(to), charset="utf-8")
    m["Subject"] = subject
    m["Date"] = DATE
    m["Message-ID"] = f"<{msgid}@mail.example.pl>"
    m["X-SES-Spam-Verdict"] = verdicts
    m["X-SES-Virus-Verdict"] = "PASS"
    return m

def text(body, charset):
    return MIMEText(body, "plain", charset)

fixtures = {}

m = headers(text("Dzień dobry,\n\nprzed blokiem przy ul. Długa 10 od tygodnia leży zepsuta lodówka i sterta gruzu.\nProszę o wywóz.\n\nPozdrawiam\nAnna Nowak\n-- \nWysłane z telefonu", "utf-8"),
            "Anna Nowak <anna.nowak@example.pl>", "Śmieci przed blokiem", "plain-1")
fixtures["plain-utf8.eml"] = m.as_bytes()

html = "<html><body><p>Nie świeci <b>latarnia</b> przy ul. Długa 20.</p><p>Jest bardzo ciemno, proszę o naprawę.</p></body></html>"
m = headers(MIMEText(html, "html", "iso-8859-2"), "Jan Kowalski <jan.kowalski@example.pl>", "Zgłoszenie: latarnia", "html-1")
fixtures["html-only-iso-8859-2.eml"] = m.as_bytes()

m = headers(MIMEText("Zapchana studzienka na rogu, woda zalewa chodnik. Źródło problemu: liście.", "plain", "windows-1250"),
            "Ewa Wiśniewska <ewa@example.pl>", "Zalany chodnik", "cp1250-1")
fixtures["windows-1250.eml"] = m.as_bytes()

reply = ("Dziura jest coraz większa, dziś wpadł w nią rowerzysta.\n\n"
         "W dniu 04.12.2026 o 18:00, Kraków 311 <311@krakow.example> pisze:\n"
         "> Kraków 311: przyjęliśmy zgłoszenie 7H3K-9QX2.\n> Status i uzupełnienia: https://311.krakow.example/track/7H3K-9QX2\n")
m = headers(text(reply, "utf-8"), "Anna Nowak <anna.nowak@example.pl>", "Re: Kraków 311: zgłoszenie 7H3K-9QX2", "reply-1",
            to="Kraków 311 <requests+7H3K-9QX2@krakow.example>")
m["In-Reply-To"] = "<0100018c-notice@email.amazonses.com>"
m["References"] = "<0100018c-notice@email.amazonses.com>"
fixtures["reply-to-case.eml"] = m.as_bytes()

fwd = ("Przesyłam zgłoszenie sąsiada.\n\n---------- Forwarded message ---------\nOd: Piotr Zieliński <piotr@example.pl>\n"
       "Temat: Graffiti\n\nNa murze szkoły przy Rynek Główny 1 ktoś namalował graffiti.\n")
m = headers(text(fwd, "utf-8"), "Anna Nowak <anna.nowak@example.pl>", "Fwd: Graffiti", "fwd-1")
fixtures["forwarded.eml"] = m.as_bytes()

m = MIMEMultipart()
headers(m, "Fax Gateway <fax@fax-gateway.example>", "Fax from +48124110000 (1 page)", "fax-1")
m.attach(text("Received fax from +48124110000, 1 page.", "utf-8"))
part = MIMEApplication(PDF, "pdf", Name="fax-20261204.pdf")
part["Content-Disposition"] = 'attachment; filename="fax-20261204.pdf"'
m.attach(part)
fixtures["fax-pdf.eml"] = m.as_bytes()

m = MIMEMultipart()
headers(m, "Marek Lis <marek@example.pl>", "Graffiti na przystanku", "photo-1")
m.attach(text("Graffiti na wiacie przystanku, Rynek Główny 1. Zdjęcie w załączniku.", "utf-8"))
img = MIMEImage(JPEG, "jpeg", name="wiata.jpg")
img["Content-Disposition"] = 'attachment; filename="wiata.jpg"'
m.attach(img)
exe = MIMEApplication(b"MZ\x90\x00 not a photo", "octet-stream", Name="program.exe")
exe["Content-Disposition"] = 'attachment; filename="program.exe"'
m.attach(exe)
fixtures["photo-and-program.eml"] = m.as_bytes()

m = headers(text("Jestem na urlopie do 10 grudnia.", "utf-8"), "Anna Nowak <anna.nowak@example.pl>",
            "Automatyczna odpowiedź: Kraków 311: zgłoszenie 7H3K-9QX2", "auto-1")
m["Auto-Submitted"] = "auto-replied"
fixtures["auto-reply.eml"] = m.as_bytes()

m = headers(text("Tanie leki bez recepty!!!", "utf-8"), "Spammer <win@spam.example>", "Wygrałeś", "spam-1", verdicts="FAIL")
fixtures["spam.eml"] = m.as_bytes()

fixtures["not-mime.eml"] = bytes(range(0, 32)) * 4

for name, raw in fixtures.items():
    (HERE / name).write_bytes(raw)
print(f"wrote {len(fixtures)} messages to {HERE}")
