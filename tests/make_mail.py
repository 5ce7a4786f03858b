"""Real e-mail files for tests, built with the standard library's EmailMessage.

``eml(...)`` gives the bytes of one message (plain, HTML-only or both, with attachments);
``mbox(messages)`` joins messages into an mbox file with mboxrd ">From " quoting;
``photo_jpeg()`` is a real photo (skimage's astronaut) to attach.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from PIL import Image

DEFAULT_DATE = datetime(2024, 3, 5, 14, 30, 0, tzinfo=timezone(timedelta(hours=1)))
ENVELOPE = b"From MAILER-DAEMON Tue Mar  5 13:30:00 2024"
_FROM_LINE_RE = re.compile(rb"^(>*From )", re.MULTILINE)


def eml(
    subject: str,
    sender: str,
    to: str | list[str],
    body: str | None,
    date: datetime | None = DEFAULT_DATE,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str, str]] = (),
    *,
    cc: str | list[str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """One message. ``body`` None with ``html`` set: HTML only; both: multipart/alternative.
    ``date`` None leaves out the Date: header; ``message_id`` defaults to a fresh one.
    Attachments: (filename, data, maintype, subtype).
    """
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    if cc:
        message["Cc"] = cc if isinstance(cc, str) else ", ".join(cc)
    if date is not None:
        message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for filename, data, maintype, subtype in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def mbox(messages: list[bytes]) -> bytes:
    """An mbox file holding ``messages``; body lines starting with "From " are quoted (mboxrd)."""
    out = []
    for message in messages:
        quoted = _FROM_LINE_RE.sub(rb">\1", message.replace(b"\r\n", b"\n"))
        out.append(ENVELOPE + b"\n" + quoted.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def photo_jpeg(quality: int = 85) -> bytes:
    """A real photo as JPEG bytes (skimage.data.astronaut, 512x512)."""
    from skimage import data as skdata

    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
