"""Retrieval corpus, part 4: work, hobbies and two WhatsApp chats (see retrieval_docs_money)."""

from __future__ import annotations

from benchmarks.retrieval_docs_money import SAM
from benchmarks.retrieval_records import ChatFile, MailFile, NoteFile, PdfFile

DANA = "Dana Kowalczyk <dana.kowalczyk@lumen-analytics.example>"
SAM_WORK = "Sam Whitfield <sam.whitfield@lumen-analytics.example>"

HERON_KICKOFF = NoteFile(
    "Work/Heron/kickoff notes.md",
    """
    # Project Heron - kick-off, 2 Sept 2024

    Goal: move all customer records from the legacy CRM (on-prem Oracle, 2011) to Corvid CRM
    before the support contract ends on 31 December. Go-live target: 30 November.

    People: Sam (tech lead), Aisha (data quality), Tom (integrations), Dana (sponsor).

    Scope: 1.8 M contacts, 240 k accounts, 12 years of order history (read-only archive for
    anything older than 3 years).

    Risks:
    - about 8% duplicate contacts - need a merge rule before the dry run
    - the billing export runs nightly and locks tables until 02:00
    - Corvid API rate limit: 100 requests/s, so the bulk load must use their batch endpoint

    Next: dry run on a 5% sample by 20 Sept; field mapping signed off by sales ops.
    """,
)

QUARTERLY_REPORT = PdfFile(
    "Work/Reports/Q3 2024 quarterly report.pdf",
    "Lumen Analytics - Q3 2024 quarterly business review",
    (
        """
        Executive summary

        Revenue for Q3 2024 was £4.2m, up 6% on Q2 and 19% on Q3 2023, driven by the new
        enterprise tier and expansion in existing accounts. Gross margin held at 71%.
        Operating costs rose 4%, mostly cloud hosting after the move to the new data platform.

        Highlights: 14 new enterprise customers; the self-serve onboarding flow launched in July;
        the Leeds office opened with 9 staff.
        """,
        """
        Customer metrics

        Monthly churn fell from 3.1% in Q2 to 2.4% in Q3, the lowest since 2021. The fall came
        mostly from customers in their first 90 days, after the new onboarding flow.
        Net revenue retention: 104% (Q2: 101%).
        Net promoter score: 41 (Q2: 36).
        Support tickets per customer: down 12%; median first response 2 h 10 min.
        """,
        """
        Outlook and risks

        Q4 forecast: revenue £4.3m to £4.5m. A hiring freeze applies until the end of Q1 2025,
        except for roles already offered. Discretionary spending is paused in Q4.

        Risks: the Heron CRM migration must go live by 30 November, before the old CRM's support
        contract ends; two large renewals (together £0.6m a year) are due in December.
        """,
    ),
)

BUDGET_FREEZE = MailFile(
    "Work/Budget freeze for Q4.eml",
    DANA,
    "Data Engineering <data-eng@lumen-analytics.example>",
    "Budget freeze for Q4 - what it means for us",
    "2024-10-03T09:41:00+01:00",
    """
    Hi all,

    As announced at the all-hands, discretionary spend is frozen for the rest of Q4. For our
    team that means:

    - no new conference bookings; anything already booked and paid for goes ahead
    - contractor extensions end on 31 December - Heron must not depend on them after that
    - hardware only for broken kit, via the IT desk
    - team lunch in December is still on (it comes out of a different budget)

    Hiring: the two open roles are paused. I know this hurts with Heron in flight; I'm pushing
    for an exception for the data quality role.

    Dana
    """,
)

EXPENSES = NoteFile(
    "Work/expenses Leeds Nov 2024.txt",
    """
    Expense claim - DataOps Summit, Leeds, 13-14 November 2024
    Claimant: Sam Whitfield, Data Engineering (cost centre 4410)

    13/11  Rail, Bristol Temple Meads - Leeds return, off-peak, railcard    £84.20
    13/11  Calder Hotel, 1 night including breakfast                        £112.00
    13/11  Dinner (within the £35 limit)                                     £31.50
    14/11  Taxi, Leeds station to the venue                                   £9.80
    Total claimed                                                            £237.50

    Submitted in the expenses portal 18/11/2024, claim EXP-20931, approved by line manager
    20/11. Reimbursement with the December salary. Receipts photographed and attached.
    """,
)

RETRO = NoteFile(
    "Work/retro 2024-10-08.md",
    """
    # Sprint 42 retrospective, 8 Oct 2024

    Went well: Heron dry run on the 5% sample loaded in 3 h; pairing on the merge rules.
    Didn't go well: flaky integration tests (the Corvid sandbox times out); deploy pipeline now
    40 min; too many meetings on Wednesdays.

    Actions:
    - Tom: retry with backoff in the sandbox client, quarantine the 6 flakiest tests
    - Sam: split the pipeline into parallel stages, target under 15 min
    - Aisha: move the data quality sync to Thursday
    """,
)

PERFORMANCE_REVIEW = PdfFile(
    "Work/HR/performance review 2023.pdf",
    "Annual performance review 2023 - Sam Whitfield",
    (
        """
        Employee: Sam Whitfield, Senior Data Engineer
        Reviewer: Dana Kowalczyk, Head of Data Engineering
        Review period: January to December 2023

        Overall rating: exceeds expectations

        Summary: Sam led the move of the reporting warehouse to the new data platform two weeks
        ahead of plan, with no unplanned downtime. He is the go-to person for pipeline incidents
        and documents well. Area to develop: delegating, and saying no to ad-hoc requests that
        pull him away from planned work.
        """,
        """
        Objectives for 2024 (agreed 18 January 2024)

        1. Lead the technical side of Project Heron, the CRM migration, to go-live in Q4 2024.
        2. Mentor two junior engineers, with a monthly one-to-one each.
        3. Get the AWS Solutions Architect Associate certification by the end of Q2.
        4. Bring the nightly pipeline failure rate below 1%.

        Pay: 4% increase from 1 April 2024. Next review: January 2025.
        """,
    ),
)

ALLOTMENT = NoteFile(
    "Hobbies/allotment/planting plan 2024.md",
    """
    # Allotment plot 27B - plan 2024

    Rotation (4 beds): A brassicas, B potatoes, C legumes, D onions/garlic/roots. Moves on one
    each year: last year's potatoes bed becomes legumes.

    - Potatoes (Charlotte, 2 rows): chit in Feb, plant early April, earth up.
    - Broad beans: sow direct in March (or Nov for overwintering 'Aquadulce').
    - Runner and French beans: sow indoors late April in root trainers, plant out after the
      last frost (mid-May), wigwams on bed C.
    - Brassicas: net everything against pigeons and cabbage whites.
    - Onion sets and garlic in Oct/Nov.
    - Comfrey tea feed for tomatoes from first flowers, weekly.
    - Water butt by the shed; rota with plot 27A in August.
    """,
)

GUITAR_LOG = NoteFile(
    "Hobbies/guitar practice log.txt",
    """
    Guitar practice log

    Mon 3 Jun: 20 min. F barre chord still buzzing on the B string. Chord changes C-Am-F-G at
    70 bpm.
    Wed 5 Jun: 30 min. Travis picking pattern, thumb alternating on 5th/4th strings. Slow!
    Sat 8 Jun: 45 min. Capo 2, strumming pattern D-DU-UDU at 80 bpm. Barre F clean 3 times
    out of 5.
    Tue 11 Jun: 15 min only. Finger stretches; new strings (11s, phosphor bronze).
    Sun 16 Jun: 40 min. Learned the intro riff properly. Next lesson with Gareth: Thursday.
    """,
)

HALF_MARATHON = NoteFile(
    "Hobbies/running/half marathon plan.md",
    """
    # Bath Half, 12-week plan (race 9 March 2025), target 1:55

    Easy pace 6:10/km, tempo 5:15/km, race pace 5:27/km.

    - Tue: intervals or tempo (e.g. 5 x 1 km at 5:00 with 90 s jog)
    - Thu: easy 6-8 km with strides
    - Sat: parkrun or rest
    - Sun: long run, building 10 km -> 19 km by week 10, then taper

    Fuel: gel at 45 min and 1:30 on long runs to practise. New shoes by week 6 at the latest.
    Ankle niggle from last year: calf raises and foam roller after every run.
    """,
)

BIRDWATCHING = NoteFile(
    "Hobbies/birdwatching notes.txt",
    """
    Bird notes 2024

    7 Jan, Snuff Mills: kingfisher on the Frome below the weir (!), grey wagtail, dipper.
    21 Jan, Eastville Park: redwings and fieldfares on the playing field, 30+.
    11 Feb, Chew Valley Lake: great crested grebes starting to display, goldeneye, a great
    white egret at Herriott's Bridge.
    3 Mar, garden: first chiffchaff singing.
    14 Apr, Leigh Woods: treecreeper, nuthatch, green woodpecker yaffling.
    """,
)

BIKE_SERVICE = MailFile(
    "Hobbies/Bike service booked.eml",
    "Spokes & Gears <workshop@spokesandgears.example>",
    SAM,
    "Your bike is booked in - full service",
    "2024-04-02T17:20:00+01:00",
    """
    Hi Sam,

    Your bike is booked in for a full service on Thursday 4 April. Drop it off any time after
    08:30.

    From our check: the chain is stretched past 0.75% and the cassette is worn, so we will
    replace both (11-speed chain £32, cassette 11-34 £58). The rear brake needs a bleed.
    Full service £55 + parts £90 = £145. Ready on Saturday after 12:00.

    Spokes & Gears workshop
    """,
)

CHAT_ALICE = ChatFile(
    "Chats/WhatsApp Chat with Alice.txt",
    """
    12/01/2024, 18:02 - Messages and calls are end-to-end encrypted. Tap to learn more.
    12/01/2024, 18:02 - Alice: Hiya! Can I borrow your long ladder on Saturday? Gutters full
        of leaves again 🙄
    12/01/2024, 18:10 - Sam: Of course, it's in the side passage, grab it whenever
    12/01/2024, 18:11 - Alice: You're a star x
    13/01/2024, 16:45 - Alice: Ladder's back by the bins, thank you!!
    06/02/2024, 20:14 - Sam: Random question - who's your dentist? Mine has retired and the new
        place wants £60 just for a check-up
    06/02/2024, 20:20 - Alice: Riverside Dental on Cheltenham Road. Ask for Dr Patel, he's lovely
    06/02/2024, 20:21 - Alice: He did my crown last year and I barely felt a thing
    06/02/2024, 20:21 - Alice: They're taking NHS patients again I think, ring on Monday at 8
        sharp
    06/02/2024, 20:35 - Sam: Brilliant, thanks. Will call them
    14/03/2024, 19:02 - Alice: Leo is SO excited for Saturday. Anything he shouldn't bring as a
        present?
    14/03/2024, 19:05 - Sam: Honestly nothing needed! One of the girls has a nut allergy so the
        whole party is nut-free
    14/03/2024, 19:06 - Alice: Noted. What time do I collect him?
    14/03/2024, 19:08 - Sam: 2 till 4 at the community hall on Berkeley Road. Bouncy castle
        booked 🎉
    04/04/2024, 08:30 - Alice: Huge favour... we're away 12-19 April, could you feed Pepper?
    04/04/2024, 08:41 - Sam: Course! Same as last time?
    04/04/2024, 08:43 - Alice: Yes please. Half a pouch morning and evening, and top up the
        biscuits. Key is under the blue pot by the back door
    04/04/2024, 08:43 - Alice: Litter tray every other day 🙏
    04/04/2024, 08:44 - Alice: Oh and she's on a tablet for her thyroid, crush it into the
        morning food
    04/04/2024, 08:50 - Sam: No problem. Have a lovely time in Cornwall!
    13/04/2024, 08:12 - Sam: <Media omitted>
    13/04/2024, 08:12 - Sam: Pepper says hi, ate everything
    02/05/2024, 21:17 - Alice: When do you go to Lisbon??
    02/05/2024, 21:20 - Sam: 17th! Any tips?
    02/05/2024, 21:26 - Alice: Skip the queue at Belém for pastéis, Manteigaria in Chiado is
        just as good
    02/05/2024, 21:27 - Alice: Also:
    Tram 28 super early or not at all
    Sintra on a weekday, train from Rossio
    Miradouro da Graça at sunset
    """,
)

CHAT_MUM = ChatFile(
    "Chats/WhatsApp Chat with Mum.txt",
    """
    02/12/2023, 10:15 - Messages and calls are end-to-end encrypted. Tap to learn more.
    02/12/2023, 10:15 - Mum: Train booked! Arriving Temple Meads 23rd at 14:12
    02/12/2023, 10:31 - Sam: Great, I'll pick you up. We're doing a turkey crown this year
    02/12/2023, 10:33 - Mum: I'll bring the trifle and crackers. Does Priya's sister still not
        eat gluten?
    02/12/2023, 10:40 - Sam: Yes, gluten-free please. Thanks Mum x
    09/01/2024, 17:48 - Mum: Dad had his echo at the BRI today
    09/01/2024, 17:49 - Mum: The cardiology consultant says one valve is leaking a little but
        it's nothing to operate on. They'll check him again in a year
    09/01/2024, 17:55 - Sam: Oh that's a relief. How's he feeling?
    09/01/2024, 17:58 - Mum: Tired but fine. He has to cut down on salt and walk every day.
        I've hidden the crisps 😂
    09/01/2024, 18:01 - Sam: Good plan. Tell him I'll ring tomorrow
    10/03/2024, 15:20 - Sam: Mum what's the trick with Grandma's plum cake? Mine went soggy
    10/03/2024, 15:34 - Mum: Sprinkle a spoonful of semolina over the dough before the plums go
        on, it soaks up the juice. And don't skimp on the streusel
    10/03/2024, 15:35 - Mum: And use the dark oval plums, not the big round yellow ones
    05/06/2024, 11:02 - Mum: How do I send a photo on this new phone
    05/06/2024, 11:10 - Sam: Tap the paperclip, then Gallery, then pick it
    05/06/2024, 11:25 - Mum: <Media omitted>
    05/06/2024, 11:25 - Mum: It worked!! Dad's roses are out
    """,
)
