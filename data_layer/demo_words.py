"""The demo federation's invented words and proportions: practice, PCN and staff names, role mix, patients'
comments, complaint and significant-event categories (read by ``demo_data``; nothing here is real)."""
from __future__ import annotations

PRACTICE_NAMES = [
    "Kingfisher Medical Centre",
    "Oakwood Lane Surgery",
    "Harbour View Surgery",
    "Willowbrook Health Centre",
    "Millstream Surgery",
    "Chalk Hill Medical Practice",
    "Beacon Lane Surgery",
    "Orchard Family Practice",
    "Sandpiper Medical Group",
    "Heron Quay Surgery",
    "Foxglove Health Centre",
]
HARBOUR_VIEW, MILLSTREAM, ORCHARD = 2, 4, 7
PCN_NAMES = ["Riverside PCN", "Chalk Downs PCN", "Estuary PCN"]
NAME_PARTS_A = ["Alder", "Birch", "Cedar", "Elm", "Hazel", "Juniper", "Larch", "Maple", "Rowan", "Yew", "Ash", "Holly",
                "Linden", "Poplar", "Beech", "Thorn", "Bramble", "Clover", "Meadow", "Brook"]
NAME_PARTS_B = ["Surgery", "Medical Centre", "Health Centre", "Medical Practice", "Family Practice", "Medical Group"]

FIRST_NAMES = [
    "Aisha", "Amelia", "Ben", "Chloe", "Daniel", "Deepa", "Eleanor", "Emeka", "Fatima", "George", "Grace", "Hannah",
    "Imran", "Isla", "James", "Jia", "Kate", "Kwame", "Laura", "Liam", "Lucy", "Marek", "Maria", "Mohammed", "Nadia",
    "Niamh", "Oliver", "Olu", "Priya", "Rachel", "Rhys", "Ruth", "Sam", "Sofia", "Tom", "Uma", "Victoria", "Wei",
    "Yusuf", "Zoë", "Siobhán", "José", "Renée", "Chidi", "Agnieszka", "Tariq", "Helen", "Mark", "Joanne", "Peter",
]
LAST_NAMES = [
    "Adeyemi", "Ahmed", "Bailey", "Brown", "Chen", "Clarke", "Davies", "Evans", "Fernandes", "Green", "Hall", "Hughes",
    "Iqbal", "Jones", "Kaur", "Khan", "Kowalski", "Lewis", "Martin", "Mensah", "Morgan", "Nowak", "O'Brien", "Okafor",
    "Patel", "Price", "Roberts", "Robinson", "Shah", "Singh", "Smith", "Taylor", "Thomas", "Turner", "Walker", "Ward",
    "Watson", "White", "Williams", "Wilson", "Wright", "Young", "Ní Bhriain", "Müller", "García", "Łukasz",
]

# Staff per patient by role (about 200 staff for 68,000 patients) and the chance each member has left.
ROLE_RATIOS = {
    "GP": 1 / 2000,
    "Nurse": 1 / 3000,
    "HCA": 1 / 5000,
    "Pharmacist": 1 / 7000,
    "Receptionist": 1 / 1200,
    "Administrator": 1 / 2000,
    "Practice manager": 0,  # exactly one per practice
}

# Raw (not derived) indicators: (typical %, spread between practices, denominator per registered patient per month,
# monthly noise sd in percentage points). Rates per 10,000 are handled separately.
RAW_PROPORTIONS: dict[str, tuple[float, float, float, float]] = {
    "BROAD_SPECTRUM_ABX": (9.0, 1.5, 0.012, 0.0),
    "MED_REVIEW": (81.0, 4.0, 0.05, 0.8),
    "HIGH_RISK_MONITORING": (94.0, 2.0, 0.004, 0.0),
    "DM_HBA1C": (64.0, 3.0, 0.07, 0.6),
    "HYP_BP": (73.0, 3.0, 0.14, 0.5),
    "AF_ANTICOAG": (89.0, 2.0, 0.02, 0.0),
    "CERVICAL_SCREENING": (75.0, 3.5, 0.18, 0.3),
    "BOWEL_SCREENING": (69.0, 3.0, 0.12, 0.3),
    "MMR2_AGE5": (89.0, 3.0, 0.0012, 0.0),
    "FLU_65": (76.0, 3.0, 0.17, 0.4),
    "SMOKING_SUPPORT": (88.0, 3.0, 0.13, 0.6),
    "CKD_ACR": (71.0, 5.0, 0.03, 0.8),
    "CARERS_IDENTIFIED": (2.6, 0.6, 1.0, 0.03),
    "GPPS_LISTENING": (88.0, 3.0, 0.007, 0.0),
    "GPPS_INVOLVED": (91.0, 2.5, 0.007, 0.0),
    "APPT_2_WEEKS": (84.0, 4.0, 0.45, 0.6),
    "DNA_RATE": (4.6, 0.8, 0.45, 0.15),
    "SAME_DAY": (42.0, 6.0, 0.45, 1.0),
    "GPPS_PHONE": (62.0, 12.0, 0.007, 0.0),
    "GENERIC_PRESCRIBING": (88.5, 1.5, 0.8, 0.2),
    "ONLINE_ACCESS": (52.0, 6.0, 1.0, 0.1),
}

# Published indicators in the catalogue: (typical value, spread between practices), from their own generator.
PUBLISHED_DEMO: dict[str, tuple[float, float]] = {
    "SMOKING_PREVALENCE": (14.0, 3.0),
    "DEPRIVATION_IMD2019": (22.0, 7.0),
    "BREAST_SCREENING": (70.0, 4.0),
    "CERVICAL_SCREENING_50_64": (74.0, 3.0),
    "MMR1_AGE1": (91.0, 3.0),
    # the rest of the childhood schedule (UKHSA COVER, England around 2024-25), so every catalogue measure draws
    "SIX_IN_ONE_AGE1": (91.5, 3.0), "MENB_AGE1": (91.0, 3.0), "PCV_AGE1": (93.0, 2.5), "ROTA_AGE1": (89.0, 3.5),
    "SIX_IN_ONE_AGE2": (92.5, 2.5), "MMR1_AGE2": (89.0, 3.0), "HIB_MENC_AGE2": (89.0, 3.0),
    "PCV_BOOSTER_AGE2": (88.5, 3.0), "MENB_BOOSTER_AGE2": (88.0, 3.0), "SIX_IN_ONE_AGE5": (93.0, 2.5),
    "PRESCHOOL_BOOSTER_AGE5": (83.0, 4.0), "HIB_MENC_AGE5": (91.5, 3.0), "MMR1_AGE5": (92.5, 2.5),
    "HYP_BP_80": (82.0, 4.0),
    "BP_RECORDED_45": (89.0, 3.0),
    "PAYMENTS_PER_WEIGHTED_PATIENT": (138.0, 9.0),  # £ a year (NHS Payments to General Practice)
    "PAYMENTS_PER_REGISTERED_PATIENT": (136.0, 9.0),
    "QOF_PAYMENTS_PER_PATIENT": (12.5, 1.5),
}

POSITIVE_COMMENTS = [
    "The receptionist was friendly and found me an appointment the same day.",
    "Dr {doc} listened carefully and explained everything clearly.",
    "Nurse was very gentle with my daughter's vaccinations.",
    "Quick and easy to book online, seen on time.",
    "Always treated with kindness and respect here.",
    "Very thorough review of my diabetes, I feel much more in control now.",
    "Excellent care from the whole team as always.",
    "The pharmacist sorted out my repeat prescriptions in one call.",
    "Got a call back within the hour, really reassuring.",
    "Clean, calm waiting room and I was seen promptly.",
    "The doctor took time to talk through my options and didn't rush me.",
    "Staff were patient with my mum who has dementia.",
    "Blood test results were explained to me the next day.",
    "Really helpful advice about stopping smoking.",
    "Fantastic service – couldn't ask for more.",
    "Seen within ten minutes of my appointment time.",
    "The new online form is brilliant, reply the same afternoon.",
    "Felt listened to and involved in the decision about my treatment.",
]
NEGATIVE_COMMENTS = [
    "Waited 40 minutes on the phone before anyone answered.",
    "Could not get an appointment for three weeks.",
    "Receptionist was rude and dismissive when I asked for help.",
    "The new phone system cut me off twice at 8am.",
    "Waited an hour past my appointment time with no explanation.",
    "My prescription wasn't ready when I was told it would be.",
    "Felt rushed, the doctor barely looked up from the screen.",
    "Nobody called me back as promised. Please ring me on 07700 900{n:03d}.",
    "Hard to book online, the system keeps saying no appointments.",
    "Test results took two weeks and I had to chase them.",
    "Not happy with how my complaint was handled, email me at patient{n}@example.com",
]
NEUTRAL_COMMENTS = [
    "Fine, nothing special.",
    "Appointment was OK but parking is difficult.",
    "Seen eventually, the care itself was good.",
    "Average experience.",
]
DOCTOR_SURNAMES = ["Patel", "Okafor", "Hughes", "Chen", "Morgan", "Shah", "Evans", "Nowak"]
COMPLAINT_CATEGORIES = ["Access to appointments", "Telephone access", "Staff attitude", "Clinical care",
                        "Prescriptions", "Communication", "Administration", "Test results"]
COMPLAINT_OUTCOMES = ["Upheld", "Partially upheld", "Not upheld", "Withdrawn"]
SEA_CATEGORIES = ["Prescribing error", "Delayed referral", "Safeguarding concern", "Test result handling",
                  "Information governance breach", "Vaccine cold chain", "Patient fall", "Equipment failure",
                  "Missed diagnosis"]
SEA_LEARNING = [
    "Discussed at the practice meeting; repeat-prescribing protocol updated and shared with all prescribers.",
    "Referral tracking log introduced; reception team briefed on the two-week-wait process.",
    "Safeguarding lead reviewed the case; staff reminded how to raise a concern the same day.",
    "Results inbox cover arranged for GP leave; workflow documented.",
    "Staff reminded about checking identity before disclosing information; IG training refreshed.",
    "Fridge temperature alarm fitted and the daily log moved to the clinical system.",
    "Trip hazard removed; environmental risk assessment repeated.",
    "Equipment maintenance schedule added to the practice calendar.",
    "Case reviewed at the clinical meeting; safety-netting advice template added.",
]
