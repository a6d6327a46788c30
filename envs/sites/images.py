"""Deterministic product and listing pictures, drawn with plain Python and encoded as PNG.

A picture is named by a key `kind-color[-variant]` (e.g. `bicycle-red-city`): the same key always
gives the same bytes, so a task's input image can be compared with what a page shows (VWA's SSIM
check), and two listings with one key show the identical photo. Pictures are small (200x150) and
cached after the first drawing.
"""

from __future__ import annotations

import functools
import math
import re
import struct
import zlib
from collections.abc import Callable

WIDTH, HEIGHT = 200, 150
RGB = tuple[int, int, int]

COLORS: dict[str, RGB] = {
    "red": (200, 30, 35),
    "blue": (40, 90, 200),
    "green": (40, 150, 70),
    "white": (245, 245, 242),
    "black": (30, 30, 32),
    "yellow": (240, 200, 40),
    "orange": (240, 130, 30),
    "purple": (120, 60, 160),
    "pink": (235, 130, 170),
    "brown": (120, 75, 40),
    "grey": (130, 130, 135),
    "silver": (190, 195, 200),
    "teal": (20, 140, 140),
    "navy": (25, 40, 90),
    "beige": (220, 200, 160),
}
_KEY_RE = re.compile(r"^([a-z]+)-([a-z]+)(?:-([a-z0-9]+))?$")


class Canvas:
    """An RGB pixel buffer with the few filled shapes the painters need."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT, background: RGB = (255, 255, 255)) -> None:
        self.width, self.height, self.background = width, height, background
        self.pixels = bytearray(bytes(background) * (width * height))

    def _put(self, x: int, y: int, color: RGB) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i : i + 3] = bytes(color)

    def _fill(
        self, box: tuple[float, float, float, float], inside: Callable[[float, float], bool], color: RGB
    ) -> None:
        x0, y0, x1, y1 = math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])
        for y in range(max(0, y0), min(self.height, y1 + 1)):
            for x in range(max(0, x0), min(self.width, x1 + 1)):
                if inside(x + 0.5, y + 0.5):
                    self._put(x, y, color)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: RGB) -> None:
        self._fill((x0, y0, x1, y1), lambda x, y: x0 <= x <= x1 and y0 <= y <= y1, color)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, color: RGB) -> None:
        self._fill(
            (cx - rx, cy - ry, cx + rx, cy + ry),
            lambda x, y: ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1,
            color,
        )

    def circle(self, cx: float, cy: float, r: float, color: RGB) -> None:
        self.ellipse(cx, cy, r, r, color)

    def ring(self, cx: float, cy: float, r: float, width: float, color: RGB) -> None:
        self._fill(
            (cx - r, cy - r, cx + r, cy + r), lambda x, y: r - width <= math.hypot(x - cx, y - cy) <= r, color
        )

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float, color: RGB) -> None:
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy or 1.0
        half = width / 2

        def inside(x: float, y: float) -> bool:
            t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length2))
            return math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= half

        self._fill(
            (min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half), inside, color
        )

    def polygon(self, points: list[tuple[float, float]], color: RGB) -> None:
        xs, ys = [p[0] for p in points], [p[1] for p in points]

        def inside(x: float, y: float) -> bool:
            hit = False
            for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
                if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                    hit = not hit
            return hit

        self._fill((min(xs), min(ys), max(xs), max(ys)), inside, color)

    def png(self) -> bytes:
        """Encode as an 8-bit RGB PNG (filter 0 on every row)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def _shade(color: RGB, factor: float) -> RGB:
    r, g, b = (max(0, min(255, int(c * factor))) for c in color)
    return (r, g, b)


def _backdrop(key: str) -> RGB:
    """A pale background derived from the key, so neighbouring pictures differ."""
    h = zlib.crc32(key.encode())
    return (225 + h % 25, 225 + (h >> 8) % 25, 225 + (h >> 16) % 25)


# --- painters: each draws one kind of object in a main colour --------------------------------
def _mug(c: Canvas, col: RGB, variant: str) -> None:
    c.ellipse(100, 128, 62, 10, _shade(c.background, 0.85))
    c.ring(138, 78, 24, 8, _shade(col, 0.8))
    c.rect(60, 40, 135, 125, col)
    c.ellipse(97.5, 40, 37.5, 8, _shade(col, 0.7))
    if variant == "speckled":
        for i in range(40):
            c.circle(64 + (i * 37) % 68, 48 + (i * 53) % 72, 1.6, _shade(col, 0.55))
    if variant == "lid":
        c.rect(56, 28, 139, 38, _shade(col, 0.6))


def _bicycle(c: Canvas, col: RGB, variant: str) -> None:
    tyre = (35, 35, 38)
    if variant == "mountain":
        c.polygon([(0, 150), (60, 95), (110, 130), (160, 85), (200, 120), (200, 150)], (150, 175, 140))
        rear, front, r = (52, 108), (150, 108), 30
    elif variant == "road":
        rear, front, r = (45, 100), (155, 100), 34
    else:
        rear, front, r = (50, 104), (148, 104), 31
    for cx, cy in (rear, front):
        c.ring(cx, cy, r, 6 if variant == "mountain" else 4, tyre)
        c.circle(cx, cy, 3, (90, 90, 90))
    seat, crank, head = (78, 58), (96, 104), (132, 56)
    for a, b in ((rear, crank), (crank, seat), (seat, rear), (seat, head), (head, crank), (head, front)):
        c.line(a[0], a[1], b[0], b[1], 6 if variant == "mountain" else 5, col)
    c.line(seat[0] - 12, seat[1] - 6, seat[0] + 8, seat[1] - 6, 5, tyre)
    bar = (124, 42) if variant != "road" else (142, 52)
    c.line(head[0], head[1], bar[0], bar[1], 4, tyre)
    if variant == "city":
        c.rect(30, 62, 72, 70, _shade(col, 0.7))
        c.circle(96, 104, 8, _shade(col, 0.6))


def _book(c: Canvas, col: RGB, variant: str) -> None:
    c.rect(62, 18, 142, 132, _shade(col, 0.7))
    c.rect(70, 18, 142, 132, col)
    c.rect(80, 40, 132, 48, _shade(col, 1.6))
    c.rect(80, 56, 124, 60, _shade(col, 1.4))


def _shirt(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon(
        [
            (70, 25),
            (130, 25),
            (170, 55),
            (150, 75),
            (135, 62),
            (135, 135),
            (65, 135),
            (65, 62),
            (50, 75),
            (30, 55),
        ],
        col,
    )
    c.ellipse(100, 27, 14, 8, c.background)
    if variant == "striped":
        for y in range(45, 135, 16):
            c.rect(65, y, 135, y + 5, _shade(col, 0.6))


def _plant(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon([(70, 95), (130, 95), (120, 135), (80, 135)], col)
    leaf = (50, 140, 60)
    for angle in (-60, -25, 0, 25, 60):
        rad = math.radians(angle - 90)
        c.line(100, 95, 100 + 45 * math.cos(rad), 95 + 60 * math.sin(rad), 10, leaf)


def _gadget(c: Canvas, col: RGB, variant: str) -> None:
    if variant == "speaker":
        c.rect(65, 25, 135, 130, col)
        c.circle(100, 95, 22, _shade(col, 0.45))
        c.circle(100, 50, 10, _shade(col, 0.45))
    elif variant == "headphones":
        c.ring(100, 80, 48, 8, col)
        c.rect(45, 78, 68, 118, _shade(col, 0.7))
        c.rect(132, 78, 155, 118, _shade(col, 0.7))
    else:
        c.rect(40, 30, 160, 110, col)
        c.rect(48, 38, 152, 102, (40, 60, 90))
        c.rect(30, 110, 170, 120, _shade(col, 0.7))


def _box(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon([(50, 55), (100, 35), (150, 55), (100, 75)], _shade(col, 1.25))
    c.polygon([(50, 55), (100, 75), (100, 135), (50, 115)], col)
    c.polygon([(100, 75), (150, 55), (150, 115), (100, 135)], _shade(col, 0.75))


def _chair(c: Canvas, col: RGB, variant: str) -> None:
    if variant == "sofa":
        c.rect(30, 60, 170, 110, col)
        c.rect(20, 75, 45, 120, _shade(col, 0.8))
        c.rect(155, 75, 180, 120, _shade(col, 0.8))
        c.rect(40, 110, 48, 130, (60, 40, 20))
        c.rect(152, 110, 160, 130, (60, 40, 20))
    else:
        c.rect(70, 20, 82, 130, col)
        c.rect(70, 80, 135, 90, col)
        c.rect(123, 80, 135, 130, col)
        c.rect(70, 20, 130, 55, _shade(col, 0.85))


def _car(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon([(20, 95), (45, 70), (75, 50), (135, 50), (160, 72), (185, 80), (185, 110), (20, 110)], col)
    c.polygon([(60, 70), (80, 56), (105, 56), (105, 70)], (190, 220, 240))
    c.polygon([(112, 56), (132, 56), (150, 70), (112, 70)], (190, 220, 240))
    for x in (55, 150):
        c.circle(x, 110, 16, (30, 30, 30))
        c.circle(x, 110, 6, (170, 170, 170))


def _house(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon([(40, 70), (100, 25), (160, 70)], _shade(col, 0.6))
    c.rect(50, 70, 150, 135, col)
    c.rect(88, 95, 112, 135, (90, 60, 40))
    c.rect(62, 82, 80, 100, (190, 220, 240))
    c.rect(120, 82, 138, 100, (190, 220, 240))


def _guitar(c: Canvas, col: RGB, variant: str) -> None:
    c.line(100, 15, 100, 80, 8, (90, 60, 35))
    c.ellipse(100, 92, 28, 22, col)
    c.ellipse(100, 118, 36, 26, col)
    c.circle(100, 100, 8, (30, 30, 30))


def _ball(c: Canvas, col: RGB, variant: str) -> None:
    c.circle(100, 75, 52, col)
    c.line(48, 75, 152, 75, 4, _shade(col, 0.5))
    c.ring(100, 75, 30, 4, _shade(col, 0.5))


def _tool(c: Canvas, col: RGB, variant: str) -> None:
    c.line(60, 120, 130, 50, 12, (120, 80, 45))
    c.polygon([(115, 30), (160, 55), (150, 70), (110, 50)], col)


def _food(c: Canvas, col: RGB, variant: str) -> None:
    c.ellipse(100, 100, 80, 22, (235, 235, 230))
    c.circle(80, 82, 20, col)
    c.circle(112, 78, 24, _shade(col, 0.85))
    c.circle(96, 64, 14, (60, 140, 60))


def _pan(c: Canvas, col: RGB, variant: str) -> None:
    c.line(130, 75, 190, 55, 10, (40, 40, 40))
    c.ellipse(85, 80, 60, 40, _shade(col, 0.8))
    c.ellipse(85, 78, 50, 32, col)


def _kettle(c: Canvas, col: RGB, variant: str) -> None:
    c.ring(100, 50, 30, 7, (40, 40, 40))
    c.line(140, 85, 175, 55, 10, col)
    c.polygon([(60, 130), (140, 130), (130, 60), (70, 60)], col)
    c.rect(60, 122, 140, 132, _shade(col, 0.6))


def _lamp(c: Canvas, col: RGB, variant: str) -> None:
    c.polygon([(70, 20), (130, 20), (150, 70), (50, 70)], col)
    c.rect(96, 70, 104, 120, (70, 70, 70))
    c.ellipse(100, 125, 30, 8, (70, 70, 70))


def _bottle(c: Canvas, col: RGB, variant: str) -> None:
    c.rect(88, 15, 112, 40, _shade(col, 0.7))
    c.ellipse(100, 95, 38, 45, col)
    c.rect(85, 35, 115, 60, col)


PAINTERS: dict[str, Callable[[Canvas, RGB, str], None]] = {
    "mug": _mug,
    "bicycle": _bicycle,
    "book": _book,
    "shirt": _shirt,
    "plant": _plant,
    "gadget": _gadget,
    "box": _box,
    "chair": _chair,
    "car": _car,
    "house": _house,
    "guitar": _guitar,
    "ball": _ball,
    "tool": _tool,
    "food": _food,
    "pan": _pan,
    "kettle": _kettle,
    "lamp": _lamp,
    "bottle": _bottle,
}


def is_valid_key(key: str) -> bool:
    match = _KEY_RE.match(key)
    return bool(match and match.group(1) in PAINTERS and match.group(2) in COLORS)


@functools.lru_cache(maxsize=512)
def picture(key: str) -> bytes:
    """The PNG for a picture key; raises KeyError for an unknown kind or colour."""
    match = _KEY_RE.match(key)
    if not match or match.group(1) not in PAINTERS or match.group(2) not in COLORS:
        raise KeyError(key)
    kind, color, variant = match.group(1), match.group(2), match.group(3) or ""
    canvas = Canvas(background=_backdrop(key))
    PAINTERS[kind](canvas, COLORS[color], variant)
    return canvas.png()
