"""Passages that only list where things are: tables of contents and indexes of long documents.

A contents line repeats a section's title word for word ("4.2 The function tapply() and ragged
arrays .......... 17"), so it matches the words of a query about that section, and it embeds
close to a question about it; an index page lists a function's name next to its page numbers.
Neither answers the query: the page it points to does. On issue 19's manuals such passages were
the first result for 5 of 29 missed queries (R-intro's contents for "tapply ragged arrays",
Octave's function index for "ode45"). Search ranks them lower, not out: someone may look for
the contents page itself, and a listing that is the best match of a file still shows that file.
"""

from __future__ import annotations

import itertools
import re

# A leader: four or more dots (". . . ." or "....") before a page number. The number must not
# continue with a decimal part: "Milk ........ 1.20" on a receipt is a price, not a page.
_LEADER = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}(?![\d.,]*\d)")
# One leader may end a sentence's row of dots; three in one passage are a listing. On the
# issue 19 set (9 manuals, 9,607 candidate passages) this marks 1,216; a random 25 of them, read,
# were all contents or index pages.
LISTING_LEADERS = 3
# How much a listing's place counts in a ranked list. 0.5, 0.2 and 0 gave the same page-level
# results on the issue 19 set (benchmarks/README.md); 0.2 keeps it findable.
LISTING_WEIGHT = 0.2


def looks_like_listing(text: str) -> bool:
    """True for a passage of a table of contents or an index (dot leaders to page numbers)."""
    leaders = _LEADER.finditer(text)
    return len(list(itertools.islice(leaders, LISTING_LEADERS))) >= LISTING_LEADERS
