#!/usr/bin/env python3
"""Seeds a large event catalogue for bench/catalogue.sh, straight into the
database, in the schema the migrations define (creating a catalogue through
the API takes about a millisecond per event; this takes seconds).

    bench/seed_catalogue.py --bin build/eventapi --database URL --events 100000

URL is a DATABASE_URL: sqlite:///relative/path or sqlite:////absolute/path,
or postgres://... (loaded with psql's COPY). The database is migrated first
with `eventapi migrate`, then gets one organizer, eight categories and the
events, each with two sessions and two ticket types, dated from tomorrow to
three years ahead; one in twenty is private, one in ten has no category.
Rows are written as the models write them: search_text is the case-folded
"title\\ndescription\\nlocation" and location_key the folded location. All
text is ASCII, where folding is lower-casing. The search index and the
catalogue version are kept by the migrations' triggers, as for any write;
on SQLite the search index is merged into one segment at the end, as an
operator would after a bulk import.

It prints a JSON object with what a benchmark needs to vary its requests:
the cities, the category slugs, the selective search words and the date
range. Standard library only (psql for PostgreSQL).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse

CITIES = [
    "Berlin", "Munich", "Hamburg", "Cologne", "Vienna", "Zurich", "Paris", "Lyon",
    "Madrid", "Lisbon", "Porto", "Rome", "Milan", "Turin", "Prague", "Brno",
    "Warsaw", "Krakow", "Budapest", "Oslo", "Bergen", "Stockholm", "Malmo", "Helsinki",
    "Tallinn", "Riga", "Vilnius", "Dublin", "Cork", "Edinburgh", "Glasgow", "Leeds",
    "Amsterdam", "Utrecht", "Antwerp", "Ghent", "Copenhagen", "Aarhus", "Athens", "Sofia",
]
CATEGORIES = ["Music", "Technology", "Sports", "Arts", "Food", "Business", "Science", "Health"]
ADJECTIVES = ["Open", "Annual", "Spring", "Autumn", "Grand", "Little", "Modern", "Classic",
              "Urban", "Global", "Nordic", "Late", "Early", "Summer", "Winter", "Young"]
TOPICS = ["Systems", "Jazz", "Rock", "Data", "Design", "Chess", "Film", "Poetry", "Robotics",
          "Cooking", "Running", "Startup", "Physics", "Yoga", "Wine", "Theatre", "Security",
          "Climate", "Gaming", "History"]
KINDS = ["Summit", "Night", "Festival", "Meetup", "Workshop", "Conference", "Fair", "Session",
         "Camp", "Gala", "Day", "Week"]
VENUES = ["Congress Center", "Arena", "Town Hall", "Old Library", "Harbour Hall", "Opera",
          "Exhibition Hall", "University Aula", "Warehouse", "Park Stage"]
FILLER = ["talks", "workshops", "music", "friends", "ideas", "people", "evening", "morning",
          "hands-on", "panel", "demos", "networking", "food", "drinks", "speakers", "stage",
          "community", "learning", "practice", "questions", "answers", "keynote"]
RARE_WORDS = 5000


def rare_words(rng):
    """Made-up words (a performer's or a project's name, say), one in each
    description: each in about one event in 5000, some twenty of 100,000.
    The same words whatever the size, so that both sizes get the same
    requests."""
    words = set()
    while len(words) < RARE_WORDS:
        words.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)))
    return sorted(words)


def rows(n, rng, now_us, organizer, category_ids, words):
    day = 86_400_000_000
    for i in range(1, n + 1):
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(TOPICS)} {rng.choice(KINDS)} {i}"
        city = rng.choice(CITIES)
        location = f"{rng.choice(VENUES)} {rng.randint(1, 40)}, {city}"
        description = " ".join(rng.choice(FILLER) for _ in range(rng.randint(8, 20)))
        description = f"{description.capitalize()}, {rng.choice(words)} and more."
        date_time = now_us + day + rng.randrange(3 * 365 * day)
        date_time -= date_time % 60_000_000  # whole minutes
        created_at = now_us - rng.randrange(365 * day)
        capacity = rng.choice([0, 50, 100, 250, 500, 1000])
        visibility = "private" if rng.random() < 0.05 else "public"
        category = rng.choice(category_ids) if rng.random() >= 0.1 else None
        search_text = f"{title}\n{description}\n{location}".lower()
        event = (i, title, description, date_time, location, capacity, 0, created_at,
                 organizer, visibility, None, category, 1, search_text, location.lower())
        hour = 3_600_000_000
        sessions = [
            (2 * i - 1, i, "Keynote", "Grace Hopper", date_time, date_time + hour, "Opening keynote"),
            (2 * i, i, "Workshop", "Ken Thompson", date_time + 2 * hour, date_time + 4 * hour,
             "Hands-on session"),
        ]
        tickets = [
            (2 * i - 1, i, "General", 4900, 400, 0),
            (2 * i, i, "VIP", 19900, 100, 0),
        ]
        yield event, sessions, tickets


EVENT_COLUMNS = ("id, title, description, date_time, location, capacity, confirmed_count,"
                 " created_at, organizer_id, visibility, image, category_id, version,"
                 " search_text, location_key")
SESSION_COLUMNS = "id, event_id, title, speaker, start_time, end_time, description"
TICKET_COLUMNS = "id, event_id, name, price_cents, quantity, confirmed_count"


def seed_sqlite(path, n, rng, now_us, words):
    import sqlite3
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("BEGIN")
    organizer = db.execute(
        "INSERT INTO users (username, username_key, email, email_key, password, role,"
        " date_joined) VALUES ('catalogue', 'catalogue', 'catalogue@example.com',"
        " 'catalogue@example.com', '!', 'organizer', ?) RETURNING id", (now_us,)).fetchone()[0]
    category_ids = []
    for name in CATEGORIES:
        category_ids.append(db.execute(
            "INSERT INTO categories (name, name_key, slug) VALUES (?, ?, ?) RETURNING id",
            (name, name.lower(), name.lower())).fetchone()[0])
    base = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    sbase = db.execute("SELECT coalesce(max(id), 0) FROM event_sessions").fetchone()[0]
    tbase = db.execute("SELECT coalesce(max(id), 0) FROM ticket_types").fetchone()[0]
    batch_e, batch_s, batch_t = [], [], []

    def flush():
        db.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({','.join('?' * 15)})",
                       batch_e)
        db.executemany(f"INSERT INTO event_sessions ({SESSION_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                       batch_s)
        db.executemany(f"INSERT INTO ticket_types ({TICKET_COLUMNS}) VALUES (?,?,?,?,?,?)",
                       batch_t)
        batch_e.clear(), batch_s.clear(), batch_t.clear()

    for event, sessions, tickets in rows(n, rng, now_us, organizer, category_ids, words):
        batch_e.append((event[0] + base,) + event[1:])
        batch_s.extend((s[0] + sbase, s[1] + base) + s[2:] for s in sessions)
        batch_t.extend((t[0] + tbase, t[1] + base) + t[2:] for t in tickets)
        if len(batch_e) == 5000:
            flush()
    flush()
    db.execute("COMMIT")
    # As after any bulk import: the search index merged into one segment.
    db.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()


def copy_text(value):
    if value is None:
        return "\\N"
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def seed_postgres(url, n, rng, now_us, words):
    def psql(sql, stdin=None):
        return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url, "-c", sql],
                              input=stdin, capture_output=True, text=True, check=True).stdout

    organizer = int(psql(
        "INSERT INTO users (username, username_key, email, email_key, password, role,"
        " date_joined) VALUES ('catalogue', 'catalogue', 'catalogue@example.com',"
        f" 'catalogue@example.com', '!', 'organizer', {now_us}) RETURNING id").split()[0])
    category_ids = []
    for name in CATEGORIES:
        category_ids.append(int(psql(
            "INSERT INTO categories (name, name_key, slug) VALUES"
            f" ('{name}', '{name.lower()}', '{name.lower()}') RETURNING id").split()[0]))
    base, sbase, tbase = (int(x) for x in psql(
        "SELECT (SELECT coalesce(max(id), 0) FROM events),"
        " (SELECT coalesce(max(id), 0) FROM event_sessions),"
        " (SELECT coalesce(max(id), 0) FROM ticket_types)").strip().split("|"))
    script = ["BEGIN;", f"COPY events ({EVENT_COLUMNS}) FROM STDIN;"]
    sessions_out, tickets_out = [], []
    for event, sessions, tickets in rows(n, rng, now_us, organizer, category_ids, words):
        script.append("\t".join(copy_text(v) for v in (event[0] + base,) + event[1:]))
        sessions_out.extend("\t".join(copy_text(v) for v in (s[0] + sbase, s[1] + base) + s[2:])
                            for s in sessions)
        tickets_out.extend("\t".join(copy_text(v) for v in (t[0] + tbase, t[1] + base) + t[2:])
                           for t in tickets)
    script += ["\\.", f"COPY event_sessions ({SESSION_COLUMNS}) FROM STDIN;"] + sessions_out
    script += ["\\.", f"COPY ticket_types ({TICKET_COLUMNS}) FROM STDIN;"] + tickets_out
    script += ["\\.",
               "SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events));",
               "SELECT setval(pg_get_serial_sequence('event_sessions', 'id'),"
               " (SELECT max(id) FROM event_sessions));",
               "SELECT setval(pg_get_serial_sequence('ticket_types', 'id'),"
               " (SELECT max(id) FROM ticket_types));",
               "COMMIT;", "ANALYZE;", ""]
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url], input="\n".join(script),
                   capture_output=True, text=True, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/eventapi", help="the eventapi binary (to migrate)")
    parser.add_argument("--database", required=True, help="a DATABASE_URL")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = dict(os.environ, DATABASE_URL=args.database)
    subprocess.run([args.bin, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    words = rare_words(random.Random(args.seed + 1))
    now_us = time.time_ns() // 1000
    started = time.monotonic()
    url = urllib.parse.urlparse(args.database)
    if url.scheme == "sqlite":
        path = args.database[len("sqlite:///"):]
        seed_sqlite(path, args.events, rng, now_us, words)
    elif url.scheme in ("postgres", "postgresql"):
        seed_postgres(args.database, args.events, rng, now_us, words)
    else:
        sys.exit("seed_catalogue: --database must be sqlite:///... or postgres://...")
    print(json.dumps({
        "events": args.events,
        "seconds": round(time.monotonic() - started, 1),
        "cities": CITIES,
        "categories": [c.lower() for c in CATEGORIES],
        "words": words[:200],
        "from_us": now_us + 86_400_000_000,
        "to_us": now_us + 86_400_000_000 * (1 + 3 * 365),
    }))


if __name__ == "__main__":
    main()
