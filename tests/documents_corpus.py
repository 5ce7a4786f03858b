"""A folder of every document kind the indexer reads, with what a test can search for in each.

Shared by the document indexing tests (core, CLI, live index). Words marked UNIQUE occur in one
place only, so a keyword search for them has exactly one right answer.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

from tests.make_chats import messenger_export, telegram_export, whatsapp_export
from tests.make_mail import eml, mbox, photo_jpeg
from tests.make_pdfs import (
    broken_pdf,
    encrypted_pdf,
    pillow_font,
    scanned_pdf,
    text_pdf,
)

LEASE_PAGES = [
    "Tenancy agreement between the landlord and the tenant for the flat on Maple Street.",
    "The monthly rent is 950 euros. The tenant keeps a zanzibarite ornament in the hallway.",
    "Either party may end the tenancy with three months of notice in writing.",
]
SCANNED_WORD = "QUARTERLY"


def photo_with_text(text: str) -> bytes:
    """A photo-like image with large printed text on it (a sign, a receipt)."""
    image = Image.new("RGB", (900, 420), (236, 231, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 400), outline=(90, 80, 70), width=6)
    draw.text((60, 150), text, font=pillow_font(72), fill=(20, 20, 20))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def write_corpus(folder: Path) -> dict[str, Path]:
    """Write the corpus below ``folder``; returns the paths by a short key."""
    docs, chats, mail = folder / "Documents", folder / "Chats", folder / "Mail"
    for sub in (docs, chats, mail):
        sub.mkdir(parents=True, exist_ok=True)
    paths = {
        "lease": docs / "lease.pdf",
        "scan": docs / "scan.pdf",
        "locked": docs / "locked.pdf",
        "open_locked": docs / "owner-only.pdf",
        "broken": docs / "broken.pdf",
        "notes": docs / "camping notes.md",
        "letter": docs / "letter.txt",
        "settings": docs / "settings.json",
        "booking": mail / "booking.eml",
        "archive": mail / "archive.mbox",
        "whatsapp": chats / "WhatsApp Chat with Alice.txt",
        "telegram": chats / "result.json",
        "messenger": chats / "message_1.json",
        "sign": folder / "sign.jpg",
    }
    paths["lease"].write_bytes(text_pdf(LEASE_PAGES, title="Tenancy agreement"))
    paths["scan"].write_bytes(scanned_pdf([f"{SCANNED_WORD} REPORT OF THE GARDEN CLUB"]))
    paths["locked"].write_bytes(encrypted_pdf("secret text", "hunter2"))
    paths["open_locked"].write_bytes(encrypted_pdf("the openable marmalade letter", ""))
    paths["broken"].write_bytes(broken_pdf())
    paths["notes"].write_text(
        "# Camping trip\n\nPack the blue tent, the stove and two sleeping bags.\n"
        "The tent is blue and green; remember the mallet.\n"
    )
    paths["letter"].write_bytes("Grüße aus München, the café was lovely.\n".encode("cp1252"))
    paths["settings"].write_text('{"theme": "dark"}')  # not a chat export: not a document
    invoice = text_pdf(["Invoice 2023-118 from the plumber for the boiler repair: 240 euros."])
    paths["booking"].write_bytes(
        eml(
            "Your flight booking QX7T2P",
            "Skyways <noreply@skyways.example>",
            "me@example.com",
            "Your flight from Berlin to Lisbon departs on 12 June at 07:35.",
            date=datetime.fromisoformat("2023-05-01T10:00:00+02:00"),
            attachments=[
                ("invoice.pdf", invoice, "application", "pdf"),
                ("beach.jpg", photo_jpeg(), "image", "jpeg"),
            ],
        )  # fmt: skip
    )
    paths["archive"].write_bytes(
        mbox(
            [
                eml(
                    "Garden party",
                    "Bob Stone <bob@example.com>",
                    "me@example.com",
                    "Bring the croquet set on Saturday.",
                    date=datetime.fromisoformat("2022-07-01T09:00:00+00:00"),
                ),
                eml(
                    "School trip",
                    "Carla <carla@example.com>",
                    "me@example.com",
                    "The permission slip for the aquarium visit is due Friday.",
                    date=datetime.fromisoformat("2024-03-04T08:00:00+00:00"),
                ),
            ]
        )  # fmt: skip
    )
    day = datetime(2023, 8, 14, 19, 0)
    paths["whatsapp"].write_text(
        whatsapp_export(
            [
                (day, "Alice", "Did you book the campsite by the lake?"),
                (day.replace(minute=2), "Bob", "Yes, pitch 17, and I bring the kayak"),
                (day.replace(day=20, hour=9), "Alice", "The ferry leaves at noon on Sunday"),
            ]
        )  # fmt: skip
    )
    paths["telegram"].write_bytes(
        telegram_export(
            "Family",
            [(datetime(2024, 1, 2, 12, 0), "Mum", "Grandpa's birthday dinner is at the trattoria")],
        )  # fmt: skip
    )
    paths["messenger"].write_bytes(
        messenger_export(
            "Climbing", [(datetime(2021, 6, 5, 18, 0), "Zoë", "The bouldering gym opens at seven")]
        )  # fmt: skip
    )
    paths["sign"].write_bytes(photo_with_text("HARDWARE STORE"))
    return paths
