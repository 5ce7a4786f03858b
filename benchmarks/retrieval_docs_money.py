"""Retrieval corpus, part 1: invoices, receipts and insurance.

Written for this benchmark; people, firms and numbers are invented. The household: Sam Whitfield,
his partner Priya Sharma, their daughter Maya (Year 5) and their dog Biscuit, renting at
14 Elmwood Road, Bristol. Some files are deliberately close to each other (three tradesmen's
invoices, two years of the same home insurance) so that the right one has to be told apart from
its neighbours.
"""

from __future__ import annotations

from benchmarks.retrieval_records import MailFile, NoteFile, PdfFile

SAM = "Sam Whitfield <sam.whitfield@mailbox.example>"

PLUMBER_INVOICE = PdfFile(
    "Finance/Invoices/invoice_2024_03_harlow.pdf",
    "Harlow & Sons Plumbing and Heating - Invoice INV-20417",
    (
        """
        Harlow & Sons Plumbing and Heating Ltd
        Unit 4, Feeder Road Trading Estate, Bristol BS2 0TQ - Tel 0117 496 0312
        VAT reg. 318 4420 76

        Invoice number: INV-20417
        Invoice date: 12 March 2024
        Customer: Sam Whitfield, 14 Elmwood Road, Bristol BS6 7QT
        Job reference: HS-7731

        Emergency call-out (Saturday, before 12:00): £95.00
        Labour, 2.5 hours at £58.00: £145.00
        Parts and materials (itemised on page 2): £165.00
        Subtotal: £405.00
        VAT at 20%: £81.00
        Total due: £486.00

        Payment is due within 14 days of the invoice date. Please pay by bank transfer to
        Harlow & Sons Plumbing and Heating Ltd, sort code 30-94-57, account 61170482, quoting
        the invoice number as the reference.
        """,
        """
        Work carried out on Saturday 9 March 2024

        Attended a leak under the kitchen sink. Found a corroded compression fitting on the cold
        feed to the mixer tap. Isolated the supply, cut out the damaged section of 15 mm copper
        and fitted a new isolating valve.

        In the bathroom, replaced the faulty thermostatic valve on the shower (Thermaflo TMV-3),
        which was running cold. Pressure-tested the system afterwards; no further leaks found.

        Parts
        15 mm compression isolating valve x2: £14.00
        Thermaflo TMV-3 thermostatic shower valve: £139.00
        Fittings, PTFE tape and sundries: £12.00

        Note for the customer: the expansion vessel on the combination boiler is losing its
        charge and the system pressure drops to 0.5 bar overnight. We recommend a boiler service
        within the next three months. In a rented property this is the landlord's responsibility.
        """,
    ),
)

ELECTRICIAN_INVOICE = PdfFile(
    "Finance/Invoices/Brightwire invoice.pdf",
    "Brightwire Electrical Ltd - Invoice BW-88312",
    (
        """
        Brightwire Electrical Ltd - NICEIC approved contractor, registration 610448
        27 Gloucester Lane, Bristol BS5 9JH

        Invoice: BW-88312
        Date: 21 November 2023
        Invoice to: Mr S. Whitfield, 14 Elmwood Road, Bristol BS6 7QT

        Description of work
        Supply and install a new 12-way dual RCD consumer unit with surge protection, in place
        of the old rewireable unit in the hallway cupboard. RCBO protection fitted to the kitchen
        ring and the shower circuit. Main earth bonding to the gas and water services brought up
        to current regulations (BS 7671). Inspection and testing of all circuits.

        Materials: £486.00
        Labour, two electricians, one day: £540.00
        Certification and Part P notification: £64.00
        Subtotal: £950.00
        VAT at 20%: £190.00
        Amount due: £1,140.00
        """,
        """
        Certificates

        Electrical Installation Certificate EIC-2023-4471 has been issued for the new consumer
        unit. The work has been notified to building control under Part P; the compliance
        certificate will be posted to you by the scheme provider within 30 days.

        Test summary: insulation resistance above 200 MOhm on all circuits; earth fault loop
        impedance within limits; RCD trip times 18-24 ms.

        Terms
        Payment within 30 days. Our workmanship is guaranteed for 2 years; the manufacturer's
        warranty on the consumer unit is 5 years.

        Observations (outside the scope of this job): two sockets in the back bedroom have loose
        faceplates and should be refixed.
        """,
    ),
)

ROOF_QUOTE = PdfFile(
    "Finance/Invoices/roof gutter quote.pdf",
    "Tillman Roofing - Quotation Q-5521",
    (
        """
        Tillman Roofing & Guttering, 5 Mina Road, Bristol BS2 9YP

        Quotation Q-5521, 2 October 2023
        For: Mr S. Whitfield, 14 Elmwood Road, Bristol BS6 7QT

        Clear and flush all gutters and downpipes, front and rear.
        Reseal the leaking gutter joint above the back door.
        Replace three slipped slates on the rear roof slope and check the ridge tiles.
        Scaffold tower and waste removal included.

        Price: £620.00 including VAT. This quotation is valid for 30 days. We can usually start
        within two weeks of acceptance, weather permitting.
        """,
    ),
)

WASHING_MACHINE = NoteFile(
    "Finance/Receipts/washing machine receipt.txt",
    """
    COLEMAN'S APPLIANCES
    88 Gloucester Road, Bristol BS7 8BN
    Receipt 771-2045          02/08/2023 14:22

    Kestrel WM-8140X washing machine 8kg 1400rpm white      £429.00
    Delivery and connection                                  £25.00
    Removal of old appliance                                 £15.00
    TOTAL                                                   £469.00
    Paid: Visa debit ****4417

    Your Kestrel comes with a 2-year manufacturer's warranty.
    Keep this receipt as proof of purchase.
    Thank you for shopping at Coleman's!
    """,
)

DISHWASHER_ORDER = MailFile(
    "Finance/Receipts/Order confirmation dishwasher.eml",
    "Homeline Direct <orders@homeline-direct.example>",
    SAM,
    "Your Homeline order HL-5530921 is confirmed",
    "2024-06-04T19:12:00+01:00",
    """
    Hi Sam,

    Thanks for your order! Here is what happens next.

    Order number: HL-5530921
    Hallberg DW60 fully integrated dishwasher, 60 cm, 14 place settings: £399.00
    Installation: £60.00
    Order total: £459.00

    Delivery: Tuesday 11 June, between 08:00 and 12:00. We will text you a one-hour slot on
    the morning of delivery.

    Our installers will connect the dishwasher to the existing water supply and waste. They
    cannot alter kitchen cabinets or fit the décor door panel, and the old appliance must be
    disconnected before they arrive.

    The Homeline Direct team
    """,
    html="alternative",
)

LAPTOP_RECEIPT = PdfFile(
    "Finance/Receipts/laptop receipt.pdf",
    "TechNest - Sales receipt TN-00418872",
    (
        """
        TechNest Ltd, Unit 12 Cabot Circus, Bristol BS1 3BX

        Sales receipt: TN-00418872
        Date: 15 January 2024
        Customer: Sam Whitfield

        Lenovo ThinkPad T14 Gen 4 laptop, 14 inch, Intel Core i7-1355U, 16 GB RAM, 512 GB SSD
        Model number: 21HD0041UK
        Serial number: PF4K2XQ1
        Price: £1,249.00

        TechNest Care: 3-year on-site warranty upgrade: £129.00

        Total paid: £1,378.00 (Mastercard ****8821)
        """,
        """
        Your TechNest Care terms

        Your on-site warranty runs for 3 years from the date of purchase, until 14 January 2027.
        If a fault is confirmed by phone, a technician will attend on the next business day.

        Not included: accidental damage such as drops, spills and cracked screens; the battery
        is included for 1 year only; software problems and data recovery.

        Please have the serial number ready when you contact TechNest support on 0800 046 1190.
        """,
    ),
)

COUNCIL_TAX = PdfFile(
    "Finance/Tax/council tax 2024-25.pdf",
    "Bristol City Council - Council Tax bill 2024/25",
    (
        """
        Account reference: 40017725
        Property: Flat B, 14 Elmwood Road, Bristol BS6 7QT
        Liable persons: Samuel Whitfield, Priya Sharma
        Valuation band: C

        Annual charge 1 April 2024 to 31 March 2025: £2,013.45
        (Bristol City Council £1,712.30, Avon and Somerset Police £281.48, Avon Fire £19.67)

        Instalments: 10 monthly instalments by Direct Debit on the 1st of each month,
        April to January: first instalment £201.30, then 9 of £201.35.

        Discounts and exemptions: no single person discount applies, as two adults are
        registered at the property. Tell us within 21 days if anyone moves in or out.
        """,
    ),
)

HOME_INSURANCE_2024 = PdfFile(
    "Insurance/Home/home insurance policy 2024.pdf",
    "Meridian Home Insurance - Policy schedule 2024/25",
    (
        """
        Policyholders: Sam Whitfield and Priya Sharma
        Policy number: HH-4471902
        Period of cover: 1 September 2024 to 31 August 2025
        Address insured: 14 Elmwood Road, Bristol BS6 7QT
        Cover type: tenants' contents insurance

        Contents sum insured: £45,000
        Personal possessions away from the home: £2,500 (single item limit £1,000)
        Accidental damage to contents: included
        Annual premium: £214.80, by 12 monthly Direct Debits of £17.90
        """,
        """
        What is covered

        Loss of or damage to your contents caused by fire, smoke, lightning, explosion, storm,
        flood, theft or attempted theft, vandalism, and escape of water or oil from any fixed
        water or heating installation, washing machine or dishwasher.

        Accidental damage to contents, for example spilling paint on a carpet or dropping a
        television.

        Personal possessions such as jewellery, watches, mobile phones and bicycles, up to £800
        each while away from the home, anywhere in the UK and for up to 60 days abroad.

        Alternative accommodation up to £10,000 if the home cannot be lived in after an insured
        event.
        """,
        """
        Excesses and exclusions

        Standard excess: £100 for each claim.
        Escape of water: £350 for each claim (instead of the standard excess).

        We will not settle claims for: wear and tear; damage caused by pets; loss while the home
        is unoccupied for more than 60 days in a row; theft by a lodger; water that has leaked
        gradually over time, such as from a failed seal around a shower tray.

        How to claim: call 0345 600 2231, 24 hours a day, quoting your policy number. Report any
        theft to the police within 48 hours and ask for a crime reference number.
        """,
    ),
)

HOME_INSURANCE_2023 = PdfFile(
    "Insurance/Home/home insurance policy 2023.pdf",
    "Meridian Home Insurance - Policy schedule 2023/24",
    (
        """
        Policyholders: Sam Whitfield and Priya Sharma
        Policy number: HH-3920188
        Period of cover: 1 September 2023 to 31 August 2024
        Address insured: 14 Elmwood Road, Bristol BS6 7QT
        Cover type: tenants' contents insurance

        Contents sum insured: £40,000
        Personal possessions away from the home: not included
        Accidental damage to contents: not included
        Annual premium: £188.40, by 12 monthly Direct Debits of £15.70
        """,
        """
        What is covered, excesses and exclusions

        Loss of or damage to your contents caused by fire, smoke, lightning, explosion, storm,
        flood, theft, vandalism, and escape of water from any fixed water or heating
        installation.

        Standard excess: £100 for each claim. Escape of water: £250 for each claim.

        We will not settle claims for wear and tear, damage caused by pets, or loss while the
        home is unoccupied for more than 60 days in a row.
        """,
    ),
)

CAR_INSURANCE_SCHEDULE = PdfFile(
    "policy schedule MTR-662019.pdf",
    "Harbour Motor Insurance - Policy schedule",
    (
        """
        Policy number: MTR-662019
        Period of insurance: 3 September 2024 to 2 September 2025
        Policyholder: Samuel Whitfield, 14 Elmwood Road, Bristol BS6 7QT

        Vehicle: Skoda Octavia Estate 1.5 TSI SE, 2019, registration KX19 ZTE
        Cover: comprehensive
        Class of use: social, domestic and pleasure, including commuting
        Drivers: Samuel Whitfield (policyholder); Priya Sharma (named driver)
        No claims discount: 6 years, protected
        Excess: compulsory £150 plus voluntary £250; windscreen replacement £95
        Estimated annual mileage: 8,000
        """,
    ),
)

CAR_INSURANCE_RENEWAL = MailFile(
    "Insurance/Car/Your motor insurance renewal.eml",
    "Harbour Motor Insurance <renewals@harbourmotor.example>",
    SAM,
    "Your car insurance renewal - policy MTR-662019",
    "2024-08-19T08:03:00+01:00",
    """
    Dear Mr Whitfield,

    Your policy MTR-662019 renews on 3 September 2024. Your new annual premium is £612.40
    (last year: £538.15). The increase reflects rising repair and parts prices across the
    industry, not anything you have done.

    If you do nothing, we will renew your policy automatically and collect the premium from the
    card we hold. Your renewal documents, including your policy schedule and certificate of
    motor insurance, are attached.

    To make changes, call us on 0330 123 7788.

    Kind regards,
    Harbour Motor Insurance
    """,
    attachment=CAR_INSURANCE_SCHEDULE,
)

TRAVEL_INSURANCE = PdfFile(
    "Insurance/Travel/annual travel insurance certificate.pdf",
    "Wayfarer Travel Insurance - Certificate of insurance",
    (
        """
        Policy number: WF-2024-118834
        Policy type: annual multi-trip, Europe
        Period: 1 April 2024 to 31 March 2025
        Insured persons: Sam Whitfield, Priya Sharma, Maya Whitfield

        Maximum length of any one trip: 31 days

        Emergency medical expenses: up to £10,000,000
        Cancellation and cutting short your trip: up to £3,000 per person
        Baggage: up to £1,500 per person (valuables limit £300)
        Personal liability: up to £2,000,000

        Pre-existing medical conditions declared: asthma (Maya Whitfield), accepted at no extra
        premium.
        """,
        """
        Optional covers you have not chosen

        Winter sports: skiing, snowboarding and off-piste skiing with a qualified guide, ski
        equipment and ski pack, piste closure. Winter sports cover can be added at any time
        before you travel for £39 per policy.

        Cruise cover: not included. Gadget cover: not included.

        Excess: £75 per person for each claim, under each section.

        24-hour emergency assistance abroad: +44 20 3966 1020. Always call before arranging
        hospital treatment abroad, except in an emergency.
        """,
    ),
)

PET_CLAIM = MailFile(
    "Insurance/Pet/Claim update Biscuit.eml",
    "PetWell Claims <claims@petwell.example>",
    SAM,
    "Claim CLM-30055 for Biscuit - decision",
    "2024-04-26T11:40:00+01:00",
    """
    Dear Sam,

    We have assessed claim CLM-30055 under your PetWell pet insurance policy for Biscuit (Cocker
    Spaniel, 6 years).

    Treatment: TPLO surgery for a ruptured cranial cruciate ligament in the right hind leg,
    at Westbury Veterinary Hospital, 2 to 9 April 2024.
    Invoice total: £2,870.00
    Less fixed excess: £99.00
    Less 20% co-payment (applies from 6 years of age): £554.20
    Amount we will pay: £2,216.80

    We will pay this directly to Westbury Veterinary Hospital within 5 working days. The
    remaining £653.20 is due from you to the practice.

    Biscuit's lifetime limit for this condition is £12,000; £9,783.20 remains.

    Wishing Biscuit a speedy recovery,
    PetWell Claims Team
    """,
)
