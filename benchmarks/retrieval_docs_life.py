"""Retrieval corpus, part 3: trips, recipes and school (see retrieval_docs_money)."""

from __future__ import annotations

from benchmarks.retrieval_docs_money import SAM
from benchmarks.retrieval_records import MailFile, NoteFile, PdfFile

FLIGHTS = MailFile(
    "Travel/Lisbon 2024/Your booking confirmation.eml",
    "SkyBridge Airways <no-reply@skybridge-air.example>",
    SAM,
    "Booking confirmation QX7T2P - Bristol to Lisbon",
    "2024-02-11T21:37:00+00:00",
    """
    Thank you for booking with SkyBridge Airways.

    Booking reference: QX7T2P

    Outbound: SB 2417, Friday 17 May 2024
    Bristol (BRS) departs 06:45, Lisbon (LIS) arrives 09:35

    Return: SB 2418, Friday 24 May 2024
    Lisbon (LIS) departs 20:10, Bristol (BRS) arrives 22:55

    Passengers: Mr Samuel Whitfield, Ms Priya Sharma, Miss Maya Whitfield (child)
    Seats: 14A, 14B and 14C on both flights
    Baggage: one 23 kg hold bag for the booking, and one small cabin bag each

    Online check-in opens 24 hours before departure. Bag drop closes 40 minutes before.
    Amount charged: £684.27 to Visa ending 4417.

    Manage your booking online with your reference and surname.
    """,
    html="alternative",
)

LISBON_HOTEL = PdfFile(
    "Travel/Lisbon 2024/hotel confirmation.pdf",
    "Casa do Miradouro - Booking confirmation 58211937",
    (
        """
        Casa do Miradouro, boutique hotel
        Rua dos Remedios 41, Alfama, 1100-445 Lisbon, Portugal

        Confirmation number: 58211937
        Guest: Sam Whitfield (2 adults, 1 child aged 9)
        Arrival: Friday 17 May 2024. Departure: Friday 24 May 2024 (7 nights)
        Room: family room with terrace and river view, breakfast included
        Total price: EUR 1,246.00, settled at the property on departure

        Check-in from 15:00; check-out until 11:00. Luggage can be left at reception before and
        after your stay.

        Lisbon city tax: EUR 2 per adult per night (up to 7 nights), settled on arrival. Children
        under 13 are exempt.
        """,
        """
        Cancellation policy: free cancellation until 10 May 2024, 23:59 Lisbon time. After that,
        or if you do not arrive, the first night is charged.

        Getting here: from the airport take the metro red line to Alameda, change to the green
        line to Baixa-Chiado, then walk 15 minutes or take tram 28 to Largo das Portas do Sol.
        A taxi from the airport costs about EUR 20.

        Reception is open from 08:00 to 22:00. Arriving later? We will send a key box code the
        day before your arrival.
        """,
    ),
)

CAR_HIRE = MailFile(
    "Travel/Lisbon 2024/car hire voucher.eml",
    "Atlantica Car Rental <bookings@atlantica-rental.example>",
    SAM,
    "Your rental voucher ACR-77120",
    "2024-03-02T10:15:00+00:00",
    """
    Dear Sam Whitfield,

    Voucher: ACR-77120
    Pick-up: Lisbon Airport, Sunday 19 May 2024, 10:00 (desk in the arrivals hall)
    Return: Lisbon Airport, Wednesday 22 May 2024, 17:00
    Vehicle: group B, VW Polo or similar, manual, 5 doors
    Extras: child booster seat (EUR 24 for the rental)
    Fuel policy: full to full

    The main driver must show a driving licence held for at least 1 year and a credit card in
    their name. A deposit of EUR 1,200 (the excess) will be blocked on the card at pick-up.
    Tolls: an electronic toll device is included; tolls are charged after the rental.
    """,
)

LISBON_IDEAS = NoteFile(
    "Travel/Lisbon 2024/lisbon ideas.md",
    """
    # Lisbon ideas (May half term)

    - Tram 28 first thing in the morning, before the queues
    - Miradouros: Santa Luzia (near the hotel), Senhora do Monte at sunset
    - Pastel de nata at Manteigaria in Chiado (Alice says better than the Belem queue)
    - Belem: tower and Jeronimos monastery (closed Mondays!)
    - Sintra day trip: train from Rossio, about 40 minutes. Book Pena Palace tickets online.
    - Oceanario for Maya, half a day
    - LX Factory on Sunday: market, bookshop
    - Car only for the beach days (Cascais / Costa da Caparica)
    """,
)

TRAIN_TICKETS = MailFile(
    "Travel/Edinburgh 2023/Your train tickets.eml",
    "Westway Rail <tickets@westwayrail.example>",
    SAM,
    "Your e-tickets for 27 October",
    "2023-09-14T12:02:00+01:00",
    """
    Your booking is confirmed. Booking reference: TNR4YW8M

    Outward: Friday 27 October 2023
    Bristol Temple Meads 07:30 to Edinburgh Waverley 14:02, change at Birmingham New Street
    Seat reservations: Bristol to Birmingham coach C, seats 41, 42, 43;
    Birmingham to Edinburgh coach F, seats 12, 13, 14 (table)

    Return: Friday 3 November 2023
    Edinburgh Waverley 10:08 to Bristol Temple Meads 16:51, change at Birmingham New Street
    Seat reservations: coach B, seats 22, 23, 24 on both trains

    Tickets: 2 adults and 1 child, Family & Friends Railcard, Advance Single fares
    Total paid: £187.40

    Your e-tickets are in the app. Show the QR code to staff on board and at the gates.
    """,
    html="only",
)

EDINBURGH_PLAN = NoteFile(
    "Travel/Edinburgh 2023/edinburgh plan.md",
    """
    # Edinburgh, October half term

    Flat on Leith Walk, check-in from 4pm, key safe code sent by the host the day before.

    - Sat: Castle (book timed tickets), Royal Mile, Victoria Street
    - Sun: Arthur's Seat from Holyrood Park, early if dry; Scottish Parliament
    - Mon: National Museum (free, Maya wants the Lewis chessmen), Dynamic Earth in the afternoon
    - Tue: Portobello beach and fish and chips; Leith Shore
    - Wed: Camera Obscura, Dean Village walk
    - Thu: pack, last lunch at the Mosque Kitchen; train home Fri morning
    """,
)

CROATIA_CAMPSITE = PdfFile(
    "Travel/Croatia 2023/campsite and ferry booking.pdf",
    "Kamp Zlatna Uvala, Krk - Booking CRO-22817",
    (
        """
        Kamp Zlatna Uvala, 51521 Punat, island of Krk, Croatia

        Booking number: CRO-22817
        Guest: Sam Whitfield, 2 adults, 1 child, 1 dog
        Arrival: Saturday 5 August 2023, from 14:00
        Departure: Tuesday 15 August 2023, by 12:00 (10 nights)
        Pitch: 114, comfort pitch, about 100 square metres, shaded, 16 A electricity, water and
        drain connection
        Price: EUR 612.00 including tourist tax; deposit EUR 150 paid, balance on arrival

        Ferry: Valbiska (Krk) to Merag (Cres), Sunday 13 August, 09:30 sailing, car and 3
        passengers, tickets bought at the port.
        """,
        """
        Campsite rules

        Quiet hours from 23:00 to 07:00; no cars may be driven in the campsite during quiet hours.
        Dogs must be kept on a lead and are welcome on the dog beach at the north end of the bay.
        Barbecues: gas or electric only, because of the fire risk in summer.
        Waste must be sorted at the recycling point near reception.
        Reception is open from 07:00 to 22:00 in July and August.
        """,
    ),
)

PASSPORT_NOTES = NoteFile(
    "Travel/passport renewal notes.txt",
    """
    Maya passport renewal

    Old passport expires 28 April 2024 - needed for Lisbon in May!
    Applied online 3 Feb 2024, application reference PEX 6612 0931, fee £57.50.
    Digital photo code from the photo booth at Broadmead.
    No countersignatory needed (renewal, she still looks like her photo).
    Posted the old passport by special delivery on 6 Feb.
    Expected to take 3 weeks. New passport arrived 22 Feb, old one returned separately.
    """,
)

SOURDOUGH = NoteFile(
    "Recipes/sourdough loaf.md",
    """
    # Sourdough loaf (weekend bake)

    Starter: 100% hydration, lives in the fridge in the Kilner jar. Feed it 1:5:5 (10 g
    starter, 50 g flour, 50 g water) the night before; use it when it has doubled and is domed
    (8-10 h at 22 °C). Between bakes, feed it once a week and put it straight back in the
    fridge. If it smells of nail-polish remover, it's hungry: discard all but 20 g and feed
    twice a day for two days.

    Dough: 500 g strong white flour (50 g of it wholemeal), 350 g water, 100 g active starter,
    10 g salt.

    1. Autolyse: mix the flour with 325 g of the water, rest 1 h.
    2. Add the starter and pinch it in; rest 30 min; add the salt with the last 25 g water.
    3. Bulk: 4 sets of stretch-and-folds every 30 min, then leave until risen by about half
       (4-6 h in total).
    4. Pre-shape, bench rest 20 min, shape, into a floured banneton. Fridge overnight (12-16 h).
    5. Bake in a Dutch oven preheated to 250 °C: lid on 20 min, lid off at 230 °C for 25 min.
       Cool for 1 h before slicing.
    """,
)

TAGINE = NoteFile(
    "Recipes/lamb tagine.md",
    """
    # Lamb tagine with apricots (serves 6)

    - 1.2 kg lamb shoulder, diced
    - 2 onions, 3 garlic cloves, a thumb of ginger
    - 2 tbsp ras el hanout, 1 tsp cinnamon, a pinch of saffron
    - 400 g tin of chopped tomatoes, 500 ml lamb stock
    - 150 g soft apricots, 1 preserved lemon, 1 tin of chickpeas, 1 tbsp honey
    - coriander and toasted flaked almonds to serve

    Brown the lamb in batches in olive oil. Soften the onions, add garlic, ginger and spices for
    a minute. Return the lamb with tomatoes and stock, bring to a simmer, then lid on and into
    the oven at 150 °C for 2 hours. Add apricots, chickpeas, chopped preserved lemon rind and
    honey; another 30-45 min until the lamb falls apart.

    Serve with couscous and yoghurt. Freezes well. From the Marrakech trip in 2019 - the riad
    made it with prunes instead of apricots.
    """,
)

PLUM_CAKE = NoteFile(
    "Recipes/Grandma Irene's plum cake.txt",
    """
    GRANDMA IRENE'S PLUM CAKE (Zwetschgenkuchen), one baking tray

    Base: 250 g plain flour, 7 g dried yeast, 40 g sugar, pinch of salt, 125 ml warm milk,
    40 g soft butter, 1 egg. Knead 10 min, rise 1 hour, roll out onto the greased tray.

    Topping: 1 kg dark plums, halved and stoned, each half cut almost through again. Stand them
    close together in rows, cut side up, like roof tiles.

    Streusel: 100 g flour, 75 g cold butter, 60 g sugar, 1 tsp cinnamon, rubbed to crumbs.

    Prove 20 min, bake at 190 °C for 35-40 min. Irene always served it warm, with whipped cream,
    in September when the plums are ripe.
    """,
)

GREEN_CURRY = NoteFile(
    "Recipes/thai green curry.md",
    """
    # Thai green curry (chicken or tofu), serves 4

    Paste: 4 green chillies, 2 lemongrass stalks, thumb of galangal, 4 kaffir lime leaves,
    2 shallots, 4 garlic cloves, coriander stalks, 1 tsp cumin, 1 tsp white pepper, fish sauce.
    Blitz to a paste. Keeps a week in the fridge, or freeze in an ice cube tray.

    Fry 4 tbsp paste in the thick top of a can of coconut milk until it splits and smells
    fragrant. Add 500 g chicken thigh (or firm tofu), the rest of the coconut milk, 200 ml stock,
    Thai aubergines or green beans. Simmer 15 min. Season with fish sauce, palm sugar and lime.
    Thai basil at the end. Jasmine rice.
    """,
)

BANANA_BREAD = NoteFile(
    "Recipes/banana bread.txt",
    """
    Banana bread (Priya's, one 2 lb loaf tin)

    3 very ripe bananas, mashed
    75 g melted butter, 100 g light brown sugar, 1 egg, 1 tsp vanilla
    190 g plain flour, 1 tsp bicarbonate of soda, pinch of salt, 1 tsp cinnamon
    75 g walnuts, chopped (leave out when Maya's friends come round - nut allergy)

    Mix wet, then dry, don't overmix. 175 °C for 55-60 min, skewer comes out clean.
    """,
)

CHANA_MASALA = NoteFile(
    "Recipes/chana masala.md",
    """
    # Chana masala (weeknight, 30 min)

    2 tins chickpeas, 1 onion, 2 tomatoes, ginger, garlic, 1 green chilli.
    Spices: 1 tsp cumin seeds, 1 tsp ground coriander, 1 tsp garam masala, 1/2 tsp turmeric,
    1 tsp amchur (dried mango powder) - the sour note is what makes it.

    Cumin seeds in hot oil, then onion until deep golden (15 min, don't rush), ginger, garlic,
    chilli, ground spices, tomatoes. Add chickpeas with a splash of their water, simmer 10 min,
    mash a few against the pan to thicken. Amchur and garam masala at the end. Lemon, coriander.
    """,
)

SCHOOL_VISIT = PdfFile(
    "School/Year 5 visit to Slimbridge.pdf",
    "St Bede's Primary School - Year 5 educational visit",
    (
        """
        Dear Parents and Carers,

        As part of our science topic on living things and their habitats, Year 5 will visit WWT
        Slimbridge Wetland Centre on Thursday 13 June 2024.

        We will travel by coach, leaving at 8:45 and returning by 15:30. Children will take part
        in a pond-dipping session with the centre's education team and a guided walk to the
        hides to watch wildfowl and wading birds, and they will visit the flamingo enclosure.

        The voluntary contribution for the coach and the session is £18.50; please use ParentPay
        by 31 May. Children need a packed lunch in a disposable bag, a waterproof coat and wellies.

        Thank you for your support,
        Mr James Foster, Year 5 teacher
        """,
        """
        Consent form - return to the school office by Friday 31 May 2024

        I give consent for my child to take part in the Year 5 visit to WWT Slimbridge Wetland
        Centre on Thursday 13 June 2024.

        Child's name: ______________________

        Medical needs or allergies (please give details, including any inhaler or medication
        your child will need during the day): ______________________

        Emergency contact name and telephone number: ______________________

        Signed (parent or carer): ______________________  Date: __________
        """,
    ),
)

PARENTS_EVENING = NoteFile(
    "School/parents evening notes.md",
    """
    # Parents' evening - Maya, Year 5 (Mrs Adeyemi), 7 Nov 2024

    - Reading: working at greater depth, reads widely; wants her to try more non-fiction.
    - Maths: times tables still slow on the 7s and 8s - 10 min of TT Rockstars a day.
      Fractions good, needs to show working in written methods.
    - Writing: lovely vocabulary; vary sentence openers; handwriting now joined.
    - Friendships: the falling-out with Zara in September is sorted.
    - 11+: Mrs A thinks she could sit it if we want, but no pressure; registration closes
      in May of Year 5? (check the date on the council website).

    Our actions: times tables practice before school; library trip every other Saturday.
    """,
)

TERM_DATES = NoteFile(
    "School/term dates 2024-25.txt",
    """
    St Bede's Primary - term dates 2024-25

    Autumn term: Wed 4 September - Fri 20 December 2024
      Half term: Mon 28 October - Fri 1 November
    Spring term: Mon 6 January - Fri 4 April 2025
      Half term: Mon 17 February - Fri 21 February
    Summer term: Tue 22 April - Tue 22 July 2025
      Half term: Mon 26 May - Fri 30 May

    INSET days (school closed to pupils): Mon 2 Sept, Tue 3 Sept, Fri 3 Jan, Mon 21 April,
    Wed 23 July.
    """,
)

HEAD_LICE = MailFile(
    "School/Head lice in Year 5.eml",
    "St Bede's Primary School <office@stbedes.example>",
    "Year 5 parents <year5-parents@stbedes.example>",
    "Head lice in Year 5",
    "2024-09-23T15:10:00+01:00",
    """
    Dear Parents and Carers,

    We have had several reported cases of head lice in Year 5 this week. Please check your
    child's hair carefully over the next few days with a fine-toothed detection comb, on wet,
    conditioned hair, section by section.

    If you find live lice, please treat everyone in the household who has them on the same day,
    and check again after 5 and 10 days. Children do not need to stay off school.

    Please tie back long hair and ask your child not to share hairbrushes or hats.

    Thank you for your help in stopping the spread,
    Mrs Caroline Hughes, Headteacher
    """,
)

SWIMMING = MailFile(
    "School/Swimming lessons for Year 5.eml",
    "St Bede's Primary School <office@stbedes.example>",
    "Year 5 parents <year5-parents@stbedes.example>",
    "Swimming lessons for Year 5 this term",
    "2024-09-06T12:30:00+01:00",
    """
    Dear Parents and Carers,

    Year 5 will have swimming lessons at Horfield Leisure Centre every Tuesday afternoon this
    term, from 10 September to 10 December. The children walk there with staff after lunch.

    Please send your child with a swimming costume (no shorts), a towel, a swimming hat for long
    hair, and goggles if they use them. The voluntary contribution is £2 a week towards the pool
    hire.

    Mrs Caroline Hughes, Headteacher
    """,
)
