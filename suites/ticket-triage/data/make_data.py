#!/usr/bin/env python3
"""Generate the ticket-triage suite's data: train.jsonl and held-out.jsonl.

Kestrel Home is the fictional smart-home company of the support-tone suite. Here its support team triages tickets:
each ticket gets a category, an urgency and the product it is about, as one JSON object,
{"category": ..., "urgency": ..., "product": ...}. Every phrase below is written by hand; this script combines them
into tickets (a problem sentence naming the product, a detail, something that shows how urgent it is, a sign-off),
labels each ticket from the phrases it was built from, and writes both files in the `bedrock-conversation-2024`
format Amazon Nova is fine-tuned on. Held-out lines also carry the fields the rubric reads (`category`, `urgency`,
`product`, and `product_names`, the spellings accepted for the product).

The held-out tickets are signed by other customers than the training tickets, and no held-out ticket shares its
problem, detail and urgency sentences all three with a training ticket, so no held-out input repeats or nearly
repeats a training input (`bedrock-eval data leakage` finds none). It uses the standard library only and a fixed seed, so running it again from this folder reproduces both
files byte for byte:

    python3 make_data.py
"""

import json
import random
from pathlib import Path

SEED = 20240923
HERE = Path(__file__).resolve().parent
SYSTEM = "You triage support tickets for Kestrel Home."
TRAIN_TICKETS = 180
HELD_OUT_TICKETS = 64

# Each product with the ways customers name it; the first two are the spellings a reply may use.
PRODUCTS = {
    "Kestrel Cam 2": ["Kestrel Cam 2", "Cam 2", "outdoor camera", "camera out front", "garden camera"],
    "Kestrel Cam Mini": ["Kestrel Cam Mini", "Cam Mini", "indoor camera", "nursery camera", "little camera"],
    "Kestrel Doorbell": ["Kestrel Doorbell", "Doorbell", "video doorbell", "doorbell"],
    "Kestrel Thermostat": ["Kestrel Thermostat", "Thermostat", "thermostat", "heating controller"],
    "Kestrel Lock": ["Kestrel Lock", "Lock", "smart lock", "front door lock", "door lock"],
    "Kestrel Hub": ["Kestrel Hub", "Hub", "hub", "bridge"],
    "Kestrel Protect": ["Kestrel Protect", "Protect", "Protect subscription", "Protect plan", "cloud plan"],
}

# Problem sentences per category ({p} is the product as the customer names it).
PROBLEMS = {
    "billing": [
        "I was charged twice for my {p} this month.",
        "There's a payment for the {p} on my card that I never agreed to.",
        "My invoice for the {p} shows the old price, not the one I signed up for.",
        "I cancelled the {p} but you billed me again anyway.",
        "Can I get a refund for the {p}? It renewed without asking.",
        "The receipt for my {p} has the wrong company name for my expenses.",
        "You took money for the {p} even though my trial was supposed to last until Friday.",
        "My bank statement lists two debits for the {p} on the same day.",
        "The annual charge for the {p} is higher than what the checkout page said.",
    ],
    "outage": [
        "The {p} has been offline since this morning.",
        "My {p} shows as disconnected in the app and won't come back.",
        "Nothing loads from the {p}, the app just spins.",
        "The {p} stopped responding after last night's storm.",
        "The {p} keeps dropping off the network every few minutes.",
        "I get 'device unreachable' for the {p} no matter what I try.",
        "The {p} went dark and the status light is off.",
        "Since about noon the {p} can't reach your servers at all.",
        "All the lights on the {p} are red and the app says it's not connected.",
    ],
    "login": [
        "I can't sign in to the app to reach my {p}.",
        "The two-factor code for my {p} account never arrives.",
        "I'm locked out of my account after too many password attempts, and my {p} is on it.",
        "Password reset emails don't come, so I can't get to the {p}.",
        "The app logs me out every time I open the {p} screen.",
        "My partner can't log in to the shared {p} anymore.",
        "The app says my email isn't registered, but I set up the {p} with it.",
        "Face ID sign-in stopped working and the password for the {p} account is rejected.",
        "I changed phones and now the login code for my {p} goes to the old number.",
    ],
    "bug": [
        "The {p} shows the wrong time on every event.",
        "The schedule on my {p} ignores the changes I make in the app.",
        "The {p} history skips whole hours of recordings.",
        "The app crashes whenever I open the {p} settings.",
        "I get every notification from the {p} twice.",
        "The battery level for the {p} jumps between 80 and 5 percent.",
        "The {p} reports it's locked when it's clearly open.",
        "Changing the name of the {p} in the app resets it back after a minute.",
        "The temperature graph for the {p} is flat even though the room clearly changed.",
    ],
    "feature_request": [
        "Could you add a dark mode to the {p} screen in the app?",
        "It would be great if the {p} could export clips to a USB stick.",
        "Please let me share the {p} with my parents without giving them my password.",
        "I'd love a home-screen widget for the {p}.",
        "Any plans for the {p} to work with geofencing?",
        "I wish the {p} had a vacation mode.",
        "Would you consider letting the {p} run different schedules on weekends?",
        "Suggestion: let the {p} announce visitors by name on the speaker.",
        "It'd be nice if the {p} could send a weekly summary email.",
    ],
}

# Which products each category is usually about.
CATEGORY_PRODUCTS = {
    "billing": ["Kestrel Protect", "Kestrel Protect", "Kestrel Cam 2", "Kestrel Doorbell", "Kestrel Lock"],
    "outage": ["Kestrel Hub", "Kestrel Cam 2", "Kestrel Cam Mini", "Kestrel Doorbell", "Kestrel Thermostat"],
    "login": ["Kestrel Protect", "Kestrel Hub", "Kestrel Lock", "Kestrel Cam Mini", "Kestrel Doorbell"],
    "bug": ["Kestrel Cam 2", "Kestrel Cam Mini", "Kestrel Thermostat", "Kestrel Lock", "Kestrel Doorbell"],
    "feature_request": ["Kestrel Cam 2", "Kestrel Doorbell", "Kestrel Thermostat", "Kestrel Hub", "Kestrel Lock"],
}

# What shows how urgent a ticket is, per level.
URGENCY = {
    "high": [
        "This is urgent, we're leaving for a week tomorrow.",
        "Please help right now, my family is locked out in the cold.",
        "It's a security problem for us, nobody can see who's at the door.",
        "I need this fixed today, the house is empty and unwatched.",
        "Urgent: the baby monitor depends on it.",
        "We can't get into the house, please call me immediately.",
    ],
    "medium": [
        "It's getting annoying, could someone look at it this week?",
        "Not an emergency, but I'd like it sorted soon.",
        "It's been like this for three days now.",
        "Can you get back to me in the next few days?",
        "It happens often enough that I notice it daily.",
        "I'd appreciate a fix before the weekend.",
    ],
    "low": [
        "No rush at all, just wondering.",
        "Whenever you get a chance is fine.",
        "Just a small thing, it doesn't stop anything working.",
        "Only mentioning it in case others see it too.",
        "Take your time, it's more of a curiosity.",
        "Low priority, it's not a big deal.",
    ],
}
# How likely each urgency is per category (the rest is split evenly between the other two).
URGENCY_WEIGHTS = {
    "billing": {"high": 1, "medium": 3, "low": 2},
    "outage": {"high": 4, "medium": 2, "low": 1},
    "login": {"high": 3, "medium": 3, "low": 1},
    "bug": {"high": 1, "medium": 3, "low": 2},
    "feature_request": {"high": 0, "medium": 1, "low": 4},
}

DETAILS = [
    "I already restarted everything twice.",
    "The app is on the latest version.",
    "My router is a mesh system if that matters.",
    "Nothing changed on our side as far as I know.",
    "I've had it for about a year.",
    "My neighbour has the same setup and no trouble.",
    "I tried on two different phones.",
    "This started after the last app update.",
    "",
    "",
]

GREETINGS = ["Hi,", "Hello,", "Hey there,", "Hi Kestrel team,", "", "", ""]

NAMES = [
    "Abebe", "Birgit", "Chidi", "Dagny", "Esra", "Farid", "Gulnara", "Hamid", "Isabel", "Jorge", "Katarina", "Luis",
    "Mina", "Nasser", "Oksana", "Paolo", "Qing", "Rania", "Soren", "Tala", "Umar", "Vesna", "Wanjiru", "Xavier",
    "Yasmin", "Zoltan", "Adriana", "Bilal", "Celine", "Dario", "Eun-ji", "Fiona", "Goran", "Hina", "Ivo", "Jana",
    "Kemal", "Laila", "Mikko", "Nora", "Obinna", "Pilar", "Quentin", "Rekha", "Saoirse", "Timo", "Ula", "Vikram",
    "Wren", "Ximena", "Yusra", "Zeynep", "Anders", "Bongani", "Cosima", "Deniz", "Elena", "Florin", "Greta", "Hyun",
    "Ilse", "Jovan", "Kirra", "Lorenzo", "Magda", "Niamh", "Orhan", "Petra", "Rashid", "Sanna", "Tiago", "Ursula",
    "Valeria", "Wiebke", "Yannick", "Zara", "Aurelio", "Beatrix", "Cyrus", "Dalia",
]
HELD_OUT_NAMES = 24  # the first names here sign held-out tickets; the rest sign training tickets
SIGN_OFFS = ["Thanks,\n{n}", "{n}", "Cheers, {n}", "- {n}", "Thank you,\n{n}", "Regards,\n{n}"]


def pick_urgency(rng, category):
    weights = URGENCY_WEIGHTS[category]
    levels = list(weights)
    return rng.choices(levels, weights=[weights[level] for level in levels])[0]


def ticket(rng, category, names):
    """One ticket: its text, its labels, and the sentences it was built from."""
    product = rng.choice(CATEGORY_PRODUCTS[category])
    alias = rng.choice(PRODUCTS[product])
    urgency = pick_urgency(rng, category)
    problem, detail, urgent = rng.choice(PROBLEMS[category]), rng.choice(DETAILS), rng.choice(URGENCY[urgency])
    parts = [rng.choice(GREETINGS), problem.format(p=alias), detail, urgent]
    body = " ".join(part for part in parts if part)
    text = body + "\n\n" + rng.choice(SIGN_OFFS).format(n=rng.choice(names))
    return text, {"category": category, "urgency": urgency, "product": product}, (problem, detail, urgent)


def record(text, labels, extra=None):
    line = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": SYSTEM}],
        "messages": [
            {"role": "user", "content": [{"text": text}]},
            {"role": "assistant", "content": [{"text": json.dumps(labels)}]},
        ],
    }
    line.update(extra or {})
    return line


def tickets(rng, count, names, taken):
    """`count` tickets, cycling through the categories, none built from the same three sentences as another (or as
    one in `taken`, which grows)."""
    categories = list(PROBLEMS)
    out = []
    while len(out) < count:
        category = categories[len(out) % len(categories)]
        text, labels, sentences = ticket(rng, category, names)
        if sentences not in taken:
            taken.add(sentences)
            out.append((text, labels))
    return out


def main():
    rng = random.Random(SEED)
    names = NAMES[:]
    rng.shuffle(names)
    held_out_names, train_names = names[:HELD_OUT_NAMES], names[HELD_OUT_NAMES:]
    taken = set()
    train = tickets(rng, TRAIN_TICKETS, train_names, taken)
    held_out = tickets(rng, HELD_OUT_TICKETS, held_out_names, taken)
    with open(HERE / "train.jsonl", "w") as f:
        for text, labels in train:
            f.write(json.dumps(record(text, labels)) + "\n")
    with open(HERE / "held-out.jsonl", "w") as f:
        for i, (text, labels) in enumerate(held_out, 1):
            extra = dict(labels, id=f"t-{i:03d}", product_names=PRODUCTS[labels["product"]][:2])
            f.write(json.dumps(record(text, labels, extra)) + "\n")


if __name__ == "__main__":
    main()
