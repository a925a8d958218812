"""The demo's fixed tables: users, KPI counters, vendors and four contracts with their terms.

Dates are not written here: the seed places everything relative to "today". A month index
`0..11` names one of the twelve months of KPI data, 11 being the last complete month; contract
dates are given in months before the current month.

The four contracts show the credit regimes of DOMAIN.md §2 and §6:

* DEMO-A — reference contract "A" (§6.1): full outsourcing, EUR 200,000 a month, at-risk 12 %,
  pool 200 %, five critical service levels by allocation, plus an ASA key measurement.
* DEMO-B — hybrid (evenings and weekends voice), GBP, tiered credits (contract "B" style), an AHT
  key measurement, an annual cap and termination triggers.
* DEMO-C — offshore chat, e-mail and social, USD, linear credits with per-service-level caps
  (contract "C" style), expected and minimum levels with an occurrence rule (contract "F").
* DEMO-D — French-language voice for Swiss customers, CHF, allocation credits with a
  repeat-failure multiplier table and earn-back.

A and B count business days in the calendar of their jurisdiction (France; England in the United Kingdom,
whose audit clause gives ten business days' notice); C and D count Monday to Friday.
"""

from accounts.choices import Role
from audits.choices import Auditor, AuditType, NoticeUnit
from contracts.choices import Channel, CoverageDays, Currency, PeriodUnit, RenewalType
from governance.choices import Cadence
from sla_tracker.choices import (
    CounterUnit,
    CreditType,
    Direction,
    MinVolumeRule,
    ServiceLevelKind,
    ShortfallRounding,
    TerminationTriggerType,
)

SEED = 2026
KPI_MONTHS = 12

# username, role, first name, last name, vendor name (vendor users only), password.
# The passwords are public on purpose: this is demo data, never production data.
USERS = [
    ("admin", Role.ADMINISTRATOR, "Alex", "Morel", None, "demo-administrator-2026"),
    ("vendor.manager", Role.VENDOR_MANAGER, "Sophie", "Laurent", None, "demo-vendor-manager-2026"),
    ("procurement", Role.PROCUREMENT, "Marc", "Dubois", None, "demo-procurement-2026"),
    ("committee", Role.COMMITTEE_MEMBER, "Hélène", "Girard", None, "demo-committee-member-2026"),
    ("auditor", Role.AUDITOR, "Thomas", "Petit", None, "demo-auditor-2026"),
    ("vendor.lumen", Role.VENDOR_USER, "Nadia", "Benali", "Lumen Relation Client", "demo-vendor-user-lumen-2026"),
    (
        "vendor.atlantico",
        Role.VENDOR_USER,
        "João",
        "Ferreira",
        "Atlântico Contact Services",
        "demo-vendor-user-atlantico-2026",
    ),
    ("vendor.pacific", Role.VENDOR_USER, "Maria", "Santos", "Pacific Bridge CX", "demo-vendor-user-pacific-2026"),
]

COUNT, SECONDS, POINTS = CounterUnit.COUNT, CounterUnit.SECONDS, CounterUnit.POINTS

# code, name, channel, unit, must_not_exceed, definition. A bounding counter comes before its subsets.
COUNTERS = [
    (
        "offered",
        "Calls offered",
        Channel.VOICE,
        COUNT,
        None,
        "Calls that reached the queue after the IVR, answered or abandoned.",
    ),
    ("answered", "Calls answered", Channel.VOICE, COUNT, "offered", "Calls answered by an agent."),
    (
        "answered_within_20s",
        "Calls answered within 20 s",
        Channel.VOICE,
        COUNT,
        "answered",
        "Calls answered within 20 seconds of entering the queue.",
    ),
    (
        "abandoned",
        "Calls abandoned",
        Channel.VOICE,
        COUNT,
        "offered",
        "Calls the caller hung up before an agent answered, short abandons included.",
    ),
    (
        "short_abandoned",
        "Short abandons (≤ 5 s)",
        Channel.VOICE,
        COUNT,
        "abandoned",
        "Abandoned within 5 seconds of entering the queue (inclusive); left out of the service level.",
    ),
    (
        "total_wait_seconds",
        "Queue wait of answered calls",
        Channel.VOICE,
        SECONDS,
        None,
        "Σ queue seconds of answered calls (0 s for calls answered at once); ASA = this / answered.",
    ),
    (
        "handle_seconds",
        "Handle time",
        Channel.VOICE,
        SECONDS,
        None,
        "Σ talk + hold + after-call work seconds of answered calls; AHT = this / answered.",
    ),
    ("chats_offered", "Chats offered", Channel.CHAT, COUNT, None, "Chat sessions that reached the agent queue."),
    ("chats_answered", "Chats answered", Channel.CHAT, COUNT, "chats_offered", "Chats with an agent reply."),
    (
        "chats_answered_within_60s",
        "Chats answered within 60 s",
        Channel.CHAT,
        COUNT,
        "chats_answered",
        "Chats whose first agent reply came within 60 seconds (bot time excluded).",
    ),
    (
        "emails_due",
        "E-mails due",
        Channel.EMAIL,
        COUNT,
        None,
        "E-mails whose 24-business-hour deadline falls on the day (cohort by due date).",
    ),
    (
        "emails_answered_within_24h",
        "E-mails answered within 24 business hours",
        Channel.EMAIL,
        COUNT,
        "emails_due",
        "Of the e-mails due, those answered by the deadline (auto-replies do not count).",
    ),
    (
        "social_posts",
        "Social posts needing a reply",
        Channel.SOCIAL,
        COUNT,
        None,
        "Public posts and direct messages that need a reply.",
    ),
    (
        "social_answered_within_60m",
        "Social posts answered within 60 min",
        Channel.SOCIAL,
        COUNT,
        "social_posts",
        "Posts answered within 60 minutes.",
    ),
    ("qa_evaluations", "Quality evaluations", "", COUNT, None, "Interactions evaluated by quality analysts."),
    (
        "qa_points_possible",
        "Quality points possible",
        "",
        POINTS,
        None,
        "Σ maximum points of the evaluations (100 per evaluation).",
    ),
    (
        "qa_points",
        "Quality points awarded",
        "",
        POINTS,
        "qa_points_possible",
        "Σ points awarded; a compliance auto-fail scores 0.",
    ),
    ("csat_responses", "CSAT survey responses", "", COUNT, None, "Post-contact survey answers (1–5 scale)."),
    ("csat_top2", "CSAT top-2-box responses", "", COUNT, "csat_responses", "Answers scoring 4 or 5."),
    ("scheduled_minutes", "Scheduled minutes", "", COUNT, None, "Agent minutes scheduled on the queues."),
    (
        "adherent_minutes",
        "Minutes in adherence",
        "",
        COUNT,
        "scheduled_minutes",
        "Scheduled minutes the agent was doing the scheduled activity.",
    ),
]

VENDORS = [
    {
        "name": "Lumen Relation Client",
        "legal_name": "Lumen Relation Client SAS",
        "registration_number": "RCS Lille Métropole 812 345 678",
        "country": "FR",
        "website": "https://lumen.example.com",
        "sites": [
            ("Lille Euralille", "Lille", "FR", "Europe/Paris", "fr,en", 420),
            ("Casablanca Sidi Maârouf", "Casablanca", "MA", "Africa/Casablanca", "fr,ar", 650),
        ],
        "contacts": [
            ("Camille Roux", "Account Director", "camille.roux@lumen.example.com", "+33 3 20 00 00 01"),
            ("Youssef Alaoui", "Service Delivery Manager", "youssef.alaoui@lumen.example.com", "+212 522 00 00 02"),
            ("Julie Martin", "Quality Manager", "julie.martin@lumen.example.com", "+33 3 20 00 00 03"),
        ],
    },
    {
        "name": "Atlântico Contact Services",
        "legal_name": "Atlântico Contact Services, S.A.",
        "registration_number": "NIPC 509 876 543",
        "country": "PT",
        "website": "https://atlantico.example.com",
        "sites": [
            ("Lisboa Parque das Nações", "Lisbon", "PT", "Europe/Lisbon", "pt,en,es", 380),
            ("Málaga Tech Park", "Málaga", "ES", "Europe/Madrid", "es,en", 240),
        ],
        "contacts": [
            ("Inês Carvalho", "Client Partner", "ines.carvalho@atlantico.example.com", "+351 21 000 0001"),
            ("Diego Morales", "Operations Manager", "diego.morales@atlantico.example.com", "+34 952 000 002"),
        ],
    },
    {
        "name": "Pacific Bridge CX",
        "legal_name": "Pacific Bridge CX Solutions, Inc.",
        "registration_number": "SEC CS201912345",
        "country": "PH",
        "website": "https://pacificbridge.example.com",
        "sites": [
            ("Makati Ayala Avenue", "Makati City", "PH", "Asia/Manila", "en,tl", 900),
            ("Cebu IT Park", "Cebu City", "PH", "Asia/Manila", "en", 550),
        ],
        "contacts": [
            (
                "Ramon Dela Cruz",
                "Vice-President, Client Services",
                "ramon.delacruz@pacificbridge.example.com",
                "+63 2 8000 0001",
            ),
            ("Angela Reyes", "Program Manager", "angela.reyes@pacificbridge.example.com", "+63 32 000 0002"),
            ("Mark Villanueva", "Workforce Manager", "mark.villanueva@pacificbridge.example.com", "+63 32 000 0003"),
        ],
    },
]

# Amendment months and version "from" months are month indices too (negative: before the KPI
# data); a version "from" of None starts with the contract.
#
# Daily volumes by day type and the month's normal performance per data family. A family is
# generated only on its coverage days; `from_month` changes a family's parameters from a month
# index on, `overrides` for one month index; `outages` are two consecutive weekdays of a month
# with very poor voice results (an excused force-majeure event, or the vendor's own incident).
VOICE_A = {"weekday": 1700, "saturday": 800, "sunday": 350, "sl": 0.835, "abandon": 0.027, "aht": 335}

ALLOC = CreditType.ALLOCATION
HIGHER, LOWER = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
CRITICAL, KEY = ServiceLevelKind.CRITICAL, ServiceLevelKind.KEY
VOICE_SL = {"numerator": ["answered_within_20s"], "denominator": ["answered", "abandoned", "-short_abandoned"]}
ABANDON = {"numerator": ["abandoned", "-short_abandoned"], "denominator": ["answered", "abandoned", "-short_abandoned"]}

CONTRACTS = [
    {
        "reference": "DEMO-A",
        "title": "Customer service outsourcing – all channels, France",
        "vendor": "Lumen Relation Client",
        "currency": Currency.EUR,
        "start_months_ago": 24,
        "initial_term_months": 48,
        "renewal_type": RenewalType.TACIT,
        "renewal_term_months": 12,
        "notice_period": 6,
        "notice_period_unit": PeriodUnit.MONTHS,
        "calendar": ("FR", ""),
        "vendor_self_reporting": True,
        "description": "Reference contract A of the domain guide (§6.1): full outsourcing of voice, e-mail, "
        "quality and customer satisfaction for the French market.",
        "charges": (200000, 0),
        "scopes": [
            (Channel.VOICE, "fr", CoverageDays.ALL_WEEK, (8, 20), 100, "Lille Euralille", ""),
            (Channel.EMAIL, "fr,en", CoverageDays.WEEKDAYS, (8, 18), 100, "Casablanca Sidi Maârouf", ""),
        ],
        "regime": {"at_risk_pct": "12", "pool_pct": "200", "annual_cap_pct": None},
        "triggers": [
            (TerminationTriggerType.CONSECUTIVE_DEFAULTS, 3, None, "Schedule 3, §9.1(a)"),
            (TerminationTriggerType.DEFAULTS_IN_WINDOW, 6, 12, "Schedule 3, §9.1(b)"),
            (TerminationTriggerType.CAP_REACHED_IN_WINDOW, 3, 12, "Schedule 3, §9.1(c)"),
        ],
        "amendments": [
            {
                "number": 1,
                "title": "E-mail response target raised to 95 %",
                "summary": "After the new e-mail platform went live the parties raised the CSL-3 target "
                "from 90 % to 95 % of e-mails answered within 24 business hours; allocation unchanged.",
                "signed_month": 5,
                "effective_month": 6,
            },
            {
                "number": 2,
                "title": "Saturday coverage extended to 20:00",
                "summary": "Voice coverage on Saturdays extended from 18:00 to 20:00; charges unchanged.",
                "signed_month": 9,
                "effective_month": 10,
            },
        ],
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Voice service level (80 % in 20 s)",
                "description": "Calls answered within 20 s / (answered + abandoned − short abandons ≤ 5 s).",
                "versions": [
                    {
                        "from": None,
                        **VOICE_SL,
                        "expected": "80",
                        "allocation_pct": "60",
                        "clause_reference": "Schedule 3, §2.1",
                    },
                ],
            },
            {
                "code": "CSL-2",
                "name": "Abandonment rate",
                "description": "(Abandoned − short abandons) / (answered + abandoned − short abandons).",
                "versions": [
                    {
                        "from": None,
                        **ABANDON,
                        "direction": LOWER,
                        "expected": "5",
                        "allocation_pct": "40",
                        "clause_reference": "Schedule 3, §2.2",
                    },
                ],
            },
            {
                "code": "CSL-3",
                "name": "E-mail response within 24 business hours",
                "description": "E-mails due in the month answered within 24 business hours / e-mails due.",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["emails_answered_within_24h"],
                        "denominator": ["emails_due"],
                        "expected": "90",
                        "allocation_pct": "40",
                        "clause_reference": "Schedule 3, §2.3",
                    },
                    {
                        "from": 6,
                        "amendment": 1,
                        "numerator": ["emails_answered_within_24h"],
                        "denominator": ["emails_due"],
                        "expected": "95",
                        "allocation_pct": "40",
                        "clause_reference": "Schedule 3, §2.3 as amended by amendment 1",
                    },
                ],
            },
            {
                "code": "CSL-4",
                "name": "Quality score",
                "description": "Σ evaluation points / (evaluations × 100).",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["qa_points"],
                        "denominator": ["qa_points_possible"],
                        "expected": "90",
                        "allocation_pct": "30",
                        "clause_reference": "Schedule 3, §2.4",
                    },
                ],
            },
            {
                "code": "CSL-5",
                "name": "Customer satisfaction (top-2-box)",
                "description": "Survey answers scoring 4 or 5 / all answers; not measured below 100 answers.",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["csat_top2"],
                        "denominator": ["csat_responses"],
                        "expected": "85",
                        "allocation_pct": "30",
                        "min_volume": 100,
                        "min_volume_rule": MinVolumeRule.NOT_MEASURED,
                        "finalisation_days": 7,
                        "clause_reference": "Schedule 3, §2.5",
                    },
                ],
            },
            {
                "code": "KM-1",
                "name": "Average speed of answer",
                "description": "Σ queue seconds of answered calls / answered calls; reported, no credit.",
                "versions": [
                    {
                        "from": None,
                        "kind": KEY,
                        "credit_type": CreditType.NONE,
                        "numerator": ["total_wait_seconds"],
                        "denominator": ["answered"],
                        "scale": "1",
                        "direction": LOWER,
                        "expected": "30",
                        "precision": 1,
                        "clause_reference": "Schedule 3, §3.1",
                    },
                ],
            },
        ],
        "families": {
            "voice": {**VOICE_A, "days": "all"},
            "email": {"weekday": 380, "saturday": 0, "sunday": 0, "rate": 0.935, "days": "weekdays"},
            "quality": {"weekday": 28, "saturday": 12, "sunday": 9, "score": 0.915, "days": "all"},
            "csat": {"weekday": 95, "saturday": 45, "sunday": 30, "rate": 0.872, "days": "all"},
        },
        "overrides": {
            # The trap of DOMAIN.md Example 5: weekdays fail, quiet weekends shine; the mean of the
            # daily ratios looks met, the ratio of sums is a default.
            3: {"voice": {"sl": 0.755, "weekend_sl": 0.97}},
            # Cap-binding month (Example 7 style): CSL-2, CSL-3 and CSL-4 default, 26,400 > 24,000.
            5: {"voice": {"abandon": 0.058}, "email": {"rate": 0.872}, "quality": {"score": 0.882}},
            # A survey-tool outage: only the first three days have answers, below the minimum of 100.
            10: {"csat": {"factor": 0.0, "rate": 0.77, "first_days": 3, "first_days_factor": 0.25}},
        },
        # From the amendment on the vendor answers e-mails faster (the new target is 95 %).
        "from_month": {6: {"email": {"rate": 0.966}}},
        "outages": {
            1: {"anchor": 13, "kind": "force_majeure"},
            8: {"anchor": 9, "kind": "incident"},
        },
    },
    {
        "reference": "DEMO-B",
        "title": "Evenings and weekends voice overflow – United Kingdom",
        "vendor": "Atlântico Contact Services",
        "currency": Currency.GBP,
        "start_months_ago": 18,
        "initial_term_months": 36,
        "renewal_type": RenewalType.EXPLICIT,
        "renewal_term_months": 12,
        "notice_period": 3,
        "notice_period_unit": PeriodUnit.MONTHS,
        "calendar": ("GB", "ENG"),
        "vendor_self_reporting": False,
        "description": "Hybrid model: the in-house centre keeps weekday office hours; the vendor takes "
        "weekday evenings and weekends in English from Lisbon.",
        "charges": (118000, 6000),
        "scopes": [
            (
                Channel.VOICE,
                "en",
                CoverageDays.ALL_WEEK,
                (18, 22),
                35,
                "Lisboa Parque das Nações",
                "Weekdays 18:00–22:00, weekends 09:00–18:00.",
            ),
        ],
        "regime": {"at_risk_pct": "10", "pool_pct": None, "annual_cap_pct": "6"},
        "triggers": [
            (TerminationTriggerType.CONSECUTIVE_DEFAULTS, 3, None, "Schedule 2, §7.2(a)"),
            (TerminationTriggerType.DEFAULTS_IN_WINDOW, 4, 6, "Schedule 2, §7.2(b)"),
        ],
        "amendments": [
            {
                "number": 1,
                "title": "Bank-holiday coverage added",
                "summary": "UK bank holidays are covered 09:00–18:00 at the weekend rate.",
                "signed_month": 3,
                "effective_month": 4,
            },
        ],
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Voice service level (80 % in 20 s)",
                "description": "Tiered credit: [75, 80) → 3 %, [70, 75) → 6 %, below 70 → 10 % of charges.",
                "versions": [
                    {
                        "from": None,
                        **VOICE_SL,
                        "expected": "80",
                        "credit_type": CreditType.TIERS,
                        "tiers": [("75", "80", "3"), ("70", "75", "6"), ("0", "70", "10")],
                        "clause_reference": "Schedule 2, §3.1",
                    },
                ],
            },
            {
                "code": "CSL-2",
                "name": "Abandonment rate",
                "description": "Tiered credit: [5, 7.5) → 2 %, 7.5 or more → 4 % of charges.",
                "versions": [
                    {
                        "from": None,
                        **ABANDON,
                        "direction": LOWER,
                        "expected": "5",
                        "credit_type": CreditType.TIERS,
                        "tiers": [("5", "7.5", "2"), ("7.5", None, "4")],
                        "clause_reference": "Schedule 2, §3.2",
                    },
                ],
            },
            {
                "code": "KM-1",
                "name": "Average handle time",
                "description": "Σ handle seconds / answered calls; reported, never credited.",
                "versions": [
                    {
                        "from": None,
                        "kind": KEY,
                        "credit_type": CreditType.NONE,
                        "numerator": ["handle_seconds"],
                        "denominator": ["answered"],
                        "scale": "1",
                        "direction": LOWER,
                        "expected": "360",
                        "precision": 0,
                        "clause_reference": "Schedule 2, §4.1",
                    },
                ],
            },
        ],
        "families": {
            "voice": {
                "weekday": 320,
                "saturday": 900,
                "sunday": 700,
                "sl": 0.84,
                "abandon": 0.03,
                "aht": 345,
                "days": "all",
            },
        },
        "overrides": {
            2: {"voice": {"sl": 0.77}},
            7: {"voice": {"sl": 0.725, "abandon": 0.058}},
            9: {"voice": {"aht": 380}},
        },
        "from_month": {},
        "outages": {},
    },
    {
        "reference": "DEMO-C",
        "title": "Offshore digital care – chat, e-mail and social",
        "vendor": "Pacific Bridge CX",
        "currency": Currency.USD,
        "start_months_ago": 30,
        "initial_term_months": 36,
        "renewal_type": RenewalType.TACIT,
        "renewal_term_months": 12,
        "notice_period": 3,
        "notice_period_unit": PeriodUnit.MONTHS,
        "vendor_self_reporting": True,
        "description": "English-language digital channels around the clock from Makati and Cebu. The term "
        "ends soon: the notice deadline for non-renewal is within the next three months.",
        "charges": (180000, 8000),
        "scopes": [
            (Channel.CHAT, "en", CoverageDays.ALL_WEEK, None, 100, "Makati Ayala Avenue", "24/7."),
            (Channel.EMAIL, "en", CoverageDays.ALL_WEEK, None, 100, "Cebu IT Park", ""),
            (Channel.SOCIAL, "en", CoverageDays.ALL_WEEK, (7, 23), 100, "Makati Ayala Avenue", ""),
        ],
        "regime": {"at_risk_pct": "12", "pool_pct": None, "annual_cap_pct": None},
        "triggers": [],
        "amendments": [
            {
                "number": 1,
                "title": "Social media channel added",
                "summary": "Public social posts and direct messages join the scope, with CSL-3.",
                "signed_month": -9,
                "effective_month": -8,
            },
        ],
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Chat service level (85 % in 60 s)",
                "description": "Expected 85 %, minimum 80 %. Below 80 % credits at once; between 80 and 85 % "
                "only from the 4th miss in a rolling 12 months. 1 % of charges per point, at most 5 %.",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["chats_answered_within_60s"],
                        "denominator": ["chats_offered"],
                        "expected": "85",
                        "minimum": "80",
                        "expected_miss_occurrences": 4,
                        "expected_miss_window": 12,
                        "credit_type": CreditType.LINEAR,
                        "pct_per_point": "1",
                        "shortfall_rounding": ShortfallRounding.PROPORTIONAL,
                        "cap_pct": "5",
                        "clause_reference": "Exhibit B, §1.1",
                    },
                ],
            },
            {
                "code": "CSL-2",
                "name": "E-mail response within 24 hours",
                "description": "1 % of charges per point of shortfall, proportional, at most 5 %.",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["emails_answered_within_24h"],
                        "denominator": ["emails_due"],
                        "expected": "95",
                        "credit_type": CreditType.LINEAR,
                        "pct_per_point": "1",
                        "shortfall_rounding": ShortfallRounding.PROPORTIONAL,
                        "cap_pct": "5",
                        "clause_reference": "Exhibit B, §1.2",
                    },
                ],
            },
            {
                "code": "CSL-3",
                "name": "Social response within 60 minutes",
                "description": "0.5 % of charges per full point, at most 3 %. A month below 150 posts is "
                "carried into the next month.",
                "versions": [
                    {
                        "from": -8,
                        "amendment": 1,
                        "numerator": ["social_answered_within_60m"],
                        "denominator": ["social_posts"],
                        "expected": "90",
                        "min_volume": 150,
                        "min_volume_rule": MinVolumeRule.CARRY_FORWARD,
                        "credit_type": CreditType.LINEAR,
                        "pct_per_point": "0.5",
                        "shortfall_rounding": ShortfallRounding.FLOOR,
                        "cap_pct": "3",
                        "clause_reference": "Exhibit B, §1.3 (amendment 1)",
                    },
                ],
            },
        ],
        "families": {
            "chat": {"weekday": 900, "saturday": 520, "sunday": 480, "sl": 0.89, "abandon": 0.04, "days": "all"},
            "email": {"weekday": 650, "saturday": 300, "sunday": 250, "rate": 0.965, "days": "all"},
            "social": {"weekday": 9, "saturday": 5, "sunday": 4, "rate": 0.95, "days": "all"},
        },
        "overrides": {
            2: {"chat": {"sl": 0.825}},
            4: {"email": {"rate": 0.884}},
            5: {"chat": {"sl": 0.825}},
            6: {"social": {"factor": 0.3}},
            7: {"chat": {"sl": 0.77}},
            9: {"chat": {"sl": 0.83}},
            10: {"email": {"rate": 0.9285}},
        },
        "from_month": {},
        "outages": {},
    },
    {
        "reference": "DEMO-D",
        "title": "French-language voice for Swiss customers",
        "vendor": "Lumen Relation Client",
        "currency": Currency.CHF,
        "start_months_ago": 14,
        "initial_term_months": 24,
        "renewal_type": RenewalType.TACIT,
        "renewal_term_months": 12,
        "notice_period": 90,
        "notice_period_unit": PeriodUnit.DAYS,
        "vendor_self_reporting": False,
        "description": "Weekday voice for French-speaking Swiss customers from Casablanca. Repeat failures "
        "cost more (×1.5 on the 2nd consecutive month, ×2 from the 3rd); three good months earn a credit back.",
        "charges": (95000, 3000),
        "scopes": [
            (Channel.VOICE, "fr", CoverageDays.WEEKDAYS, (8, 18), 100, "Casablanca Sidi Maârouf", ""),
        ],
        "regime": {"at_risk_pct": "10", "pool_pct": "150", "annual_cap_pct": None},
        "triggers": [],
        "amendments": [],
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Voice service level (80 % in 20 s)",
                "description": "Allocation 60 % of the at-risk amount; repeat-failure multiplier; earn-back.",
                "versions": [
                    {
                        "from": None,
                        **VOICE_SL,
                        "expected": "80",
                        "allocation_pct": "60",
                        "multipliers": [(2, "1.5"), (3, "2")],
                        "earn_back_months": 3,
                        "earn_back_pct": "100",
                        "clause_reference": "Annexe 4, art. 2",
                    },
                ],
            },
            {
                "code": "CSL-2",
                "name": "Quality score",
                "description": "Σ evaluation points / points possible; allocation 40 %; earn-back.",
                "versions": [
                    {
                        "from": None,
                        "numerator": ["qa_points"],
                        "denominator": ["qa_points_possible"],
                        "expected": "88",
                        "allocation_pct": "40",
                        "earn_back_months": 3,
                        "earn_back_pct": "100",
                        "clause_reference": "Annexe 4, art. 3",
                    },
                ],
            },
            {
                "code": "KM-1",
                "name": "Schedule adherence",
                "description": "Minutes in adherence / scheduled minutes; reported, never credited.",
                "versions": [
                    {
                        "from": None,
                        "kind": KEY,
                        "credit_type": CreditType.NONE,
                        "numerator": ["adherent_minutes"],
                        "denominator": ["scheduled_minutes"],
                        "expected": "90",
                        "clause_reference": "Annexe 4, art. 5",
                    },
                ],
            },
        ],
        "families": {
            "voice": {"weekday": 600, "sl": 0.84, "abandon": 0.03, "aht": 410, "days": "weekdays"},
            "quality": {"weekday": 12, "score": 0.91, "days": "weekdays"},
            "workforce": {"weekday": 18000, "adherence": 0.925, "days": "weekdays"},
        },
        "overrides": {
            2: {"voice": {"sl": 0.77}},
            3: {"voice": {"sl": 0.755}},
            5: {"workforce": {"adherence": 0.875}},
            9: {"quality": {"score": 0.86}},
        },
        "from_month": {},
        "outages": {},
    },
]

# Who sits on each contract's committees (besides the internal users, who sit on all of them).
COMMITTEE_TIERS = [
    # tier key, name suffix, cadence, months between meetings held, meetings held, days before today
    ("tactical", "monthly service review", Cadence.MONTHLY, 1, 6, 8),
    ("strategic", "executive steering committee", Cadence.QUARTERLY, 3, 3, 20),
]
# This committee has not met for longer than its cadence: its last meeting is this many months old.
LAPSED_COMMITTEE = ("DEMO-C", "strategic", 5)

TACTICAL_AGENDA = [
    ("Service-level results of the month", True),
    ("KPI data quality and late uploads", False),
    ("Open action items", False),
    ("Forecast, staffing and next month's campaigns", False),
]
STRATEGIC_AGENDA = [
    ("Quarterly performance, credits and trends", True),
    ("Contract changes and amendments", False),
    ("Automation and self-service roadmap", False),
    ("Risks, audits and findings follow-up", False),
]

AUDIT_RIGHT = {
    "audits_per_year": 1,
    "scopes": [AuditType.FINANCIAL, AuditType.SLA_DATA, AuditType.SECURITY, AuditType.DATA_PROTECTION],
    "allowed_auditors": [Auditor.CUSTOMER, Auditor.THIRD_PARTY, Auditor.REGULATOR],
    "cost_shift_threshold_pct": "5",
    "remediation_days_critical": 10,
    "remediation_days_high": 30,
    "remediation_days_medium": 60,
    "remediation_days_low": 90,
    "records_retention_years": 6,
}
AUDIT_CLAUSES = {
    "DEMO-A": ("Clause 21 – Audit", 30, NoticeUnit.CALENDAR_DAYS),
    "DEMO-B": ("Clause 18 – Records and audit", 10, NoticeUnit.BUSINESS_DAYS),
    "DEMO-C": ("Section 14 – Audit rights", 30, NoticeUnit.CALENDAR_DAYS),
    "DEMO-D": ("Article 19 – Audit", 30, NoticeUnit.CALENDAR_DAYS),
}
AUDIT_CLAUSE_TEXT = (
    "The Customer, or an independent auditor appointed by it and bound by confidentiality, may audit the "
    "Supplier's compliance with this Agreement, including the charges invoiced and the data from which "
    "service levels are calculated, once in each contract year, on {notice} notice, during business hours. "
    "Regulators may audit at any time. The Customer bears the cost of the audit unless it reveals an "
    "overcharge of 5 % or more of the audited charges, in which case the Supplier bears it and refunds the "
    "overcharge. The Supplier remedies findings within 10 (critical), 30 (high), 60 (medium) or 90 (low) "
    "days and keeps the relevant records for six years."
)
