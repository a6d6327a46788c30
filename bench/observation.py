"""Observation extraction: webdreamer's text observation against BrowserGym's, side by side.

Corpus (one run, same servers, same browser binary and flags, same 1280x720 viewport):
  * 15 pages of the bundled sites (shop, forum, classifieds), logged in as alex, two items in the cart;
  * ~30 MiniWoB++ task pages from the `miniwob` package, each episode started with a fixed seed;
  * the hand-written pages in bench/pages/ (a 600-row table, iframes and open shadow roots including
    a cross-site iframe, a form-heavy page, a news article).

Per page, warm (one untimed observation first), median of several repeats that alternate between
the two sides, so that both see the same machine load:
  * ours: `envs.extract.extract` + `render_text` (what `BrowserEnv.observe` spends without a
    screenshot), and the size of the text in characters;
  * BrowserGym's (browsergym-core, in its own virtualenv `.venv-bench`, run by
    bench/_browsergym_worker.py, with its own browser): marking, DOM snapshot, merged AX tree,
    focused bid, extra properties, clean-up, then `flatten_axtree_to_str` ignoring LineBreak and
    InlineTextBox. The venv is made on first use (`WEBDREAMER_BENCH_VENV` moves it); if BrowserGym
    cannot run here, Playwright's `page.aria_snapshot()` stands in and the JSON says why;
  * interactive-element recall: every visible, non-ignored node of Chromium's own accessibility
    tree (CDP, all frames) with an interactive role must map (by backendDOMNodeId) to an element
    whose webdreamer id appears in our text. A native <option> counts through its <select>, and a
    part of a built-in control (the day field or picker button of <input type=date>) through the
    control;
  * for information (no target): the same check for visible elements that have a click listener
    (CDP DOMSnapshot's isClickable), which catches script-driven <span>/<div> controls that have
    no accessible role at all.

Prints a per-page table, the recall misses, then one JSON line: `median_time_ratio` (median of the
per-page ratios ours/baseline), `size_ratio` (median of per-page character ratios; the total ratio
is `size_ratio_total`), `interactive_recall`, page counts and the baseline. Texts are compared
without the tab header (BrowserGym keeps tabs out of the AX text as well).

Usage: python bench/observation.py [--repeats N] [--miniwob N] [--only SUBSTR] [--dump DIR]
                                   [--baseline auto|browsergym|aria] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import json
import statistics
import sys
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from obs_baselines import (  # noqa: E402
    AriaBaseline,
    Baseline,
    BaselineError,
    BrowserGymBaseline,
    PageSpec,
    ensure_bench_venv,
)
from obs_recall import Result, check_recall  # noqa: E402
from playwright.async_api import BrowserContext, Page, async_playwright  # noqa: E402
from playwright.async_api import Error as PlaywrightError  # noqa: E402

from envs.browser import find_browser, launch_args, launch_browser  # noqa: E402
from envs.extract import TextOptions, extract, render_text  # noqa: E402
from envs.sites.launcher import start_sites  # noqa: E402

PAGES_DIR = ROOT / "bench" / "pages"
VIEWPORT = {"width": 1280, "height": 720}
MINIWOB_SEED = 42
TARGETS = {"median_time_ratio": 0.5, "size_ratio": 0.8, "interactive_recall": 1.0}

# A fixed sample of MiniWoB++ tasks (no-delay variants where there is one): buttons, lists, menus,
# tabs, dialogs, date pickers, forms, inboxes and feeds.
MINIWOB_TASKS = (
    "click-button", "click-button-sequence", "click-checkboxes", "click-checkboxes-large",
    "click-collapsible-nodelay", "click-collapsible-2-nodelay", "click-dialog-2", "click-link",
    "click-menu", "click-menu-2", "click-option", "click-scroll-list", "click-tab-2-hard",
    "click-widget", "choose-date-nodelay", "choose-list", "book-flight-nodelay", "email-inbox",
    "enter-date", "enter-text", "enter-time", "login-user", "login-user-popup", "multi-layouts",
    "navigate-tree", "phone-book", "search-engine", "social-media", "use-autocomplete-nodelay",
    "use-spinner",
)  # fmt: skip

SAVED_PAGES = ("long_table", "frames_shadow", "form_heavy", "article")

MINIWOB_START = """(seed) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = 1000000;
  core.startEpisodeReal();
}"""


# --- servers -------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_directory(directory: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def miniwob_html_dir() -> Path:
    spec = importlib.util.find_spec("miniwob")  # does not import it (its __init__ needs gymnasium)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('the miniwob package is missing: pip install --no-deps "miniwob==1.1.0"')
    return Path(next(iter(spec.submodule_search_locations))) / "html"


def fill_cart(shop_internal: str, cookie: str, products: tuple[int, ...] = (10, 21)) -> None:
    """Put items in alex's cart so that the cart and checkout pages show their real forms."""
    for pid in products:
        req = urllib.request.Request(f"{shop_internal}/cart/add", data=f"product_id={pid}&qty=1".encode())
        req.add_header("Cookie", cookie)
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()


def site_pages(urls: dict[str, str]) -> list[PageSpec]:
    shop, forum, ads = urls["shop"], urls["forum"], urls["classifieds"]
    rows = [
        ("shop-home", f"{shop}/"),
        ("shop-category", f"{shop}/category/electronics"),
        ("shop-search", f"{shop}/search?q=lamp"),
        ("shop-product", f"{shop}/product/10"),
        ("shop-cart", f"{shop}/cart"),
        ("shop-checkout", f"{shop}/checkout"),
        ("shop-login", f"{shop}/login"),
        ("forum-list", f"{forum}/forums"),
        ("forum-page", f"{forum}/f/books"),
        ("forum-post", f"{forum}/f/books/4"),
        ("forum-submit", f"{forum}/submit"),
        ("ads-home", f"{ads}/"),
        ("ads-search", f"{ads}/index.php?page=search&sPattern=bike"),
        ("ads-listing", f"{ads}/index.php?page=item&id=79"),
        ("ads-new-listing", f"{ads}/index.php?page=item&action=item_add"),
    ]
    return [PageSpec(name, "sites", url) for name, url in rows]


# --- our side ------------------------------------------------------------------------------------


async def open_page(page: Page, spec: PageSpec) -> None:
    await page.goto(spec.url, wait_until="load")
    if spec.miniwob_seed is not None:
        await page.evaluate(MINIWOB_START, spec.miniwob_seed)
        await page.wait_for_function("() => window.WOB_TASK_READY === true", timeout=10_000)


class Ours:
    """Our text observation on one page; ids carry over between repeats as they do between steps."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.opts = TextOptions()
        self.next_id = 1
        self.text = ""

    async def observe(self) -> float:
        t0 = time.perf_counter()
        ext = await extract(self.page, self.next_id, self.opts)
        self.next_id = ext.next_id
        self.text, _ = render_text(ext.nodes, "", self.opts)
        return time.perf_counter() - t0


async def measure_page(
    context: BrowserContext, spec: PageSpec, res: Result, base: Baseline, args: argparse.Namespace
) -> None:
    """Open the page on both sides, warm both up, then alternate their timed repeats."""
    page = await context.new_page()
    try:
        try:
            await open_page(page, spec)
            ours = Ours(page)
            warm = await ours.observe()
        except (PlaywrightError, TimeoutError) as exc:
            res.ours_error = str(exc).splitlines()[0]
            return
        try:
            warm = max(warm, await base.open(spec, page))
        except (PlaywrightError, TimeoutError, BaselineError) as exc:
            res.base_error = str(exc).splitlines()[0]
        repeats = args.repeats if warm <= args.slow_s else min(args.repeats, 3)
        for _ in range(repeats):
            try:
                res.ours_times.append(await ours.observe())
            except PlaywrightError as exc:
                res.ours_error = str(exc).splitlines()[0]
                break
            if res.base_error is None:
                try:
                    t, res.base_chars = await base.time()
                    res.base_times.append(t)
                except (PlaywrightError, TimeoutError, BaselineError) as exc:
                    res.base_error = str(exc).splitlines()[0]
        res.ours_chars = len(ours.text)
        if args.dump:
            path = args.dump / spec.name
            path.with_suffix(".ours.txt").write_text(ours.text)
            if res.base_error is None:
                await base.dump(path)
        try:
            await check_recall(context, page, ours.text, res)
        except PlaywrightError as exc:
            res.recall_error = str(exc).splitlines()[0]
    finally:
        await page.close()


async def run(
    specs: list[PageSpec],
    results: dict[str, Result],
    host_map: dict[str, str],
    cookies: list[dict[str, Any]],
    args: argparse.Namespace,
    bg_job: dict[str, Any] | None,
) -> tuple[str, str | None]:
    """Measure every page; returns the baseline's label and, if BrowserGym was wanted but did not
    start (then Playwright's aria snapshot stands in), why."""
    base: Baseline = AriaBaseline()
    start_error = None
    if bg_job is not None:
        base = BrowserGymBaseline(bg_job)
        try:
            await base.start()
        except (OSError, TimeoutError, BaselineError, json.JSONDecodeError) as exc:
            start_error = str(exc) or type(exc).__name__
            await base.close()
            base = AriaBaseline()
            print(f"BrowserGym did not start ({start_error}); using page.aria_snapshot()", file=sys.stderr)
    print(f"{len(specs)} pages, baseline {base.label}", file=sys.stderr, flush=True)
    async with async_playwright() as pw:
        browser = await launch_browser(pw, host_map=host_map)
        context = await browser.new_context(viewport=VIEWPORT, device_scale_factor=1)  # type: ignore[arg-type]
        await context.add_cookies(cookies)  # type: ignore[arg-type]
        try:
            for k, spec in enumerate(specs, 1):
                await measure_page(context, spec, results[spec.name], base, args)
                r = results[spec.name]
                print(
                    f"  [{k}/{len(specs)}] {spec.name}: ours {_fmt(r.ours_median and r.ours_median * 1000, '.0f')} ms, "
                    f"baseline {_fmt(r.base_median and r.base_median * 1000, '.0f')} ms",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            await base.close()
            await browser.close()
    return base.label, start_error


# --- report --------------------------------------------------------------------------------------


def _fmt(x: float | None, spec: str) -> str:
    return format(x, spec) if x is not None else "-"


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 3) if xs else None


def _sum_dicts(ds: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in ds:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def report(results: list[Result], baseline: str, note: str | None, wall_s: float) -> dict[str, Any]:
    head = f"{'page':34} {'ours ms':>8} {'base ms':>8} {'time x':>7} {'ours ch':>8} {'base ch':>8} {'size x':>7} {'inter':>6} {'miss':>5} {'click':>6} {'miss':>5}"
    print(f"\nbaseline: {baseline}" + (f"  ({note})" if note else ""))
    print(head)
    print("-" * len(head))
    group = None
    for r in results:
        if r.spec.group != group:
            group = r.spec.group
            print(f"[{group}]")
        om, bm = r.ours_median, r.base_median
        line = (
            f"{r.spec.name[:34]:34} {_fmt(om and om * 1000, '8.1f')} {_fmt(bm and bm * 1000, '8.1f')} "
            f"{_fmt(r.time_ratio, '7.2f')} {_fmt(r.ours_chars, '8d')} {_fmt(r.base_chars, '8d')} "
            f"{_fmt(r.size_ratio, '7.2f')} {r.interactive:6d} {len(r.misses):5d} "
            f"{r.clickable:6d} {len(r.clickable_misses):5d}"
        )
        errs = [e for e in (r.ours_error, r.base_error, r.recall_error) if e]
        print(line + (f"  ! {'; '.join(errs)}" if errs else ""))

    compared = [r for r in results if r.time_ratio is not None and r.size_ratio is not None]
    time_ratios = [r.time_ratio for r in compared if r.time_ratio is not None]
    size_ratios = [r.size_ratio for r in compared if r.size_ratio is not None]
    inter = sum(r.interactive for r in results)
    missed = sum(len(r.misses) for r in results)
    clickable = sum(r.clickable for r in results)
    clickable_missed = sum(len(r.clickable_misses) for r in results)
    by_group: dict[str, Any] = {}
    for g in dict.fromkeys(r.spec.group for r in results):
        rs = [r for r in compared if r.spec.group == g]
        gi = sum(r.interactive for r in results if r.spec.group == g)
        gm = sum(len(r.misses) for r in results if r.spec.group == g)
        gc = sum(r.clickable for r in results if r.spec.group == g)
        gcm = sum(len(r.clickable_misses) for r in results if r.spec.group == g)
        by_group[g] = {
            "pages": len(rs),
            "median_time_ratio": _median([r.time_ratio for r in rs if r.time_ratio is not None]),
            "size_ratio": _median([r.size_ratio for r in rs if r.size_ratio is not None]),
            "interactive_recall": round((gi - gm) / gi, 4) if gi else None,
            "clickable_recall": round((gc - gcm) / gc, 4) if gc else None,
        }

    if missed:
        print("\ninteractive elements missing from our text (page: role 'name' <tag>: why — html):")
        for r in results:
            for m in r.misses:
                print(f"  {r.spec.name}: {m.role} {m.name!r} <{m.tag}>: {m.reason} — {m.html}")
    if clickable_missed:
        print(
            "\nfor information, elements with a script click listener (DOMSnapshot isClickable) and no id"
            " in our text (page: 'text' <tag>: why — html):"
        )
        for r in results:
            for m in r.clickable_misses:
                print(f"  {r.spec.name}: {m.name!r} <{m.tag}>: {m.reason} — {m.html}")
    credited = _sum_dicts(r.credited for r in results)
    ours_total = sum(r.ours_chars or 0 for r in compared)
    base_total = sum(r.base_chars or 0 for r in compared)
    out: dict[str, Any] = {
        "bench": "observation",
        "baseline": baseline,
        "baseline_note": note,
        "pages": len(results),
        "pages_compared": len(compared),
        "median_time_ratio": _median(time_ratios),
        "size_ratio": _median(size_ratios),
        "size_ratio_kind": "median of per-page ratios (chars ours / chars baseline)",
        "size_ratio_total": round(ours_total / base_total, 3) if base_total else None,
        "ours_median_ms": _median([(r.ours_median or 0) * 1000 for r in compared]),
        "baseline_median_ms": _median([(r.base_median or 0) * 1000 for r in compared]),
        "interactive_recall": round((inter - missed) / inter, 4) if inter else None,
        "interactive_elements": inter,
        "interactive_missed": missed,
        "credited_through": credited,
        "interactive_unresolved": sum(r.unresolved for r in results),
        "clickable_recall": round((clickable - clickable_missed) / clickable, 4) if clickable else None,
        "clickable_elements": clickable,
        "clickable_missed": clickable_missed,
        "clickable_credited_through": _sum_dicts(r.clickable_credited for r in results),
        "by_group": by_group,
        "errors": sum(1 for r in results if r.ours_error or r.base_error or r.recall_error),
        "targets": TARGETS,
        "wall_s": round(wall_s, 1),
    }
    out["meets_targets"] = {
        k: (out[k] is not None and (out[k] >= v if k == "interactive_recall" else out[k] <= v))
        for k, v in TARGETS.items()
    }
    return out


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repeats per page after one warm-up (default 5)"
    )
    parser.add_argument(
        "--slow-s", type=float, default=1.0, help="a page whose warm-up takes longer gets 3 repeats"
    )
    parser.add_argument(
        "--miniwob", type=int, default=len(MINIWOB_TASKS), help="how many MiniWoB tasks (max 30)"
    )
    parser.add_argument("--only", default=None, help="only pages whose name contains this")
    parser.add_argument("--dump", type=Path, default=None, help="write both texts per page into this folder")
    parser.add_argument("--baseline", choices=("auto", "browsergym", "aria"), default="auto")
    parser.add_argument("--quick", action="store_true", help="3 repeats, 8 MiniWoB tasks")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.miniwob = 3, min(args.miniwob, 8)
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        args.dump = args.dump.resolve()
    started = time.perf_counter()

    note: str | None = None
    use_bg = args.baseline != "aria"
    if use_bg:
        reason = ensure_bench_venv()
        if reason:
            if args.baseline == "browsergym":
                print(f"BrowserGym cannot run here: {reason}", file=sys.stderr)
                return 1
            use_bg, note = False, f"BrowserGym unavailable: {reason}"
            print(note + "; comparing with page.aria_snapshot() instead", file=sys.stderr)

    sites = start_sites(ports={"shop": 0, "forum": 0, "classifieds": 0})
    miniwob_server = serve_directory(miniwob_html_dir())
    pages_server = serve_directory(PAGES_DIR)
    try:
        host_map = {**sites.host_map, "pages.test": "127.0.0.1", "widgets.test": "127.0.0.1"}
        cookies = [c for site in sites.names for c in sites.login_cookies(site)]
        shop_cookie = "{}={}".format(cookies[0]["name"], cookies[0]["value"])
        fill_cart(sites.internal_urls["shop"], shop_cookie)
        mw_base = f"http://127.0.0.1:{miniwob_server.server_address[1]}/miniwob"
        pages_base = f"http://pages.test:{pages_server.server_address[1]}"
        specs = site_pages(sites.urls)
        specs += [
            PageSpec(f"miniwob/{t}", "miniwob", f"{mw_base}/{t}.html", MINIWOB_SEED)
            for t in MINIWOB_TASKS[: args.miniwob]
        ]
        specs += [PageSpec(f"saved/{p}", "saved", f"{pages_base}/{p}.html") for p in SAVED_PAGES]
        if args.only:
            specs = [s for s in specs if args.only in s.name]
        if args.dump:
            for s in specs:
                (args.dump / s.name).parent.mkdir(parents=True, exist_ok=True)
        results = {s.name: Result(s) for s in specs}

        job = {
            "executable": find_browser(),
            "args": launch_args(host_map),
            "viewport": VIEWPORT,
            "cookies": cookies,
        }
        label, start_error = asyncio.run(
            run(specs, results, host_map, cookies, args, job if use_bg else None)
        )
        if start_error:
            if args.baseline == "browsergym":
                print(f"BrowserGym cannot run here: {start_error}", file=sys.stderr)
                return 1
            note = f"the BrowserGym worker did not start ({start_error}); compared with page.aria_snapshot()"
    finally:
        pages_server.shutdown()
        miniwob_server.shutdown()
        sites.stop()

    out = report(list(results.values()), label, note, time.perf_counter() - started)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
