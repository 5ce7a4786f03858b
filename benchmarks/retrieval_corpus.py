"""The retrieval benchmark's corpus: about sixty personal documents and 45 queries with answers.

The documents (``retrieval_docs_*``) are one household's files: PDFs (some answers on page 2
or 3), text and Markdown notes, e-mails (plain, HTML, one with a PDF attachment) and two
WhatsApp chat exports. Each query lists its relevant files with a grade: 2 is the answer,
1 is also useful (last year's policy, another document of the same car).

Query types, fifteen of each:

* ``keyword``: a rare exact token a person remembers (a booking reference, an invoice number,
  a surname, a model number). The labels are complete: :func:`check_corpus` verifies that the
  files containing every token of the query are exactly the relevant ones.
* ``semantic``: the user's words differ from the document's. No content word of the query is
  in a relevant file, not even as a stem or in the file's path (:func:`check_corpus`).
* ``mixed``: some shared words plus meaning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from benchmarks import retrieval_docs_home as home
from benchmarks import retrieval_docs_life as life
from benchmarks import retrieval_docs_money as money
from benchmarks import retrieval_docs_work as work
from benchmarks.retrieval_records import ChatFile, CorpusFile, MailFile, NoteFile, PdfFile

KEYWORD, SEMANTIC, MIXED = "keyword", "semantic", "mixed"
QUERY_TYPES = (KEYWORD, SEMANTIC, MIXED)


def _documents() -> tuple[CorpusFile, ...]:
    kinds = (PdfFile, NoteFile, MailFile, ChatFile)
    found = []
    for module in (money, home, life, work):
        found += [value for value in vars(module).values() if isinstance(value, kinds)]
    # An attachment is part of its e-mail, not a file of its own.
    attached = {id(doc.attachment) for doc in found if isinstance(doc, MailFile)}
    return tuple(doc for doc in found if id(doc) not in attached)


DOCUMENTS: tuple[CorpusFile, ...] = _documents()


@dataclass(frozen=True)
class Case:
    """One query and its relevant files (relative path -> grade: 2 the answer, 1 also useful)."""

    id: str
    type: str
    text: str
    relevant: dict[str, int]


def _case(id: str, type: str, text: str, *answers: CorpusFile, also: tuple = ()) -> Case:
    grades = {doc.path: 2 for doc in answers} | {doc.path: 1 for doc in also}
    return Case(id, type, text, grades)


K, S, M = KEYWORD, SEMANTIC, MIXED
CAR_FILES = (money.CAR_INSURANCE_RENEWAL, home.CLUTCH_INVOICE, home.MOT_NOTES, home.TYRE_RECEIPT,
             home.PARKING_APPEAL)  # fmt: skip

QUERIES: tuple[Case, ...] = (
    _case("k01", K, "QX7T2P", life.FLIGHTS),
    _case("k02", K, "invoice INV-20417", money.PLUMBER_INVOICE),
    _case("k03", K, "Okonkwo", home.BLOOD_TESTS),
    _case("k04", K, "21HD0041UK", money.LAPTOP_RECEIPT),
    _case("k05", K, "KX19 ZTE", also=CAR_FILES),
    _case(
        "k06", K, "Pickering", also=(home.TENANCY_AGREEMENT, home.GAS_SAFETY, home.RENT_INCREASE)
    ),  # fmt: skip
    _case("k07", K, "BW-88312", money.ELECTRICIAN_INVOICE),
    _case("k08", K, "HH-4471902", money.HOME_INSURANCE_2024),
    _case("k09", K, "Kestrel WM-8140X", money.WASHING_MACHINE),
    _case("k10", K, "CLM-30055", money.PET_CLAIM),
    _case("k11", K, "TNR4YW8M", life.TRAIN_TICKETS),
    _case("k12", K, "Zlatna Uvala campsite", life.CROATIA_CAMPSITE),
    _case("k13", K, "Kowalczyk", also=(work.BUDGET_FREEZE, work.PERFORMANCE_REVIEW)),
    _case("k14", K, "PCN BS40319276", home.PARKING_APPEAL),
    _case("k15", K, "Adeyemi", life.PARENTS_EVENING),
    _case("s01", S, "letter from the doctor about my cholesterol", home.BLOOD_TESTS),
    _case("s02", S, "what did the fuse box upgrade cost", money.ELECTRICIAN_INVOICE),
    _case("s03", S, "nits warning for the kids", life.HEAD_LICE),
    _case("s04", S, "can we have a dog in the flat", home.TENANCY_AGREEMENT),
    _case(
        "s05",
        S,
        "how much do I pay myself if a pipe bursts",
        money.HOME_INSURANCE_2024,
        also=(money.HOME_INSURANCE_2023,),
    ),  # fmt: skip
    _case("s06", S, "slow-cooked north african meat stew", life.TAGINE),
    _case("s07", S, "keeping the bread yeast culture alive", life.SOURDOUGH),
    _case("s08", S, "who did my neighbour suggest for my teeth", work.CHAT_ALICE),
    _case("s09", S, "my father's heart scan results", work.CHAT_MUM),
    _case("s10", S, "how long is the guarantee on my work computer", money.LAPTOP_RECEIPT),
    _case("s11", S, "money owed to me for the conference trip up north", work.EXPENSES),
    _case("s12", S, "permission for the outing to see ducks and swans", life.SCHOOL_VISIT),
    _case("s13", S, "garage bill for the gearbox problem", home.CLUTCH_INVOICE),
    _case("s14", S, "what time does the plane to portugal take off", life.FLIGHTS),
    _case("s15", S, "how bad is my eyesight", home.OPTICIAN),
    _case(
        "m01",
        M,
        "home insurance excess for water leaks",
        money.HOME_INSURANCE_2024,
        also=(money.HOME_INSURANCE_2023,),
    ),  # fmt: skip
    _case("m02", M, "tenancy deposit protection certificate", home.TENANCY_AGREEMENT),
    _case("m03", M, "clutch replacement cost", home.CLUTCH_INVOICE),
    _case("m04", M, "Lisbon hotel check-in time", life.LISBON_HOTEL),
    _case("m05", M, "sourdough starter feeding ratio", life.SOURDOUGH),
    _case("m06", M, "plum cake recipe from grandma", life.PLUM_CAKE, also=(work.CHAT_MUM,)),
    _case(
        "m07",
        M,
        "rent increase from the landlord",
        home.RENT_INCREASE,
        also=(home.TENANCY_AGREEMENT,),
    ),  # fmt: skip
    _case("m08", M, "pet insurance claim for the dog's knee surgery", money.PET_CLAIM),
    _case("m09", M, "Edinburgh train seat reservations", life.TRAIN_TICKETS),
    _case("m10", M, "churn figures in the quarterly report", work.QUARTERLY_REPORT),
    _case("m11", M, "objectives agreed in my performance review", work.PERFORMANCE_REVIEW),
    _case("m12", M, "when to sow beans on the allotment", work.ALLOTMENT),
    _case("m13", M, "feeding Alice's cat while she is away", work.CHAT_ALICE),
    _case("m14", M, "does the travel insurance cover skiing", money.TRAVEL_INSURANCE),
    _case("m15", M, "MOT advisories about the tyres", home.MOT_NOTES),
)


def write_corpus(folder: Path) -> None:
    """Write every document of the corpus under ``folder`` (created if missing)."""
    check_corpus()
    for doc in DOCUMENTS:
        target = Path(folder) / doc.path
        target.parent.mkdir(parents=True, exist_ok=True)
        doc.write(target)


# -- checks of the data ----------------------------------------------------------------------

# Words that carry no topic: a query sharing them with a document is still "semantic".
_STOPWORD_TEXT = """
    a about above after again all also am an and any are as at be been before being below
    between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its just me more
    most much my myself no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers, accents removed: how a keyword index splits text."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", plain.lower())


def content_words(text: str) -> set[str]:
    return {word for word in tokens(text) if word not in STOPWORDS and len(word) > 2}


def same_stem(a: str, b: str) -> bool:
    """A deliberately loose stand-in for stemming (rent/rented, insured/insurance): words match
    when they share a prefix of five letters, or the shorter one is a prefix of the longer."""
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared >= min(5, len(a), len(b))


def document_words(doc: CorpusFile) -> set[str]:
    """Every word a search index could hold for a file: its text and its path."""
    return content_words(doc.text() + " " + doc.path.replace("/", " "))


def check_corpus() -> None:
    """Raise ValueError if the queries or their labels break the rules above."""
    problems = []
    paths = [doc.path for doc in DOCUMENTS]
    if len(set(paths)) != len(paths):
        problems.append("two documents have the same path")
    words = {doc.path: document_words(doc) for doc in DOCUMENTS}
    every_token = {doc.path: set(tokens(doc.text() + " " + doc.path)) for doc in DOCUMENTS}
    for case in QUERIES:
        problems += _case_problems(case, words, every_token)
    if len({case.id for case in QUERIES}) != len(QUERIES):
        problems.append("two queries have the same id")
    if problems:
        raise ValueError("retrieval corpus: " + "; ".join(problems))


def _case_problems(
    case: Case, words: dict[str, set[str]], every_token: dict[str, set[str]]
) -> list[str]:
    unknown = [path for path in case.relevant if path not in words]
    if unknown or case.type not in QUERY_TYPES or not case.relevant:
        return [f"{case.id}: unknown type, no or unknown relevant files {unknown}"]
    query = content_words(case.text)
    if case.type == KEYWORD:
        needed = set(tokens(case.text))
        holding = {path for path, held in every_token.items() if needed <= held}
        if holding != set(case.relevant):
            return [f"{case.id}: files with all its tokens {sorted(holding)} != relevant"]
    elif case.type == SEMANTIC:
        shared = {
            (q, w) for path in case.relevant for q in query for w in words[path] if same_stem(q, w)
        }
        if shared:
            return [f"{case.id}: semantic query shares words with a relevant file: {shared}"]
    else:
        best = max(case.relevant.values())
        answers = [path for path, grade in case.relevant.items() if grade == best]
        if not all(query & words[path] for path in answers):
            return [f"{case.id}: mixed query shares no word with its answer"]
    return []
