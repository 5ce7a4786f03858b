"""Retrieval corpus, part 2: health, the rented home and the car (see retrieval_docs_money)."""

from __future__ import annotations

from benchmarks.retrieval_docs_money import SAM
from benchmarks.retrieval_records import MailFile, NoteFile, PdfFile

PRIYA = "Priya Sharma <priya.sharma@mailbox.example>"
GERALD = "Gerald Pickering <gerald.pickering@postnet.example>"

BLOOD_TESTS = PdfFile(
    "Health/2024-03 Elmwood Surgery results.pdf",
    "Elmwood Surgery",
    (
        """
        Elmwood Surgery, 2 Cotham Hill, Bristol BS6 6LA - Tel 0117 496 0188

        18 March 2024

        Mr Samuel Whitfield, 14 Elmwood Road, Bristol BS6 7QT
        NHS number: 485 777 3456

        Dear Mr Whitfield,

        Your recent blood tests

        Thank you for coming in for your fasting blood test on 11 March. Most of the results are
        normal, but your lipid panel is raised:

        Total: 6.8 mmol/L (target below 5.0)
        LDL: 4.6 mmol/L (target below 3.0)
        HDL: 1.1 mmol/L
        Triglycerides: 2.1 mmol/L
        Non-HDL: 5.7 mmol/L

        Your QRISK3 score, the estimated chance of a heart attack or stroke in the next ten years,
        is 11%. At this level we recommend starting atorvastatin 20 mg once a day, alongside
        changes to diet: less saturated fat (butter, cheese, processed meat, pastries), more
        fibre, oily fish twice a week, and at least 150 minutes of brisk activity a week.
        """,
        """
        Your other results

        HbA1c: 38 mmol/mol (normal, no sign of diabetes)
        Liver function: normal
        Kidney function: eGFR above 90 (normal)
        Thyroid (TSH): 2.1 mU/L (normal)

        Next steps

        A prescription for atorvastatin 20 mg has been sent to your nominated pharmacy. Please
        book a repeat fasting blood test with the practice nurse in 3 months, so that we can
        check the response and your liver function. If you get unexplained muscle aches or
        weakness on the tablets, stop them and contact the surgery.

        Yours sincerely,

        Dr Helen Okonkwo, GP
        """,
    ),
)

PHYSIO_DISCHARGE = PdfFile(
    "Health/physio discharge summary.pdf",
    "North Bristol Physiotherapy - Discharge summary",
    (
        """
        Patient: Priya Sharma, date of birth 02/07/1988
        Referred by: Mr D. Osei, consultant orthopaedic surgeon, Southmead Hospital
        Diagnosis: right anterior cruciate ligament (ACL) rupture, netball injury October 2023
        Surgery: ACL reconstruction with hamstring graft, 16 January 2024

        Treatment: 12 sessions, 30 January to 28 June 2024.

        Progress at discharge: full extension; flexion 135 degrees; no swelling; single-leg hop
        distance 88% of the left side; quadriceps strength 85% of the left side.
        """,
        """
        Home exercise programme (continue 3 times a week for at least 3 more months)

        1. Single-leg squats to a chair, 3 sets of 10 each side.
        2. Step-downs from a 20 cm step, slow on the way down, 3 sets of 12.
        3. Nordic hamstring curls, 3 sets of 6.
        4. Single-leg balance on a cushion, eyes closed, 4 x 30 seconds.
        5. Lateral hops over a line, 3 sets of 20.

        Return to sport: jog-walk intervals on flat ground are fine now, building up to 30
        minutes of continuous running. No netball, football or skiing before 9 months after
        surgery (mid-October 2024), and only after a return-to-sport test.
        """,
    ),
)

DENTIST_REMINDER = MailFile(
    "Health/Dentist appointment reminder.eml",
    "Riverside Dental Practice <appointments@riversidedental.example>",
    SAM,
    "Appointment reminder - Tuesday 14 May 09:20",
    "2024-05-10T09:00:00+01:00",
    """
    Dear Sam,

    This is a reminder of your appointment with Dr Anil Patel on Tuesday 14 May 2024 at 09:20,
    at Riverside Dental, 141 Cheltenham Road, Bristol BS6 5RR.

    Appointment: fitting of your crown (lower left first molar).
    NHS Band 3 charge: £319.10, of which £100 has been paid as a deposit.

    Please arrive 5 minutes early. After the fitting, avoid chewing hard food on that side for
    24 hours. To change your appointment, call 0117 942 1188 at least 24 hours before.

    Riverside Dental
    """,
)

VACCINATIONS = NoteFile(
    "Health/Maya vaccinations.txt",
    """
    Maya Whitfield - immunisation record (copied from the red book, Sept 2024)

    8 weeks: 6-in-1 (1st), rotavirus, MenB  - done 12/03/2015
    12 weeks: 6-in-1 (2nd), pneumococcal, rotavirus - done 09/04/2015
    16 weeks: 6-in-1 (3rd), MenB - done 07/05/2015
    1 year: Hib/MenC, MMR (1st dose), pneumococcal booster, MenB booster - done 15/01/2016
    3 years 4 months: MMR (2nd dose), 4-in-1 pre-school booster - done 20/06/2018
    Flu nasal spray every autumn at school - Year 5: 10/10/2024

    Still to come: HPV in Year 8; 3-in-1 teenage booster and MenACWY in Year 9.
    """,
)

OPTICIAN = NoteFile(
    "Health/Clearview Opticians Rx.txt",
    """
    Clearview Opticians - spectacle prescription
    Patient: Sam Whitfield      Date of test: 9 January 2024

            SPH      CYL      AXIS     ADD
    R      -2.25    -0.50     180       -
    L      -2.00    -0.75     170       -
    PD 63 mm

    Distance vision with these lenses: 6/5 right and left.
    Intraocular pressures normal (R 15, L 16 mmHg). Retinal photographs healthy; no signs of
    glaucoma or diabetic changes.

    Slight increase in short-sightedness since 2022 (was R -1.75, L -1.75). Full-time wear
    recommended, and always for driving. Next test due January 2026.

    Frames chosen: Fenwick 52-18 tortoiseshell, 1.6 thin lenses with anti-reflection coating,
    £189.00 paid.
    """,
)

ALLERGY_CLINIC = MailFile(
    "Health/Allergy clinic appointment.eml",
    "Southmead Hospital Allergy Clinic <allergy.bookings@nbt-nhs.example>",
    PRIYA,
    "Your appointment: skin prick testing, 3 July 2024",
    "2024-06-12T15:25:00+01:00",
    """
    Dear Ms Sharma,

    You have an appointment at the Adult Allergy Clinic, Southmead Hospital, Gate 36, on
    Wednesday 3 July 2024 at 13:30, with Dr Ruth Ellison.

    Tests planned: skin prick testing to tree nuts (cashew, pistachio, almond, hazelnut) and,
    depending on the outcome, an oral food challenge at a later appointment.

    Before your appointment: stop taking antihistamines (for example cetirizine, loratadine or
    fexofenadine) 5 days before. Keep using your inhalers as normal. Please bring your adrenaline
    auto-injectors with you.

    Allow 2 hours for the appointment.
    """,
)

TENANCY_AGREEMENT = PdfFile(
    "Home/Tenancy/tenancy agreement 14 Elmwood Road.pdf",
    "Assured Shorthold Tenancy Agreement",
    (
        """
        This agreement is made on 20 August 2022 between:

        Landlord: Gerald Pickering, 3 Oakfield Place, Clifton, Bristol BS8 2BJ
        Tenants: Samuel Whitfield and Priya Sharma
        Property: 14 Elmwood Road, Bristol BS6 7QT (ground floor and rear garden)

        Term: 12 months from 1 September 2022, continuing afterwards as a periodic tenancy from
        month to month.

        Rent: £1,350 per calendar month, due in advance on the 1st of each month by standing
        order to the Landlord's account. The Landlord may propose a rent increase no more than
        once a year, with at least one month's written notice.
        """,
        """
        Deposit

        The Tenants have given a deposit of £1,557 (five weeks' rent). The Landlord will protect
        it with the Deposit Protection Service within 30 days of receipt; certificate number
        DPS-55821. The prescribed information is attached to this agreement.

        At the end of the tenancy the deposit will be returned within 10 days of agreeing any
        deductions, which may be made only for damage beyond fair wear and tear, unpaid rent or
        cleaning needed to restore the condition recorded in the inventory.

        Inventory: the inventory and check-in report by Clifton Inventories dated 31 August 2022
        forms part of this agreement.

        The Tenants will: keep the Property clean and ventilated to prevent condensation; report
        any repairs promptly; test the smoke alarms monthly; allow access for the annual gas
        safety check.
        """,
        """
        Restrictions

        The Tenants shall not, without the Landlord's prior written consent (which will not be
        unreasonably withheld): keep any animal at the Property; sublet or take in lodgers;
        redecorate or fix shelves to the walls; run a business from the Property.
        The Tenants shall not smoke anywhere inside the Property.

        Ending the tenancy

        After the fixed term the Tenants may end the tenancy by giving at least one month's
        written notice, ending on the last day of a rental period. The Landlord must give at
        least two months' notice under section 21 of the Housing Act 1988.

        Access: the Landlord will give at least 24 hours' notice before any inspection.

        Signed: G. Pickering (Landlord), S. Whitfield and P. Sharma (Tenants)
        """,
    ),
)

GAS_SAFETY = MailFile(
    "Home/Tenancy/Gas safety check.eml",
    GERALD,
    f"{SAM}, {PRIYA}",
    "Gas safety check next Thursday",
    "2024-08-21T18:30:00+01:00",
    """
    Hi Sam and Priya,

    The annual gas safety check is due, so I've booked Mark from Avon Gas Services for Thursday
    29 August between 10 and 12. He'll service the boiler while he's there too - the plumber
    mentioned the pressure dropping back in March.

    I'll send you the new CP12 certificate once I have it. Let me know if that time doesn't work
    and I'll rearrange.

    Best wishes,
    Gerald
    """,
)

RENT_INCREASE = MailFile(
    "Home/Tenancy/Re Rent from September.eml",
    SAM,
    GERALD,
    "Re: Rent from September",
    "2024-06-30T20:05:00+01:00",
    """
    Hi Gerald,

    Thanks for letting us know in good time. We'd like to stay, but £1,425 is quite a jump for
    us in one go. Could we meet at £1,400, given we've been here two years and always on time?
    Happy to talk it over on the phone.

    Best,
    Sam

    On 28 Jun 2024, at 09:12, Gerald Pickering wrote:
    > Hi both, I hope you're well. As my mortgage rate has gone up at the remortgage, I need to
    > raise the rent to £1,425 per month from 1 September 2024. I'll post the formal section 13
    > notice this week. Everything else in the tenancy stays the same.
    > Gerald
    """,
)

BROADBAND = NoteFile(
    "Home/broadband contract.txt",
    """
    Fibrelink - contract summary (saved from the sign-up page, 3 Aug 2023)

    Account number: FLK-9902731
    Package: Full Fibre 500 (average download 500 Mb/s, upload 70 Mb/s)
    Price: £32.00 a month, fixed for the contract; set-up fee £0
    Minimum term: 18 months, ends 3 February 2025
    Router: FL-Hub 6 (Wi-Fi 6), must be returned within 30 days of leaving
    Early termination charge: £4.50 for each remaining month of the minimum term
    After the minimum term: rolling monthly contract at the standard price (currently £45)

    Customer services: 0800 088 5520
    """,
)

ELECTRICITY = PdfFile(
    "Home/energy/electricity statement.pdf",
    "Ember Energy - Your electricity statement",
    (
        """
        Account number: 5550812
        Supply address: 14 Elmwood Road, Bristol BS6 7QT
        Statement period: 1 September to 30 September 2024

        Electricity used: 212 kWh (meter readings 18,402 to 18,614, smart meter)
        Unit rate: 24.5p per kWh: £51.94
        Standing charge: 60.1p per day for 30 days: £18.03
        VAT at 5%: £3.50
        Total for the period: £73.47

        Your tariff: Ember Fix 12, ends 31 December 2024. We will write to you 49 days before it
        ends with your options.

        Direct Debit: £96.00 a month. Account balance: £142.18 in credit.
        """,
    ),
)

CLUTCH_INVOICE = PdfFile(
    "Car/Meadowbank Motors invoice.pdf",
    "Meadowbank Motors - Invoice MM-30917",
    (
        """
        Meadowbank Motors Ltd, 12 Station Road, Filton, Bristol BS34 7BY
        Independent Skoda, VW, Audi and Seat specialists

        Invoice: MM-30917
        Date: 6 June 2024
        Customer: Sam Whitfield

        Vehicle: Skoda Octavia Estate 1.5 TSI, registration KX19 ZTE, mileage 68,412

        Customer report: clutch slipping under hard acceleration and a judder when pulling away.

        Diagnosis: clutch friction plate worn to the rivets; dual mass flywheel has excessive
        free play.

        Work carried out: removed and replaced the clutch kit and the dual mass flywheel;
        replaced the concentric slave cylinder; bled the hydraulic system; road tested, OK.
        """,
        """
        Parts
        Kessler clutch kit KC-3309: £289.00
        Dual mass flywheel DMF-4417: £512.00
        Concentric slave cylinder: £96.00
        Hydraulic fluid DOT 4: £8.50

        Labour: 5.5 hours at £72.00: £396.00

        Net: £1,301.50
        VAT at 20%: £260.30
        Total: £1,561.80, paid by debit card 6 June 2024

        Advisory: rear brake pads at 3 mm, replace within the next 2,000 miles.
        Parts and labour are warranted for 12 months or 12,000 miles, whichever comes first.
        """,
    ),
)

MOT_NOTES = NoteFile(
    "Car/MOT 2024 advisories.txt",
    """
    MOT 2 October 2024 - PASS
    Vehicle: KX19 ZTE, Skoda Octavia estate, silver, 71,906 miles
    Test number: 4419 2278 3051, Filton Test Centre
    Expires: 1 October 2025

    Advisories (monitor and repair if necessary):
    - Nearside front tyre worn close to the legal limit (2.1 mm)
    - Offside front tyre has a slight cut on the sidewall, not exposing the cords
    - Front brake discs slightly pitted and corroded
    - Oil leak from the engine, but not excessive

    Notes to self: replace both front tyres before winter; ask Meadowbank about the oil leak
    at the next service; the rear pads they mentioned in June were not flagged.
    """,
)

TYRE_RECEIPT = MailFile(
    "Car/Your tyre fitting receipt.eml",
    "TreadRight Tyres <receipts@treadright.example>",
    SAM,
    "Your TreadRight receipt - KX19 ZTE",
    "2024-10-19T12:48:00+01:00",
    """
    Thanks for visiting TreadRight Tyres, Filton.

    Vehicle: KX19 ZTE
    2 x Vantor Sport EV2 205/55 R16 91V, fitted front: £142.00
    Valves, balancing and disposal of old tyres: £17.00
    Four-wheel alignment check and adjustment: £39.00
    Total: £198.00 (card)

    Your tyres are covered by our free puncture repair for their lifetime. We recommend
    checking the pressures every two weeks: 2.3 bar front, 2.2 bar rear.
    """,
)

PARKING_APPEAL = MailFile(
    "Car/Penalty charge notice appeal.eml",
    SAM,
    "Bristol Parking Services <parking.appeals@bristol-council.example>",
    "Appeal against PCN BS40319276",
    "2024-02-20T22:14:00+00:00",
    """
    Dear Sir or Madam,

    I am writing to challenge penalty charge notice BS40319276, issued on 14 February 2024 at
    10:52 in Cotham Brow to my vehicle KX19 ZTE, contravention code 12 (parked in a residents'
    or shared use parking place without clearly displaying a valid permit).

    My car displayed a valid residents' permit, RP-08821, valid until 31 May 2024. I believe the
    permit had slipped down from the windscreen in the cold, so that it could not be read from
    outside. I have photographs of the permit in the car taken the same morning.

    I would be grateful if you would cancel the notice.

    Yours faithfully,
    Sam Whitfield, 14 Elmwood Road, Bristol BS6 7QT
    """,
)
