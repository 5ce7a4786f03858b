"""Mail as it lives on disk (issue 19): real messages through the extractor, and a large mbox
read whole against streamed.

1. Python's own test messages (``test/test_email/data/msg_*.txt``: Debian's
   libpython3.11-testsuite; ``apt-get download`` it and ``dpkg-deb -x`` it anywhere) each go
   through ``extract_document`` as an .eml: how many are read, and why the others are refused.
2. A generated mbox of about 50 MB and 20,000 messages is read three ways, each in a fresh
   process (peak RSS cannot be reset): split only, streamed (``open_streamed`` +
   ``extract_mailbox``, the indexer's way) and read whole (``extract_document`` on its bytes,
   the way before). Reported: messages, passages, CPU seconds, peak RSS growth.

    python -m benchmarks.mail_on_disk [--python-messages FOLDER]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import CACHE
from tests.test_mbox_streaming import big_mailbox

DEFAULT_MESSAGES = "/usr/lib/python3*/test/test_email/data"

MEASURE = """
import json, resource, sys
from desktop_search.extract.documents import extract_document, extract_mailbox, open_streamed
from desktop_search.extract.images import read_file
from desktop_search.extract.mbox import iter_mailbox
from pathlib import Path

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

path, how = sys.argv[1], sys.argv[2]
before, started = peak(), cpu()
if how == "split":
    mailbox = open_streamed(path)
    messages, passages = sum(1 for _ in iter_mailbox(mailbox, [])), 0
elif how == "streamed":
    document = extract_mailbox(path, open_streamed(path))
    passages = len(document.items)
    messages = len({item.locator["message"] for item in document.items})
else:
    document = extract_document(path, read_file(Path(path)))
    passages = len(document.items)
    messages = len({item.locator["message"] for item in document.items})
print(json.dumps({"messages": messages, "passages": passages, "cpu": cpu() - started,
                  "grown": peak() - before}))
"""


def python_messages(folder: str | None) -> None:
    from desktop_search.errors import FileNotIndexableError
    from desktop_search.extract.documents import extract_document

    pattern = os.path.join(folder or DEFAULT_MESSAGES, "msg_*.txt")
    paths = sorted(glob.glob(pattern))
    if not paths:
        print(f"no messages at {pattern}: see this script's docstring")
        return
    refused = {}
    for path in paths:
        name = os.path.basename(path)
        try:
            extract_document(name.replace(".txt", ".eml"), Path(path).read_bytes())
        except FileNotIndexableError as error:
            refused[name] = error.reason
    print(f"Python's test messages: {len(paths)}, read {len(paths) - len(refused)}, "
          f"refused {len(refused)}")  # fmt: skip
    for name, reason in refused.items():
        print(f"  {name}: {reason}")


def large_mbox() -> None:
    path = CACHE / "mail" / "Archive.mbox"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        big_mailbox(path)
    print(f"\n{path.name}: {path.stat().st_size / 1024**2:.1f} MB")
    print("| how | messages read | passages | CPU s | peak RSS growth MB |")
    print("|---|---|---|---|---|")
    for how in ("split", "streamed", "whole"):
        done = subprocess.run([sys.executable, "-c", MEASURE, str(path), how],
                              capture_output=True, text=True, check=True)  # fmt: skip
        result = json.loads(done.stdout)
        print(f"| {how} | {result['messages']:,} | {result['passages']:,} | "
              f"{result['cpu']:.1f} | {result['grown'] / 1024**2:.1f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-messages", help="folder of Python's msg_*.txt")
    args = parser.parse_args()
    python_messages(args.python_messages)
    large_mbox()


if __name__ == "__main__":
    main()
