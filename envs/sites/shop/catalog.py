"""The shop's seed data: categories, products, users, reviews and past orders.

Facts that bundled tasks rely on (keep them true when editing):
- the cheapest ceramic mug in Kitchen is "Plain white mug" at $7.49; there are five ceramic mugs
  in Kitchen, and a cheaper mug that is not ceramic (stainless steel, $6.99);
- alex's most recent order is #1004; orders are numbered from 1001.
Reviews are generated deterministically (crc32, never `hash()`), so ratings never change.
"""

from __future__ import annotations

import sqlite3
import zlib
from datetime import date, timedelta

from ..store import password_hash

CATEGORIES: list[tuple[str, str, str]] = [
    ("kitchen", "Kitchen", "Mugs, pans, knives and everything for cooking and coffee."),
    ("garden", "Garden", "Tools, seeds, pots and lights for the garden and balcony."),
    ("electronics", "Electronics", "Speakers, headphones, laptops and accessories."),
    ("clothing", "Clothing", "T-shirts, jackets, hoodies and socks."),
    ("books", "Books", "Novels, cookbooks, guides and textbooks."),
    ("home-decor", "Home Decor", "Lamps, chairs, vases and small furniture."),
    ("toys-games", "Toys & Games", "Puzzles, board games and toys for all ages."),
    ("sports-outdoors", "Sports & Outdoors", "Bikes, tents, bottles and fitness gear."),
]

# (category slug, name, price, picture key, description)
PRODUCTS: list[tuple[str, str, float, str, str]] = [
    (
        "kitchen",
        "Plain white mug",
        7.49,
        "mug-white",
        "A classic 11 oz ceramic mug in glossy white. Dishwasher and microwave safe.",
    ),
    (
        "kitchen",
        "Blue speckled ceramic mug",
        12.99,
        "mug-blue-speckled",
        "Hand-glazed 12 oz ceramic mug with a speckled blue finish.",
    ),
    (
        "kitchen",
        "Ceramic mug with bamboo lid",
        15.50,
        "mug-green-lid",
        "14 oz ceramic mug in sage green with a bamboo lid that keeps drinks warm.",
    ),
    (
        "kitchen",
        "Hand-painted ceramic mug",
        18.00,
        "mug-yellow-speckled",
        "Each ceramic mug is painted by hand, so no two are alike. Holds 10 oz.",
    ),
    (
        "kitchen",
        "Stainless steel camping mug",
        6.99,
        "mug-silver",
        "Light and unbreakable 12 oz steel mug for camping and travel.",
    ),
    (
        "kitchen",
        "Large ceramic soup mug",
        9.95,
        "mug-red",
        "A wide 20 oz ceramic mug in red for soup, noodles or a very large coffee.",
    ),
    (
        "kitchen",
        "Cast iron skillet, 10 inch",
        29.99,
        "pan-black",
        "Pre-seasoned cast iron skillet that goes from stove to oven.",
    ),
    (
        "kitchen",
        "Electric kettle, 1.7 L",
        34.50,
        "kettle-silver",
        "Boils 1.7 litres in under four minutes; auto shut-off and boil-dry protection.",
    ),
    (
        "kitchen",
        "Chef's knife, 8 inch",
        39.00,
        "tool-silver",
        "Forged stainless steel blade with a comfortable non-slip handle.",
    ),
    (
        "kitchen",
        "Bamboo cutting board",
        16.75,
        "box-beige",
        "Sturdy bamboo board with a juice groove, 18 x 12 inches.",
    ),
    (
        "kitchen",
        "Non-stick frying pan, 12 inch",
        24.99,
        "pan-grey",
        "PFOA-free non-stick coating; works on gas, electric and induction.",
    ),
    ("garden", "Garden hose, 50 ft", 27.99, "tool-green", "Kink-resistant rubber hose with brass fittings."),
    (
        "garden",
        "Terracotta plant pot set",
        19.50,
        "plant-orange",
        "Three terracotta pots (4, 6 and 8 inch) with drainage holes.",
    ),
    (
        "garden",
        "Pruning shears",
        14.99,
        "tool-red",
        "Bypass pruning shears with a safety lock, for stems up to 3/4 inch.",
    ),
    (
        "garden",
        "Tomato seed collection",
        4.99,
        "food-red",
        "Five heirloom tomato varieties, about 30 seeds each.",
    ),
    (
        "garden",
        "Raised garden bed kit",
        89.00,
        "box-brown",
        "Cedar raised bed, 4 x 4 ft, assembles without tools.",
    ),
    (
        "garden",
        "Solar path lights, 6-pack",
        32.00,
        "lamp-black",
        "Warm white LED path lights that charge in the sun and switch on at dusk.",
    ),
    (
        "garden",
        "Watering can, 2 gallon",
        17.25,
        "kettle-green",
        "Galvanised-look plastic watering can with a removable rose.",
    ),
    (
        "garden",
        "Herb garden starter kit",
        24.00,
        "plant-white",
        "Basil, parsley, thyme and chives with pots, soil discs and markers.",
    ),
    (
        "garden",
        "Garden kneeler pad",
        8.49,
        "box-blue",
        "Thick foam pad that spares your knees while weeding.",
    ),
    (
        "garden",
        "Wooden bird feeder",
        21.00,
        "house-green",
        "Hanging cedar bird feeder with a roof that lifts for refilling.",
    ),
    (
        "electronics",
        "Mini Bluetooth speaker",
        29.99,
        "gadget-blue-speaker",
        "Pocket-sized Bluetooth speaker with 10 hours of playback.",
    ),
    (
        "electronics",
        "Waterproof Bluetooth speaker",
        59.00,
        "gadget-black-speaker",
        "IPX7 waterproof Bluetooth speaker with deep bass and 20 hours of battery.",
    ),
    (
        "electronics",
        "Wireless headphones",
        89.99,
        "gadget-black-headphones",
        "Over-ear Bluetooth headphones with 30 hours of battery life.",
    ),
    (
        "electronics",
        "Noise-cancelling headphones",
        199.00,
        "gadget-silver-headphones",
        "Active noise cancelling over-ear headphones with a travel case.",
    ),
    (
        "electronics",
        "13-inch laptop",
        749.00,
        "gadget-silver",
        "Light 13-inch laptop with 16 GB memory and a 512 GB SSD.",
    ),
    (
        "electronics",
        "USB-C charger, 65 W",
        34.99,
        "box-white",
        "Compact 65 W USB-C charger for laptops, tablets and phones.",
    ),
    (
        "electronics",
        "Mug warmer",
        19.99,
        "mug-black",
        "Keeps your coffee at drinking temperature on your desk.",
    ),
    (
        "electronics",
        "E-reader, 6 inch",
        119.00,
        "gadget-black",
        "Glare-free 6-inch e-ink screen and weeks of battery.",
    ),
    (
        "electronics",
        "Smart LED bulb, 2-pack",
        22.50,
        "lamp-yellow",
        "Dimmable colour bulbs you can control from your phone.",
    ),
    (
        "electronics",
        "Wireless mouse",
        18.99,
        "ball-grey",
        "Quiet wireless mouse with a USB receiver and 18 months of battery.",
    ),
    (
        "clothing",
        "Red striped T-shirt",
        14.00,
        "shirt-red-striped",
        "Soft cotton T-shirt with red and white stripes.",
    ),
    (
        "clothing",
        "Plain navy T-shirt",
        11.50,
        "shirt-navy",
        "Everyday crew-neck T-shirt in navy, 100% cotton.",
    ),
    ("clothing", "Green hoodie", 39.95, "shirt-green", "Brushed fleece hoodie with a kangaroo pocket."),
    (
        "clothing",
        "Yellow rain jacket",
        69.00,
        "shirt-yellow",
        "Waterproof, breathable rain jacket with taped seams and a hood.",
    ),
    ("clothing", "Denim jacket", 64.50, "shirt-blue", "Classic blue denim jacket with button pockets."),
    ("clothing", "White linen shirt", 34.00, "shirt-white", "Breathable linen shirt for hot summer days."),
    (
        "clothing",
        "Black running shorts",
        21.00,
        "shirt-black",
        "Lightweight running shorts with a zip pocket.",
    ),
    (
        "clothing",
        "Striped wool socks, 3 pairs",
        12.75,
        "shirt-purple-striped",
        "Warm merino wool blend socks in three striped colours.",
    ),
    ("clothing", "Grey wool scarf", 24.00, "shirt-grey", "Long soft scarf knitted from lambswool."),
    (
        "books",
        "The Patient Gardener",
        16.99,
        "book-green",
        "A year in the vegetable garden, month by month. Paperback, 280 pages.",
    ),
    (
        "books",
        "Weeknight Dinners in 30 Minutes",
        22.50,
        "book-red",
        "Eighty quick recipes for busy evenings. Hardcover cookbook.",
    ),
    (
        "books",
        "Learning Python the Gentle Way",
        39.99,
        "book-blue",
        "A beginner's programming textbook with exercises. Paperback, 520 pages.",
    ),
    (
        "books",
        "The Lighthouse Keeper's Daughter",
        13.99,
        "book-navy",
        "A novel of storms, secrets and a family on a remote island.",
    ),
    (
        "books",
        "A Short History of Bicycles",
        18.50,
        "book-orange",
        "From the draisine to carbon road bikes, in 200 illustrated pages.",
    ),
    (
        "books",
        "Houseplants for Beginners",
        12.00,
        "book-teal",
        "How to keep forty common houseplants alive and happy.",
    ),
    ("books", "Baking Bread at Home", 19.99, "book-brown", "Sourdough, rye and quick breads, step by step."),
    (
        "books",
        "Stars Above: A Field Guide",
        24.95,
        "book-purple",
        "Find constellations and planets with the naked eye or binoculars.",
    ),
    (
        "books",
        "Mystery at Maple Street",
        9.99,
        "book-black",
        "A cosy detective story set in a small town bakery.",
    ),
    (
        "home-decor",
        "Ceramic table lamp",
        45.00,
        "lamp-white",
        "White ceramic lamp base with a linen shade, 20 inches tall.",
    ),
    (
        "home-decor",
        "Grey two-seat sofa",
        499.00,
        "chair-grey-sofa",
        "Compact two-seat sofa in grey fabric with solid wood legs.",
    ),
    (
        "home-decor",
        "Wooden dining chair",
        79.00,
        "chair-brown",
        "Solid oak dining chair with a curved backrest.",
    ),
    (
        "home-decor",
        "Woven storage basket",
        26.00,
        "box-beige",
        "Seagrass basket with handles for blankets or toys.",
    ),
    ("home-decor", "Round wall clock", 31.50, "ball-white", "Silent 12-inch wall clock with a white face."),
    ("home-decor", "Scented candle trio", 18.00, "lamp-pink", "Three soy candles: fig, cedar and sea salt."),
    (
        "home-decor",
        "Framed botanical print",
        42.00,
        "plant-beige",
        "A fern print in a 12 x 16 inch oak frame.",
    ),
    (
        "home-decor",
        "Blue glass vase",
        28.00,
        "bottle-blue",
        "Hand-blown glass vase in deep blue, 10 inches tall.",
    ),
    (
        "toys-games",
        "Wooden train set",
        34.99,
        "car-red",
        "Forty-piece wooden railway with a bridge and two trains.",
    ),
    (
        "toys-games",
        "Jigsaw puzzle, 1000 pieces",
        15.99,
        "box-purple",
        "A 1000-piece puzzle of a harbour at sunset.",
    ),
    (
        "toys-games",
        "Harbor Traders board game",
        29.00,
        "box-teal",
        "A trading game for 2 to 5 players, about 60 minutes.",
    ),
    (
        "toys-games",
        "Kids' bicycle, 16 inch",
        119.00,
        "bicycle-yellow-road",
        "A sturdy 16-inch bike with training wheels for ages 4 to 6.",
    ),
    ("toys-games", "Plush bear", 16.50, "ball-brown", "Extra soft teddy bear, 14 inches tall."),
    (
        "toys-games",
        "Building blocks, 250 pieces",
        27.00,
        "box-yellow",
        "Compatible building bricks in twelve colours.",
    ),
    ("toys-games", "Diamond kite", 12.99, "box-pink", "Easy-flying diamond kite with 100 ft of line."),
    (
        "toys-games",
        "Soccer ball, size 5",
        19.99,
        "ball-white",
        "Machine-stitched match ball for grass and turf.",
    ),
    ("sports-outdoors", "Yoga mat", 24.99, "box-purple", "Non-slip 6 mm yoga mat with a carry strap."),
    (
        "sports-outdoors",
        "Two-person camping tent",
        129.00,
        "house-green",
        "Three-season dome tent that pitches in five minutes.",
    ),
    (
        "sports-outdoors",
        "Insulated water bottle",
        22.00,
        "bottle-teal",
        "Keeps drinks cold for 24 hours or hot for 12; 750 ml.",
    ),
    (
        "sports-outdoors",
        "Bike helmet",
        49.00,
        "ball-black",
        "Light ventilated helmet with an adjustable fit dial.",
    ),
    (
        "sports-outdoors",
        "Road bike",
        649.00,
        "bicycle-black-road",
        "Aluminium road bike with 18 gears and carbon fork.",
    ),
    (
        "sports-outdoors",
        "Hiking backpack, 30 L",
        74.00,
        "box-orange",
        "Day pack with a rain cover and hydration sleeve.",
    ),
    (
        "sports-outdoors",
        "Tennis racket",
        39.00,
        "guitar-green",
        "Lightweight graphite racket for beginners and club players.",
    ),
    (
        "sports-outdoors",
        "Adjustable dumbbell set",
        59.00,
        "tool-black",
        "Two dumbbells adjustable from 5 to 25 lb each.",
    ),
]

USERS: list[tuple[str, str, str, str]] = [
    # username, password, full name, address (street, city, zip)
    ("alex", "alexpass", "Alex Morgan", "12 Elm Street|Pittsburgh|15213"),
    ("sam", "sampass", "Sam Lee", "480 Walnut Avenue|Columbus|43215"),
    ("jordan", "jordanpass", "Jordan Diaz", "9 Harbor Road|Baltimore|21202"),
]

SHIPPING: dict[str, tuple[str, float]] = {
    "standard": ("Standard (5-7 days)", 4.99),
    "express": ("Express (1-2 days)", 14.99),
    "pickup": ("Store pickup", 0.0),
}

# order id, username, date, shipping, status, [(product name, qty)]
ORDERS: list[tuple[int, str, str, str, str, list[tuple[str, int]]]] = [
    (
        1001,
        "alex",
        "2024-11-02",
        "standard",
        "Delivered",
        [("Bamboo cutting board", 1), ("Chef's knife, 8 inch", 1)],
    ),
    (
        1002,
        "alex",
        "2025-01-15",
        "standard",
        "Delivered",
        [("Tomato seed collection", 2), ("Pruning shears", 1)],
    ),
    (1003, "alex", "2025-02-20", "express", "Delivered", [("Wireless headphones", 1)]),
    (
        1004,
        "alex",
        "2025-03-08",
        "standard",
        "Shipped",
        [("The Patient Gardener", 1), ("Plain navy T-shirt", 2)],
    ),
    (1005, "sam", "2025-03-10", "pickup", "Processing", [("Yoga mat", 1)]),
]

REVIEWERS = ["sam", "jordan", "Priya", "Tom", "Mei", "Carlos", "Ada", "Ben", "Lena", "Omar"]
REVIEW_TEXTS: dict[int, list[tuple[str, str]]] = {
    5: [
        ("Love it", "Exactly as described and great quality. Would buy again."),
        ("Excellent", "Arrived quickly and works perfectly."),
        ("Perfect gift", "Bought it as a present and it was a hit."),
    ],
    4: [
        ("Very good", "Does the job well; one small flaw but happy overall."),
        ("Solid choice", "Good value for the price."),
    ],
    3: [
        ("It's okay", "Average quality. Fine for occasional use."),
        ("Mixed feelings", "Nice design but smaller than I expected."),
    ],
    2: [("Disappointed", "Started to wear out after a few weeks.")],
    1: [("Not recommended", "Broke the first time I used it.")],
}

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, full_name TEXT,
                    street TEXT, city TEXT, zip TEXT);
CREATE TABLE categories (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, name TEXT, description TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, category_id INTEGER, name TEXT, price REAL, picture TEXT,
                       description TEXT, added TEXT, stock INTEGER);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER, author TEXT, rating INTEGER, title TEXT,
                      body TEXT, created TEXT);
CREATE TABLE cart_items (owner TEXT, product_id INTEGER, qty INTEGER, PRIMARY KEY (owner, product_id));
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, session TEXT, created TEXT, full_name TEXT,
                     street TEXT, city TEXT, zip TEXT, shipping TEXT, shipping_cost REAL, total REAL, status TEXT);
CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, name TEXT, price REAL, qty INTEGER);
"""


def _reviews_for(product_id: int, name: str) -> list[tuple[str, int, str, str, str]]:
    """0-5 reviews whose ratings lean on a per-product quality, all derived from the name."""
    h = zlib.crc32(name.encode())
    count, quality = h % 6, 3 + (h >> 4) % 3
    out = []
    for i in range(count):
        r = zlib.crc32(f"{name}#{i}".encode())
        rating = max(1, min(5, quality + (r % 3) - 1))
        title, body = REVIEW_TEXTS[rating][(r >> 3) % len(REVIEW_TEXTS[rating])]
        day = date(2024, 6, 1) + timedelta(days=(r >> 7) % 280)
        out.append((REVIEWERS[(r >> 11) % len(REVIEWERS)], rating, title, body, day.isoformat()))
    return out


def build(db: sqlite3.Connection) -> None:
    """Create the schema and insert the seed rows."""
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    for username, password, full_name, address in USERS:
        street, city, zip_code = address.split("|")
        db.execute(
            "INSERT INTO users(username, password_hash, full_name, street, city, zip) VALUES (?,?,?,?,?,?)",
            (username, password_hash(username, password), full_name, street, city, zip_code),
        )
    db.executemany("INSERT INTO categories(slug, name, description) VALUES (?,?,?)", CATEGORIES)
    category_ids = {row["slug"]: row["id"] for row in db.execute("SELECT id, slug FROM categories")}
    for index, (slug, name, price, picture, description) in enumerate(PRODUCTS, start=1):
        added = date(2024, 1, 5) + timedelta(days=(index * 37) % 400)
        db.execute(
            "INSERT INTO products(id, category_id, name, price, picture, description, added, stock) VALUES (?,?,?,?,?,?,?,?)",
            (index, category_ids[slug], name, price, picture, description, added.isoformat(), 5 + index % 20),
        )
        for author, rating, title, body, created in _reviews_for(index, name):
            db.execute(
                "INSERT INTO reviews(product_id, author, rating, title, body, created) VALUES (?,?,?,?,?,?)",
                (index, author, rating, title, body, created),
            )
    for order_id, username, created, shipping, status, items in ORDERS:
        user = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        rows = [(db.execute("SELECT * FROM products WHERE name = ?", (n,)).fetchone(), q) for n, q in items]
        cost = SHIPPING[shipping][1]
        total = round(sum(p["price"] * q for p, q in rows) + cost, 2)
        db.execute(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                order_id,
                user["id"],
                None,
                created,
                user["full_name"],
                user["street"],
                user["city"],
                user["zip"],
                shipping,
                cost,
                total,
                status,
            ),
        )
        for product, qty in rows:
            db.execute(
                "INSERT INTO order_items VALUES (?,?,?,?,?)",
                (order_id, product["id"], product["name"], product["price"], qty),
            )
