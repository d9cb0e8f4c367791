"""CQC's Single Assessment Framework: the five key questions and the 34 quality statements under them."""
from __future__ import annotations

KEY_QUESTIONS = ("Safe", "Effective", "Caring", "Responsive", "Well-led")

QUALITY_STATEMENTS: dict[str, tuple[str, ...]] = {
    "Safe": (
        "Learning culture",
        "Safe systems, pathways and transitions",
        "Safeguarding",
        "Involving people to manage risks",
        "Safe environments",
        "Safe and effective staffing",
        "Infection prevention and control",
        "Medicines optimisation",
    ),
    "Effective": (
        "Assessing needs",
        "Delivering evidence-based care and treatment",
        "How staff, teams and services work together",
        "Supporting people to live healthier lives",
        "Monitoring and improving outcomes",
        "Consent to care and treatment",
    ),
    "Caring": (
        "Kindness, compassion and dignity",
        "Treating people as individuals",
        "Independence, choice and control",
        "Responding to people's immediate needs",
        "Workforce wellbeing and enablement",
    ),
    "Responsive": (
        "Person-centred care",
        "Care provision, integration and continuity",
        "Providing information",
        "Listening to and involving people",
        "Equity in access",
        "Equity in experiences and outcomes",
        "Planning for the future",
    ),
    "Well-led": (
        "Shared direction and culture",
        "Capable, compassionate and inclusive leaders",
        "Freedom to speak up",
        "Workforce equality, diversity and inclusion",
        "Governance, management and sustainability",
        "Partnerships and communities",
        "Learning, improvement and innovation",
        "Environmental sustainability – sustainable development",
    ),
}
