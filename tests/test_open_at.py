"""The command that opens a hit at its page or line: which viewer, which option, when none."""

from __future__ import annotations

import pytest

from desktop_search.platform.open_at import mime_type, open_command

PDF = "/home/anna/Documents/Tax 2023/report.pdf"
NOTES = "/home/anna/notes/ideas.md"


def installed(*names: str):
    """A ``which`` that finds exactly ``names`` (in /usr/bin)."""
    return lambda name: f"/usr/bin/{name}" if name in names else None


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("evince", ["/usr/bin/evince", "--page-index=3", PDF]),
        ("okular", ["/usr/bin/okular", "--page", "3", PDF]),
        ("xreader", ["/usr/bin/xreader", "--page-index=3", PDF]),
        ("atril", ["/usr/bin/atril", "--page-index=3", PDF]),
        ("qpdfview", ["/usr/bin/qpdfview", f"{PDF}#3"]),
        ("zathura", ["/usr/bin/zathura", "--page=3", PDF]),
    ],
)
def test_a_pdf_opens_at_the_page_with_each_viewer(viewer, expected):
    command = open_command(PDF, {"page": 3}, which=installed(viewer), platform="linux")
    assert command == expected


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        ("gedit", ["/usr/bin/gedit", "+12", NOTES]),
        ("kate", ["/usr/bin/kate", "--line", "12", NOTES]),
        ("code", ["/usr/bin/code", "--goto", f"{NOTES}:12"]),
    ],
)
def test_a_text_file_opens_at_the_line_with_each_editor(editor, expected):
    command = open_command(NOTES, {"line": 12}, which=installed(editor), platform="linux")
    assert command == expected


def test_the_first_installed_viewer_wins_without_a_known_default():
    which = installed("zathura", "okular", "evince")
    assert open_command(PDF, {"page": 2}, which=which, platform="linux")[0] == "/usr/bin/evince"
    which = installed("zathura", "okular")
    assert open_command(PDF, {"page": 2}, which=which, platform="linux")[0] == "/usr/bin/okular"


@pytest.mark.parametrize(
    ("default_app", "program"),
    [
        ("org.kde.okular.desktop", "okular"),
        ("okularApplication_pdf.desktop", "okular"),
        ("org.gnome.Evince.desktop", "evince"),
        ("org.pwmt.zathura-pdf-mupdf.desktop", "zathura"),
        ("qpdfview.desktop", "qpdfview"),
    ],
)
def test_the_users_default_viewer_is_preferred(default_app, program):
    which = installed(*("evince", "okular", "zathura", "qpdfview"))
    command = open_command(PDF, {"page": 5}, which=which, platform="linux", default_app=default_app)
    assert command[0] == f"/usr/bin/{program}"


def test_a_default_that_cannot_open_at_a_page_is_respected():
    which = installed("evince", "okular")
    assert open_command(PDF, {"page": 5}, which=which, platform="linux",
                        default_app="firefox.desktop") is None  # fmt: skip
    # The default is a viewer we know, but it is not installed (e.g. a Flatpak): no other one.
    assert open_command(PDF, {"page": 5}, which=installed("evince"), platform="linux",
                        default_app="org.kde.okular.desktop") is None  # fmt: skip


def test_no_viewer_installed_means_the_default_opener():
    assert open_command(PDF, {"page": 3}, which=installed(), platform="linux") is None
    assert open_command(NOTES, {"line": 3}, which=installed("evince"), platform="linux") is None


@pytest.mark.parametrize("platform", ["darwin", "win32", "cygwin"])
def test_macos_and_windows_use_the_default_opener(platform):
    which = installed("evince", "okular", "gedit")
    assert open_command(PDF, {"page": 3}, which=which, platform=platform) is None
    assert open_command(NOTES, {"line": 3}, which=which, platform=platform) is None


def test_the_bsds_are_free_desktops_too():
    command = open_command(PDF, {"page": 2}, which=installed("okular"), platform="freebsd14")
    assert command == ["/usr/bin/okular", "--page", "2", PDF]


@pytest.mark.parametrize(
    ("path", "locator"),
    [
        (PDF, None),  # the whole file
        (PDF, {}),
        (PDF, {"page": 0}),
        (PDF, {"page": "3"}),
        (PDF, {"page": True}),
        (PDF, {"line": 4}),  # a PDF has pages, not lines
        (NOTES, {"page": 2}),
        # A chat window names messages, not lines; a mail names a message.
        ("/home/anna/WhatsApp Chat with Bob.txt", {"chat": "Bob", "first": 4, "last": 9}),
        ("/home/anna/mail/inbox.mbox", {"message": 3, "message_id": "<a@b>"}),
        # A page of a PDF attached to an e-mail: the viewer would get the e-mail.
        ("/home/anna/mail/invoice.eml", {"message": 0, "attachment": "x.pdf", "page": 2}),
        ("/home/anna/photos/beach.jpg", {"page": 1}),
    ],
)
def test_no_place_to_open_at(path, locator):
    which = installed("evince", "okular", "gedit", "kate", "code")
    assert open_command(path, locator, which=which, platform="linux") is None


def test_text_files_by_suffix():
    which = installed("gedit")
    for name in ("a.txt", "b.TXT", "c.markdown", "d.md"):
        assert open_command(f"/x/{name}", {"line": 7}, which=which, platform="linux") == [
            "/usr/bin/gedit", "+7", f"/x/{name}",
        ]  # fmt: skip


def test_mime_types_for_the_default_application_lookup():
    assert mime_type(PDF) == "application/pdf"
    assert mime_type("/x/REPORT.PDF") == "application/pdf"
    assert mime_type(NOTES) == "text/markdown"
    assert mime_type("/x/notes.txt") == "text/plain"
